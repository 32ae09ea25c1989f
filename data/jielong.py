"""Parse 接龙 (chain sign-up) chat text, as group leaders paste it, into household orders.

Grammar (each line is first NFKC-normalised, so full-width digits, letters and punctuation
such as ``１２．``, ``（老人）``, ``，``, ``＊``, ``Ｘ`` read as their ASCII forms)::

    line      = number sep body
    number    = digits                      the 接龙 line number, unique in the text
    sep       = "." | "、" | ")"             also full-width ． and ）
    body      = [name] place [name] item {item}, with {flags} and [phone] anywhere
                                            items are separated by spaces; one name, either
                                            before the place or between place and items
    place     = building ("号楼" | "栋" | "幢" | "号" | "座") room ["室"]
              | building "-" room ["室"]     e.g. 3号楼 502, 3栋502, 3幢 502室, 3-502
    building  = digits or ASCII letters     resolved to a Building of the compound whose
                                            name is the same (3号楼) or has the same key
                                            (3号楼, 3栋, 3幢, 3号 and 3 all have key "3")
    room      = digits [ASCII letter]
    name      = a token without digits, e.g. 王阿姨 (before the place or the first item)
    item      = product mult quantity [unit] e.g. 蔬菜套餐x2, 牛奶 ×2, 鸡蛋30枚*1, 大米x1袋
    mult      = "x" | "X" | "×" | "*"       (also full-width ＊ Ｘ ｘ)
    quantity  = digits, at least 1
    unit      = one of 份 个 箱 袋 盒 件 包 瓶 桶 斤
    product   = a Category's name_zh, category_id or one of its aliases (exact match)
    flags     = "(" word {("," | "、" | " ") word} ")"     also （…） and ，
    word      = 代下单 | 代买                          → proxy order
              | 老人 | 独居老人                         → elderly
              | 婴儿 | 婴幼儿 | 宝宝                    → infant
              | 孕妇                                    → pregnant
              | 慢性病 | 病人 | 透析                    → chronic_illness
              | 残疾 | 残障                             → disability
              (the English flag names are accepted too)
    phone     = an 11-digit mobile number starting with 1

Lines that are blank or do not start with a number and separator (the ``#接龙`` header,
notes, deadlines) are ignored, and so are numbered lines with nothing after the separator.
A "." directly followed by a digit (``4.15 截止``, ``2022.4.15``) starts a 接龙 line only
when a building and room follow it (``1.3号楼 502 蔬菜套餐x2``); otherwise it is a date.

Every order gets ``order_id = f"jl-{delivery_date}-{N}"`` with N the 接龙 number, so
pasting an updated list again replaces each line's order.
A numbered line that cannot be read, an unknown product or building, a zero quantity, an
unknown flag word or a repeated number is an Issue naming the 接龙 number (``row``); all
are collected and raised as one DataError, so a paste is imported whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

from pydantic import ValidationError

from data.errors import DataError, Issue
from data.schemas import Building, Category, HouseholdOrder, PriorityFlag
from data.validate import PRIORITY_FLAG_NAMES, did_you_mean, issues_from_validation_error

PROXY_WORDS = frozenset({"代下单", "代买", "proxy"})
"""Flag words that mark an order placed for someone else."""

_LINE = re.compile(r"^\s*(\d+)\s*(\.|、|\))(\s*)(.*)$")
_FLAGS = re.compile(r"\(([^()]*)\)")
_PHONE = re.compile(r"(?<!\d)(1\d{10})(?!\d)")
_PLACE = re.compile(
    r"^([0-9A-Za-z]+)\s*(?:号楼|号|栋|幢|座)\s*(\d+[A-Za-z]?)\s*室?(?=\s|$)"
    r"|^([0-9A-Za-z]+)\s*-\s*(\d+[A-Za-z]?)\s*室?(?=\s|$)"
)
_MULT = "xX×*"
_UNITS = "份个箱袋盒件包瓶桶斤"
_ITEM = re.compile(rf"(.+?)[{_MULT}](\d+)[{_UNITS}]?")
_JOIN_ITEM = re.compile(rf"\s+([{_MULT}]\s*\d+[{_UNITS}]?)(?=\s|$)")
_BUILDING_KEY = re.compile(r"^\s*([0-9A-Za-z]+)\s*(?:号楼|号|栋|幢|座)?\s*$")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _building_index(buildings: Iterable[Building], compound_id: str) -> dict[str, str]:
    """Building name and its key ("3号楼" → "3") → building_id, for one compound."""
    index: dict[str, str] = {}
    for building in buildings:
        if building.compound_id != compound_id:
            continue
        name = _normalise(building.name).strip()
        index[name] = building.building_id
        match = _BUILDING_KEY.match(name)
        if match:
            index.setdefault(match.group(1).upper(), building.building_id)
    return index


def _product_index(categories: Iterable[Category]) -> dict[str, str]:
    """Product name (name_zh, category_id, alias; case-folded) → category_id."""
    index: dict[str, str] = {}
    for category in categories:
        for name in (category.name_zh, category.category_id, *category.aliases):
            index.setdefault(_normalise(name).strip().casefold(), category.category_id)
    return index


def _split_place(body: str) -> tuple[str, re.Match[str], str] | None:
    """(name, building-and-room match, text the match applies to), the place first or after a
    name (王阿姨 3号楼 502); None when the line has no building and room there."""
    place = _PLACE.match(body)
    if place is not None:
        return "", place, body
    head, _, tail = body.partition(" ")
    tail = tail.lstrip()
    if head and not any(c.isdigit() for c in head):
        place = _PLACE.match(tail)
        if place is not None:
            return head, place, tail
    return None


def parse_jielong(
    text: str,
    *,
    compound_id: str,
    delivery_date: dt.date,
    categories: Iterable[Category],
    buildings: Iterable[Building],
    source: str = "接龙",
) -> list[HouseholdOrder]:
    """Household orders from a pasted 接龙 list, all of them or one DataError (see grammar)."""
    products = _product_index(categories)
    building_ids = _building_index(buildings, compound_id)
    issues: list[Issue] = []
    orders: list[HouseholdOrder] = []
    seen: dict[int, int] = {}
    for text_line, raw in enumerate(text.splitlines(), start=1):
        line = _normalise(raw)
        match = _LINE.match(line)
        if match is None:
            continue
        number, body = int(match.group(1)), match.group(4).strip()
        if not body:
            continue  # an empty numbered line orders nothing
        dotted_digits = match.group(2) == "." and not match.group(3) and body[0].isdigit()
        if dotted_digits and _split_place(body) is None:
            continue  # "4.15 截止", "2022.4.15": a date, not 接龙 number 4 or 2022
        if number in seen:
            issues.append(
                Issue(
                    source,
                    number,
                    "line",
                    f"接龙 number {number} is used twice (text lines {seen[number]} and "
                    f"{text_line})",
                    "renumber the list so every line has its own number",
                    value=raw.strip(),
                )
            )
            continue
        seen[number] = text_line
        order, found = _parse_line(
            number,
            body,
            raw=raw.strip(),
            source=source,
            compound_id=compound_id,
            delivery_date=delivery_date,
            products=products,
            building_ids=building_ids,
        )
        issues += found
        if order is not None and not found:
            orders.append(order)
    if not seen and not issues:
        issues.append(
            Issue(
                source,
                None,
                None,
                "no numbered 接龙 lines found",
                "paste the list with its numbered lines, e.g. '1. 3号楼 502 蔬菜套餐x2'",
            )
        )
    if issues:
        raise DataError(issues)
    return orders


def _parse_line(
    number: int,
    body: str,
    *,
    raw: str,
    source: str,
    compound_id: str,
    delivery_date: dt.date,
    products: dict[str, str],
    building_ids: dict[str, str],
) -> tuple[HouseholdOrder | None, list[Issue]]:
    """One numbered line as an order, or the issues that stop it."""
    issues: list[Issue] = []

    def issue(field: str | None, message: str, hint: str, value: str | None = None) -> None:
        issues.append(Issue(source, number, field, message, hint, value=value))

    flags: set[PriorityFlag] = set()
    proxy = False
    for group in _FLAGS.findall(body):
        for word in re.split(r"[,、\s]+", group.strip()):
            if not word:
                continue
            flag = PRIORITY_FLAG_NAMES.get(word)
            if word in PROXY_WORDS:
                proxy = True
            elif flag is not None:
                flags.add(flag)
            else:
                issue(
                    "priority_flags",
                    f"unknown flag word {word!r} in parentheses",
                    "use 代下单/代买, 老人/独居老人, 婴儿/婴幼儿/宝宝, 孕妇, 慢性病/病人/透析, "
                    "残疾/残障; put other notes outside the numbered line",
                    value=word,
                )
    rest = _FLAGS.sub(" ", body)
    phones = _PHONE.findall(rest)
    rest = _PHONE.sub(" ", rest).strip()
    phone = phones[0] if phones else ""
    if len(phones) > 1:
        issue("phone", "more than one phone number", "keep one phone number per line")

    split = _split_place(rest)
    if split is None:
        issue(
            "building_id",
            "cannot read the building and room at the start of the line",
            "start the line with the building and room, e.g. '3号楼 502', '3栋502' or '3-502'",
            value=raw,
        )
        return None, issues
    name, place, rest = split
    building_key = (place.group(1) or place.group(3)).upper()
    room = place.group(2) or place.group(4)
    rest = rest[place.end() :]
    building_id = building_ids.get(building_key)
    if building_id is None:
        known = sorted({n for n in building_ids if not n.isalnum() or not n.isascii()})
        issue(
            "building_id",
            f"unknown building {building_key} in compound {compound_id}",
            did_you_mean(f"{building_key}号楼", known, what="building"),
            value=building_key,
        )

    items: list[dict[str, object]] = []
    for token in _JOIN_ITEM.sub(lambda m: "".join(m.group(1).split()), rest).split():
        item = _ITEM.fullmatch(token)
        if item is None:
            if products.get(token.casefold()) is not None:
                issue(
                    "quantity_units",
                    f"product {token!r} has no quantity",
                    f"write the quantity after it, e.g. {token}x1",
                    value=token,
                )
            elif not items and not name and not any(c.isdigit() for c in token):
                name = token
            elif items and not any(c.isdigit() for c in token):
                issue(
                    None,
                    f"cannot read {token!r} after the items",
                    "put the name before the items; if it is a product, add its quantity, "
                    f"e.g. {token}x1",
                    value=token,
                )
            else:
                issue(
                    None,
                    f"cannot read {token!r}",
                    "write items as product x quantity, e.g. 蔬菜套餐x2, separated by spaces",
                    value=token,
                )
            continue
        product, quantity = item.group(1).strip(), int(item.group(2))
        category_id = products.get(product.casefold())
        if category_id is None:
            issue(
                "category_id",
                f"unknown product {product!r}",
                did_you_mean(product, products, what="product")
                + "; or add it as an alias of its category",
                value=product,
            )
        if quantity <= 0:
            issue(
                "quantity_units",
                f"quantity of {product} is {quantity}",
                "order at least 1, or delete the item",
                value=token,
            )
        items.append({"category_id": category_id, "quantity_units": quantity, "product": product})
    if not items:
        issue(
            "items",
            "the line has no items",
            "add items as product x quantity, e.g. 蔬菜套餐x2",
            value=raw,
        )
    if issues or building_id is None:
        return None, issues
    data = {
        "order_id": f"jl-{delivery_date.isoformat()}-{number}",
        "compound_id": compound_id,
        "building_id": building_id,
        "room": room,
        "delivery_date": delivery_date,
        "items": items,
        "priority_flags": frozenset(flags),
        "proxy": proxy,
        "household_name": name,
        "phone": phone,
    }
    try:
        return HouseholdOrder.model_validate(data), []
    except ValidationError as error:
        return None, issues_from_validation_error(error, file=source, row=number, raw=data)
