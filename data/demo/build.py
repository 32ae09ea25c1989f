"""Build the embedded demo day (data/demo/*) and the city outline from the shared Shanghai data.

Run ``python -m data.demo.build --shared ../shared/data-shanghai``. Deterministic: every
random choice comes from one fixed seed, so rebuilding gives byte-identical files. Only a
small subset of the scraped compound listing is written (three 浦东 streets), plus two
statistics (household quantiles, a coarse density grid) for the synthetic city generator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import shapely
import yaml
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from data.demo import (
    DEMO_DATE,
    DEMO_DIR,
    DEMO_SEED,
    FOCUS_COMPOUND_ID,
    FOCUS_JIELONG_BUILDING_ID,
    demo_files,
)
from data.generate import (
    building_layout,
    generate_buildings,
    generate_orders,
)
from data.schemas import SHANGHAI, PriorityFlag

BUILD_SEED = 20220415
"""Seed of every random choice made here."""

DISTRICT = "浦东新区"
STREETS = ("花木街道", "北蔡镇", "塘桥街道")
"""The demo area: three neighbouring streets of 浦东 around the 上农批 wholesale market."""

FOCUS_BEIKE_ID = FOCUS_COMPOUND_ID.removeprefix("pd-")
FOCUS_BUILDINGS = 28
DENSITY_CELL_DEG = 0.02
"""Cell size of the compound-density grid (about 2 km): coarse enough to be a statistic."""

CITY_SOURCE = (
    "union of the 16 district polygons of GS(2024)0650 standard map (CGCS2000 ~ WGS84), "
    "simplified to 0.001 deg"
)


def _shared(shared: Path, *parts: str) -> Path:
    path = shared.joinpath(*parts)
    if not path.is_file():
        raise SystemExit(f"missing {path}: pass --shared pointing at data-shanghai")
    return path


def _at(day: dt.date, hour: int, minute: int = 0) -> str:
    """An ISO datetime with the Shanghai offset, as written in YAML."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).isoformat()


# --- city outline and statistics -----------------------------------------------------------


def build_city_outline(shared: Path, target: Path) -> None:
    """data/cities/shanghai.geojson: the 16 districts dissolved, simplified, 1e-5 precision."""
    source = json.loads(_shared(shared, "boundaries", "shanghai_districts_16.geojson").read_text())
    union = unary_union([shape(f["geometry"]) for f in source["features"]])
    outline = shapely.set_precision(union.simplify(0.001), 1e-5)
    feature = {
        "type": "Feature",
        "properties": {"name": "上海市", "source": CITY_SOURCE, "built_by": "data/demo/build.py"},
        "geometry": mapping(outline),
    }
    target.write_text(json.dumps(feature, ensure_ascii=False), encoding="utf-8")


def build_household_quantiles(beike: pl.DataFrame, target: Path) -> None:
    """101 quantiles of households per compound and per building over the whole Beike file."""
    q = np.round(np.linspace(0.0, 1.0, 101), 2)
    households = beike["households"].to_numpy().astype(np.float64)
    per_building = households / np.maximum(beike["buildings"].to_numpy(), 1)
    pl.DataFrame(
        {
            "quantile": q,
            "households": np.round(np.quantile(households, q), 1),
            "households_per_building": np.round(np.quantile(per_building, q), 2),
        }
    ).write_csv(target)


def build_density(merged: pl.DataFrame, target: Path) -> None:
    """Compounds per 0.02° cell (city-wide merged listing) with the cell's main district/street."""
    cells = merged.with_columns(
        (pl.col("lon") / DENSITY_CELL_DEG).floor().cast(pl.Int64).alias("ix"),
        (pl.col("lat") / DENSITY_CELL_DEG).floor().cast(pl.Int64).alias("iy"),
    )
    counts = cells.group_by("ix", "iy").agg(
        pl.len().alias("compounds"),
        pl.col("district").mode().sort().first(),
        pl.col("street").fill_null("").mode().sort().first(),
    )
    counts.sort("ix", "iy").select(
        ((pl.col("ix") + 0.5) * DENSITY_CELL_DEG).round(4).alias("lon"),
        ((pl.col("iy") + 0.5) * DENSITY_CELL_DEG).round(4).alias("lat"),
        pl.lit(DENSITY_CELL_DEG).alias("cell_deg"),
        "district",
        "street",
        pl.col("compounds").cast(pl.Int64),
    ).write_csv(target)


# --- compounds, buildings, gates, lockdown --------------------------------------------------

RECEIVING_HOURS = (
    (("07:00", "19:00"), 0.5),
    (("08:00", "20:00"), 0.2),
    (("06:30", "18:00"), 0.15),
    (("13:00", "19:00"), 0.1),
    (("07:00", "12:00"), 0.05),
)
"""Synthetic daily receiving hours of the compounds and how common each is."""


