"""The city day a plan-city run reads: compounds, gates, lockdown, compound demand and supply.

One frozen value built either from the store (``linli plan-city``) or from the synthetic
generator (tests and ``benchmarks/city.py``), so decomposition never cares where data
came from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import polars as pl

from data.aggregate import aggregate_demand, compound_demand
from data.demo import demo_files
from data.generate import (
    CATEGORY_MIX,
    DEFAULT_DELIVERY_DATE,
    generate_city,
    generate_orders,
    order_lines_of,
)
from data.generate_supply import generate_supply
from data.load import SupplyBundle, load_categories
from data.schemas import (
    Category,
    Certificate,
    Compound,
    Depot,
    Driver,
    Gate,
    LockdownStatus,
    Offer,
    Supplier,
    Vehicle,
)
from data.store import Store, StoredSupply


@dataclass(frozen=True)
class CityDay:
    """Everything the pieces of one delivery date are cut from.

    ``demand`` is a ``data.aggregate.compound_demand`` frame (compound × category × date).
    """

    delivery_date: dt.date
    categories: tuple[Category, ...]
    compounds: tuple[Compound, ...]
    gates: tuple[Gate, ...]
    lockdown: tuple[LockdownStatus, ...]
    demand: pl.DataFrame
    suppliers: tuple[Supplier, ...]
    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    drivers: tuple[Driver, ...]
    certificates: tuple[Certificate, ...]
    offers: tuple[Offer, ...]

    def with_offer_capacity(self, offer_id: str, capacity_units: int) -> CityDay:
        """The same day with one offer's capacity changed (a what-if or a supplier's update)."""
        if not any(o.offer_id == offer_id for o in self.offers):
            raise ValueError(f"unknown offer_id {offer_id!r}; pick one of the day's offers")
        offers = tuple(
            o.model_copy(update={"capacity_units": capacity_units}) if o.offer_id == offer_id else o
            for o in self.offers
        )
        return dataclasses.replace(self, offers=offers)

    def with_lockdown(self, statuses: tuple[LockdownStatus, ...]) -> CityDay:
        """The same day with extra lockdown statuses (the latest ``valid_from`` wins)."""
        return dataclasses.replace(self, lockdown=self.lockdown + statuses)


def city_day(
    delivery_date: dt.date,
    *,
    categories: tuple[Category, ...],
    compounds: tuple[Compound, ...],
    gates: tuple[Gate, ...],
    lockdown: tuple[LockdownStatus, ...],
    demand: pl.DataFrame,
    supply: SupplyBundle | StoredSupply,
) -> CityDay:
    """A day from its parts, with everything ``supply`` brings (loaded, stored or generated)."""
    return CityDay(
        delivery_date=delivery_date,
        categories=categories,
        compounds=compounds,
        gates=gates,
        lockdown=lockdown,
        demand=demand,
        suppliers=tuple(supply.suppliers),
        depots=tuple(supply.depots),
        vehicles=tuple(supply.vehicles),
        drivers=tuple(supply.drivers),
        certificates=tuple(supply.certificates),
        offers=tuple(supply.offers),
    )


def city_day_from_store(store: Store, day: dt.date) -> CityDay:
    """The stored day: aggregated orders of ``day`` and every stored compound and offer."""
    demand = compound_demand(aggregate_demand(store.order_lines(day))).collect()
    return city_day(
        day,
        categories=tuple(store.categories()),
        compounds=tuple(store.compounds()),
        gates=tuple(store.gates()),
        lockdown=tuple(store.lockdown()),
        demand=demand,
        supply=store.supply(),
    )


def generated_compounds(frame: pl.DataFrame) -> tuple[Compound, ...]:
    """Compound models from a generated COMPOUND_SCHEMA frame."""
    return tuple(Compound(**row, synthetic=True) for row in frame.iter_rows(named=True))


def generated_gates(compounds: tuple[Compound, ...]) -> tuple[Gate, ...]:
    """One gate per generated compound at its centre, open 07:00-19:00 (the defaults)."""
    return tuple(
        Gate(
            gate_id=f"{c.compound_id}-g",
            compound_id=c.compound_id,
            name="大门",
            lon=c.lon,
            lat=c.lat,
            synthetic=True,
        )
        for c in compounds
    )


def generated_city_day(
    n_compounds: int,
    *,
    n_suppliers: int,
    seed: int,
    delivery_date: dt.date = DEFAULT_DELIVERY_DATE,
    n_categories: int = 8,
    vehicles_per_supplier: int = 4,
    coverage: float = 0.9,
) -> CityDay:
    """A synthetic city day from ``data.generate``: same arguments, same day.

    Categories are the first ``n_categories`` of the generator's mix (their definitions
    from the demo's categories.yaml); suppliers carry ``coverage`` of the expected demand.
    """
    kept = tuple(c.category_id for c in CATEGORY_MIX[:n_categories])
    city = generate_city(n_compounds, seed=seed)
    orders = generate_orders(city, delivery_date=delivery_date, seed=seed, category_ids=kept)
    supply = generate_supply(
        city.compounds,
        n_suppliers=n_suppliers,
        delivery_date=delivery_date,
        seed=seed,
        categories=kept,
        vehicles_per_supplier=vehicles_per_supplier,
        coverage=coverage,
    )
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    compounds = generated_compounds(city.compounds)
    categories = load_categories(demo_files().categories)
    return city_day(
        delivery_date,
        categories=tuple(c for c in categories if c.category_id in kept),
        compounds=compounds,
        gates=generated_gates(compounds),
        lockdown=(),
        demand=demand,
        supply=supply,
    )
