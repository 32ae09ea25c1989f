"""The matcher's input: a frozen, validated ``Problem`` for one delivery date, and ``Params``.

A ``Problem`` holds everything the matcher reads for one day: the delivery window, the
categories, the compounds with their lockdown statuses, compound demand (compound ×
category, with the part ordered by priority households), and the supply side (offers,
suppliers, depots, vehicles, drivers, certificates). It is checked once on construction
(every reference resolves, every key is unique, priority never exceeds demand), so the
solver never meets a dangling id. All quantities and money are integers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Self

import polars as pl
from pydantic import Field, model_validator

from data.schemas import (
    SHANGHAI,
    AwareDatetime,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    HolderKind,
    Identifier,
    LockdownLevel,
    LockdownStatus,
    Model,
    Offer,
    Supplier,
    Vehicle,
)

if TYPE_CHECKING:
    from data.store import SupplyBundleLike

DEFAULT_WINDOW_OPENS = dt.time(7, 0)
DEFAULT_WINDOW_CLOSES = dt.time(19, 0)


def default_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The default delivery window of ``day``: 07:00–19:00 Shanghai time."""
    return (
        dt.datetime.combine(day, DEFAULT_WINDOW_OPENS, tzinfo=SHANGHAI),
        dt.datetime.combine(day, DEFAULT_WINDOW_CLOSES, tzinfo=SHANGHAI),
    )


class DemandRow(Model):
    """Demand of one compound for one category on the problem's date."""

    compound_id: Identifier
    category_id: Identifier
    quantity_units: int = Field(ge=0)
    priority_quantity_units: int = Field(default=0, ge=0)
    households: int = Field(default=0, ge=0)
    priority_households: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _priority_within(self) -> Self:
        if self.priority_quantity_units > self.quantity_units:
            raise ValueError(
                f"demand {self.compound_id}/{self.category_id}: priority_quantity_units "
                f"{self.priority_quantity_units} exceeds quantity_units {self.quantity_units}"
            )
        return self


class Params(Model):
    """How to solve: limits, seed, and the configurable allocation rules.

    With ``deterministic`` (the default) each CP-SAT stage is ended by a deterministic-time
    budget (work counted by the solver, not seconds), so the same input, seed and params
    give the same allocation on any machine load; ``time_limit_s`` stays a wall-clock safety
    net, and an allocation it cut short says so in its ``message``.
    """

    time_limit_s: float = Field(
        default=30.0,
        gt=0,
        description="wall-clock limit, all stages (a safety net when deterministic)",
    )
    seed: int = Field(default=0, ge=0)
    num_workers: int = Field(
        default=1,
        ge=1,
        description="CP-SAT workers: 1 is one sequential search; more interleave CP-SAT's "
        "subsolvers in fixed batches (deterministic) or run its parallel portfolio (not "
        "deterministic, 8 or more recommended)",
    )
    deterministic: bool = Field(
        default=True,
        description="end each stage on deterministic time (reproducible); False runs CP-SAT's "
        "parallel portfolio on wall-clock time, reproducible only when every stage is optimal",
    )
    deterministic_time: float | None = Field(
        default=None,
        gt=0,
        description="CP-SAT deterministic-time budget of all stages together; default "
        "time_limit_s × matcher.solve.DTIME_PER_SECOND",
    )
    flow_start: bool = Field(
        default=False,
        description="when the greedy leaves demand unserved, also build starts from min-cost "
        "flows (matcher.flow) and give the solver the best of them: far more units served "
        "on short days; off by default until the router copes with the larger days it "
        "gives within short time limits",
    )
    candidate_suppliers: int | None = Field(
        default=None,
        ge=1,
        description="the model holds only each compound's nearest eligible suppliers: the 2 "
        "nearest of each demanded category, then the nearest others up to this many "
        "(matcher.candidates); for city-scale days where a compound reaches a hundred "
        "suppliers. Bounds stay the whole problem's. None: every eligible supplier",
    )
    max_suppliers_per_compound: int = Field(
        default=3, ge=1, description="suppliers delivering to one compound per day"
    )
    single_supplier_per_category: bool = Field(
        default=False, description="at most one supplier per compound × category"
    )
    fairness_cap_pct: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="no supplier above this % of a district's served volume of a category "
        "while other eligible suppliers have capacity",
    )
    delivery_cost_cents_per_km: int = Field(
        default=0, ge=0, description="cost per unit and km from the offer's nearest depot"
    )
    fixed_cost_cents_per_delivery: int = Field(
        default=0, ge=0, description="cost of one supplier–compound delivery (one truck stop)"
    )
    reliability_penalty_cents_per_unit: int = Field(
        default=0,
        ge=0,
        description="extra cost per unit, in the cost stage only, of a supplier whose "
        "reliability score is 0, scaled by how far its score is below 100 % "
        "(Problem.supplier_reliability_permille; see matcher.reliability); not charged",
    )