def select_compounds(beike: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The demo compounds: every Beike compound of the three streets, real households."""
    chosen = beike.filter(
        (pl.col("district_pip") == DISTRICT) & pl.col("street_pip").is_in(list(STREETS))
    ).sort("beike_id")
    hours = [h for h, _ in RECEIVING_HOURS]
    pick = rng.choice(len(hours), size=chosen.height, p=[p for _, p in RECEIVING_HOURS])
    return chosen.select(
        pl.concat_str(pl.lit("pd-"), pl.col("beike_id")).alias("compound_id"),
        pl.col("name"),
        pl.col("district_pip").alias("district"),
        pl.col("street_pip").alias("street"),
        pl.col("wgs84_lng").alias("lon"),
        pl.col("wgs84_lat").alias("lat"),
        pl.col("households"),
        pl.Series("receiving_opens_at", [hours[i][0] for i in pick]),
        pl.Series("receiving_closes_at", [hours[i][1] for i in pick]),
        pl.lit(False).alias("synthetic"),
        pl.col("buildings").alias("listed_buildings"),
    )


def build_buildings(compounds: pl.DataFrame) -> pl.DataFrame:
    """Exactly 28 buildings for the focus compound; a few building groups for the others."""
    households = compounds["households"].to_numpy().astype(np.int64)
    listed = compounds["listed_buildings"].to_numpy().astype(np.int64)
    counts = np.minimum(np.clip(np.ceil(households / 150.0), 1, 10), np.maximum(listed, 1))
    focus = (compounds["compound_id"] == FOCUS_COMPOUND_ID).to_numpy()
    counts = np.where(focus, FOCUS_BUILDINGS, counts).astype(np.int64)
    buildings = generate_buildings(compounds, seed=BUILD_SEED, buildings_per_compound=counts)
    _, floors = building_layout(buildings["households"].to_numpy().astype(np.int64))
    return buildings.with_columns(
        pl.Series("floors", floors, dtype=pl.Int64), pl.lit(True).alias("synthetic")
    )


GATE_NAMES = ("南门", "北门", "东门", "西门")
GATE_DIRECTIONS = ((0.0, -1.0), (0.0, 1.0), (1.0, 0.0), (-1.0, 0.0))


def build_gates(compounds: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """1-3 synthetic gates per compound on its edge, with receiving hours and a truck limit."""
    households = compounds["households"].to_numpy()
    n_gates = np.clip((households >= 400).astype(int) + (households >= 1500) + 1, 1, 3)
    n_gates = np.clip(n_gates + rng.integers(-1, 2, len(households)), 1, 3)
    rows: list[dict[str, Any]] = []
    for compound, count in zip(compounds.iter_rows(named=True), n_gates, strict=True):
        radius_m = float(np.clip(8.0 * np.sqrt(compound["households"]), 60.0, 400.0))
        sides = rng.permutation(4)[:count]
        for number, side in enumerate(sides, start=1):
            dx, dy = GATE_DIRECTIONS[side]
            lat = compound["lat"] + dy * radius_m / 111_320.0
            lon = compound["lon"] + dx * radius_m / (111_320.0 * np.cos(np.radians(lat)))
            opens, closes = compound["receiving_opens_at"], compound["receiving_closes_at"]
            if number > 1 and rng.random() < 0.4:  # side gates: shorter hours
                opens, closes = max(opens, "08:00"), min(closes, "17:00")
            rows.append(
                {
                    "gate_id": f"{compound['compound_id']}-g{number}",
                    "compound_id": compound["compound_id"],
                    "name": GATE_NAMES[side],
                    "lon": round(float(lon), 6),
                    "lat": round(float(lat), 6),
                    "receiving_opens_at": opens,
                    "receiving_closes_at": closes,
                    "max_trucks": int(1 + (number == 1 and rng.random() < 0.3)),
                    "synthetic": True,
                }
            )
    return pl.DataFrame(rows)


def build_lockdown(compounds: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Three-zone levels from 2022-04-11 (封控/管控/防范); some compounds changed level on 04-14."""
    rows: list[dict[str, Any]] = []
    levels = ("sealed", "controlled", "precaution")
    start = dt.date(2022, 4, 11)
    for compound_id in compounds["compound_id"]:
        if compound_id == FOCUS_COMPOUND_ID:
            rows.append({"compound_id": compound_id, "level": "sealed", "valid_from": start})
            continue
        level = levels[int(rng.choice(3, p=[0.55, 0.27, 0.18]))]
        if level != "sealed" and rng.random() < 0.25:  # sealed until the 13th, then relaxed
            rows.append(
                {
                    "compound_id": compound_id,
                    "level": "sealed",
                    "valid_from": start,
                    "valid_until": dt.date(2022, 4, 13),
                }
            )
            rows.append(
                {"compound_id": compound_id, "level": level, "valid_from": dt.date(2022, 4, 14)}
            )
        else:
            rows.append({"compound_id": compound_id, "level": level, "valid_from": start})
    return pl.DataFrame(
        rows,
        schema={
            "compound_id": pl.String,
            "level": pl.String,
            "valid_from": pl.Date,
            "valid_until": pl.Date,
        },
    )


# --- categories and supply -----------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    """A demo category, with the 接龙 aliases residents use for it."""

    category_id: str
    name_zh: str
    name_en: str
    unit: str
    unit_weight_g: int
    cold_chain: bool
    required_certificates: tuple[str, ...]
    aliases: tuple[str, ...]


CATEGORIES = (
    CategorySpec(
        "vegetables", "蔬菜", "vegetables", "份 (蔬菜套餐 5 kg)", 5000, False, (),
        ("蔬菜套餐", "蔬菜包", "保供蔬菜包", "蔬菜"),
    ),
    CategorySpec(
        "meat", "肉类", "meat", "份 (肉类套餐 2 kg)", 2000, True,
        ("quarantine_report", "food_licence"),
        ("肉类套餐", "猪肉套餐", "冷鲜肉", "猪肉", "鸡肉"),
    ),
    CategorySpec(
        "eggs", "鸡蛋", "eggs", "盒 (30 枚)", 1800, False, (), ("鸡蛋", "鸡蛋30枚", "土鸡蛋"),
    ),
    CategorySpec(
        "dairy", "牛奶/乳制品", "dairy", "箱 (12 × 250 ml)", 3200, True, ("food_licence",),
        ("牛奶", "纯牛奶", "酸奶", "乳制品"),
    ),
    CategorySpec(
        "rice_oil", "米面粮油", "rice, flour and oil", "袋 (大米 10 kg)", 10000, False, (),
        ("大米", "米面粮油", "食用油", "面粉", "挂面"),
    ),
    CategorySpec(
        "infant_formula", "婴儿奶粉", "infant formula", "罐 (900 g)", 1200, False,
        ("food_licence",), ("奶粉", "婴儿奶粉", "配方奶粉"),
    ),
    CategorySpec(
        "medicine", "常用药", "common medicine", "盒", 200, False, ("food_licence",),
        ("常用药", "感冒药", "退烧药", "降压药"),
    ),
    CategorySpec(
        "fruit", "水果", "fruit", "份 (水果套餐 3 kg)", 3000, False, (),
        ("水果套餐", "水果", "苹果", "橙子"),
    ),
    CategorySpec(
        "frozen", "冷冻食品", "frozen food", "袋 (1 kg)", 1000, True, ("food_licence",),
        ("速冻水饺", "冷冻食品", "速冻食品", "冻品"),
    ),
    CategorySpec(
        "daily", "生活用品", "daily necessities", "份 (生活用品包)", 2500, False, (),
        ("生活用品", "卫生纸", "日用品", "洗衣液"),
    ),
)  # fmt: skip


def categories_document() -> dict[str, Any]:
    """categories.yaml as a YAML-ready mapping."""
    return {
        "categories": [
            {
                "category_id": c.category_id,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "unit": c.unit,
                "unit_weight_g": c.unit_weight_g,
                "cold_chain": c.cold_chain,
                "required_certificates": list(c.required_certificates),
                "aliases": list(c.aliases),
            }
            for c in CATEGORIES
        ]
    }


@dataclass(frozen=True)
class DepotSpec:
    """A demo depot at a real retail location (row of the supermarket or wholesale file)."""

    depot_id: str
    supplier_id: str
    source_name: str
    """``name`` in supermarkets_chains_c2016.csv, or 上农批 for the wholesale market."""
    label: str
    opens_at: str = "05:00"
    closes_at: str = "22:00"
    loading_docks: int = 2


@dataclass(frozen=True)
class SupplierSpec:
    """A synthetic supplier, what it offers and its service area."""

    supplier_id: str
    name: str
    offers: tuple[tuple[str, float], ...]
    """(category_id, share of that category's total offered capacity)."""
    districts: tuple[str, ...] = (DISTRICT,)
    max_distance_m: int | None = None
    levels: tuple[str, ...] = ("sealed", "controlled", "precaution", "normal")
    refrigerated_vehicles: int = 0
    vehicles: int = 2


NONGPI = "上农批"
SUPPLIERS = (
    SupplierSpec("sup-huamu", "花木鲜达农副产品配送（示例）",
                 (("vegetables", 0.25), ("fruit", 0.3), ("eggs", 0.25)),
                 districts=(), max_distance_m=10_000),
    SupplierSpec("sup-nongpi-veg", "沪南农批蔬菜配送（示例）",
                 (("vegetables", 0.35), ("fruit", 0.3), ("eggs", 0.2)),
                 districts=(DISTRICT, "徐汇区", "黄浦区"), vehicles=3),
    SupplierSpec("sup-nongpi-meat", "沪南冷鲜肉品（示例）", (("meat", 0.35), ("frozen", 0.4)),
                 districts=(DISTRICT, "徐汇区", "黄浦区"), refrigerated_vehicles=2, vehicles=1),
    SupplierSpec("sup-sanlin-meat", "三林鲜肉配送（示例）", (("meat", 0.2),),
                 refrigerated_vehicles=1, vehicles=0),
    SupplierSpec("sup-jiali", "嘉里优选食品（示例）",
                 (("dairy", 0.35), ("infant_formula", 0.5), ("fruit", 0.1))),
    SupplierSpec("sup-yangnan", "杨南生活超市配送（示例）",
                 (("rice_oil", 0.4), ("daily", 0.4), ("eggs", 0.15))),
    SupplierSpec("sup-shangnan", "上南粮油副食（示例）", (("rice_oil", 0.35), ("frozen", 0.3)),
                 refrigerated_vehicles=1),
    SupplierSpec("sup-kangshen", "康沈保供菜篮子（示例）",
                 (("vegetables", 0.15), ("meat", 0.25), ("eggs", 0.15)),
                 refrigerated_vehicles=1),
    SupplierSpec("sup-nanhui", "南汇农场直供（示例）", (("vegetables", 0.1), ("fruit", 0.15)),
                 districts=(), max_distance_m=12_000),
    SupplierSpec("sup-xuhui-dairy", "徐家汇乳品配送（示例）", (("dairy", 0.3),),
                 districts=("徐汇区", "闵行区"), refrigerated_vehicles=1, vehicles=0),
    SupplierSpec("sup-dongming", "东明社区菜篮子（示例）",
                 (("vegetables", 0.1), ("eggs", 0.1), ("daily", 0.2))),
    SupplierSpec("sup-sanlin-pharmacy", "三林社区药品配送（示例）",
                 (("medicine", 1.0), ("infant_formula", 0.5), ("daily", 0.2)), vehicles=2),
    SupplierSpec("sup-yangpu-frozen", "中原冻品贸易（示例）", (("frozen", 0.3), ("meat", 0.2)),
                 districts=("杨浦区", DISTRICT), refrigerated_vehicles=2, vehicles=0),
    SupplierSpec("sup-meilong", "梅陇粮油副食（示例）",
                 (("rice_oil", 0.25), ("daily", 0.2), ("eggs", 0.15), ("dairy", 0.35)),
                 districts=("闵行区", DISTRICT), max_distance_m=20_000,
                 levels=("controlled", "precaution", "normal"), refrigerated_vehicles=1),
    SupplierSpec("sup-jinqiao", "金桥果蔬合作社（示例）",
                 (("vegetables", 0.05), ("fruit", 0.15))),
)  # fmt: skip

DEPOTS = (
    DepotSpec("dep-metro-pudong", "sup-huamu", "麦德龙(上海浦东商场店)", "麦德龙 浦东商场"),
    DepotSpec("dep-nongpi-a", "sup-nongpi-veg", NONGPI, "上农批 蔬菜区", "03:00", "20:00", 4),
    DepotSpec("dep-nongpi-b", "sup-nongpi-meat", NONGPI, "上农批 冷库", "03:00", "20:00", 3),
    DepotSpec("dep-nongpi-c", "sup-jinqiao", NONGPI, "上农批 果品区", "03:00", "20:00"),
    DepotSpec("dep-walmart-sanlin", "sup-sanlin-meat", "沃尔玛(三林店)", "沃尔玛 三林"),
    DepotSpec("dep-ole-kerry", "sup-jiali", "华润万家(上海ole’嘉里店)", "华润万家 Ole' 嘉里"),
    DepotSpec("dep-crv-yangnan", "sup-yangnan", "华润万家(杨南路)", "华润万家 杨南路"),
    DepotSpec("dep-tesco-shangnan", "sup-shangnan", "乐购超市(上南店)", "乐购 上南"),
    DepotSpec("dep-yonghui-kangshen", "sup-kangshen", "永辉超市(康沈路店)", "永辉 康沈路"),
    DepotSpec("dep-auchan-nanhui", "sup-nanhui", "欧尚超市(上海南汇店)", "欧尚 南汇"),
    DepotSpec("dep-carrefour-xuhui", "sup-xuhui-dairy", "家乐福(徐汇店)", "家乐福 徐汇"),
    DepotSpec("dep-lotus-shangnan", "sup-dongming", "卜蜂莲花(上南店)", "卜蜂莲花 上南"),
    DepotSpec("dep-yonghui-sanlin", "sup-sanlin-pharmacy", "新永辉平价超市", "永辉 三林"),
    DepotSpec("dep-auchan-zhongyuan", "sup-yangpu-frozen", "欧尚超市(中原店)", "欧尚 中原"),
    DepotSpec("dep-rtmart-meilong", "sup-meilong", "大润发", "大润发 梅陇", "06:00", "21:00"),
)

SHORTAGE = {
    "vegetables": 1.10,
    "meat": 0.55,
    "eggs": 0.80,
    "dairy": 1.05,
    "rice_oil": 1.30,
    "infant_formula": 0.65,
    "medicine": 0.70,
    "fruit": 1.10,
    "frozen": 1.20,
    "daily": 1.50,
}
"""Total offered capacity ÷ expected demand per category: meat, eggs, formula and medicine
are short on purpose, so the matcher's priority rules decide who is served."""

PRICES = {  # (unit price, list price) in cents
    "vegetables": (6800, 7800),
    "meat": (9800, 11800),
    "eggs": (3500, 4200),
    "dairy": (6500, 7200),
    "rice_oil": (6900, 7900),
    "infant_formula": (26800, 29800),
    "medicine": (2800, 2800),
    "fruit": (5800, 6800),
    "frozen": (3200, 3800),
    "daily": (4500, 5000),
}
MIN_ORDER = {
    "vegetables": 50, "meat": 30, "eggs": 20, "dairy": 20, "rice_oil": 10,
    "infant_formula": 6, "medicine": 10, "fruit": 30, "frozen": 20, "daily": 20,
}  # fmt: skip
CASE_SIZE = {"infant_formula": 6, "medicine": 10, "frozen": 10}
PACKAGES = {
    "vegetables": "蔬菜套餐 (5 kg, 8-10 种)",
    "meat": "冷鲜肉套餐 (2 kg)",
    "eggs": "鸡蛋 30 枚",
    "dairy": "纯牛奶 250 ml × 12",
    "rice_oil": "东北大米 10 kg",
    "infant_formula": "婴儿配方奶粉 900 g",
    "medicine": "常用药 (感冒/退烧)",
    "fruit": "水果套餐 (3 kg)",
    "frozen": "速冻水饺 1 kg",
    "daily": "生活用品包 (纸巾、洗衣液)",
}

DAY = DEMO_DATE
BEFORE = DAY - dt.timedelta(days=1)
PERMIT_FROM, PERMIT_UNTIL = _at(dt.date(2022, 4, 8), 0), _at(dt.date(2022, 5, 1), 0)
LICENCE_FROM, LICENCE_UNTIL = _at(dt.date(2020, 1, 1), 0), _at(dt.date(2025, 1, 1), 0)
PASS_FROM, PASS_UNTIL = _at(dt.date(2022, 4, 10), 0), _at(dt.date(2022, 4, 25), 0)

DELIBERATE_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("sup-dongming", "supply_permit (保供) valid only until 2022-04-15 12:00: mid-day expiry"),
    ("sup-jinqiao", "no supply_permit at all"),
    ("sup-sanlin-meat", "offers meat without any quarantine_report"),
    ("sup-kangshen", "food_licence expired 2022-04-10, so its meat offer is ineligible"),
    (
        "sup-yangpu-frozen",
        "quarantine_report for meat expires 2022-04-15 10:00; supply_permit not verified",
    ),
    ("sup-jiali", "sells dairy (cold chain) but has no refrigerated vehicle"),
    ("sup-meilong", "does not serve sealed (封控) compounds: no door-to-door crew"),
    ("sup-nanhui", "service radius 12 km from 南汇 does not reach the demo streets"),
    ("sup-xuhui-dairy", "serves 徐汇区/闵行区 only"),
    ("sup-yangnan", "daily (生活用品) unit price above its own list price (mark-up)"),
    ("veh-nongpi-meat-r1", "vehicle_pass expires 2022-04-15 14:00"),
    ("veh-shangnan-2", "no vehicle_pass"),
    ("drv-sanlin-pharmacy-1", "driver test taken 2022-04-13 06:30: expired at 06:30 on the day"),
    ("drv-nongpi-meat-1", "driver test taken 2022-04-13 13:00: expires 13:00 on the day"),
    ("drv-kangshen-2", "no driver test on record"),
)
"""Eligibility problems planted on purpose; README.md lists them too."""


