"""Seeded synthetic city: compounds, buildings, household orders and order lines at any scale.

Everything is drawn with numpy and assembled with polars, never with a Python loop per
household, so the same code makes 10 compounds for a unit test and the whole of Shanghai
(about 9,500 compounds, 10 million households) for a benchmark. Household counts follow
the Beike quantiles shipped in ``data/demo/household_quantiles.csv``; positions follow a
coarse compound-density grid (``data/demo/compound_density.csv``) and stay inside the city
outline. The same seed always gives the same frames.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from shapely import contains_xy, prepare
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from data.schemas import BUILDING_SCHEMA, COMPOUND_SCHEMA, ORDER_LINE_SCHEMA, PriorityFlag

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_DELIVERY_DATE = dt.date(2022, 4, 15)
"""Delivery date of generated order lines when none is given (the demo day)."""

CITY_COMPOUNDS = 9_500
"""About how many residential compounds Shanghai has (compound listings, 2020)."""

ORDER_COLUMNS: pl.Schema = pl.Schema(
    {
        "order_id": pl.String,
        "compound_id": pl.String,
        "building_id": pl.String,
        "room": pl.String,
        "delivery_date": pl.Date,
        "category_id": pl.String,
        "quantity_units": pl.Int64,
        "product": pl.String,
        "priority_flags": pl.String,
        "proxy": pl.Boolean,
        "household_name": pl.String,
        "phone": pl.String,
    }
)
"""Household orders in the long format of data/FORMATS.md: one row per item."""


@dataclass(frozen=True)
class CategoryMix:
    """How often households order a category, how much, and under which product names."""

    category_id: str
    weight: float
    """Relative chance that an item of an order is of this category."""
    quantity_p: tuple[float, float, float]
    """Chance of ordering 1, 2 or 3 units."""
    products: tuple[str, ...]
    """接龙 product names used for it; each is an alias of the category in categories.yaml."""


CATEGORY_MIX: tuple[CategoryMix, ...] = (
    CategoryMix("vegetables", 0.26, (0.62, 0.30, 0.08), ("蔬菜套餐", "蔬菜包", "保供蔬菜包")),
    CategoryMix("meat", 0.14, (0.70, 0.25, 0.05), ("肉类套餐", "猪肉套餐", "冷鲜肉")),
    CategoryMix("eggs", 0.13, (0.80, 0.18, 0.02), ("鸡蛋", "鸡蛋30枚")),
    CategoryMix("dairy", 0.09, (0.75, 0.20, 0.05), ("牛奶", "纯牛奶", "酸奶")),
    CategoryMix("rice_oil", 0.10, (0.85, 0.13, 0.02), ("大米", "米面粮油", "食用油")),
    CategoryMix("fruit", 0.08, (0.80, 0.17, 0.03), ("水果套餐", "水果")),
    CategoryMix("frozen", 0.07, (0.70, 0.25, 0.05), ("速冻水饺", "冷冻食品")),
    CategoryMix("daily", 0.06, (0.85, 0.13, 0.02), ("生活用品", "卫生纸")),
    CategoryMix("medicine", 0.015, (0.80, 0.17, 0.03), ("常用药", "感冒药")),
    CategoryMix("infant_formula", 0.006, (0.55, 0.40, 0.05), ("奶粉", "婴儿奶粉")),
)
"""The category mix of generated orders (ids match data/demo/categories.yaml)."""

DEFAULT_CATEGORIES: tuple[str, ...] = tuple(c.category_id for c in CATEGORY_MIX)
"""Every category id generated orders may use: the ids of data/demo/categories.yaml."""

ITEMS_P = (0.35, 0.35, 0.20, 0.10)
"""Chance that an order has 1, 2, 3 or 4 items (distinct categories)."""

PRIORITY_SHARE = 0.12
"""Share of ordering households with at least one priority flag."""

FLAG_WEIGHTS: tuple[tuple[PriorityFlag, float], ...] = (
    (PriorityFlag.elderly, 0.55),
    (PriorityFlag.infant, 0.12),
    (PriorityFlag.pregnant, 0.06),
    (PriorityFlag.chronic_illness, 0.21),
    (PriorityFlag.disability, 0.06),
)
"""The main flag of a priority household; 15 % have a second one."""

PROXY_SHARE_ELDERLY = 0.25
PROXY_SHARE_OTHERS = 0.035
"""Proxy orders (代下单): common for elderly households, rare otherwise (about 5 % overall)."""

_LAT_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class SyntheticCity:
    """A generated city: compounds (COMPOUND_SCHEMA) and their buildings (BUILDING_SCHEMA)."""

    compounds: pl.DataFrame
    buildings: pl.DataFrame
    seed: int


# --- shipped statistics --------------------------------------------------------------------


def _demo_bytes(name: str) -> bytes:
    return resources.files("data.demo").joinpath(name).read_bytes()


@cache
def household_quantiles() -> tuple[FloatArray, FloatArray, FloatArray]:
    """(quantile, households per compound, households per building) from the shipped CSV."""
    frame = pl.read_csv(io.BytesIO(_demo_bytes("household_quantiles.csv")))
    return (
        frame["quantile"].to_numpy().astype(np.float64),
        frame["households"].to_numpy().astype(np.float64),
        frame["households_per_building"].to_numpy().astype(np.float64),
    )


@cache
def density_grid() -> pl.DataFrame:
    """The compound-density grid: cell centre, size, district, street and weight."""
    return pl.read_csv(io.BytesIO(_demo_bytes("compound_density.csv")))


@cache
def _strict_outline() -> BaseGeometry:
    text = resources.files("data").joinpath("cities/shanghai.geojson").read_text("utf-8")
    geometry = shape(json.loads(text)["geometry"])
    prepare(geometry)
    return geometry


def draw_households(rng: np.random.Generator, n: int) -> IntArray:
    """Households per compound by inverse-CDF sampling of the shipped Beike quantiles."""
    q, households, _ = household_quantiles()
    values = np.interp(rng.random(n), q, households)
    return np.clip(np.rint(values), households[0], households[-1]).astype(np.int64)


# --- compounds and buildings ---------------------------------------------------------------


def _points_in_cells(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """``n`` points drawn cell-by-weight from the density grid, redrawn until inside the city."""
    grid = density_grid()
    weights = grid["compounds"].to_numpy().astype(np.float64)
    p = weights / weights.sum()
    centre_lon = grid["lon"].to_numpy()
    centre_lat = grid["lat"].to_numpy()
    size = float(grid["cell_deg"][0])
    outline = _strict_outline()
    lon = np.empty(n)
    lat = np.empty(n)
    cell = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    while todo.size:  # rejection rounds, each vectorised over all points still outside
        chosen = rng.choice(len(p), size=todo.size, p=p)
        cand_lon = centre_lon[chosen] + (rng.random(todo.size) - 0.5) * size
        cand_lat = centre_lat[chosen] + (rng.random(todo.size) - 0.5) * size
        inside = np.asarray(contains_xy(outline, cand_lon, cand_lat), dtype=bool)
        ok = todo[inside]
        lon[ok], lat[ok], cell[ok] = cand_lon[inside], cand_lat[inside], chosen[inside]
        todo = todo[~inside]
    return np.round(lon, 6), np.round(lat, 6), cell


def generate_compounds(n_compounds: int, *, seed: int) -> pl.DataFrame:
    """``n_compounds`` synthetic compounds (COMPOUND_SCHEMA) inside Shanghai, seeded."""
    if n_compounds < 0:
        raise ValueError(f"n_compounds must be >= 0, got {n_compounds}")
    rng = np.random.default_rng([seed, 11])
    lon, lat, cell = _points_in_cells(rng, n_compounds)
    households = draw_households(rng, n_compounds)
    grid = density_grid()
    index = pl.Series("i", np.arange(1, n_compounds + 1, dtype=np.int64))
    cells = pl.Series("cell", cell)
    district = grid["district"].gather(cells)
    street = grid["street"].fill_null("").gather(cells)
    frame = pl.DataFrame(
        {
            "i": index,
            "district": district,
            "street": street,
            "lon": lon,
            "lat": lat,
            "households": households,
        }
    )
    return frame.select(
        pl.concat_str(pl.lit("syn-"), pl.col("i").cast(pl.String).str.zfill(6)).alias(
            "compound_id"
        ),
        pl.format(
            "{}合成{}号小区",
            pl.when(pl.col("street") == "").then(pl.col("district")).otherwise(pl.col("street")),
            pl.col("i"),
        ).alias("name"),
        "district",
        "street",
        "lon",
        "lat",
        "households",
    ).cast(dict(COMPOUND_SCHEMA))  # type: ignore[arg-type]


def building_layout(households: IntArray) -> tuple[IntArray, IntArray]:
    """(units per floor, floors) of buildings with the given households: 2-8 flats a floor."""
    units = np.clip(np.ceil(households / 18.0), 2, 8).astype(np.int64)
    floors = np.maximum(1, np.ceil(households / units)).astype(np.int64)
    return units, floors


def _segment_starts(counts: IntArray) -> IntArray:
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    return starts


def split_households(rng: np.random.Generator, totals: IntArray, counts: IntArray) -> IntArray:
    """Split each ``totals[i]`` into ``counts[i]`` uneven parts that sum exactly to it."""
    n = int(counts.sum())
    owner = np.repeat(np.arange(len(counts)), counts)
    weights = rng.uniform(0.5, 1.5, n)
    cum = np.cumsum(weights)
    starts = _segment_starts(counts)
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    within = cum - before[owner]
    segment_total = within[starts + counts - 1]
    fraction = within / segment_total[owner]
    last = np.zeros(n, dtype=bool)
    last[starts + counts - 1] = True
    fraction[last] = 1.0
    cum_households = np.floor(totals[owner] * fraction + 1e-9).astype(np.int64)
    parts: IntArray = np.diff(cum_households, prepend=0)
    parts[starts] = cum_households[starts]
    return parts


def generate_buildings(
    compounds: pl.DataFrame,
    *,
    seed: int,
    buildings_per_compound: int | tuple[int, int] | IntArray | None = None,
) -> pl.DataFrame:
    """Synthetic buildings (BUILDING_SCHEMA) for ``compounds``, households summing exactly.

    ``buildings_per_compound``: a fixed count, an inclusive (low, high) range, one count per
    compound (array), or None to
    draw households per building from the Beike quantiles. A compound never gets more
    buildings than households (but at least one). Buildings lie within a few hundred metres
    of the compound point; names are ``1号楼``, ``2号楼``, ...
    """
    rng = np.random.default_rng([seed, 23])
    households = compounds["households"].to_numpy().astype(np.int64)
    n = len(households)
    if buildings_per_compound is None:
        q, _, per_building = household_quantiles()
        size = np.interp(rng.random(n), q, per_building)
        counts = np.rint(households / np.maximum(size, 1.0)).astype(np.int64)
        counts = np.clip(counts, 1, 80)
    elif isinstance(buildings_per_compound, int):
        counts = np.full(n, buildings_per_compound, dtype=np.int64)
    elif isinstance(buildings_per_compound, tuple):
        low, high = buildings_per_compound
        counts = rng.integers(low, high + 1, n).astype(np.int64)
    else:
        counts = np.asarray(buildings_per_compound, dtype=np.int64)
        if counts.shape != (n,):
            raise ValueError(f"need one building count per compound ({n}), got {counts.shape}")
    counts = np.clip(counts, 1, np.maximum(households, 1))
    owner = np.repeat(np.arange(n), counts)
    starts = _segment_starts(counts)
    number = np.arange(int(counts.sum()), dtype=np.int64) - starts[owner] + 1
    parts = split_households(rng, households, counts)
    radius_m = np.clip(8.0 * np.sqrt(np.maximum(households, 1)), 60.0, 400.0)[owner]
    r = radius_m * np.sqrt(rng.random(len(owner)))
    angle = rng.random(len(owner)) * 2.0 * math.pi
    lat0 = compounds["lat"].to_numpy()[owner]
    lon0 = compounds["lon"].to_numpy()[owner]
    lat = lat0 + r * np.sin(angle) / _LAT_M_PER_DEG
    lon = lon0 + r * np.cos(angle) / (_LAT_M_PER_DEG * np.cos(np.radians(lat0)))
    owner_series = pl.Series("owner", owner)
    frame = pl.DataFrame(
        {
            "compound_id": compounds["compound_id"].gather(owner_series),
            "number": number,
            "lon": np.round(lon, 6),
            "lat": np.round(lat, 6),
            "households": parts,
        }
    )
    return frame.select(
        pl.format(
            "{}-b{}", pl.col("compound_id"), pl.col("number").cast(pl.String).str.zfill(2)
        ).alias("building_id"),
        "compound_id",
        pl.format("{}号楼", pl.col("number")).alias("name"),
        "lon",
        "lat",
        "households",
    ).cast(dict(BUILDING_SCHEMA))  # type: ignore[arg-type]


def generate_city(
    n_compounds: int,
    *,
    seed: int,
    buildings_per_compound: int | tuple[int, int] | None = None,
) -> SyntheticCity:
    """A synthetic city of ``n_compounds`` compounds and their buildings; same seed, same city."""
    compounds = generate_compounds(n_compounds, seed=seed)
    buildings = generate_buildings(
        compounds, seed=seed, buildings_per_compound=buildings_per_compound
    )
    return SyntheticCity(compounds=compounds, buildings=buildings, seed=seed)


# --- household orders ----------------------------------------------------------------------


def _category_mix(category_ids: Sequence[str]) -> tuple[CategoryMix, ...]:
    """The part of CATEGORY_MIX for ``category_ids`` (in CATEGORY_MIX order), checked."""
    wanted = set(category_ids)
    unknown = sorted(wanted - set(DEFAULT_CATEGORIES))
    if unknown or not wanted:
        raise ValueError(
            f"category_ids must be a non-empty subset of {', '.join(DEFAULT_CATEGORIES)}; "
            f"unknown: {', '.join(unknown) or '(none given)'}"
        )
    return tuple(c for c in CATEGORY_MIX if c.category_id in wanted)


def _mix_arrays(
    mix: tuple[CategoryMix, ...],
) -> tuple[pl.Series, FloatArray, FloatArray, pl.Series, IntArray, IntArray]:
    ids = pl.Series("category_id", [c.category_id for c in mix])
    weights = np.array([c.weight for c in mix])
    cum_q = np.array([np.cumsum(c.quantity_p) for c in mix])
    products = pl.Series("product", [p for c in mix for p in c.products])
    n_products = np.array([len(c.products) for c in mix], dtype=np.int64)
    first_product = _segment_starts(n_products)
    return ids, weights, cum_q, products, n_products, first_product


def _flag_labels() -> pl.Series:
    """Label of flag code ``primary * 6 + secondary + 1`` (secondary -1 = none), '' at the end."""
    flags = [f for f, _ in FLAG_WEIGHTS]
    labels = []
    for primary in range(5):
        for secondary in range(-1, 5):
            chosen = {primary} if secondary < 0 else {primary, secondary}
            labels.append(";".join(flags[i].value for i in sorted(chosen)))
    labels.append("")
    return pl.Series("priority_flags", labels)


def generate_orders(
    city: SyntheticCity | pl.DataFrame,
    buildings: pl.DataFrame | None = None,
    *,
    delivery_date: dt.date,
    seed: int,
    participation: float = 0.35,
    category_ids: Sequence[str] = DEFAULT_CATEGORIES,
) -> pl.DataFrame:
    """Household orders for every building of ``city`` (or of ``compounds``, ``buildings``).

    Each household orders with chance ``participation``; an order has 1-4 items of distinct
    categories (CATEGORY_MIX restricted to ``category_ids``, default every demo category),
    about 12 % of orders carry priority flags (infant households always order formula,
    chronically ill ones medicine, where those categories are allowed) and about 5 % are
    proxy orders.
    Rooms are real-looking (``502``) and unique within a building. Returns ORDER_COLUMNS,
    sorted as generated (compound, building, room).
    """
    if not 0.0 <= participation <= 1.0:
        raise ValueError(f"participation must be within 0..1, got {participation}")
    mix = _category_mix(category_ids)
    if isinstance(city, SyntheticCity):
        compounds, buildings = city.compounds, city.buildings
    else:
        if buildings is None:
            raise ValueError("give a SyntheticCity, or compounds and buildings frames")
        compounds = city
    wanted = buildings.filter(pl.col("compound_id").is_in(compounds["compound_id"].implode()))
    rng = np.random.default_rng([seed, 37])

    households = wanted["households"].to_numpy().astype(np.int64)
    total = int(households.sum())
    ordering = np.flatnonzero(rng.random(total) < participation)
    owner_all = np.repeat(np.arange(len(households)), households)
    starts = _segment_starts(households)
    building = owner_all[ordering]
    index_in_building = ordering - starts[building]
    units, _ = building_layout(households)
    floor = index_in_building // units[building] + 1
    room = floor * 100 + index_in_building % units[building] + 1
    n_orders = len(ordering)

    # priority flags and proxy
    flag_p = np.array([w for _, w in FLAG_WEIGHTS])
    priority = rng.random(n_orders) < PRIORITY_SHARE
    primary = rng.choice(5, size=n_orders, p=flag_p / flag_p.sum())
    second = np.where(rng.random(n_orders) < 0.15, (primary + rng.integers(1, 5, n_orders)) % 5, -1)
    flag_code = np.where(priority, primary * 6 + second + 1, 30)
    has = np.zeros((n_orders, 5), dtype=bool)
    has[np.arange(n_orders), primary] = priority
    has[np.arange(n_orders)[second >= 0], second[second >= 0]] |= priority[second >= 0]
    elderly = has[:, 0]
    proxy = rng.random(n_orders) < np.where(elderly, PROXY_SHARE_ELDERLY, PROXY_SHARE_OTHERS)

    # 1-4 distinct categories per order: weighted sampling without replacement (Gumbel top-k)
    ids, weights, cum_q, products, n_products, first_product = _mix_arrays(mix)
    n_categories = len(weights)
    top = min(4, n_categories)
    items = np.minimum(rng.choice(4, size=n_orders, p=np.array(ITEMS_P)) + 1, top)
    keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((n_orders, n_categories))))
    column = {c.category_id: i for i, c in enumerate(mix)}
    for flag, category_id in ((1, "infant_formula"), (3, "medicine")):
        if category_id in column:  # infant households order formula, chronic ones medicine
            keys[has[:, flag], column[category_id]] += 100.0
    ranked = np.argsort(-keys, axis=1)[:, :top]
    take = np.arange(top)[None, :] < items[:, None]
    line_order = np.repeat(np.arange(n_orders), items)
    category = ranked[take]
    u = rng.random(len(category))
    quantity = 1 + (u > cum_q[category, 0]).astype(np.int64) + (u > cum_q[category, 1])
    product = (
        first_product[category] + rng.integers(0, 1 << 30, len(category)) % n_products[category]
    )

    order_frame = pl.DataFrame(
        {
            "compound_id": wanted["compound_id"].gather(pl.Series(building)),
            "building_id": wanted["building_id"].gather(pl.Series(building)),
            "room": room.astype(np.int64),
            "priority_flags": _flag_labels().gather(pl.Series(flag_code)),
            "proxy": proxy,
        }
    ).with_columns(pl.col("room").cast(pl.String))
    order_frame = order_frame.with_columns(
        pl.format("{}-{}", pl.col("building_id"), pl.col("room")).alias("order_id")
    )
    lines = order_frame[pl.Series(line_order)]
    return (
        lines.with_columns(
            pl.lit(delivery_date, dtype=pl.Date).alias("delivery_date"),
            ids.gather(pl.Series(category)).alias("category_id"),
            pl.Series("quantity_units", quantity.astype(np.int64)),
            products.gather(pl.Series(product)).alias("product"),
            pl.lit("").alias("household_name"),
            pl.lit("").alias("phone"),
        )
        .select(ORDER_COLUMNS.names())
        .cast(dict(ORDER_COLUMNS))  # type: ignore[arg-type]
    )


def order_lines_of(orders: pl.DataFrame) -> pl.LazyFrame:
    """ORDER_LINE_SCHEMA lines of ``generate_orders``' long-format orders, ready to aggregate
    (a household is ``compound|building|room``)."""
    return (
        orders.lazy()
        .select(
            "order_id",
            "compound_id",
            "building_id",
            pl.concat_str(["compound_id", "building_id", "room"], separator="|").alias(
                "household_key"
            ),
            "delivery_date",
            "category_id",
            pl.col("quantity_units").cast(pl.Int64),
            (pl.col("priority_flags") != "").alias("priority"),
        )
        .cast(ORDER_LINE_SCHEMA)
    )


# --- order lines for aggregation benchmarks ------------------------------------------------


@dataclass(frozen=True)
class _LineLayout:
    compound_ids: pl.Series
    building_ids: pl.Series
    building_start: IntArray
    building_count: IntArray


def _line_layout(n_compounds: int, seed: int) -> _LineLayout:
    rng = np.random.default_rng([seed, 0])
    counts = rng.integers(4, 61, n_compounds).astype(np.int64)
    starts = _segment_starts(counts)
    owner = np.repeat(np.arange(n_compounds), counts)
    number = np.arange(int(counts.sum())) - starts[owner] + 1
    compounds = pl.select(
        pl.concat_str(
            pl.lit("syn-"),
            pl.int_range(1, n_compounds + 1, dtype=pl.Int64).cast(pl.String).str.zfill(6),
        ).alias("compound_id")
    )["compound_id"]
    buildings = pl.DataFrame(
        {"c": compounds.gather(pl.Series(owner)), "n": number.astype(np.int64)}
    ).select(pl.format("{}-b{}", "c", pl.col("n").cast(pl.String).str.zfill(2)))
    return _LineLayout(compounds, buildings.to_series(), starts, counts)


def _default_compounds(n_lines: int) -> int:
    return int(min(CITY_COMPOUNDS, max(1, math.ceil(n_lines / 1_000))))


def _order_lines_chunk(
    n_lines: int,
    *,
    rng: np.random.Generator,
    layout: _LineLayout,
    days: int,
    household_offset: int,
    first_date: dt.date,
) -> tuple[pl.DataFrame, int]:
    """A chunk of ``n_lines`` order lines and the number of households (orders) it used."""
    p_items = np.array(ITEMS_P)
    mean_items = float((np.arange(1, 5) * p_items).sum())
    n_draw = int(n_lines / mean_items * 1.05) + 16
    items = rng.choice(4, size=n_draw, p=p_items) + 1
    cum = np.cumsum(items)
    while cum[-1] < n_lines:  # vanishingly rare: draw more households
        extra = rng.choice(4, size=n_draw, p=p_items) + 1
        items = np.concatenate([items, extra])
        cum = np.cumsum(items)
    n_households = int(np.searchsorted(cum, n_lines) + 1)
    items = items[:n_households]
    items[-1] -= int(cum[n_households - 1] - n_lines)

    n_compounds = len(layout.compound_ids)
    compound = rng.integers(0, n_compounds, n_households)
    building = layout.building_start[compound] + (
        rng.random(n_households) * layout.building_count[compound]
    ).astype(np.int64)
    day = rng.integers(0, days, n_households) if days > 1 else np.zeros(n_households, np.int64)
    priority = rng.random(n_households) < PRIORITY_SHARE
    weights = np.array([c.weight for c in CATEGORY_MIX])
    n_categories = len(weights)
    first = rng.choice(n_categories, size=n_households, p=weights / weights.sum())
    coprime = np.array([s for s in range(1, n_categories) if math.gcd(s, n_categories) == 1])
    step = coprime[rng.integers(0, len(coprime), n_households)]

    household = np.repeat(np.arange(n_households), items)
    position = np.arange(n_lines) - _segment_starts(items)[household]
    category = (first[household] + position * step[household]) % n_categories
    u = rng.random(n_lines)
    quantity = 1 + (u > 0.70).astype(np.int64) + (u > 0.92)

    key = pl.Series("k", np.arange(household_offset, household_offset + n_households))
    household_frame = pl.DataFrame({"k": key}).select(
        pl.format("o{}", "k").alias("order_id"), pl.format("h{}", "k").alias("household_key")
    )
    line_household = pl.Series(household)
    category_ids = pl.Series([c.category_id for c in CATEGORY_MIX])
    dates = pl.Series(
        [first_date + dt.timedelta(days=d) for d in range(max(days, 1))], dtype=pl.Date
    )
    frame = pl.DataFrame(
        {
            "order_id": household_frame["order_id"].gather(line_household),
            "compound_id": layout.compound_ids.gather(pl.Series(compound[household])),
            "building_id": layout.building_ids.gather(pl.Series(building[household])),
            "household_key": household_frame["household_key"].gather(line_household),
            "delivery_date": dates.gather(pl.Series(day[household])),
            "category_id": category_ids.gather(pl.Series(category)),
            "quantity_units": quantity,
            "priority": priority[household],
        },
        schema=ORDER_LINE_SCHEMA,
    )
    return frame, n_households


def generate_order_lines(
    n_lines: int,
    *,
    seed: int,
    n_compounds: int | None = None,
    days: int = 1,
    first_date: dt.date = DEFAULT_DELIVERY_DATE,
) -> pl.DataFrame:
    """``n_lines`` order lines with exactly ORDER_LINE_SCHEMA, fast enough for 10 M lines.

    Households order 1-4 distinct categories on one of ``days`` dates from ``first_date``;
    ``n_compounds`` defaults to one per 1,000 lines, at most the city's 9,500. Order ids
    and household keys are ``o<n>``/``h<n>``, unique per household and day.
    """
    if n_lines < 0 or days < 1:
        raise ValueError(f"need n_lines >= 0 and days >= 1, got {n_lines} and {days}")
    if n_lines == 0:
        return pl.DataFrame(schema=ORDER_LINE_SCHEMA)
    layout = _line_layout(n_compounds or _default_compounds(n_lines), seed)
    frame, _ = _order_lines_chunk(
        n_lines,
        rng=np.random.default_rng([seed, 1]),
        layout=layout,
        days=days,
        household_offset=0,
        first_date=first_date,
    )
    return frame


def write_order_lines_parquet(
    n_lines: int,
    directory: Path,
    *,
    seed: int,
    chunk_lines: int = 5_000_000,
    n_compounds: int | None = None,
    days: int = 1,
) -> list[Path]:
    """Write ``n_lines`` order lines as parquet chunks of at most ``chunk_lines`` each.

    Chunks share one compound layout and never share a household, so the union is one
    valid order-line set; only one chunk is ever in memory.
    """
    if chunk_lines < 1:
        raise ValueError(f"chunk_lines must be >= 1, got {chunk_lines}")
    directory.mkdir(parents=True, exist_ok=True)
    layout = _line_layout(n_compounds or _default_compounds(n_lines), seed)
    paths: list[Path] = []
    offset = 0
    for index, start in enumerate(range(0, n_lines, chunk_lines)):
        size = min(chunk_lines, n_lines - start)
        frame, used = _order_lines_chunk(
            size,
            rng=np.random.default_rng([seed, index + 1]),
            layout=layout,
            days=days,
            household_offset=offset,
            first_date=DEFAULT_DELIVERY_DATE,
        )
        offset += used
        path = directory / f"order_lines_{index:04d}.parquet"
        frame.write_parquet(path)
        paths.append(path)
        del frame
    return paths
