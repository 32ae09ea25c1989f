"""Turn validation failures into ``Issue``s with hints, and check references between inputs.

Loaders validate each row with pydantic and hand the ``ValidationError`` to
:func:`issues_from_validation_error`, which names the file, row and column and says how to
fix the value. :class:`Reference` holds what is already known (compounds, buildings,
categories, suppliers, depots) so a row that points at something unknown is reported too.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import functools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from data.errors import Issue
from data.roster import flats_per_floor, room_issue
from data.schemas import (
    Building,
    Category,
    Certificate,
    Compound,
    Depot,
    Gate,
    HolderKind,
    Hours,
    LockdownLevel,
    PriorityFlag,
    Supplier,
)

PRIORITY_FLAG_NAMES: Mapping[str, PriorityFlag] = MappingProxyType(
    {
        **{flag.value: flag for flag in PriorityFlag},
        "老人": PriorityFlag.elderly,
        "独居老人": PriorityFlag.elderly,
        "婴儿": PriorityFlag.infant,
        "婴幼儿": PriorityFlag.infant,
        "宝宝": PriorityFlag.infant,
        "孕妇": PriorityFlag.pregnant,
        "慢性病": PriorityFlag.chronic_illness,
        "病人": PriorityFlag.chronic_illness,
        "透析": PriorityFlag.chronic_illness,
        "残疾": PriorityFlag.disability,
        "残障": PriorityFlag.disability,
    }
)
"""Names of priority flags accepted in files and 接龙 text (English values and Chinese)."""

LOCKDOWN_LEVEL_NAMES: Mapping[str, LockdownLevel] = MappingProxyType(
    {
        **{level.value: level for level in LockdownLevel},
        "封控区": LockdownLevel.sealed,
        "封控": LockdownLevel.sealed,
        "管控区": LockdownLevel.controlled,
        "管控": LockdownLevel.controlled,
        "防范区": LockdownLevel.precaution,
        "防范": LockdownLevel.precaution,
        "无管控": LockdownLevel.normal,
    }
)
"""Names of lockdown levels accepted in files: English values and the Chinese zone names."""

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "是", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "否", "f"})
"""Boolean spellings accepted in files (compared lower-case)."""

_IDENTIFIER_HINT = (
    "ids may contain only letters, digits, '_', '.', '-' and must start with a letter or digit"
)


def close_matches(value: str, known: Iterable[str], *, count: int = 3) -> list[str]:
    """A few known values that look like ``value`` (difflib), for 'did you mean' hints."""
    return difflib.get_close_matches(value, list(known), n=count, cutoff=0.5)


def did_you_mean(value: str, known: Iterable[str], *, what: str) -> str:
    """A hint naming close known values, or a few known ones when nothing is close."""
    pool = sorted(known)
    if not pool:
        return f"no {what} is known yet; import the {what}s first"
    near = close_matches(value, pool)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    shown = ", ".join(repr(n) for n in pool[:5])
    more = f" (and {len(pool) - 5} more)" if len(pool) > 5 else ""
    return f"use a known {what}, e.g. {shown}{more}"


def _allowed(ctx: Mapping[str, Any]) -> str:
    expected = str(ctx.get("expected", ""))
    return expected.replace(" or ", ", ")


def hint_for(error_type: str, column: str, ctx: Mapping[str, Any] | None = None) -> str:
    """How to fix a value that failed with pydantic error ``error_type`` in ``column``."""
    ctx = ctx or {}
    if error_type == "missing":
        return f"fill in '{column}'; it is required"
    if error_type in {"int_parsing", "int_from_float", "int_type", "int_parsing_size"}:
        return f"{column} must be a whole number, e.g. 12 (no decimals, units or commas)"
    if error_type in {"float_parsing", "float_type", "finite_number"}:
        return f"{column} must be a number, e.g. 121.47"
    if error_type in {"bool_parsing", "bool_type"}:
        return f"write {column} as true/false, 1/0, yes/no or 是/否"
    if error_type.startswith("datetime"):
        return (
            f"write {column} as an ISO 8601 datetime, e.g. 2022-04-12T08:00+08:00 "
            "(without an offset it is read as Shanghai time)"
        )
    if error_type.startswith("date"):
        return f"write {column} as YYYY-MM-DD, e.g. 2022-04-15"
    if error_type.startswith("time"):
        return f"write {column} as HH:MM (24-hour clock), e.g. 07:00"
    if error_type == "enum":
        return f"use one of: {_allowed(ctx)}"
    if error_type == "greater_than":
        return f"{column} must be greater than {ctx.get('gt')}"
    if error_type == "greater_than_equal":
        return f"{column} must be at least {ctx.get('ge')}"
    if error_type == "less_than_equal":
        return f"{column} must be at most {ctx.get('le')}"
    if error_type == "less_than":
        return f"{column} must be less than {ctx.get('lt')}"
    if error_type == "string_too_short":
        return f"fill in '{column}'; it may not be empty"
    if error_type == "string_too_long":
        return f"shorten {column} to at most {ctx.get('max_length')} characters"
    if error_type == "string_pattern_mismatch":
        return _IDENTIFIER_HINT
    if error_type in {"string_type", "string_unicode"}:
        return f"{column} must be text"
    if error_type == "too_short":
        return f"give at least {ctx.get('min_length', 1)} value(s) in {column}"
    if error_type == "extra_forbidden":
        return f"remove '{column}' or rename it to a known column"
    if error_type in {"frozen_set_type", "tuple_type", "list_type", "set_type"}:
        return f"write {column} as a list (';'-separated in a CSV cell)"
    if error_type in {"model_type", "dict_type", "model_attributes_type"}:
        return f"write {column} as a mapping of fields"
    if error_type == "value_error":
        if column.endswith(("closes_at", "valid_until")):
            return "make the end later than the start; split an interval over midnight in two"
        return f"correct {column}"
    return f"correct {column}"


def _message(error: Mapping[str, Any]) -> str:
    text = str(error.get("msg", "invalid value"))
    return text.removeprefix("Value error, ")


def _display(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, frozenset | set | tuple | list):
        return ";".join(sorted(_display(v) for v in value))
    return str(value)


def issues_from_validation_error(
    error: ValidationError,
    *,
    file: str,
    row: int | None,
    raw: Mapping[str, object],
    columns: Mapping[tuple[str | int, ...], str] | None = None,
    skip_columns: frozenset[str] = frozenset(),
) -> list[Issue]:
    """One ``Issue`` per pydantic error, naming the input column and its raw value.

    ``columns`` maps an error location (or a prefix of it) to the input column, for nested
    fields such as ``("receiving_hours", "opens_at") -> "receiving_opens_at"``; the first
    element of the location is used otherwise. Errors on ``skip_columns`` (columns already
    reported missing for the whole file) are left out.
    """
    columns = columns or {}
    issues: list[Issue] = []
    seen: set[tuple[str, str]] = set()
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        column = _column_for(loc, columns)
        if column in skip_columns:
            continue
        error_type = str(item.get("type", ""))
        key = (column, error_type)
        if key in seen:  # e.g. one bad element of a list reported once per element
            continue
        seen.add(key)
        value = raw.get(column)
        if isinstance(value, list | tuple) and len(loc) > 1 and isinstance(loc[1], int):
            value = value[loc[1]] if loc[1] < len(value) else value
        if error_type == "missing" or value is None or value == "":
            shown = None
            message = (
                f"'{column}' is empty or missing" if error_type == "missing" else _message(item)
            )
        else:
            shown = _display(value)
            message = _message(item)
        issues.append(
            Issue(
                file=file,
                row=row,
                field=column,
                message=message,
                hint=hint_for(error_type, column, item.get("ctx")),
                value=shown,
            )
        )
    return issues


def _column_for(loc: tuple[str | int, ...], columns: Mapping[tuple[str | int, ...], str]) -> str:
    for end in range(len(loc), 0, -1):
        found = columns.get(loc[:end])
        if found is not None:
            return found
    if not loc:
        return columns.get((), "(row)")
    return ".".join(str(part) for part in loc if isinstance(part, str)) or str(loc[0])


def missing_columns(
    file: str, found: Sequence[str], required: Iterable[str], *, header_row: int | None = 1
) -> list[Issue]:
    """One issue per required column absent from the header, listing the columns found."""
    present = set(found)
    shown = ", ".join(found) if found else "none"
    return [
        Issue(
            file=file,
            row=header_row,
            field=name,
            message=f"required column '{name}' is missing",
            hint=f"add a '{name}' column; columns found: {shown}",
        )
        for name in required
        if name not in present
    ]


def unknown_columns(
    file: str, found: Sequence[str], accepted: Sequence[str], *, header_row: int | None = 1
) -> list[Issue]:
    """One issue per column the format does not know (a typo would otherwise be lost)."""
    known = set(accepted)
    return [
        Issue(
            file=file,
            row=header_row,
            field=name,
            message=f"unknown column '{name}'",
            hint=f"{did_you_mean(name, accepted, what='column')}; accepted: {', '.join(accepted)}",
        )
        for name in dict.fromkeys(found)
        if name and name not in known
    ]


def duplicate_ids(
    file: str, rows: Iterable[tuple[int, Hashable]], *, field: str, what: str = "id"
) -> list[Issue]:
    """An issue for each row repeating an id seen on an earlier row of the same file."""
    first: dict[Hashable, int] = {}
    issues: list[Issue] = []
    for row, key in rows:
        if key in first:
            issues.append(
                Issue(
                    file=file,
                    row=row,
                    field=field,
                    message=f"duplicate {what}: already used on row {first[key]}",
                    hint=f"give every {what} once per file, or a new {field}",
                    value=_display(key[-1] if isinstance(key, tuple) else key),
                )
            )
        else:
            first[key] = row
    return issues


def expired_certificates(
    certificates: Iterable[tuple[int, Certificate]], *, file: str, as_of: dt.datetime
) -> list[Issue]:
    """An issue for each certificate whose validity ended before ``as_of``."""
    return [
        Issue(
            file=file,
            row=row,
            field="valid_until",
            message=(
                f"certificate {cert.certificate_id} ({cert.type.value}) expired before "
                f"{as_of.isoformat()}"
            ),
            hint="upload the renewed certificate with its new validity interval",
            value=cert.valid_until.isoformat(),
        )
        for row, cert in certificates
        if cert.valid_until < as_of
    ]


def certificate_holder_issues(
    certificates: Iterable[tuple[int, Certificate]],
    holders: Mapping[HolderKind, frozenset[str] | None],
    *,
    file: str,
) -> list[Issue]:
    """An issue for each certificate whose holder is not a known record of its kind.

    ``holders`` maps a holder kind to the known ids; a kind mapped to ``None`` (or left
    out) is not checked, e.g. vehicle passes uploaded without the vehicles.
    """
    issues: list[Issue] = []
    for row, cert in certificates:
        known = holders.get(cert.holder_kind)
        if known is None or cert.holder_id in known:
            continue
        kind = cert.holder_kind.value
        issues.append(
            Issue(
                file=file,
                row=row,
                field="holder_id",
                message=f"certificate {cert.certificate_id} belongs to an unknown {kind}",
                hint=_cached_hint(cert.holder_id, known, f"{kind}_id"),
                value=cert.holder_id,
            )
        )
    return issues


def hours_outside(
    inner: Hours, outer: Hours, *, file: str, row: int | None, what: str, around: str
) -> list[Issue]:
    """Issues where ``inner`` hours (e.g. a gate's) reach outside ``outer`` (its compound's)."""
    issues: list[Issue] = []
    if inner.opens_at < outer.opens_at:
        issues.append(
            Issue(
                file=file,
                row=row,
                field="receiving_opens_at",
                message=(
                    f"{what} opens before {around} receives goods (from {outer.opens_at:%H:%M})"
                ),
                hint=f"set receiving_opens_at to {outer.opens_at:%H:%M} or later",
                value=f"{inner.opens_at:%H:%M}",
            )
        )
    if inner.closes_at > outer.closes_at:
        issues.append(
            Issue(
                file=file,
                row=row,
                field="receiving_closes_at",
                message=(
                    f"{what} closes after {around} stops receiving goods "
                    f"(until {outer.closes_at:%H:%M})"
                ),
                hint=f"set receiving_closes_at to {outer.closes_at:%H:%M} or earlier",
                value=f"{inner.closes_at:%H:%M}",
            )
        )
    return issues


def _frozen_map(pairs: Iterable[tuple[str, Any]]) -> Mapping[str, Any]:
    return MappingProxyType(dict(pairs))


@dataclass(frozen=True)
class Reference:
    """What is known when an input refers to other records; ``None`` means 'not checked'.

    A set that is present but empty means nothing of that kind is known, so every
    reference to one is reported.
    """

    compound_ids: frozenset[str] | None = None
    building_ids: Mapping[str, frozenset[str]] | None = field(default=None, hash=False)
    category_ids: frozenset[str] | None = None
    supplier_ids: frozenset[str] | None = None
    depot_suppliers: Mapping[str, str] | None = field(default=None, hash=False)
    compound_hours: Mapping[str, Hours] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    rosters: Mapping[tuple[str, str], Building] | None = field(default=None, hash=False)
    """(compound_id, building_id) → the building whose floors and households give its rooms."""

    @classmethod
    def from_models(
        cls,
        *,
        compounds: Iterable[Compound] | None = None,
        buildings: Iterable[Building] | None = None,
        categories: Iterable[Category] | None = None,
        suppliers: Iterable[Supplier] | None = None,
        depots: Iterable[Depot] | None = None,
    ) -> Reference:
        """A reference from loaded models; kinds left out are not checked."""
        compound_list = None if compounds is None else list(compounds)
        per_compound: dict[str, set[str]] | None = None
        rosters: dict[tuple[str, str], Building] | None = None
        if buildings is not None:
            per_compound, rosters = {}, {}
            for b in buildings:
                per_compound.setdefault(b.compound_id, set()).add(b.building_id)
                rosters[b.compound_id, b.building_id] = b
        return cls(
            compound_ids=None
            if compound_list is None
            else frozenset(c.compound_id for c in compound_list),
            building_ids=None
            if per_compound is None
            else _frozen_map((k, frozenset(v)) for k, v in per_compound.items()),
            category_ids=None
            if categories is None
            else frozenset(c.category_id for c in categories),
            supplier_ids=None if suppliers is None else frozenset(s.supplier_id for s in suppliers),
            depot_suppliers=None
            if depots is None
            else _frozen_map((d.depot_id, d.supplier_id) for d in depots),
            compound_hours=_frozen_map(
                (c.compound_id, c.receiving_hours) for c in (compound_list or ())
            ),
            rosters=None if rosters is None else MappingProxyType(rosters),
        )

    def compound_issue(
        self, file: str, row: int | None, compound_id: str, *, field: str = "compound_id"
    ) -> Issue | None:
        """An issue when ``compound_id`` is not a known compound."""
        return _unknown_id(file, row, field, compound_id, self.compound_ids, "compound")

    def building_issue(
        self, file: str, row: int | None, compound_id: str, building_id: str
    ) -> Issue | None:
        """An issue when ``building_id`` is not a building of ``compound_id``."""
        if self.building_ids is None:
            return None
        if self.compound_ids is not None and compound_id not in self.compound_ids:
            return None  # the compound is reported already
        known = self.building_ids.get(compound_id, frozenset())
        if building_id in known:
            return None
        return Issue(
            file=file,
            row=row,
            field="building_id",
            message=f"unknown building in compound {compound_id}",
            hint=_cached_hint(building_id, known, "building_id of that compound"),
            value=building_id,
        )

    def room_issue(
        self, file: str, row: int | None, compound_id: str, building_id: str, room: str
    ) -> Issue | None:
        """An issue when ``room`` is not on the building's roster (``data.roster``); an
        unknown building is reported by ``building_issue`` instead."""
        building = None if self.rosters is None else self.rosters.get((compound_id, building_id))
        problem = None if building is None else room_issue(building, room)
        if problem is None:
            return None
        assert building is not None
        hint = (
            f"use the room as floor then two-digit flat, floors 1-{building.floors} and at most "
            f"{flats_per_floor(building)} flats a floor (e.g. 502), or fix the building_id"
        )
        return Issue(file=file, row=row, field="room", message=problem, hint=hint, value=room)

    def category_issue(
        self, file: str, row: int | None, category_id: str, *, field: str = "category_id"
    ) -> Issue | None:
        """An issue when ``category_id`` is not a known category."""
        return _unknown_id(file, row, field, category_id, self.category_ids, "category")

    def supplier_issue(
        self, file: str, row: int | None, supplier_id: str, *, field: str = "supplier_id"
    ) -> Issue | None:
        """An issue when ``supplier_id`` is not a known supplier."""
        return _unknown_id(file, row, field, supplier_id, self.supplier_ids, "supplier")

    def depot_issue(
        self, file: str, row: int | None, supplier_id: str, depot_id: str, *, field: str
    ) -> Issue | None:
        """An issue when ``depot_id`` is unknown or belongs to another supplier."""
        if self.depot_suppliers is None:
            return None
        owner = self.depot_suppliers.get(depot_id)
        if owner is None:
            return Issue(
                file=file,
                row=row,
                field=field,
                message="unknown depot",
                hint=_cached_hint(depot_id, self.depot_suppliers.keys(), "depot_id"),
                value=depot_id,
            )
        if owner != supplier_id:
            own = sorted(d for d, s in self.depot_suppliers.items() if s == supplier_id)
            listed = ", ".join(own) if own else "none known"
            return Issue(
                file=file,
                row=row,
                field=field,
                message=f"depot {depot_id} belongs to supplier {owner}, not {supplier_id}",
                hint=f"use one of {supplier_id}'s own depots: {listed}",
                value=depot_id,
            )
        return None

    def merged(
        self,
        *,
        suppliers: Iterable[Supplier] = (),
        depots: Iterable[Depot] = (),
        categories: Iterable[Category] = (),
    ) -> Reference:
        """This reference plus the suppliers, depots and categories of a file being loaded."""
        supplier_list, depot_list, category_list = list(suppliers), list(depots), list(categories)
        supplier_ids = self.supplier_ids
        if supplier_list:
            supplier_ids = (supplier_ids or frozenset()) | {s.supplier_id for s in supplier_list}
        depot_suppliers = self.depot_suppliers
        if depot_list:
            depot_suppliers = _frozen_map(
                [
                    *(depot_suppliers or {}).items(),
                    *((d.depot_id, d.supplier_id) for d in depot_list),
                ]
            )
        category_ids = self.category_ids
        if category_list and category_ids is not None:
            category_ids = category_ids | {c.category_id for c in category_list}
        return Reference(
            compound_ids=self.compound_ids,
            building_ids=self.building_ids,
            category_ids=category_ids,
            supplier_ids=supplier_ids,
            depot_suppliers=depot_suppliers,
            compound_hours=self.compound_hours,
        )


@functools.lru_cache(maxsize=4096)
def _hint_for_pool(value: str, pool: frozenset[str], what: str) -> str:
    return did_you_mean(value, pool, what=what)


def _cached_hint(value: str, known: Iterable[str], what: str) -> str:
    """``did_you_mean`` memoised per value (frozensets cache their hash), so it stays fast."""
    pool = known if isinstance(known, frozenset) else frozenset(known)
    return _hint_for_pool(value, pool, what)


def gate_hours_issues(
    gates: Iterable[tuple[int, Gate]], compound_hours: Mapping[str, Hours], *, file: str
) -> list[Issue]:
    """Issues for gates whose receiving hours reach outside their compound's."""
    issues: list[Issue] = []
    for row, gate in gates:
        outer = compound_hours.get(gate.compound_id)
        if outer is not None:
            issues += hours_outside(
                gate.receiving_hours,
                outer,
                file=file,
                row=row,
                what=f"gate {gate.gate_id}",
                around=f"compound {gate.compound_id}",
            )
    return issues


def _unknown_id(
    file: str,
    row: int | None,
    field: str,
    value: str,
    known: frozenset[str] | None,
    kind: str,
) -> Issue | None:
    """An "unknown <kind>" issue when ``value`` is not in ``known`` (None: not checked)."""
    if known is None or value in known:
        return None
    return Issue(
        file=file,
        row=row,
        field=field,
        message=f"unknown {kind}",
        hint=_cached_hint(value, known, f"{kind}_id"),
        value=value,
    )