def _depot_points(shared: Path) -> dict[str, tuple[float, float, str]]:
    markets = pl.read_csv(_shared(shared, "suppliers", "supermarkets_chains_c2016.csv"))
    wholesale = pl.read_csv(_shared(shared, "suppliers", "wholesale_markets_partial.csv"))
    points: dict[str, tuple[float, float, str]] = {}
    for spec in DEPOTS:
        if spec.source_name == NONGPI:
            row = wholesale.filter(pl.col("name").str.contains(NONGPI)).row(0, named=True)
            points[spec.depot_id] = (row["wgs84_lng"], row["wgs84_lat"], row["district"])
            continue
        found = markets.filter(pl.col("name") == spec.source_name)
        if spec.source_name == "大润发":
            found = found.filter(pl.col("district") == "闵行区")
        if found.height != 1:
            raise SystemExit(f"depot {spec.source_name!r}: {found.height} rows in the source")
        row = found.row(0, named=True)
        points[spec.depot_id] = (row["wgs84_lng"], row["wgs84_lat"], row["district"])
    return points


def supply_document(shared: Path, demand: dict[str, int]) -> dict[str, Any]:
    """supply.yaml: suppliers, depots, vehicles, drivers, certificates and offers."""
    points = _depot_points(shared)
    suppliers: list[dict[str, Any]] = []
    depots: list[dict[str, Any]] = []
    vehicles: list[dict[str, Any]] = []
    drivers: list[dict[str, Any]] = []
    certificates: list[dict[str, Any]] = []
    offers: list[dict[str, Any]] = []
    share_total: dict[str, float] = {}
    for spec in SUPPLIERS:
        for category, share in spec.offers:
            share_total[category] = share_total.get(category, 0.0) + share

    def certificate(
        kind: str,
        holder_kind: str,
        holder: str,
        start: str,
        end: str,
        *,
        scope: str = "",
        verified: bool = True,
    ) -> None:
        certificates.append(
            {
                "certificate_id": f"cert-{kind.replace('_', '-')}-{holder.split('-', 1)[1]}",
                "type": kind,
                "holder_kind": holder_kind,
                "holder_id": holder,
                "scope": scope,
                "valid_from": start,
                "valid_until": end,
                "verified": verified,
            }
        )

    for number, spec in enumerate(SUPPLIERS, start=1):
        sid = spec.supplier_id
        short = sid.removeprefix("sup-")
        suppliers.append(
            {
                "supplier_id": sid,
                "name": spec.name,
                "contact_phone": f"1390000{number:04d}",
                "lockdown_levels_served": list(spec.levels),
                "synthetic": True,
            }
        )
        depot_ids = [d.depot_id for d in DEPOTS if d.supplier_id == sid]
        for depot in (d for d in DEPOTS if d.supplier_id == sid):
            lon, lat, _ = points[depot.depot_id]
            depots.append(
                {
                    "depot_id": depot.depot_id,
                    "supplier_id": sid,
                    "name": f"{depot.label}（示例仓）",
                    "lon": lon,
                    "lat": lat,
                    "hours": {"opens_at": depot.opens_at, "closes_at": depot.closes_at},
                    "loading_docks": depot.loading_docks,
                    "synthetic": True,
                }
            )
        # vehicles: refrigerated vans and ordinary trucks
        fleet = [(f"r{i}", True) for i in range(1, spec.refrigerated_vehicles + 1)]
        fleet += [(str(i), False) for i in range(1, spec.vehicles + 1)]
        for index, (suffix, cold) in enumerate(fleet):
            vid = f"veh-{short}-{suffix}"
            vehicles.append(
                {
                    "vehicle_id": vid,
                    "supplier_id": sid,
                    "depot_id": depot_ids[index % len(depot_ids)],
                    "plate": f"沪D·S{number:02d}{index + 1:02d}（示例）",
                    "capacity_kg": 1500 if cold else 3000,
                    "capacity_units": 300 if cold else 600,
                    "refrigerated": cold,
                    "fixed_cost_cents": 45000 if cold else 30000,
                }
            )
            if vid == "veh-shangnan-2":
                continue  # deliberate: no vehicle pass
            end = _at(DAY, 14) if vid == "veh-nongpi-meat-r1" else PASS_UNTIL
            certificate("vehicle_pass", "vehicle", vid, PASS_FROM, end)
        # drivers: one per vehicle, 48-hour tests mostly taken the morning before
        for index in range(1, len(fleet) + 1):
            did = f"drv-{short}-{index}"
            taken: str | None = _at(BEFORE, 6 + index % 3, 30)
            if did == "drv-sanlin-pharmacy-1":
                taken = _at(DAY - dt.timedelta(days=2), 6, 30)
            elif did == "drv-nongpi-meat-1":
                taken = _at(DAY - dt.timedelta(days=2), 13, 0)
            elif did == "drv-kangshen-2":
                taken = None
            drivers.append(
                {
                    "driver_id": did,
                    "supplier_id": sid,
                    "name": f"{'王李张刘陈杨赵黄周吴'[number % 10]}师傅{index}",
                    "phone": f"1380000{9000 + number * 10 + index:04d}",
                    "test_taken_at": taken,
                }
            )
            if taken is not None:
                until = (dt.datetime.fromisoformat(taken) + dt.timedelta(hours=48)).isoformat()
                certificate("driver_test", "driver", did, taken, until)
        # supplier certificates
        if sid != "sup-jinqiao":
            end = _at(DAY, 12) if sid == "sup-dongming" else PERMIT_UNTIL
            certificate(
                "supply_permit",
                "supplier",
                sid,
                PERMIT_FROM,
                end,
                verified=sid != "sup-yangpu-frozen",
            )
        categories = {c for c, _ in spec.offers}
        needs_licence = {
            c.category_id for c in CATEGORIES if "food_licence" in c.required_certificates
        }
        if categories & needs_licence:
            end = _at(dt.date(2022, 4, 10), 0) if sid == "sup-kangshen" else LICENCE_UNTIL
            certificate("food_licence", "supplier", sid, LICENCE_FROM, end)
        if "meat" in categories and sid != "sup-sanlin-meat":
            end = _at(DAY, 10) if sid == "sup-yangpu-frozen" else _at(DAY + dt.timedelta(1), 6)
            certificate("quarantine_report", "supplier", sid, _at(BEFORE, 5), end, scope="meat")
        # offers
        for offer_number, (category, share) in enumerate(spec.offers):
            price, list_price = PRICES[category]
            spread = 1.0 + 0.04 * ((number + offer_number) % 5 - 2)
            unit_price = round(price * spread / 10.0) * 10
            if sid == "sup-yangnan" and category == "daily":
                unit_price = 5200  # deliberate: above its list price
            case = CASE_SIZE.get(category, 1)
            capacity = demand.get(category, 0) * SHORTAGE[category] * share / share_total[category]
            capacity_units = max(case, round(capacity / (10 * case)) * 10 * case)
            area: dict[str, Any] = {"districts": list(spec.districts)}
            if spec.max_distance_m is not None:
                area["max_distance_m"] = spec.max_distance_m
            offers.append(
                {
                    "offer_id": f"off-{short}-{category.replace('_', '-')}",
                    "supplier_id": sid,
                    "category_id": category,
                    "delivery_date": DAY.isoformat(),
                    "capacity_units": capacity_units,
                    "unit_price_cents": unit_price,
                    "list_price_cents": list_price,
                    "min_order_units": MIN_ORDER[category],
                    "case_size_units": case,
                    "package_name": PACKAGES[category],
                    "service_area": area,
                    "depot_ids": depot_ids,
                }
            )
    return {
        "suppliers": suppliers,
        "depots": depots,
        "vehicles": vehicles,
        "drivers": drivers,
        "certificates": certificates,
        "offers": offers,
    }


