"""Tiny named matcher instances, built in code so each test changes exactly one thing.

``World`` is a small Pudong day: categories ``veg`` (plain) and ``pork`` (cold chain,
quarantine report and food licence required), compounds along a street 1 km apart,
suppliers each with one depot, a refrigerated truck holding an all-levels vehicle pass, a
driver tested the evening before, and a supply permit, quarantine report and food licence
valid over the whole day. Tests build a ``World``, change it, and call ``problem()``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from data.schemas import (
    SHANGHAI,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    HolderKind,
    LockdownLevel,
    LockdownStatus,
    Offer,
    ServiceArea,
    Supplier,
    Vehicle,
)
from matcher.model import DemandRow, Problem

DAY = dt.date(2022, 4, 12)
WINDOW_START = dt.datetime(2022, 4, 12, 7, 0, tzinfo=SHANGHAI)
WINDOW_END = dt.datetime(2022, 4, 12, 19, 0, tzinfo=SHANGHAI)
BASE_LON, BASE_LAT = 121.50, 31.23
KM_LON = 1 / (111.32 * 0.8549)  # degrees of longitude per km at 31.23° N (approx.)

VEG = Category(
    category_id="veg", name_zh="蔬菜", name_en="vegetables", unit="份", unit_weight_g=5000
)
PORK = Category(
    category_id="pork",
    name_zh="猪肉",
    name_en="pork",
    unit="份",
    unit_weight_g=2000,
    cold_chain=True,
    required_certificates=(CertificateType.quarantine_report, CertificateType.food_licence),
)


def compound(k: int, district: str = "浦东新区") -> Compound:
    """Compound ``c{k}``, ``k`` km east of the base point."""
    return Compound(
        compound_id=f"c{k}",
        name=f"小区{k}",
        district=district,
        lon=BASE_LON + k * KM_LON,
        lat=BASE_LAT,
        households=100,
    )


def day_cert(
    cid: str,
    kind: CertificateType,
    holder_kind: HolderKind,
    holder_id: str,
    *,
    scope: str = "",
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
) -> Certificate:
    """A certificate valid from the day before to the day after (unless told otherwise)."""
    return Certificate(
        certificate_id=cid,
        type=kind,
        holder_kind=holder_kind,
        holder_id=holder_id,
        scope=scope,
        valid_from=valid_from or WINDOW_START - dt.timedelta(days=1),
        valid_until=valid_until or WINDOW_END + dt.timedelta(days=1),
    )


@dataclass
class World:
    """A mutable builder of a ``Problem``; every list can be edited before ``problem()``."""

    categories: list[Category] = field(default_factory=lambda: [VEG, PORK])
    compounds: list[Compound] = field(default_factory=list)
    lockdown: list[LockdownStatus] = field(default_factory=list)
    demand: list[DemandRow] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    suppliers: list[Supplier] = field(default_factory=list)
    depots: list[Depot] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)

    def add_compound(
        self, k: int, demand: dict[str, tuple[int, int]], district: str = "浦东新区"
    ) -> str:
        """Compound ``c{k}`` with demand ``{category: (quantity, priority quantity)}``."""
        self.compounds.append(compound(k, district))
        for category_id, (quantity, priority) in demand.items():
            self.demand.append(
                DemandRow(
                    compound_id=f"c{k}",
                    category_id=category_id,
                    quantity_units=quantity,
                    priority_quantity_units=priority,
                    households=quantity,
                    priority_households=priority,
                )
            )
        return f"c{k}"

    def add_supplier(self, sid: str, *, at_km: float = 0.0, licensed: bool = True) -> str:
        """Supplier ``sid`` with a depot at ``at_km``, a refrigerated truck with a pass for
        every level, a driver tested at 20:00 the day before and (if ``licensed``) a supply
        permit, a quarantine report and a food licence valid over the day."""
        self.suppliers.append(Supplier(supplier_id=sid, name=f"供应商{sid}"))
        self.depots.append(
            Depot(
                depot_id=f"{sid}-d",
                supplier_id=sid,
                name=f"{sid}仓库",
                lon=BASE_LON + at_km * KM_LON,
                lat=BASE_LAT,
            )
        )
        self.vehicles.append(
            Vehicle(
                vehicle_id=f"{sid}-v",
                supplier_id=sid,
                depot_id=f"{sid}-d",
                plate=f"沪A{sid}",
                capacity_kg=2000,
                capacity_units=500,
                refrigerated=True,
            )
        )
        self.drivers.append(
            Driver(
                driver_id=f"{sid}-drv",
                supplier_id=sid,
                name="王师傅",
                test_taken_at=WINDOW_START - dt.timedelta(hours=11),
            )
        )
        self.certificates.append(
            day_cert(f"{sid}-pass", CertificateType.vehicle_pass, HolderKind.vehicle, f"{sid}-v")
        )
        if licensed:
            for kind in (
                CertificateType.supply_permit,
                CertificateType.quarantine_report,
                CertificateType.food_licence,
            ):
                self.certificates.append(
                    day_cert(f"{sid}-{kind.value}", kind, HolderKind.supplier, sid)
                )
        return sid

    def add_offer(
        self,
        oid: str,
        sid: str,
        category_id: str,
        capacity: int,
        *,
        price: int = 1000,
        min_order: int = 1,
        max_km: float | None = 20.0,
        districts: tuple[str, ...] = (),
        day: dt.date = DAY,
    ) -> str:
        """Offer ``oid`` of supplier ``sid`` from its depot."""
        self.offers.append(
            Offer(
                offer_id=oid,
                supplier_id=sid,
                category_id=category_id,
                delivery_date=day,
                capacity_units=capacity,
                unit_price_cents=price,
                min_order_units=min_order,
                service_area=ServiceArea(
                    districts=districts,
                    max_distance_m=None if max_km is None else int(max_km * 1000),
                ),
                depot_ids=(f"{sid}-d",),
            )
        )
        return oid

    def set_level(self, compound_id: str, level: LockdownLevel) -> None:
        """Put a compound under ``level`` from a week before the day, open-ended."""
        self.lockdown.append(
            LockdownStatus(
                compound_id=compound_id, level=level, valid_from=DAY - dt.timedelta(days=7)
            )
        )

    def drop_certificates(self, holder_id: str, kind: CertificateType) -> None:
        """Remove every certificate of ``kind`` held by ``holder_id``."""
        self.certificates = [
            c for c in self.certificates if not (c.holder_id == holder_id and c.type is kind)
        ]

    def problem(self) -> Problem:
        """The frozen problem."""
        return Problem(
            delivery_date=DAY,
            window_start=WINDOW_START,
            window_end=WINDOW_END,
            categories=tuple(self.categories),
            compounds=tuple(self.compounds),
            lockdown=tuple(self.lockdown),
            demand=tuple(self.demand),
            offers=tuple(self.offers),
            suppliers=tuple(self.suppliers),
            depots=tuple(self.depots),
            vehicles=tuple(self.vehicles),
            drivers=tuple(self.drivers),
            certificates=tuple(self.certificates),
        )


def one_pair(category_id: str = "veg") -> World:
    """One compound (c1, 1 km east), one supplier s1 (depot at the base), one offer o1."""
    world = World()
    world.add_compound(1, {category_id: (10, 2)})
    world.add_supplier("s1")
    world.add_offer("o1", "s1", category_id, 100)
    return world


def shortage() -> World:
    """Four compounds want 40 veg each (c1 with 10 priority units); one offer of 80."""
    world = World()
    world.add_compound(1, {"veg": (40, 10)})
    world.add_compound(2, {"veg": (40, 0)})
    world.add_compound(3, {"veg": (40, 0)})
    world.add_compound(4, {"veg": (40, 0)})
    world.add_supplier("s1")
    world.add_offer("o1", "s1", "veg", 80, min_order=5)
    return world


def random_world(
    seed: int,
    compounds: int = 60,
    suppliers: int = 8,
    *,
    supply_ratio: float = 0.7,
    min_order: tuple[int, int] = (5, 20),
) -> World:
    """A generated shortage day: compounds on a 10 km square, suppliers with veg and pork
    offers of random price and minimum order, total capacity ``supply_ratio`` × demand."""
    import random

    rng = random.Random(seed)
    world = World()
    totals = {"veg": 0, "pork": 0}
    for k in range(1, compounds + 1):
        world.compounds.append(
            Compound(
                compound_id=f"c{k}",
                name=f"小区{k}",
                district=rng.choice(["浦东新区", "徐汇区"]),
                lon=BASE_LON + rng.uniform(0, 10) * KM_LON,
                lat=BASE_LAT + rng.uniform(0, 10) / 111.0,
                households=200,
            )
        )
        for category_id in ("veg", "pork"):
            quantity = rng.randint(10, 120)
            priority = rng.randint(0, quantity // 4)
            totals[category_id] += quantity
            world.demand.append(
                DemandRow(
                    compound_id=f"c{k}",
                    category_id=category_id,
                    quantity_units=quantity,
                    priority_quantity_units=priority,
                )
            )
    for s in range(suppliers):
        sid = f"s{s}"
        world.add_supplier(sid, at_km=rng.uniform(0, 10))
        for category_id in ("veg", "pork"):
            world.add_offer(
                f"{sid}-{category_id}",
                sid,
                category_id,
                max(1, int(totals[category_id] * supply_ratio / suppliers)),
                price=rng.randint(800, 1500),
                min_order=rng.randint(*min_order),
                max_km=rng.uniform(6, 14),
            )
    return world


def generated_day(
    compounds: int, categories: int, suppliers: int, *, seed: int = 1, coverage: float = 0.9
) -> Problem:
    """A generated city day (``data.generate`` and ``data.generate_supply``), as the
    city benchmark builds it: real categories, household orders, supplier offers."""

    from data.aggregate import aggregate_demand, compound_demand
    from data.demo import demo_files
    from data.generate import CATEGORY_MIX, generate_city, generate_orders, order_lines_of
    from data.generate_supply import generate_supply
    from data.load import load_categories

    day = dt.date(2022, 4, 15)
    kept = tuple(c.category_id for c in CATEGORY_MIX[:categories])
    city = generate_city(compounds, seed=seed)
    orders = generate_orders(city, delivery_date=day, seed=seed, category_ids=kept)
    supply = generate_supply(
        city.compounds,
        n_suppliers=suppliers,
        delivery_date=day,
        seed=seed,
        categories=kept,
        coverage=coverage,
    )
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    return Problem.from_supply(
        day,
        demand,
        supply,
        categories=[c for c in load_categories(demo_files().categories) if c.category_id in kept],
        compounds=[Compound(**row, synthetic=True) for row in city.compounds.iter_rows(named=True)],
    )
