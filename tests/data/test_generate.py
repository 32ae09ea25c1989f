"""The synthetic city generator: seeded, scalable, inside the city, in the documented formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from data.demo import demo_files
from data.generate import (
    DEFAULT_CATEGORIES,
    ORDER_COLUMNS,
    generate_buildings,
    generate_city,
    generate_order_lines,
    generate_orders,
    household_quantiles,
    write_order_lines_parquet,
)
from data.geo import shanghai
from data.schemas import BUILDING_SCHEMA, COMPOUND_SCHEMA, ORDER_LINE_SCHEMA, PriorityFlag

DAY = dt.date(2022, 4, 15)


def _aliases() -> dict[str, set[str]]:
    document = yaml.safe_load(demo_files().categories.read_text("utf-8"))
    return {c["category_id"]: set(c["aliases"]) for c in document["categories"]}


def test_same_seed_same_city_and_orders() -> None:
    a, b = generate_city(40, seed=7), generate_city(40, seed=7)
    assert a.compounds.equals(b.compounds)
    assert a.buildings.equals(b.buildings)
    assert generate_orders(a, delivery_date=DAY, seed=3).equals(
        generate_orders(b, delivery_date=DAY, seed=3)
    )
    assert not generate_city(40, seed=8).compounds.equals(a.compounds)


@pytest.mark.parametrize("n", [10, 300])
def test_counts_scale_and_buildings_add_up(n: int) -> None:
    city = generate_city(n, seed=1)
    assert city.compounds.schema == COMPOUND_SCHEMA
    assert city.buildings.schema == BUILDING_SCHEMA
    assert city.compounds.height == n
    assert city.compounds["compound_id"].n_unique() == n
    assert city.buildings["building_id"].n_unique() == city.buildings.height >= n
    per_compound = city.buildings.group_by("compound_id").agg(pl.col("households").sum())
    joined = city.compounds.join(per_compound, on="compound_id", suffix="_buildings")
    assert joined.height == n
    assert (joined["households"] == joined["households_buildings"]).all()


def test_households_follow_the_quantiles() -> None:
    _, households, _ = household_quantiles()
    drawn = generate_city(2_000, seed=5, buildings_per_compound=1).compounds["households"]
    assert households[0] <= drawn.min() <= drawn.max() <= households[-1]  # type: ignore[operator]
    median = float(np.interp(0.5, np.linspace(0, 1, len(households)), households))
    assert abs(float(drawn.median()) - median) < 0.1 * median  # type: ignore[arg-type]


def test_points_inside_the_city() -> None:
    city = generate_city(500, seed=2)
    outline = shanghai()
    for frame in (city.compounds, city.buildings):
        assert all(outline.contains(x, y) for x, y in zip(frame["lon"], frame["lat"], strict=True))
    assert city.compounds["district"].n_unique() > 5
    assert (city.compounds["district"].str.ends_with("区")).all()


def test_explicit_building_counts() -> None:
    compounds = generate_city(5, seed=4, buildings_per_compound=1).compounds
    buildings = generate_buildings(
        compounds, seed=4, buildings_per_compound=np.array([28, 3, 1, 2, 5])
    )
    counts = buildings.group_by("compound_id", maintain_order=True).len()["len"].to_list()
    assert counts == [28, 3, 1, 2, 5]
    assert buildings["name"][:3].to_list() == ["1号楼", "2号楼", "3号楼"]


def test_orders_have_the_documented_columns_and_known_categories() -> None:
    city = generate_city(30, seed=9)
    orders = generate_orders(city, delivery_date=DAY, seed=1, participation=0.35)
    assert orders.schema == ORDER_COLUMNS
    aliases = _aliases()
    assert set(orders["category_id"]) <= set(aliases)
    for category, product in zip(orders["category_id"], orders["product"], strict=True):
        assert product in aliases[category]
    flags = {f for value in orders["priority_flags"] for f in value.split(";") if f}
    assert flags <= {f.value for f in PriorityFlag}
    households = orders.unique("order_id")
    share = households.height / city.compounds["households"].sum()
    assert 0.3 < share < 0.4
    assert households.select(pl.struct("building_id", "room").n_unique()).item() == len(households)
    per_order = orders.group_by("order_id").agg(pl.len(), pl.col("category_id").n_unique())
    assert per_order["len"].max() == 4
    assert (per_order["len"] == per_order["category_id"]).all()  # distinct categories
    assert (orders["delivery_date"] == DAY).all()


def test_order_lines_schema_count_and_seed() -> None:
    lines = generate_order_lines(20_000, seed=11, days=3)
    assert lines.schema == ORDER_LINE_SCHEMA
    assert lines.height == 20_000
    assert lines.equals(generate_order_lines(20_000, seed=11, days=3))
    assert lines["delivery_date"].n_unique() == 3
    assert set(lines["category_id"]) <= set(_aliases())
    assert lines.null_count().sum_horizontal().item() == 0
    # one household key per order, never shared between orders
    assert lines.select(pl.col("household_key").n_unique()).item() == lines["order_id"].n_unique()


def test_parquet_chunks_cover_every_line_once(tmp_path: Path) -> None:
    paths = write_order_lines_parquet(25_000, tmp_path, seed=3, chunk_lines=10_000)
    assert [p.name for p in paths] == [
        "order_lines_0000.parquet",
        "order_lines_0001.parquet",
        "order_lines_0002.parquet",
    ]
    lines = pl.read_parquet(paths)
    assert lines.schema == ORDER_LINE_SCHEMA
    assert lines.height == 25_000
    keys_per_chunk = [pl.read_parquet(p)["household_key"].unique() for p in paths]
    assert sum(len(k) for k in keys_per_chunk) == lines["household_key"].n_unique()


def test_orders_restricted_to_some_categories() -> None:
    city = generate_city(20, seed=6)
    every = generate_orders(city, delivery_date=DAY, seed=2)
    assert every.equals(
        generate_orders(city, delivery_date=DAY, seed=2, category_ids=DEFAULT_CATEGORIES)
    )
    some = generate_orders(city, delivery_date=DAY, seed=2, category_ids=("vegetables", "meat"))
    assert set(some["category_id"]) == {"vegetables", "meat"}
    assert set(some["building_id"]) <= set(city.buildings["building_id"])
    assert some.group_by("order_id").len()["len"].max() == 2
    with pytest.raises(ValueError, match="caviar"):
        generate_orders(city, delivery_date=DAY, seed=2, category_ids=("caviar",))
