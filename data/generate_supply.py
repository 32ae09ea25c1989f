"""Seeded synthetic suppliers for a generated city: depots, vehicles, drivers, certificates, offers.

Each supplier has one depot near a random compound, sells 2-4 categories, and delivers
within a radius; offered capacity per category is scaled to a chosen share of the expected
demand, so a generated day can be made short on purpose. All certificates are valid over
the day except for a chosen share of suppliers without a supply permit, so eligibility
has work to do. Same arguments and seed → identical output.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from data.generate import CATEGORY_MIX, ITEMS_P
from data.load import SupplyBundle
from data.schemas import (
    SHANGHAI,
    Certificate,
    CertificateType,
    Depot,
    Driver,
    HolderKind,
    Offer,
    ServiceArea,
    Supplier,
    Vehicle,
)

COLD_CHAIN = frozenset({"meat", "dairy", "frozen"})
"""Category ids of the generated mix that need refrigerated vehicles."""

NEEDS_QUARANTINE = frozenset({"meat"})
NEEDS_FOOD_LICENCE = frozenset({"meat", "medicine", "infant_formula"})

UNIT_PRICE_CENTS = {
    "vegetables": 6800,
    "meat": 9800,
    "eggs": 4500,
    "dairy": 5200,
    "rice_oil": 8800,
    "fruit": 5900,
    "frozen": 6600,
    "daily": 4900,
    "medicine": 3500,
    "infant_formula": 26800,
}
"""Typical 2022 package prices, cents."""


def expected_units(households: int, *, participation: float = 0.35) -> dict[str, int]:
    """Expected units per category ordered by ``households`` (as data.generate draws them)."""
    items = sum((k + 1) * p for k, p in enumerate(ITEMS_P))
    weights = np.array([c.weight for c in CATEGORY_MIX])
    weights = weights / weights.sum()
    result = {}
    for mix, weight in zip(CATEGORY_MIX, weights, strict=True):
        mean_quantity = sum((k + 1) * p for k, p in enumerate(mix.quantity_p))
        result[mix.category_id] = round(households * participation * items * weight * mean_quantity)
    return result


def generate_supply(
    compounds: pl.DataFrame,
    *,
    n_suppliers: int,
    delivery_date: dt.date,
    seed: int,
    coverage: float = 0.9,
    categories: tuple[str, ...] | None = None,
    radius_km: tuple[float, float] = (6.0, 15.0),
    unlicensed_share: float = 0.05,
    participation: float = 0.35,
    vehicles_per_supplier: int = 2,
) -> SupplyBundle:
    """Suppliers for ``compounds`` (COMPOUND_SCHEMA frame) able to carry ``coverage`` of demand.

    Capacity is split between the suppliers offering a category in proportion to random
    weights; each offer's service area is a radius around its depot, so compounds far from
    every depot of a category are left without an eligible supplier, as in a real city.
    """
    if n_suppliers < 1:
        raise ValueError(f"n_suppliers must be >= 1, got {n_suppliers}")
    if vehicles_per_supplier < 1:
        raise ValueError(f"vehicles_per_supplier must be >= 1, got {vehicles_per_supplier}")
    rng = np.random.default_rng([seed, 7])
    category_ids = categories or tuple(c.category_id for c in CATEGORY_MIX)
    households = int(compounds["households"].sum())
    wanted = expected_units(households, participation=participation)
    lon = compounds["lon"].to_numpy()
    lat = compounds["lat"].to_numpy()
    day_start = dt.datetime.combine(delivery_date, dt.time(0, 0), tzinfo=SHANGHAI)

    sells: list[list[str]] = []
    for _ in range(n_suppliers):
        k = int(rng.integers(2, 5))
        sells.append(list(rng.choice(category_ids, size=min(k, len(category_ids)), replace=False)))
    for index, category_id in enumerate(category_ids):  # every category has a seller
        if not any(category_id in s for s in sells):
            sells[index % n_suppliers].append(category_id)
    share = rng.uniform(0.5, 1.5, size=(n_suppliers, len(category_ids)))

    suppliers, depots, vehicles, drivers, certificates, offers = [], [], [], [], [], []
    for n in range(n_suppliers):
        sid = f"gs{n:04d}"
        at = int(rng.integers(0, len(lon)))
        suppliers.append(Supplier(supplier_id=sid, name=f"保供企业{n:04d}", synthetic=True))
        depot_id = f"{sid}-d"
        depots.append(
            Depot(
                depot_id=depot_id,
                supplier_id=sid,
                name=f"保供企业{n:04d}仓库",
                lon=float(lon[at] + rng.normal(0, 0.01)),
                lat=float(lat[at] + rng.normal(0, 0.01)),
                synthetic=True,
            )
        )
        # every other vehicle refrigerated: cold chain (meat, dairy) is a large share of demand
        fleet = [v % 2 == 0 for v in range(vehicles_per_supplier)]
        for v, refrigerated in enumerate(fleet):
            vehicle_id = f"{sid}-v{v}"
            vehicles.append(
                Vehicle(
                    vehicle_id=vehicle_id,
                    supplier_id=sid,
                    depot_id=depot_id,
                    plate=f"沪G{n:04d}{v}",
                    capacity_kg=3000,
                    capacity_units=600,
                    refrigerated=refrigerated,
                    fixed_cost_cents=30000,
                )
            )
            drivers.append(  # one driver per vehicle, tested six hours before the day
                Driver(
                    driver_id=f"{sid}-drv{v}",
                    supplier_id=sid,
                    name=f"司机{n:04d}-{v}",
                    test_taken_at=day_start - dt.timedelta(hours=6),
                )
            )
            certificates.append(
                Certificate(
                    certificate_id=f"{vehicle_id}-pass",
                    type=CertificateType.vehicle_pass,
                    holder_kind=HolderKind.vehicle,
                    holder_id=vehicle_id,
                    valid_from=day_start - dt.timedelta(days=3),
                    valid_until=day_start + dt.timedelta(days=7),
                )
            )
        kinds = [CertificateType.quarantine_report, CertificateType.food_licence]
        if rng.random() >= unlicensed_share:
            kinds.append(CertificateType.supply_permit)
        for kind in kinds:
            certificates.append(
                Certificate(
                    certificate_id=f"{sid}-{kind.value}",
                    type=kind,
                    holder_kind=HolderKind.supplier,
                    holder_id=sid,
                    valid_from=day_start - dt.timedelta(days=10),
                    valid_until=day_start + dt.timedelta(days=10),
                )
            )
        radius_m = int(rng.uniform(*radius_km) * 1000)
        for category_id in sells[n]:
            column = category_ids.index(category_id)
            sellers = [m for m in range(n_suppliers) if category_id in sells[m]]
            weight = share[n, column] / sum(share[m, column] for m in sellers)
            capacity = max(1, round(wanted.get(category_id, 0) * coverage * weight))
            price = UNIT_PRICE_CENTS.get(category_id, 5000)
            offers.append(
                Offer(
                    offer_id=f"{sid}-{category_id}",
                    supplier_id=sid,
                    category_id=category_id,
                    delivery_date=delivery_date,
                    capacity_units=capacity,
                    unit_price_cents=int(price * rng.uniform(0.9, 1.15)),
                    list_price_cents=price,
                    min_order_units=int(rng.choice([5, 10, 20, 30])),
                    service_area=ServiceArea(max_distance_m=radius_m),
                    depot_ids=(depot_id,),
                )
            )
    return SupplyBundle(
        suppliers=tuple(suppliers),
        depots=tuple(depots),
        vehicles=tuple(vehicles),
        drivers=tuple(drivers),
        certificates=tuple(certificates),
        offers=tuple(offers),
    )
