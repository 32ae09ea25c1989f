"""The committed demo day: complete, inside the city, and with the problems it promises."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import yaml

from data.demo import DEMO_DATE, DEMO_SEED, FOCUS_COMPOUND_ID, FOCUS_JIELONG_BUILDING_ID, demo_files
from data.generate import generate_orders
from data.geo import shanghai
from data.schemas import SHANGHAI, Category, Certificate, Driver, Offer

FILES = demo_files()
DAY_START = dt.datetime(2022, 4, 15, 7, 0, tzinfo=SHANGHAI)
DAY_END = dt.datetime(2022, 4, 15, 19, 0, tzinfo=SHANGHAI)


def _csv(path: object) -> pl.DataFrame:
    return pl.read_csv(path, schema_overrides={"room": pl.String})  # type: ignore[arg-type]


def _supply() -> dict[str, list[dict[str, object]]]:
    document: dict[str, list[dict[str, object]]] = yaml.safe_load(FILES.supply.read_text("utf-8"))
    return document


def test_every_file_exists_and_the_dataset_is_small() -> None:
    for path in FILES.all():
        assert path.is_file(), path
    assert sum(p.stat().st_size for p in FILES.all()) < 1_000_000


def test_focus_compound_has_28_buildings_summing_to_its_households() -> None:
    compounds = _csv(FILES.compounds)
    buildings = _csv(FILES.buildings)
    focus = compounds.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID)
    assert focus.height == 1
    assert not focus["synthetic"][0]
    own = buildings.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID)
    assert own.height == 28
    assert sorted(own["name"]) == sorted(f"{i}号楼" for i in range(1, 29))
    assert own["households"].sum() == focus["households"][0]
    assert 250 <= compounds.height <= 400
    assert set(buildings["compound_id"]) == set(compounds["compound_id"])


def test_coordinates_are_in_the_city() -> None:
    city = shanghai()
    for path in (FILES.compounds, FILES.buildings, FILES.gates):
        frame = _csv(path)
        assert all(city.contains(x, y) for x, y in zip(frame["lon"], frame["lat"], strict=True))
    for depot in _supply()["depots"]:
        assert city.contains(float(depot["lon"]), float(depot["lat"]))  # type: ignore[arg-type]


def test_some_certificates_fail_on_the_demo_day() -> None:
    supply = _supply()
    certificates = [Certificate.model_validate(c) for c in supply["certificates"]]
    drivers = [Driver.model_validate(d) for d in supply["drivers"]]
    assert any(DAY_START < c.valid_until < DAY_END for c in certificates)
    expired = [
        d for d in drivers if d.test_valid_until is not None and d.test_valid_until <= DAY_START
    ]
    assert expired
    assert any(d.test_taken_at is None for d in drivers)
    meat_sellers = {o["supplier_id"] for o in supply["offers"] if o["category_id"] == "meat"}
    reported = {c.holder_id for c in certificates if c.type == "quarantine_report"}
    assert meat_sellers - reported  # a meat offer without a quarantine report


def test_supply_is_short_for_some_categories() -> None:
    compounds = _csv(FILES.compounds)
    buildings = _csv(FILES.buildings)
    others = compounds.filter(pl.col("compound_id") != FOCUS_COMPOUND_ID)
    synthetic = generate_orders(
        others,
        buildings.filter(pl.col("compound_id") != FOCUS_COMPOUND_ID),
        delivery_date=DEMO_DATE,
        seed=DEMO_SEED,
    )
    demand = (
        pl.concat([synthetic.select("category_id", "quantity_units"),
                   _csv(FILES.orders).select("category_id", "quantity_units")])
        .group_by("category_id")
        .agg(pl.col("quantity_units").sum())
    )  # fmt: skip
    offers = [Offer.model_validate(o) for o in _supply()["offers"]]
    offered = pl.DataFrame(
        {"category_id": [o.category_id for o in offers],
         "offered": [o.capacity_units for o in offers]}
    ).group_by("category_id").agg(pl.col("offered").sum())  # fmt: skip
    joined = demand.join(offered, on="category_id")
    assert joined.height == 10
    short = joined.filter(pl.col("offered") < pl.col("quantity_units"))["category_id"]
    assert {"meat", "infant_formula"} <= set(short)
    assert all(o.delivery_date == DEMO_DATE for o in offers)


def test_orders_and_jielong_use_known_products_and_do_not_overlap() -> None:
    categories = [
        Category.model_validate(c)
        for c in yaml.safe_load(FILES.categories.read_text("utf-8"))["categories"]
    ]
    aliases = {a for c in categories for a in c.aliases}
    orders = _csv(FILES.orders)
    assert (orders["compound_id"] == FOCUS_COMPOUND_ID).all()
    assert set(orders["product"]) <= aliases
    text = FILES.jielong.read_text("utf-8").splitlines()
    assert text[0].startswith("#接龙 4月15日")
    building = _csv(FILES.buildings).filter(pl.col("building_id") == FOCUS_JIELONG_BUILDING_ID)
    name = building["name"][0]
    rooms = set()
    for line in text[1:]:
        match = re.fullmatch(rf"\d+\. {name} (\d+) (.+?)(?: \((.+)\))?(?: (1\d{{10}}))?", line)
        assert match, line
        rooms.add(match.group(1))
        for item in match.group(2).split():
            product, quantity = item.rsplit("x", 1)
            assert product in aliases and int(quantity) >= 1
    in_csv = set(orders.filter(pl.col("building_id") == FOCUS_JIELONG_BUILDING_ID)["room"])
    assert rooms and not rooms & in_csv
