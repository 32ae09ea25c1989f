"""接龙 text: the sample paste parsed field by field, and every error class reported by line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data import load
from data.errors import DataError, Issue
from data.jielong import parse_jielong
from data.schemas import Building, Category, HouseholdOrder, PriorityFlag

HERE = Path(__file__).resolve().parents[1] / "instances" / "load"
DAY = dt.date(2022, 4, 15)


@pytest.fixture(scope="module")
def categories() -> list[Category]:
    return load.load_categories(HERE / "categories.yaml")


@pytest.fixture(scope="module")
def buildings() -> list[Building]:
    return load.load_buildings(HERE / "buildings_ok.csv")


def parse(text: str, categories: list[Category], buildings: list[Building]) -> list[HouseholdOrder]:
    return parse_jielong(
        text,
        compound_id="c-huamu",
        delivery_date=DAY,
        categories=categories,
        buildings=buildings,
        source="jielong.txt",
    )


def issues_of(text: str, categories: list[Category], buildings: list[Building]) -> list[Issue]:
    with pytest.raises(DataError) as caught:
        parse(text, categories, buildings)
    return caught.value.issues


def test_sample(categories: list[Category], buildings: list[Building]) -> None:
    orders = parse((HERE / "jielong_sample.txt").read_text("utf-8"), categories, buildings)
    by_id = {o.order_id: o for o in orders}
    assert list(by_id) == [f"jl-2022-04-15-{n}" for n in (1, 2, 3, 4, 12)]

    first = by_id["jl-2022-04-15-1"]
    assert (first.building_id, first.room) == ("c-huamu-b03", "502")
    assert [(i.category_id, i.quantity_units, i.product) for i in first.items] == [
        ("vegetables", 2, "蔬菜套餐"),
        ("eggs", 1, "鸡蛋"),
    ]
    assert first.proxy is True
    assert first.priority_flags == {PriorityFlag.elderly}
    assert (first.compound_id, first.delivery_date) == ("c-huamu", DAY)

    second = by_id["jl-2022-04-15-2"]
    assert (second.building_id, second.room, second.household_name) == (
        "c-huamu-b05",
        "1101",
        "王阿姨",
    )
    assert second.phone == "13800138000"
    assert second.priority_flags == {PriorityFlag.pregnant}
    assert [(i.category_id, i.quantity_units) for i in second.items] == [
        ("vegetables", 1),
        ("dairy", 2),
    ]
    assert second.proxy is False

    full_width = by_id["jl-2022-04-15-3"]  # ３、５栋１１０２ 纯牛奶＊１ （婴儿，慢性病）
    assert (full_width.building_id, full_width.room) == ("c-huamu-b05", "1102")
    assert full_width.items[0].category_id == "dairy"
    assert full_width.priority_flags == {PriorityFlag.infant, PriorityFlag.chronic_illness}

    spaced = by_id["jl-2022-04-15-4"]  # 4) 12幢 301室 鸡蛋30枚 x 1
    assert (spaced.building_id, spaced.room) == ("c-huamu-b12", "301")
    assert [(i.product, i.category_id) for i in spaced.items] == [("鸡蛋30枚", "eggs")]

    dashed = by_id["jl-2022-04-15-12"]  # 12. 3-502 肉类套餐*1
    assert (dashed.building_id, dashed.room) == ("c-huamu-b03", "502")
    assert dashed.items[0].category_id == "meat"


def test_reparse_is_idempotent(categories: list[Category], buildings: list[Building]) -> None:
    text = (HERE / "jielong_sample.txt").read_text("utf-8")
    assert parse(text, categories, buildings) == parse(text, categories, buildings)


def test_errors_all_reported_with_line_numbers(
    categories: list[Category], buildings: list[Building]
) -> None:
    text = (HERE / "jielong_errors.txt").read_text("utf-8")
    issues = issues_of(text, categories, buildings)
    assert [(i.row, i.field) for i in issues] == [
        (2, "building_id"),  # 9号楼 unknown
        (3, "category_id"),  # 榴莲
        (4, "quantity_units"),  # x0
        (5, "building_id"),  # 随便写写: no building and room
        (1, "line"),  # number 1 used twice
        (6, "priority_flags"),  # (VIP)
    ]
    assert all(i.file == "jielong.txt" for i in issues)
    assert "3号楼" in issues[0].hint
    assert issues[1].value == "榴莲"
    assert "alias" in issues[1].hint
    assert "at least 1" in issues[2].hint
    assert "3号楼 502" in issues[3].hint
    assert "text lines 2 and 7" in issues[4].message
    assert "jielong.txt, row 3, field 'category_id'" in str(issues[1])


def test_close_product_names_are_suggested(
    categories: list[Category], buildings: list[Building]
) -> None:
    (issue,) = issues_of("1. 3号楼 502 蔬菜套x1", categories, buildings)
    assert "蔬菜套餐" in issue.hint


def test_product_without_quantity(categories: list[Category], buildings: list[Building]) -> None:
    (issue,) = issues_of("1. 3号楼 502 鸡蛋x1 牛奶", categories, buildings)
    assert (issue.row, issue.field) == (1, "quantity_units")
    assert "牛奶x1" in issue.hint


def test_line_without_items(categories: list[Category], buildings: list[Building]) -> None:
    (issue,) = issues_of("7. 3号楼 502 王阿姨", categories, buildings)
    assert (issue.row, issue.field) == (7, "items")


def test_headers_notes_and_blank_lines_are_ignored(
    categories: list[Category], buildings: list[Building]
) -> None:
    text = "#接龙 4.15 蔬菜团\n\n请大家按格式接龙\n2022.4.15 截止\n1. 3号楼 502 蔬菜x1\n"
    (order,) = parse(text, categories, buildings)
    assert order.order_id == "jl-2022-04-15-1"


def test_text_without_numbered_lines(categories: list[Category], buildings: list[Building]) -> None:
    (issue,) = issues_of("#接龙\n没有人接龙", categories, buildings)
    assert "no numbered" in issue.message


@pytest.mark.parametrize(
    ("line", "building_id", "room", "name"),
    [
        ("1.3号楼 502 蔬菜套餐x2", "c-huamu-b03", "502", ""),  # no space after the dot
        ("1．3号楼 502 蔬菜套餐ｘ2", "c-huamu-b03", "502", ""),  # full-width ． and ｘ
        ("1) 王阿姨 5号楼 1101 蔬菜套餐x2", "c-huamu-b05", "1101", "王阿姨"),  # name first
        ("1、12号 301室 李老师 蔬菜套餐 X 2", "c-huamu-b12", "301", "李老师"),
        ("1. 3座 502 蔬菜套餐*2", "c-huamu-b03", "502", ""),
    ],
)
def test_line_forms(
    line: str,
    building_id: str,
    room: str,
    name: str,
    categories: list[Category],
    buildings: list[Building],
) -> None:
    (order,) = parse(line, categories, buildings)
    assert (order.building_id, order.room, order.household_name) == (building_id, room, name)
    assert [(i.category_id, i.quantity_units) for i in order.items] == [("vegetables", 2)]
    assert order.order_id == "jl-2022-04-15-1"


def test_flag_words_and_phone(categories: list[Category], buildings: list[Building]) -> None:
    text = "5. 3号楼 502 蔬菜套餐x1 （独居老人、残障 宝宝，透析） (代买) 13912345678"
    (order,) = parse(text, categories, buildings)
    assert order.priority_flags == {
        PriorityFlag.elderly,
        PriorityFlag.disability,
        PriorityFlag.infant,
        PriorityFlag.chronic_illness,
    }
    assert order.proxy is True
    assert order.phone == "13912345678"


def test_dates_and_empty_numbered_lines_are_not_orders(
    categories: list[Category], buildings: list[Building]
) -> None:
    text = "4.15 截止\n2022.4.15 蔬菜团\n2.\n3、 \n1. 3号楼 502 蔬菜x1\n"
    (order,) = parse(text, categories, buildings)
    assert order.order_id == "jl-2022-04-15-1"


def test_name_after_the_items_is_reported(
    categories: list[Category], buildings: list[Building]
) -> None:
    (issue,) = issues_of("8. 3号楼 502 蔬菜套餐x1 榴莲", categories, buildings)
    assert (issue.row, issue.value) == (8, "榴莲")
    assert "before the items" in issue.hint and "榴莲x1" in issue.hint


def test_buildings_of_other_compounds_do_not_resolve(
    categories: list[Category], buildings: list[Building]
) -> None:
    with pytest.raises(DataError) as caught:
        parse_jielong(
            "1. 3号楼 502 蔬菜x1",
            compound_id="c-tangqiao",
            delivery_date=DAY,
            categories=categories,
            buildings=buildings,
        )
    (issue,) = caught.value.issues
    assert (issue.file, issue.row, issue.field) == ("接龙", 1, "building_id")
    assert "c-tangqiao" in issue.message
