"""Readers: happy paths value by value, and one named fixture per class of bad input."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from data import load
from data.errors import DataError, Issue
from data.geo import City, gcj02_to_bd09, haversine_m, wgs84_to_gcj02
from data.schemas import SHANGHAI, Datum, LockdownLevel, PriorityFlag
from data.validate import Reference

HERE = Path(__file__).resolve().parents[1] / "instances" / "load"


def rejected(call: object) -> list[Issue]:
    """The issues of the DataError a loader raises (the call must fail).

    Every issue must say where (file, and row and field where it has them) and how to fix
    it, and the error's text must list every issue.
    """
    assert callable(call)
    with pytest.raises(DataError) as caught:
        call()
    issues = caught.value.issues
    for issue in issues:
        text = str(issue)
        assert issue.file and text.startswith(issue.file)
        assert issue.row is None or f", row {issue.row}" in text
        assert issue.field is None or f"field '{issue.field}'" in text
        assert issue.hint and f"Fix: {issue.hint}" in text
        assert text in str(caught.value)
    return issues


def names(issues: list[Issue]) -> set[str]:
    """The file names (without folders or the [list] suffix) the issues point at."""
    return {Path(issue.file.split(" [")[0]).name for issue in issues}


def reference() -> Reference:
    """Compounds, buildings and categories of the fixtures."""
    return Reference.from_models(
        compounds=load.load_compounds(HERE / "compounds_ok.csv"),
        buildings=load.load_buildings(HERE / "buildings_ok.csv"),
        categories=load.load_categories(HERE / "categories.yaml"),
    )


# --- happy paths -----------------------------------------------------------------------------


def test_compounds_csv_values() -> None:
    huamu, tangqiao = load.load_compounds(HERE / "compounds_ok.csv")
    assert huamu.compound_id == "c-huamu"
    assert huamu.households == 1200
    assert (huamu.lon, huamu.lat) == (121.5502, 31.2151)
    assert huamu.receiving_hours.opens_at == dt.time(8, 0)
    assert huamu.receiving_hours.closes_at == dt.time(18, 0)
    assert huamu.synthetic is True  # 是
    assert tangqiao.receiving_hours.opens_at == dt.time(7, 0)  # empty cells: the default
    assert tangqiao.synthetic is False


def test_compounds_geojson_takes_lon_lat_from_the_geometry() -> None:
    compounds = load.load_compounds(HERE / "compounds.geojson")
    assert [c.compound_id for c in compounds] == ["c-huamu", "c-tangqiao"]
    assert (compounds[0].lon, compounds[0].lat, compounds[0].households) == (
        121.5502,
        31.2151,
        1200,
    )


def test_compounds_xlsx_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "compounds.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("小区")
    header = ["compound_id", "name", "district", "lon", "lat", "households", "receiving_opens_at"]
    sheet.write_row(0, 0, header)
    sheet.write_row(1, 0, ["c-1", "一号小区", "浦东新区", 121.55, 31.21, 300, "08:00"])
    sheet.write_row(2, 0, ["c-2", "二号小区", "浦东新区", 121.56, 31.22, "lots", "06:30"])
    sheet.write_row(3, 0, ["c-3", "三号小区", "浦东新区", 121.57, 31.23, 12.5, "06:30"])
    workbook.close()
    issues = rejected(lambda: load.load_compounds(path))
    assert [(i.row, i.field) for i in issues] == [(3, "households"), (4, "households")]
    assert "whole number" in issues[0].hint
    assert issues[0].value == "lots"
    assert "compounds.xlsx" in str(issues[0])


def test_rooms_off_the_building_roster_are_named_with_their_row(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    header = ",".join(load.ORDER_REQUIRED)
    rows = [  # 3号楼: 16 floors, 96 households, so 6 flats a floor
        "o-1,c-huamu,c-huamu-b03,1606,2022-04-15,vegetables,1",
        "o-2,c-huamu,c-huamu-b03,1701,2022-04-15,vegetables,1",
        "o-3,c-huamu,c-huamu-b03,507,2022-04-15,vegetables,1",
        "o-4,c-huamu,c-huamu-b03,B2,2022-04-15,vegetables,1",
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    issues = rejected(lambda: load.load_orders(path, reference=reference()))
    assert [(i.row, i.field, i.value) for i in issues] == [
        (3, "room", "1701"),
        (4, "room", "507"),
        (5, "room", "B2"),
    ]
    assert "floor 17 does not exist" in issues[0].message
    assert "at most 6 flats a floor" in issues[1].message
    assert "floor then two-digit flat" in issues[2].message


def test_xlsx_happy_path(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [*load.ORDER_REQUIRED, "phone"])
    sheet.write_row(1, 0, ["o-1", "c-huamu", "c-huamu-b03", 502])
    sheet.write_datetime(1, 4, dt.datetime(2022, 4, 15), date_format)
    sheet.write_row(1, 5, ["vegetables", 2, 13800138000])
    workbook.close()
    (order,) = load.load_orders(path, reference=reference())
    assert order.room == "502"
    assert order.phone == "13800138000"
    assert order.delivery_date == dt.date(2022, 4, 15)
    assert order.items[0].quantity_units == 2


@pytest.mark.parametrize(
    ("fixture", "datum"), [("compounds_gcj02.csv", Datum.gcj02), ("compounds_bd09.csv", Datum.bd09)]
)
def test_datum_conversion_within_a_metre(fixture: str, datum: Datum) -> None:
    (compound,) = load.load_compounds(HERE / fixture, datum=datum)
    assert haversine_m(compound.lon, compound.lat, 121.363281, 31.261643) < 1.0


def test_gcj02_read_as_wgs84_is_hundreds_of_metres_off() -> None:
    (compound,) = load.load_compounds(HERE / "compounds_gcj02.csv")
    assert haversine_m(compound.lon, compound.lat, 121.363281, 31.261643) > 300


def test_lockdown_accepts_chinese_level_names() -> None:
    statuses = load.load_lockdown(HERE / "lockdown_chinese.csv")
    assert [s.level for s in statuses] == [
        LockdownLevel.sealed,
        LockdownLevel.controlled,
        LockdownLevel.precaution,
        LockdownLevel.normal,
    ]
    assert statuses[0].valid_until == dt.date(2022, 5, 31)
    assert statuses[1].valid_until is None


def test_orders_group_rows_into_orders() -> None:
    first, second = load.load_orders(HERE / "orders_ok.csv", reference=reference())
    assert first.order_id == "o-1"
    assert [(i.category_id, i.quantity_units) for i in first.items] == [
        ("vegetables", 2),
        ("eggs", 1),
    ]
    assert first.priority_flags == {PriorityFlag.elderly, PriorityFlag.pregnant}
    assert first.proxy is True
    assert (first.household_name, first.phone, first.room) == ("王阿姨", "13800138000", "502")
    assert second.priority_flags == frozenset()
    assert second.proxy is False


def test_orders_from_typed_rows_of_a_polars_frame() -> None:
    frame = pl.DataFrame(
        {
            "order_id": ["o-1", "o-1", "o-2"],
            "compound_id": ["c-huamu"] * 3,
            "building_id": ["c-huamu-b03", "c-huamu-b03", "c-huamu-b05"],
            "room": ["502", "502", "1101"],
            "delivery_date": [dt.date(2022, 4, 15)] * 3,
            "category_id": ["vegetables", "eggs", "vegetables"],
            "quantity_units": [2, 1, 0],
            "priority_flags": ["infant", "infant", ""],
            "proxy": [False, False, True],
        }
    )
    issues = rejected(
        lambda: load.orders_from_rows(frame.iter_rows(named=True), source="synthetic")
    )
    assert [(i.file, i.row, i.field) for i in issues] == [("synthetic", 4, "quantity_units")]
    good = frame.with_columns(pl.col("quantity_units").clip(1))
    orders = load.orders_from_rows(
        good.iter_rows(named=True), source="synthetic", reference=reference()
    )
    assert [len(o.items) for o in orders] == [2, 1]
    assert orders[0].priority_flags == {PriorityFlag.infant}
    assert orders[1].proxy is True


def test_categories_yaml() -> None:
    categories = load.load_categories(HERE / "categories.yaml")
    meat = next(c for c in categories if c.category_id == "meat")
    assert meat.cold_chain is True
    assert meat.aliases == ("肉类套餐", "猪肉")
    assert [c.value for c in meat.required_certificates] == ["quarantine_report"]


def test_supply_yaml_reads_naive_datetimes_as_shanghai_and_yaml_times() -> None:
    bundle = load.load_supply(HERE / "supply_ok.yaml")
    assert [s.supplier_id for s in bundle.suppliers] == ["sup-a", "sup-b"]
    assert bundle.suppliers[0].lockdown_levels_served == {
        LockdownLevel.sealed,
        LockdownLevel.controlled,
    }
    assert bundle.depots[0].hours.closes_at == dt.time(22, 30)  # unquoted YAML 22:30
    driver = bundle.drivers[0]
    assert driver.test_taken_at == dt.datetime(2022, 4, 14, 8, tzinfo=SHANGHAI)
    cert = bundle.certificates[0]
    assert cert.valid_from == dt.datetime(2022, 4, 1, tzinfo=SHANGHAI)
    assert bundle.offers[0].service_area.max_distance_m == 15000


def test_supply_from_csvs_named_by_kind() -> None:
    folder = HERE / "supply_csv"
    bundle = load.load_supply(folder)
    listed = load.load_supply(sorted(folder.glob("*.csv")))
    assert bundle == listed
    veg, meat = bundle.offers
    assert veg.service_area.districts == ("浦东新区", "徐汇区")
    assert veg.list_price_cents == 4200
    assert meat.service_area.max_distance_m == 20000
    assert meat.depot_ids == ("dep-b",)
    assert bundle.depots[0].hours.opens_at == dt.time(5, 0)
    assert bundle.depots[0].loading_docks == 3
    assert bundle.suppliers[0].lockdown_levels_served == {
        LockdownLevel.sealed,
        LockdownLevel.controlled,
    }
    assert (bundle.vehicles, bundle.drivers, bundle.certificates) == ((), (), ())


def test_demo_dataset_loads() -> None:
    demo = Path(load.__file__).parent / "demo"
    compounds = load.load_compounds(demo / "compounds.csv")
    categories = load.load_categories(demo / "categories.yaml")
    supply = load.load_supply(demo / "supply.yaml")
    assert compounds and categories and supply.offers


# --- one fixture per error class -------------------------------------------------------------


def test_missing_column_reported_once_with_columns_found() -> None:
    issues = rejected(lambda: load.load_compounds(HERE / "compounds_missing_column.csv"))
    assert names(issues) == {"compounds_missing_column.csv"}
    (issue,) = issues  # not once per row
    assert (issue.row, issue.field) == (1, "households")
    assert "compound_id, name, district, lon, lat" in issue.hint
    assert "compounds_missing_column.csv" in str(issue)


def test_wrong_type_every_bad_row_reported() -> None:
    issues = rejected(lambda: load.load_compounds(HERE / "compounds_wrong_type.csv"))
    assert names(issues) == {"compounds_wrong_type.csv"}
    assert [(i.row, i.field, i.value) for i in issues] == [
        (2, "households", "many"),
        (3, "households", "12.5"),
        (5, "lon", "east"),
    ]
    assert "households must be a whole number" in issues[0].hint
    assert "lon must be a number" in issues[2].hint
    text = str(issues[1])
    assert "compounds_wrong_type.csv" in text and "row 3" in text and "'households'" in text


def test_outside_city_and_swapped_coordinates() -> None:
    issues = rejected(lambda: load.load_compounds(HERE / "compounds_outside_city.csv"))
    assert names(issues) == {"compounds_outside_city.csv"}
    assert [(i.row, i.field) for i in issues] == [(3, "lon"), (4, "lon/lat")]
    assert "Shanghai" in issues[0].message and "lon 120.85..122.12" in issues[0].message
    assert "datum" in issues[0].hint
    assert "swapped" in issues[1].message


def test_duplicate_id_names_the_first_row() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_duplicate_id.csv"))
    assert names([issue]) == {"compounds_duplicate_id.csv"}
    assert (issue.row, issue.field, issue.value) == (4, "compound_id", "c-1")
    assert "row 2" in issue.message


def test_unknown_column_suggests_the_right_name() -> None:
    issues = rejected(lambda: load.load_compounds(HERE / "compounds_unknown_column.csv"))
    assert names(issues) == {"compounds_unknown_column.csv"}
    unknown = next(i for i in issues if i.message.startswith("unknown column"))
    assert unknown.field == "housholds"
    assert "did you mean 'households'" in unknown.hint


def test_bad_identifier() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_bad_id.csv"))
    assert names([issue]) == {"compounds_bad_id.csv"}
    assert (issue.row, issue.field, issue.value) == (2, "compound_id", "小区一")
    assert "letters, digits" in issue.hint


def test_geojson_feature_not_a_point() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_polygon.geojson"))
    assert names([issue]) == {"compounds_polygon.geojson"}
    assert (issue.row, issue.field, issue.value) == (1, "geometry", "Polygon")


def test_unknown_compound_of_buildings() -> None:
    (issue,) = rejected(
        lambda: load.load_buildings(HERE / "buildings_unknown_compound.csv", reference=reference())
    )
    assert names([issue]) == {"buildings_unknown_compound.csv"}
    assert (issue.row, issue.field, issue.value) == (3, "compound_id", "c-huamo")
    assert "c-huamu" in issue.hint


def test_gates_impossible_window() -> None:
    issues = rejected(lambda: load.load_gates(HERE / "gates_impossible_window.csv"))
    assert names(issues) == {"gates_impossible_window.csv"}
    assert [(i.row, i.field) for i in issues] == [
        (2, "receiving_closes_at"),
        (3, "receiving_closes_at"),
        (4, "receiving_opens_at"),
    ]
    assert "not after" in issues[0].message
    assert "later than the start" in issues[0].hint
    assert "HH:MM" in issues[2].hint and issues[2].value == "8am"


def test_gate_hours_outside_the_compound_hours() -> None:
    issues = rejected(
        lambda: load.load_gates(HERE / "gates_outside_compound_hours.csv", reference=reference())
    )
    assert names(issues) == {"gates_outside_compound_hours.csv"}
    assert [(i.row, i.field, i.value) for i in issues] == [
        (2, "receiving_opens_at", "06:00"),
        (2, "receiving_closes_at", "20:00"),
    ]
    assert "08:00" in issues[0].hint and "18:00" in issues[1].hint


def test_lockdown_unknown_level_bad_date_and_reversed_interval() -> None:
    issues = rejected(lambda: load.load_lockdown(HERE / "lockdown_unknown_level.csv"))
    assert names(issues) == {"lockdown_unknown_level.csv"}
    assert [(i.row, i.field) for i in issues] == [
        (2, "level"),
        (3, "valid_from"),
        (4, "valid_until"),
    ]
    assert "封控区" in issues[0].hint and "sealed" in issues[0].hint
    assert "YYYY-MM-DD" in issues[1].hint


def test_orders_unknown_compound() -> None:
    issues = rejected(
        lambda: load.load_orders(HERE / "orders_unknown_compound.csv", reference=reference())
    )
    assert names(issues) == {"orders_unknown_compound.csv"}
    assert [(i.row, i.field, i.value) for i in issues] == [
        (3, "compound_id", "c-huamo"),
        (4, "compound_id", "c-nowhere"),
    ]
    assert "did you mean 'c-huamu'" in issues[0].hint
    assert "orders_unknown_compound.csv, row 3, field 'compound_id'" in str(issues[0])


def test_orders_unknown_category_and_building() -> None:
    issues = rejected(
        lambda: load.load_orders(HERE / "orders_unknown_category.csv", reference=reference())
    )
    assert names(issues) == {"orders_unknown_category.csv"}
    assert [(i.row, i.field) for i in issues] == [(2, "category_id"), (3, "building_id")]
    assert "did you mean 'vegetables'" in issues[0].hint
    assert "c-huamu" in issues[1].message


def test_orders_bad_values_all_reported() -> None:
    issues = rejected(lambda: load.load_orders(HERE / "orders_bad_values.csv"))
    assert names(issues) == {"orders_bad_values.csv"}
    assert [(i.row, i.field) for i in issues] == [
        (2, "delivery_date"),
        (3, "quantity_units"),
        (4, "priority_flags"),
        (5, "proxy"),
        (6, "room"),
    ]
    assert "YYYY-MM-DD" in issues[0].hint
    assert "greater than 0" in issues[1].hint
    assert "elderly" in issues[2].hint and "孕妇" in issues[2].hint
    assert "是/否" in issues[3].hint
    assert "required" in issues[4].hint


def test_orders_household_fields_must_agree_naming_both_rows() -> None:
    issues = rejected(lambda: load.load_orders(HERE / "orders_household_mismatch.csv"))
    assert names(issues) == {"orders_household_mismatch.csv"}
    assert [(i.row, i.field) for i in issues] == [(3, "phone"), (5, "building_id")]
    assert "row 2" in issues[0].message and "row 3" in issues[0].message
    assert issues[0].value == "13900139000"


def test_orders_missing_columns() -> None:
    issues = rejected(lambda: load.load_orders(HERE / "orders_missing_column.csv"))
    assert names(issues) == {"orders_missing_column.csv"}
    assert [(i.row, i.field) for i in issues] == [(1, "building_id"), (1, "quantity_units")]


def test_categories_bad_values_name_the_list_position() -> None:
    issues = rejected(lambda: load.load_categories(HERE / "categories_bad.yaml"))
    assert names(issues) == {"categories_bad.yaml"}
    assert [(i.row, i.field, i.value) for i in issues] == [
        (1, "unit_weight_g", "5 kg"),
        (2, "required_certificates", "quarantine"),
    ]
    assert "quarantine_report" in issues[1].hint


def test_certificates_expired_before_as_of() -> None:
    path = HERE / "certificates_expired.yaml"
    assert len(load.load_supply(path).certificates) == 3  # no as_of: not checked
    issues = rejected(lambda: load.load_supply(path, as_of=dt.datetime(2022, 4, 15, 8)))
    assert [(i.row, i.field) for i in issues] == [(2, "valid_until"), (3, "valid_until")]
    assert "cert-old-permit" in issues[0].message
    assert "certificates_expired.yaml [certificates], row 2" in str(issues[0])


def test_certificates_bad_values() -> None:
    issues = rejected(lambda: load.load_supply(HERE / "certificates_bad.yaml"))
    assert names(issues) == {"certificates_bad.yaml"}
    assert [(i.row, i.field) for i in issues] == [
        (1, "type"),
        (2, "valid_until"),
        (3, "valid_from"),
    ]
    assert "supply_permit" in issues[0].hint
    assert "ISO 8601" in issues[2].hint


def test_offer_depot_of_another_supplier_and_duplicate_offer() -> None:
    issues = rejected(
        lambda: load.load_supply(HERE / "offers_other_depot.yaml", reference=reference())
    )
    assert names(issues) == {"offers_other_depot.yaml"}
    assert [(i.row, i.field) for i in issues] == [
        (1, "depot_ids"),
        (2, "offer_id"),
        (2, "category_id"),
    ]
    assert "belongs to supplier sup-b" in issues[0].message
    assert "dep-a" in issues[0].hint


def test_offer_csv_without_service_area_and_with_float_price() -> None:
    issues = rejected(lambda: load.load_supply(HERE / "supply_csv_bad"))
    assert [(i.row, i.field) for i in issues] == [
        (2, "service_districts"),
        (3, "unit_price_cents"),
    ]
    assert "3500" in issues[1].hint


def test_supply_csv_with_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "trucks.csv"
    path.write_text("vehicle_id\n", "utf-8")
    (issue,) = rejected(lambda: load.load_supply([path]))
    assert "offers.csv" in issue.hint


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (missing,) = rejected(lambda: load.load_compounds(tmp_path / "nope.csv"))
    assert "not found" in missing.message
    other = tmp_path / "compounds.ods"
    other.write_text("x", "utf-8")
    (unsupported,) = rejected(lambda: load.load_compounds(other))
    assert "CSV, XLSX or GeoJSON" in unsupported.hint


def test_gb18030_csv(tmp_path: Path) -> None:
    path = tmp_path / "compounds.csv"
    text = (HERE / "compounds_ok.csv").read_text("utf-8")
    path.write_bytes(text.encode("gb18030"))
    assert [c.name for c in load.load_compounds(path)] == ["花木小区", "塘桥新村"]


def test_orders_xlsx_with_several_bad_rows_reports_all(tmp_path: Path) -> None:
    path = tmp_path / "orders_bad_rows.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("接龙")
    sheet.write_row(0, 0, [*load.ORDER_REQUIRED, "priority_flags"])
    good = ["o-1", "c-huamu", "c-huamu-b03", 502, "2022-04-15", "vegetables", 2, "老人"]
    sheet.write_row(1, 0, good)
    sheet.write_row(2, 0, ["o-2", "c-huamu", "c-huamu-b03", 503, "2022-04-15", "vegetables", 1.5])
    sheet.write_row(3, 0, ["o-3", "c-huamu", "c-huamu-b03", 504, "4月15日", "eggs", 1])
    sheet.write_row(4, 0, ["o-4", "c-huamo", "c-huamu-b03", 505, "2022-04-15", "eggs", 1])
    sheet.write_row(5, 0, ["o-5", "c-huamu", "c-huamu-b03", 506, "2022-04-15", "fish", 1])
    workbook.close()
    issues = rejected(lambda: load.load_orders(path, reference=reference()))
    assert names(issues) == {"orders_bad_rows.xlsx"}
    assert [(i.row, i.field, i.value) for i in issues] == [
        (3, "quantity_units", "1.5"),
        (4, "delivery_date", "4月15日"),
        (5, "compound_id", "c-huamo"),
        (6, "category_id", "fish"),
    ]
    assert "whole number" in issues[0].hint
    assert "YYYY-MM-DD" in issues[1].hint
    assert "orders_bad_rows.xlsx, row 4, field 'delivery_date'" in str(issues[1])


def test_duplicate_header_column() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_duplicate_column.csv"))
    assert (issue.row, issue.field) == (1, "lon")
    assert "header cells 4 and 7" in issue.message


def test_empty_file_is_one_issue() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_empty.csv"))
    assert names([issue]) == {"compounds_empty.csv"}
    assert "empty" in issue.message


def test_quoted_line_break_keeps_spreadsheet_rows() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_quoted_newline.csv"))
    assert (issue.row, issue.field, issue.value) == (3, "households", "many")


def test_geojson_features_not_a_list() -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_features_not_list.geojson"))
    assert issue.field == "features"


def test_supply_unknown_suppliers_and_certificate_holders() -> None:
    issues = rejected(lambda: load.load_supply(HERE / "supply_unknown_references.yaml"))
    assert names(issues) == {"supply_unknown_references.yaml"}
    assert [(i.file.split(" ")[-1], i.row, i.field, i.value) for i in issues] == [
        ("[certificates]", 2, "holder_id", "sup-b"),
        ("[certificates]", 3, "holder_id", "drv-a2"),
        ("[depots]", 2, "supplier_id", "sup-ghost"),
        ("[drivers]", 1, "supplier_id", "sup-aa"),
    ]
    assert "did you mean 'sup-a'" in issues[0].hint
    assert "drv-a1" in issues[1].hint


def test_datum_conversion_of_many_points_within_a_metre(tmp_path: Path) -> None:
    rng = random.Random(7)
    truth = [(rng.uniform(121.2, 121.8), rng.uniform(30.9, 31.4)) for _ in range(40)]
    header = "compound_id,name,district,lon,lat,households\n"
    box = City("box", 121.0, 30.5, 122.0, 32.0)  # no outline: random points may be in the river

    def to_bd09(lon: float, lat: float) -> tuple[float, float]:
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))

    forwards: list[tuple[Datum, Callable[[float, float], tuple[float, float]]]] = [
        (Datum.gcj02, wgs84_to_gcj02),
        (Datum.bd09, to_bd09),
    ]
    for datum, forward in forwards:
        path = tmp_path / f"compounds_{datum.value}.csv"
        lines = [
            f"c-{n},小区{n},浦东新区,{lon:.8f},{lat:.8f},10"
            for n, (lon, lat) in enumerate(forward(*p) for p in truth)
        ]
        path.write_text(header + "\n".join(lines) + "\n", "utf-8")
        loaded = load.load_compounds(path, datum=datum, city=box)
        errors = [haversine_m(c.lon, c.lat, *p) for c, p in zip(loaded, truth, strict=True)]
        assert max(errors) < 1.0, datum


def test_configured_city_bounds_the_accepted_area() -> None:
    small = City("Huamu box", 121.54, 31.10, 121.60, 31.30)
    issues = rejected(lambda: load.load_compounds(HERE / "compounds_ok.csv", city=small))
    assert [(i.row, i.field) for i in issues] == [(3, "lon")]  # 塘桥 lies at lon 121.5263
    assert "Huamu box (lon 121.54..121.60" in issues[0].message


def test_blank_header_cell_with_values_under_it(tmp_path: Path) -> None:
    (issue,) = rejected(lambda: load.load_compounds(HERE / "compounds_blank_header.csv"))
    assert issue.row == 1
    assert "header cell 4 is blank but row 3 has a value" in issue.message
    spacer = tmp_path / "compounds.csv"  # an empty spacer column is harmless
    spacer.write_text(
        "compound_id,name,district,,lon,lat,households\nc-1,一,浦东新区,,121.55,31.21,1\n", "utf-8"
    )
    assert [c.compound_id for c in load.load_compounds(spacer)] == ["c-1"]