# --- the focus compound's orders -----------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
TITLES = ("阿姨", "先生", "女士", "老师", "阿婆", "爷叔", "小姐", "伯伯")
FLAG_ZH = {
    PriorityFlag.elderly.value: "老人",
    PriorityFlag.infant.value: "婴儿",
    PriorityFlag.pregnant.value: "孕妇",
    PriorityFlag.chronic_illness.value: "慢性病",
    PriorityFlag.disability.value: "残疾",
}


def focus_orders(
    compounds: pl.DataFrame, buildings: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Synthetic households of the focus compound with fake names and 1380000xxxx phones."""
    focus = compounds.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID)
    orders = generate_orders(
        focus.select("compound_id", "households"),
        buildings.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID),
        delivery_date=DEMO_DATE,
        seed=BUILD_SEED + 1,
        participation=0.35,
    )
    ids = orders["order_id"].unique(maintain_order=True)
    n = len(ids)
    names = [
        SURNAMES[s] + TITLES[t]
        for s, t in zip(
            rng.integers(0, len(SURNAMES), n), rng.integers(0, len(TITLES), n), strict=True
        )
    ]
    phones = [f"1380000{k:04d}" for k in rng.permutation(10_000)[:n]]
    no_phone = rng.random(n) < 0.1
    people = pl.DataFrame(
        {
            "order_id": ids,
            "household_name": names,
            "phone": [("" if skip else p) for p, skip in zip(phones, no_phone, strict=True)],
        }
    )
    return orders.drop("household_name", "phone").join(people, on="order_id").select(orders.columns)


def jielong_text(orders: pl.DataFrame, building_name: str, compound_name: str) -> str:
    """One building's orders as a pasted 接龙 list (numbered lines, flags in brackets)."""
    lines = [
        f"#接龙 4月15日 {building_name} 保供团购 ({compound_name}) 截止 4月14日 20:00",
    ]
    grouped = orders.group_by("order_id", maintain_order=True).agg(
        pl.col("room").first(),
        pl.col("product"),
        pl.col("quantity_units"),
        pl.col("priority_flags").first(),
        pl.col("proxy").first(),
        pl.col("phone").first(),
    )
    for number, row in enumerate(grouped.iter_rows(named=True), start=1):
        items = " ".join(
            f"{p}x{q}" for p, q in zip(row["product"], row["quantity_units"], strict=True)
        )
        notes = (["代下单"] if row["proxy"] else []) + [
            FLAG_ZH[f] for f in row["priority_flags"].split(";") if f
        ]
        text = f"{number}. {building_name} {row['room']} {items}"
        if notes:
            text += f" ({', '.join(notes)})"
        if row["phone"]:
            text += f" {row['phone']}"
        lines.append(text)
    return "\n".join(lines) + "\n"


# --- demand check and README ---------------------------------------------------------------


def expected_demand(
    compounds: pl.DataFrame, buildings: pl.DataFrame, focus: pl.DataFrame
) -> dict[str, int]:
    """Units per category of the demo day: the focus orders plus the CLI's synthetic orders."""
    others = compounds.filter(pl.col("compound_id") != FOCUS_COMPOUND_ID)
    synthetic = generate_orders(
        others.select("compound_id", "households"),
        buildings.filter(pl.col("compound_id") != FOCUS_COMPOUND_ID),
        delivery_date=DEMO_DATE,
        seed=DEMO_SEED,
    )
    totals = (
        pl.concat([synthetic, focus]).group_by("category_id").agg(pl.col("quantity_units").sum())
    )
    return dict(zip(totals["category_id"], totals["quantity_units"], strict=True))


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


FILE_TABLE = (
    (
        "`compounds.csv`",
        "compounds of the three streets: `compound_id` (`pd-<beike_id>`), name, district, "
        "street, WGS84 `lon, lat`, `households`, receiving hours",
        "name, street, position and households are **real** (`synthetic=false`); "
        "`receiving_opens_at/closes_at` are **synthetic** for every row",
    ),
    (
        "`buildings.csv`",
        "the focus compound's 28 buildings (`1号楼`..`28号楼`) and 1-10 building groups per "
        "other compound (about 150 households each); households sum exactly to the compound's",
        "all **synthetic** (`synthetic=true`): points within a few hundred metres of the "
        "compound point, `floors` derived from the households",
    ),
    (
        "`gates.csv`",
        "1-3 gates per compound (南门/北门/东门/西门) with receiving hours and `max_trucks`",
        "**synthetic**",
    ),
    (
        "`lockdown.csv`",
        "level per compound from 2022-04-11 (`sealed` 封控区, `controlled` 管控区, "
        "`precaution` 防范区); some compounds were sealed until 04-13 and relaxed on 04-14; "
        "the focus compound is sealed",
        "**synthetic** levels (the real lists were not published per compound)",
    ),
    (
        "`categories.yaml`",
        "10 categories with unit, `unit_weight_g`, cold chain, required certificates and the "
        "接龙 aliases",
        "hand-written",
    ),
    (
        "`supply.yaml`",
        "suppliers, depots, vehicles, drivers, certificates, offers for the demo date",
        "suppliers, vehicles, drivers, certificates, offers **synthetic**; depot points are "
        "real store locations",
    ),
    (
        "`orders_{focus_id}.csv`",
        "household orders of the focus compound, long format (one row per item)",
        "**synthetic** households, names (王阿姨…) and phones (`1380000xxxx`)",
    ),
    (
        "`jielong_{focus_id}_{jielong_suffix}.txt`",
        "a pasted 接龙 list of one focus building; its households are not in the CSV",
        "**synthetic**",
    ),
    (
        "`household_quantiles.csv`",
        "101 quantiles of households per compound and per building over the whole "
        "Beike/Lianjia file (4,100 compounds)",
        "a statistic for `data/generate.py`",
    ),
    (
        "`compound_density.csv`",
        "compounds per 0.02° cell (about 2 km) over the merged city-wide listing "
        "(9,450 compounds), with the cell's main district and street",
        "a statistic for `data/generate.py`",
    ),
)
"""The README's file table: (file, what, real or synthetic)."""


README = """# data/demo: the embedded Shanghai demo day (2022-04-15)

Built by `python -m data.demo.build --shared ../shared/data-shanghai` (from the repository
root; deterministic, seed {seed}). **Do not edit by hand**: change `data/demo/build.py` and
rebuild. The build also rewrites `data/cities/shanghai.geojson` (byte-identical).

The day: **{date}**, the spring 2022 lockdown of Shanghai. Three streets of 浦东新区
({streets}): **{n_compounds} compounds, {households:,} households**, lockdown levels from
the three-zone classification of 2022-04-11, {n_suppliers} suppliers with depots at real
retail locations, and household orders for one focus compound.

Focus compound: **{focus_name}** (`{focus_id}`, {focus_street}, {focus_households:,}
households, listed with {focus_listed} buildings) with exactly 28 synthetic buildings.
Its orders come as a CSV ({n_csv_orders} households, {n_csv_lines} lines) and, for one
building ({jielong_building}), as a pasted 接龙 list ({n_jielong} households). The CLI gives
every other compound synthetic orders with `data.generate.generate_orders(..., seed=--seed)`
(default {seed}).

## Files

{file_table}

Lockdown levels on {date}: {levels}.

## Sources and licences
- **Compounds**: `compounds_beike_lianjia_2020.csv` of the shared data-shanghai folder, from
  GitHub **anyuhanfei/community_dict** (Beike/Lianjia listings scraped Aug-Sep 2020). The
  repository has **no licence**: this subset is for **demos and tests only**, never a product
  dataset. Only the {n_compounds} compounds of three streets are copied; coordinates are the
  `wgs84_*` columns (source datum BD-09, converted as documented there).
- **Depots**: real store locations from `supermarkets_chains_c2016.csv` (GitHub
  **kongchun/Genesis**, MIT; the points are Baidu POI search results, about 2016) and the
  上海农产品中心批发市场 (上农批, 沪南路2000号, Amap geocode) from
  `wholesale_markets_partial.csv`. They are **demo depots at real retail locations, not the
  2022 guaranteed-supply (保供) enterprises**, whose list was never published as data.
  Every supplier name ends in （示例） and is invented.
- **City outline** `data/cities/shanghai.geojson`: {city_source} (DAWN-ECNU/Example_data,
  review number **GS(2024)0650**; keep the number with any published map), made by the union of
  the 16 district polygons, `simplify(0.001)` and `set_precision(1e-5)`.
- `household_quantiles.csv` and `compound_density.csv` are aggregate statistics of the
  compound listings (no names, no single compound).

## Supply on purpose short
Offered capacity over the expected demand of the day (focus orders + CLI synthetic orders
with the default seed):

{demand_table}

Meat, eggs, infant formula and medicine are short, so the matcher's priority rules
(elderly, infants, pregnancy, chronic illness, disability first) decide who is served; the
eligible capacity is shorter still because of the problems below.

## Deliberate eligibility problems
All times are Asia/Shanghai on {date} unless said otherwise.

{problems}

Every other certificate is valid over the whole day. `medicine` requires `food_licence` as
a stand-in: the schema has no drug-trade licence (药品经营许可证) type yet. Vehicle passes
have an empty scope (valid for every lockdown level); quarantine reports have scope `meat`.

## Rebuild
```
.venv/bin/python -m data.demo.build --shared ../shared/data-shanghai
```
"""


def write_readme(target: Path, context: dict[str, Any]) -> None:
    """README.md with the numbers of this build."""
    file_table = _markdown_table(
        ("file", "what", "real / synthetic"),
        [tuple(cell.format(**context) for cell in row) for row in FILE_TABLE],
    )
    target.write_text(README.format(file_table=file_table, **context), encoding="utf-8")


# --- main ----------------------------------------------------------------------------------


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=10_000, schema_overrides={"beike_id": pl.String})


