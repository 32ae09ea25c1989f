"""Hints for each pydantic error type, and the cross-reference checks of ``Reference``."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from data.errors import DataError, Issue
from data.schemas import (
    SHANGHAI,
    Building,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Gate,
    HolderKind,
    Hours,
    Supplier,
)
from data.validate import (
    Reference,
    certificate_holder_issues,
    did_you_mean,
    duplicate_ids,
    expired_certificates,
    gate_hours_issues,
    hint_for,
    issues_from_validation_error,
    missing_columns,
    unknown_columns,
)


def compound(compound_id: str, opens: int = 7, closes: int = 19) -> Compound:
    return Compound(
        compound_id=compound_id,
        name=compound_id,
        district="浦东新区",
        lon=121.5,
        lat=31.2,
        households=10,
        receiving_hours=Hours(opens_at=dt.time(opens), closes_at=dt.time(closes)),
    )


def building(building_id: str, compound_id: str) -> Building:
    return Building(
        building_id=building_id,
        compound_id=compound_id,
        name="1号楼",
        lon=121.5,
        lat=31.2,
        households=10,
    )


def category(category_id: str) -> Category:
    return Category(
        category_id=category_id, name_zh="菜", name_en="x", unit="份", unit_weight_g=100
    )


def depot(depot_id: str, supplier_id: str) -> Depot:
    return Depot(depot_id=depot_id, supplier_id=supplier_id, name="仓", lon=121.5, lat=31.2)


def errors_of(data: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Compound.model_validate(data)
    return caught.value


@pytest.mark.parametrize(
    ("error_type", "column", "ctx", "expected"),
    [
        ("missing", "households", None, "fill in 'households'"),
        ("int_parsing", "households", None, "households must be a whole number"),
        ("float_parsing", "lon", None, "lon must be a number"),
        ("bool_parsing", "proxy", None, "是/否"),
        ("date_from_datetime_parsing", "delivery_date", None, "YYYY-MM-DD"),
        ("time_parsing", "opens_at", None, "HH:MM"),
        ("datetime_parsing", "valid_from", None, "ISO 8601"),
        ("enum", "level", {"expected": "'sealed' or 'normal'"}, "use one of: 'sealed', 'normal'"),
        ("greater_than", "quantity_units", {"gt": 0}, "greater than 0"),
        ("string_pattern_mismatch", "compound_id", None, "letters, digits"),
        ("extra_forbidden", "colour", None, "remove 'colour'"),
    ],
)
def test_hint_per_error_type(
    error_type: str, column: str, ctx: dict[str, object] | None, expected: str
) -> None:
    assert expected in hint_for(error_type, column, ctx)


def test_validation_error_becomes_issues_naming_column_and_raw_value() -> None:
    raw = {"compound_id": "c-1", "name": "x", "district": "y", "lon": "east", "lat": "31.2"}
    error = errors_of({**raw, "households": "many"})
    issues = issues_from_validation_error(
        error, file="c.csv", row=7, raw={**raw, "households": "many"}
    )
    assert [(i.file, i.row, i.field, i.value) for i in issues] == [
        ("c.csv", 7, "lon", "east"),
        ("c.csv", 7, "households", "many"),
    ]
    assert str(issues[1]).startswith("c.csv, row 7, field 'households'")
    assert "whole number" in str(issues[1])


def test_nested_location_maps_to_flat_column() -> None:
    raw = {"compound_id": "c-1", "name": "x", "district": "y", "lon": 121.5, "lat": 31.2}
    error = errors_of(
        {**raw, "households": 1, "receiving_hours": {"opens_at": "19:00", "closes_at": "07:00"}}
    )
    (issue,) = issues_from_validation_error(
        error,
        file="c.csv",
        row=2,
        raw={**raw, "receiving_closes_at": "07:00"},
        columns={("receiving_hours",): "receiving_closes_at"},
    )
    assert (issue.field, issue.value) == ("receiving_closes_at", "07:00")
    assert "split" in issue.hint


def test_skipped_columns_are_not_reported_again() -> None:
    error = errors_of({"compound_id": "c-1", "name": "x", "district": "y", "lon": 1, "lat": 2})
    issues = issues_from_validation_error(
        error, file="c.csv", row=2, raw={}, skip_columns=frozenset({"households"})
    )
    assert issues == []


def test_missing_columns_lists_the_columns_found() -> None:
    (issue,) = missing_columns("c.csv", ["a", "b"], ["a", "households"])
    assert (issue.row, issue.field) == (1, "households")
    assert "columns found: a, b" in issue.hint


def test_duplicate_ids() -> None:
    issues = duplicate_ids("c.csv", [(2, "a"), (3, "b"), (4, "a"), (5, "a")], field="id")
    assert [(i.row, i.value) for i in issues] == [(4, "a"), (5, "a")]
    assert all("row 2" in i.message for i in issues)


def test_did_you_mean() -> None:
    assert "'vegetables'" in did_you_mean("vegetable", ["vegetables", "meat"], what="category")
    assert "e.g. 'meat'" in did_you_mean("zzz", ["meat"], what="category")
    assert "import" in did_you_mean("zzz", [], what="category")


def test_reference_checks() -> None:
    ref = Reference.from_models(
        compounds=[compound("c-1"), compound("c-2")],
        buildings=[building("b-1", "c-1"), building("b-2", "c-2")],
        categories=[category("vegetables"), category("meat")],
        suppliers=[Supplier(supplier_id="s-1", name="甲"), Supplier(supplier_id="s-2", name="乙")],
        depots=[depot("d-1", "s-1"), depot("d-2", "s-2")],
    )
    assert ref.compound_issue("f", 2, "c-1") is None
    unknown = ref.compound_issue("f", 2, "c-3")
    assert unknown is not None and unknown.field == "compound_id"
    assert ref.building_issue("f", 2, "c-1", "b-1") is None
    other = ref.building_issue("f", 3, "c-1", "b-2")  # exists, but in another compound
    assert other is not None and "c-1" in other.message and other.value == "b-2"
    assert ref.building_issue("f", 3, "c-9", "b-2") is None  # the compound is reported instead
    bad_category = ref.category_issue("f", 4, "meats")
    assert bad_category is not None and "'meat'" in bad_category.hint
    assert ref.supplier_issue("f", 5, "s-3") is not None
    foreign = ref.depot_issue("f", 6, "s-1", "d-2", field="depot_ids")
    assert foreign is not None and "belongs to supplier s-2" in foreign.message
    assert "d-1" in foreign.hint
    assert ref.depot_issue("f", 6, "s-1", "d-1", field="depot_ids") is None
    assert ref.depot_issue("f", 6, "s-1", "d-9", field="depot_ids") is not None


def test_reference_leaves_unknown_kinds_unchecked() -> None:
    ref = Reference.from_models(categories=[category("meat")])
    assert ref.compound_issue("f", 2, "anything") is None
    assert ref.building_issue("f", 2, "anything", "b") is None
    assert ref.category_issue("f", 2, "fish") is not None
    empty = Reference.from_models(compounds=[])
    assert empty.compound_issue("f", 2, "c-1") is not None  # known to be empty


def test_reference_merged_with_a_file_being_loaded() -> None:
    ref = Reference.from_models(depots=[depot("d-1", "s-1")]).merged(depots=[depot("d-2", "s-2")])
    assert ref.depot_issue("f", 2, "s-2", "d-2", field="depot_ids") is None
    assert ref.depot_issue("f", 2, "s-2", "d-1", field="depot_ids") is not None


def test_expired_certificates() -> None:
    def cert(cert_id: str, until: dt.datetime) -> Certificate:
        return Certificate(
            certificate_id=cert_id,
            type=CertificateType.driver_test,
            holder_kind=HolderKind.driver,
            holder_id="drv-1",
            valid_from=until - dt.timedelta(hours=48),
            valid_until=until,
        )

    as_of = dt.datetime(2022, 4, 15, 8, tzinfo=SHANGHAI)
    certs = [
        (1, cert("ok", as_of + dt.timedelta(hours=1))),
        (2, cert("old", as_of - dt.timedelta(1))),
    ]
    (issue,) = expired_certificates(certs, file="s.yaml", as_of=as_of)
    assert (issue.row, issue.field) == (2, "valid_until")
    assert "old" in issue.message and "renewed" in issue.hint


def test_gate_hours_outside_compound() -> None:
    gate = Gate(
        gate_id="g-1",
        compound_id="c-1",
        name="西门",
        lon=121.5,
        lat=31.2,
        receiving_hours=Hours(opens_at=dt.time(6), closes_at=dt.time(12)),
    )
    hours = {"c-1": compound("c-1", 8, 18).receiving_hours}
    (issue,) = gate_hours_issues([(2, gate)], hours, file="g.csv")
    assert (issue.row, issue.field, issue.value) == (2, "receiving_opens_at", "06:00")
    assert gate_hours_issues([(2, gate)], {}, file="g.csv") == []


def test_data_error_lists_every_issue() -> None:
    error = DataError([Issue("f", 2, "a", "bad"), Issue("f", 3, "b", "worse", "fix it")])
    assert "2 problems" in str(error) and "row 3" in str(error) and "Fix: fix it" in str(error)


def test_certificate_holders_checked_per_kind() -> None:
    def cert(cert_id: str, kind: HolderKind, holder: str) -> Certificate:
        return Certificate(
            certificate_id=cert_id,
            type=CertificateType.supply_permit,
            holder_kind=kind,
            holder_id=holder,
            valid_from=dt.datetime(2022, 4, 1, tzinfo=SHANGHAI),
            valid_until=dt.datetime(2022, 5, 1, tzinfo=SHANGHAI),
        )

    certs = [
        (1, cert("a", HolderKind.supplier, "sup-1")),
        (2, cert("b", HolderKind.supplier, "sup-2")),
        (3, cert("c", HolderKind.vehicle, "veh-9")),  # vehicles not known: not checked
    ]
    holders = {HolderKind.supplier: frozenset({"sup-1"}), HolderKind.vehicle: None}
    (issue,) = certificate_holder_issues(certs, holders, file="s.yaml")
    assert (issue.row, issue.field, issue.value) == (2, "holder_id", "sup-2")
    assert "unknown supplier" in issue.message and "'sup-1'" in issue.hint


def test_unknown_columns_once_each_and_blank_ones_left_to_the_header_check() -> None:
    issues = unknown_columns("c.csv", ["lon", "colour", "", "colour"], ["lon", "lat"])
    assert [(i.row, i.field) for i in issues] == [(1, "colour")]