class Problem(Model):
    """Everything the matcher reads for one delivery date; frozen and cross-checked."""

    delivery_date: dt.date
    window_start: AwareDatetime
    window_end: AwareDatetime
    categories: tuple[Category, ...]
    compounds: tuple[Compound, ...]
    lockdown: tuple[LockdownStatus, ...] = ()
    demand: tuple[DemandRow, ...]
    offers: tuple[Offer, ...]
    suppliers: tuple[Supplier, ...]
    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...] = ()
    drivers: tuple[Driver, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    offer_fixed_cost_cents: tuple[tuple[Identifier, int], ...] = Field(
        default=(),
        description="optional cost of using an offer at all (a facility opening cost), "
        "by offer_id; used by the facility-location benchmarks",
    )
    pair_cost_cents_per_unit: tuple[tuple[Identifier, Identifier, int], ...] = Field(
        default=(),
        description="optional extra cost per unit of an (offer_id, compound_id) pair, added "
        "to price and distance cost (a surcharge, or arbitrary assignment costs in benchmarks)",
    )
    supplier_reliability_permille: tuple[tuple[Identifier, int], ...] = Field(
        default=(),
        description="optional reliability score (0-1000) by supplier_id, from "
        "matcher.reliability; used only with Params.reliability_penalty_cents_per_unit",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.window_end <= self.window_start:
            raise ValueError(
                f"window_end {self.window_end.isoformat()} is not after "
                f"window_start {self.window_start.isoformat()}"
            )
        _unique("category_id", [c.category_id for c in self.categories])
        _unique("compound_id", [c.compound_id for c in self.compounds])
        _unique("offer_id", [o.offer_id for o in self.offers])
        _unique("supplier_id", [s.supplier_id for s in self.suppliers])
        _unique("depot_id", [d.depot_id for d in self.depots])
        _unique("vehicle_id", [v.vehicle_id for v in self.vehicles])
        _unique("driver_id", [d.driver_id for d in self.drivers])
        _unique("certificate_id", [c.certificate_id for c in self.certificates])
        _unique(
            "demand (compound_id, category_id)",
            [f"{d.compound_id}/{d.category_id}" for d in self.demand],
        )
        categories = {c.category_id for c in self.categories}
        compounds = {c.compound_id for c in self.compounds}
        suppliers = {s.supplier_id for s in self.suppliers}
        depots = {d.depot_id: d for d in self.depots}
        offers = {o.offer_id for o in self.offers}
        for row in self.demand:
            _known("demand", row.compound_id, "compound_id", compounds)
            _known("demand", row.category_id, "category_id", categories)
        for status in self.lockdown:
            _known("lockdown status", status.compound_id, "compound_id", compounds)
        for offer in self.offers:
            _known(f"offer {offer.offer_id}", offer.supplier_id, "supplier_id", suppliers)
            _known(f"offer {offer.offer_id}", offer.category_id, "category_id", categories)
            for depot_id in offer.depot_ids:
                _known(f"offer {offer.offer_id}", depot_id, "depot_id", set(depots))
                if depots[depot_id].supplier_id != offer.supplier_id:
                    raise ValueError(
                        f"offer {offer.offer_id}: depot {depot_id} belongs to supplier "
                        f"{depots[depot_id].supplier_id}, not {offer.supplier_id}"
                    )
        for depot in self.depots:
            _known(f"depot {depot.depot_id}", depot.supplier_id, "supplier_id", suppliers)
        for vehicle in self.vehicles:
            _known(f"vehicle {vehicle.vehicle_id}", vehicle.supplier_id, "supplier_id", suppliers)
            _known(f"vehicle {vehicle.vehicle_id}", vehicle.depot_id, "depot_id", set(depots))
        for driver in self.drivers:
            _known(f"driver {driver.driver_id}", driver.supplier_id, "supplier_id", suppliers)
        for offer_id, cost in self.offer_fixed_cost_cents:
            _known("offer_fixed_cost_cents", offer_id, "offer_id", offers)
            if cost < 0:
                raise ValueError(f"offer_fixed_cost_cents[{offer_id}] = {cost} is negative")
        for supplier_id, score in self.supplier_reliability_permille:
            _known("supplier_reliability_permille", supplier_id, "supplier_id", suppliers)
            if not 0 <= score <= 1000:
                raise ValueError(
                    f"supplier_reliability_permille[{supplier_id}] = {score} is not in 0-1000"
                )
        for offer_id, compound_id, cost in self.pair_cost_cents_per_unit:
            _known("pair_cost_cents_per_unit", offer_id, "offer_id", offers)
            _known("pair_cost_cents_per_unit", compound_id, "compound_id", compounds)
            if cost < 0:
                raise ValueError(f"pair_cost_cents_per_unit[{offer_id}, {compound_id}] < 0")
        return self

    @classmethod
    def from_frames(
        cls,
        delivery_date: dt.date,
        compound_demand: pl.DataFrame | pl.LazyFrame,
        *,
        categories: Iterable[Category],
        compounds: Iterable[Compound],
        offers: Iterable[Offer],
        suppliers: Iterable[Supplier],
        depots: Iterable[Depot],
        vehicles: Iterable[Vehicle] = (),
        drivers: Iterable[Driver] = (),
        certificates: Iterable[Certificate] = (),
        lockdown: Iterable[LockdownStatus] = (),
        window: tuple[dt.datetime, dt.datetime] | None = None,
    ) -> Problem:
        """Build a problem from a ``data.aggregate.compound_demand`` frame and model lists.

        Only the demand rows of ``delivery_date`` with a positive quantity are kept; offers
        of other dates are kept too (eligibility reports them as having no capacity on
        the date), so a dispatcher sees why they were not used.
        """
        frame = (
            compound_demand.lazy()
            if isinstance(compound_demand, pl.DataFrame)
            else (compound_demand)
        )
        rows = (
            frame.filter(
                (pl.col("delivery_date") == delivery_date) & (pl.col("quantity_units") > 0)
            )
            .select(
                "compound_id",
                "category_id",
                "quantity_units",
                "priority_quantity_units",
                "households",
                "priority_households",
            )
            .sort("compound_id", "category_id")
            .collect()
        )
        start, end = window if window is not None else default_window(delivery_date)
        return cls(
            delivery_date=delivery_date,
            window_start=start,
            window_end=end,
            categories=tuple(categories),
            compounds=tuple(compounds),
            lockdown=tuple(lockdown),
            demand=tuple(DemandRow(**row) for row in rows.iter_rows(named=True)),
            offers=tuple(offers),
            suppliers=tuple(suppliers),
            depots=tuple(depots),
            vehicles=tuple(vehicles),
            drivers=tuple(drivers),
            certificates=tuple(certificates),
        )

    @classmethod
    def from_supply(
        cls,
        delivery_date: dt.date,
        compound_demand: pl.DataFrame | pl.LazyFrame,
        supply: SupplyBundleLike,
        *,
        categories: Iterable[Category],
        compounds: Iterable[Compound],
        lockdown: Iterable[LockdownStatus] = (),
    ) -> Problem:
        """``from_frames`` with the suppliers, depots, vehicles, drivers, certificates and
        offers of one supply bundle (``data.load.SupplyBundle``, generated or loaded, or
        the store's ``StoredSupply``)."""
        return cls.from_frames(
            delivery_date,
            compound_demand,
            categories=categories,
            compounds=compounds,
            offers=supply.offers,
            suppliers=supply.suppliers,
            depots=supply.depots,
            vehicles=supply.vehicles,
            drivers=supply.drivers,
            certificates=supply.certificates,
            lockdown=lockdown,
        )

    # --- lookups (computed once; the model is frozen) --------------------------------------

    @cached_property
    def category_by_id(self) -> Mapping[str, Category]:
        """Categories by id."""
        return {c.category_id: c for c in self.categories}

    @cached_property
    def compound_index(self) -> Mapping[str, int]:
        """Position of each compound in ``compounds``."""
        return {c.compound_id: i for i, c in enumerate(self.compounds)}

    @cached_property
    def supplier_by_id(self) -> Mapping[str, Supplier]:
        """Suppliers by id."""
        return {s.supplier_id: s for s in self.suppliers}

    @cached_property
    def offer_by_id(self) -> Mapping[str, Offer]:
        """Offers by id."""
        return {o.offer_id: o for o in self.offers}

    @cached_property
    def depot_by_id(self) -> Mapping[str, Depot]:
        """Depots by id."""
        return {d.depot_id: d for d in self.depots}

    @cached_property
    def fixed_cost_by_offer(self) -> Mapping[str, int]:
        """Offer opening costs (zero where none is given)."""
        return dict(self.offer_fixed_cost_cents)

    @cached_property
    def pair_cost_by_key(self) -> Mapping[tuple[str, str], int]:
        """Extra per-unit cost by (offer_id, compound_id) (zero where none is given)."""
        return {(o, c): cost for o, c, cost in self.pair_cost_cents_per_unit}

    @cached_property
    def reliability_by_supplier(self) -> Mapping[str, int]:
        """Reliability scores (permille) of the suppliers that have one."""
        return dict(self.supplier_reliability_permille)

    @cached_property
    def certificates_by_kind(
        self,
    ) -> Mapping[tuple[CertificateType, HolderKind], tuple[Certificate, ...]]:
        """Certificates grouped by (type, holder kind), for the eligibility checks."""
        index: dict[tuple[CertificateType, HolderKind], list[Certificate]] = {}
        for c in self.certificates:
            index.setdefault((c.type, c.holder_kind), []).append(c)
        return {key: tuple(value) for key, value in index.items()}

    @cached_property
    def lockdown_levels(self) -> Mapping[str, LockdownLevel]:
        """Each compound's lockdown level on the delivery date.

        The status covering the date with the latest ``valid_from`` wins; a compound with
        no covering status is ``normal``.
        """
        best: dict[str, LockdownStatus] = {}
        for status in self.lockdown:
            if not status.covers(self.delivery_date):
                continue
            held = best.get(status.compound_id)
            if held is None or status.valid_from >= held.valid_from:
                best[status.compound_id] = status
        return {
            c.compound_id: best[c.compound_id].level
            if c.compound_id in best
            else (LockdownLevel.normal)
            for c in self.compounds
        }


def _unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}; give each one once")
        seen.add(value)


def _known(where: str, value: str, field: str, known: set[str]) -> None:
    if value not in known:
        raise ValueError(f"{where}: unknown {field} {value!r}; add it to the problem or fix it")