def build(shared: Path, out: Path, city_outline: Path) -> None:
    """Write every demo file into ``out`` and the city outline to ``city_outline``."""
    rng = np.random.default_rng(BUILD_SEED)
    files = demo_files(out)
    out.mkdir(parents=True, exist_ok=True)
    build_city_outline(shared, city_outline)
    beike = _read(_shared(shared, "compounds", "compounds_beike_lianjia_2020.csv"))
    merged = pl.read_csv(
        _shared(shared, "compounds", "compounds_merged_2020.csv"), infer_schema_length=0
    ).select(
        pl.col("wgs84_lng").cast(pl.Float64).alias("lon"),
        pl.col("wgs84_lat").cast(pl.Float64).alias("lat"),
        "district",
        "street",
    )
    build_household_quantiles(beike, files.household_quantiles)
    build_density(merged, files.compound_density)

    compounds = select_compounds(beike, rng)
    focus_row = compounds.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID)
    if focus_row.height != 1:
        raise SystemExit(f"focus compound {FOCUS_COMPOUND_ID} is not in the demo streets")
    buildings = build_buildings(compounds)
    gates = build_gates(compounds, rng)
    lockdown = build_lockdown(compounds, rng)
    compounds.drop("listed_buildings").write_csv(files.compounds)
    buildings.write_csv(files.buildings)
    gates.write_csv(files.gates)
    lockdown.write_csv(files.lockdown)

    orders = focus_orders(compounds, buildings, rng)
    jielong = orders.filter(pl.col("building_id") == FOCUS_JIELONG_BUILDING_ID)
    csv_orders = orders.filter(pl.col("building_id") != FOCUS_JIELONG_BUILDING_ID)
    csv_orders.write_csv(files.orders)
    building_name = buildings.filter(pl.col("building_id") == FOCUS_JIELONG_BUILDING_ID)["name"][0]
    focus = focus_row.row(0, named=True)
    files.jielong.write_text(jielong_text(jielong, building_name, focus["name"]), encoding="utf-8")

    demand = expected_demand(compounds, buildings, orders)
    _dump_yaml(categories_document(), files.categories)
    supply = supply_document(shared, demand)
    _dump_yaml(supply, files.supply)

    offered: dict[str, int] = {}
    for offer in supply["offers"]:
        offered[offer["category_id"]] = (
            offered.get(offer["category_id"], 0) + offer["capacity_units"]
        )
    table = _markdown_table(
        ("category", "demand units", "offered units", "offered / demand"),
        [
            (c.category_id, f"{demand[c.category_id]:,}", f"{offered[c.category_id]:,}",
             f"{offered[c.category_id] / demand[c.category_id]:.0%}")
            for c in CATEGORIES
        ],
    )  # fmt: skip
    on_day = lockdown.filter(
        (pl.col("valid_from") <= DEMO_DATE)
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= DEMO_DATE))
    )["level"].value_counts(sort=True)
    write_readme(
        files.readme,
        {
            "seed": BUILD_SEED,
            "date": DEMO_DATE.isoformat(),
            "streets": "、".join(STREETS),
            "n_compounds": compounds.height,
            "households": int(compounds["households"].sum()),
            "n_suppliers": len(SUPPLIERS),
            "focus_name": focus["name"],
            "focus_id": FOCUS_COMPOUND_ID,
            "focus_street": focus["street"],
            "focus_households": focus["households"],
            "focus_listed": focus["listed_buildings"],
            "n_csv_orders": csv_orders["order_id"].n_unique(),
            "n_csv_lines": csv_orders.height,
            "n_jielong": jielong["order_id"].n_unique(),
            "jielong_building": building_name,
            "jielong_suffix": FOCUS_JIELONG_BUILDING_ID.rsplit("-", 1)[1],
            "levels": ", ".join(f"{lvl} {n}" for lvl, n in on_day.iter_rows()),
            "city_source": CITY_SOURCE,
            "demand_table": table,
            "problems": "\n".join(f"- `{who}`: {what}" for who, what in DELIBERATE_PROBLEMS),
        },
    )


def _dump_yaml(document: dict[str, Any], target: Path) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    target.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``--shared`` data-shanghai folder, ``--out`` (default: this package)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shared", type=Path, required=True, help="the data-shanghai folder")
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="where the demo files go")
    parser.add_argument(
        "--city",
        type=Path,
        default=DEMO_DIR.parent / "cities" / "shanghai.geojson",
        help="where the city outline goes",
    )
    args = parser.parse_args(argv)
    build(args.shared, args.out, args.city)


if __name__ == "__main__":
    main()
