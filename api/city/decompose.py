"""Cut a city day into independent pieces and put their answers back together.

The rule
--------
1. **Matching, per zone.** A zone is a district or, for a district with more than
   ``MAX_ZONE_COMPOUNDS`` compounds with demand, a run of its streets (whole streets in
   street order; a street larger than that is cut by compound id), so that no piece grows
   with the city and the workers stay evenly loaded. A zone's piece holds its compounds
   that have demand, their lockdown statuses and demand, and every offer of the day that
   *reaches* the zone: its category is demanded by a compound of the zone inside the
   offer's service area (a listed district, or within ``max_distance_m`` of one of its
   depots: the eligibility rule, without the certificate checks, which the matcher makes
   itself), with the supplier's depots, vehicles, drivers and certificates.
2. **Capacity split before the pieces run.** An offer reaching several zones gives each a
   share of its capacity: its *eligible demand* there (units of its category ordered by
   compounds it reaches). When the capacity covers all of it, each zone gets exactly its
   eligible demand and the rest waits for round 2; otherwise the shares are proportional,
   rounded by largest remainder (ties by zone name), so they are integers, sum to the
   capacity and never exceed a zone's eligible demand (``split_capacity``). Reach ignores
   lockdown, so a district changing status does not move capacity between the others.
3. **Round 2.** What the round-1 pieces left unused of an offer (capacity minus units
   allocated anywhere) is split the same way between the zones left with unmet demand
   (other than "no eligible supplier") of its category inside its reach; each such zone is
   solved again with capacity = its round-1 use + its grant, and the new answer replaces
   the old one only if it serves at least as many priority units and then units
   (lexicographically). Σ use ≤ Σ round-1 use + Σ grants ≤ capacity, so no offer is ever
   over-allocated (``capacity_overruns`` checks it).
4. **Routing, per supplier** (its depots are one depot group): the merged allocation's
   deliveries of a supplier on its own vehicles, gates not staggered; the merged routes
   are then staggered at the gates over the whole city (``routing.gates.stagger``), the
   one step that needs every supplier at once.

Every piece is a frozen model whose ``piece_key`` is the SHA-256 of its inputs and
parameters (with ``PIECE_VERSION``): the same inputs give the same key, so a stored answer
can be reused, and a change (one district's lockdown, one supplier's capacity) changes the
keys of the pieces it touches only. Delivery ids are made from (offer, compound), not from
line numbers, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, Field

from api.city.day import CityDay
from data.geo import haversine_matrix_m
from data.schemas import (
    Certificate,
    Compound,
    Depot,
    Driver,
    HolderKind,
    Identifier,
    Model,
    Vehicle,
)
from matcher.model import Params, Problem
from matcher.result import (
    Allocation,
    AllocationLine,
    Objectives,
    SolveStatus,
    UnmetReason,
)
from routing.deliveries import build_routing_problem
from routing.matrix import TravelMatrix
from routing.model import Params as RouteParams
from routing.model import RoutingProblem
from routing.result import Plan
from routing.solve import finish_plan
from routing.windows import Infeasible

PIECE_VERSION = 2
"""Part of every piece key: raise it when a piece's solver changes what it returns."""

_STATUS_ORDER = (
    SolveStatus.optimal,
    SolveStatus.feasible,
    SolveStatus.fallback_greedy,
    SolveStatus.infeasible,
)


class MatchPiece(Model):
    """Matching of one zone (or several, for the loss sample) with its capacity shares."""

    scope: str = Field(min_length=1, description="zone name(s), '+'-joined")
    round: int = Field(ge=1, le=2)
    problem: Problem
    params: Params


class RoutePiece(Model):
    """Routing of one supplier's deliveries on its own vehicles (gates not staggered)."""

    scope: Identifier = Field(description="supplier_id")
    round: int = 1
    problem: RoutingProblem
    params: RouteParams


Piece = MatchPiece | RoutePiece


def piece_kind(piece: Piece) -> str:
    """``match`` or ``route``."""
    return "match" if isinstance(piece, MatchPiece) else "route"


def piece_key(piece: Piece) -> str:
    """SHA-256 (hex) of the piece's kind, inputs and parameters, the same in every process."""
    digest = hashlib.sha256(f"linli-city/{PIECE_VERSION}/{piece_kind(piece)}/".encode())
    text = json.dumps(_canonical(piece), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest.update(text.encode())
    return digest.hexdigest()


def _canonical(value: object) -> object:
    """Plain JSON data of ``value`` with sets sorted (their order changes with the process's
    string hashing), enums as values and dates as ISO text."""
    if isinstance(value, BaseModel):
        return {name: _canonical(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, set | frozenset):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if isinstance(value, dt.date | dt.time):  # datetimes too
        return value.isoformat()
    return value


# --- reach and eligible demand ---------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where demand is and which offer reaches which compound, as arrays over compounds."""

    districts: tuple[str, ...]
    """Districts with demand on the day, sorted."""
    compound_ids: tuple[str, ...]
    """Compounds with demand on the day, sorted; the arrays below follow this order."""
    district_of: npt.NDArray[np.int64]
    """Index into ``districts`` per compound (service areas name districts)."""
    zones: tuple[str, ...]
    """The matching pieces' scopes: districts, large ones cut into runs of streets."""
    zone_of: npt.NDArray[np.int64]
    """Index into ``zones`` per compound."""
    units: Mapping[str, npt.NDArray[np.int64]]
    """Units demanded per compound, by category."""
    reach: Mapping[str, npt.NDArray[np.bool_]]
    """Per offer of the day: whether its service area covers each compound."""
    eligible: Mapping[str, dict[str, int]]
    """Per offer: units of its category demanded inside its reach, by zone (> 0 only)."""

    def per_zone(self, offer_id: str, values: npt.NDArray[np.int64]) -> dict[str, int]:
        """Sum of per-compound ``values`` inside the offer's reach, by zone (> 0 only)."""
        inside = self.reach[offer_id]
        sums = np.bincount(self.zone_of[inside], weights=values[inside], minlength=len(self.zones))
        return {z: round(s) for z, s in zip(self.zones, sums, strict=True) if s > 0}

    def zone_by_compound(self) -> dict[str, str]:
        """compound_id → its zone, for the compounds with demand."""
        return {c: self.zones[k] for c, k in zip(self.compound_ids, self.zone_of, strict=True)}


MAX_ZONE_COMPOUNDS = 400
"""Most compounds with demand in one matching piece before a district is cut by streets."""


def zones_of(compounds: Sequence[Compound], limit: int = MAX_ZONE_COMPOUNDS) -> list[str]:
    """The zone of each compound (same order): its district, or ``district·k`` when the
    district has more than ``limit`` compounds, packing whole streets (in street order) into
    zones of at most ``limit`` and cutting a larger street by compound id."""
    by_district: dict[str, list[int]] = defaultdict(list)
    for k, compound in enumerate(compounds):
        by_district[compound.district].append(k)
    zone = [""] * len(compounds)
    for district, members in by_district.items():
        if len(members) <= limit:
            for k in members:
                zone[k] = district
            continue
        streets: dict[str, list[int]] = defaultdict(list)
        for k in members:
            streets[compounds[k].street].append(k)
        runs: list[list[int]] = [[]]
        for street in sorted(streets):
            ordered = sorted(streets[street], key=lambda k: compounds[k].compound_id)
            for start in range(0, len(ordered), limit):
                part = ordered[start : start + limit]
                if len(runs[-1]) + len(part) > limit:
                    runs.append([])
                runs[-1].extend(part)
        for n, run in enumerate(runs, start=1):
            for k in run:
                zone[k] = f"{district}·{n}"
    return zone


def day_demand(day: CityDay) -> pl.DataFrame:
    """The day's positive compound demand rows."""
    return day.demand.filter(
        (pl.col("delivery_date") == day.delivery_date) & (pl.col("quantity_units") > 0)
    )


def lay_out(day: CityDay) -> Layout:
    """Reach of every offer of the day and its eligible demand per zone (vectorised)."""
    demand = day_demand(day)
    wanted = set(demand["compound_id"].unique().to_list())
    compounds = sorted(
        (c for c in day.compounds if c.compound_id in wanted), key=lambda c: c.compound_id
    )
    ids = tuple(c.compound_id for c in compounds)
    missing = wanted - set(ids)
    if missing:
        raise ValueError(f"demand names unknown compounds {sorted(missing)[:5]}; import them")
    districts = tuple(sorted({c.district for c in compounds}))
    code = {d: k for k, d in enumerate(districts)}
    district_of = np.array([code[c.district] for c in compounds], dtype=np.int64)
    zone_names = zones_of(compounds, MAX_ZONE_COMPOUNDS)
    zones = tuple(sorted(set(zone_names)))
    zone_code = {z: k for k, z in enumerate(zones)}
    zone_of = np.array([zone_code[z] for z in zone_names], dtype=np.int64)
    position = {cid: k for k, cid in enumerate(ids)}
    units: dict[str, npt.NDArray[np.int64]] = {}
    for category_id, frame in demand.partition_by("category_id", as_dict=True).items():
        array = np.zeros(len(ids), dtype=np.int64)
        rows = np.array([position[c] for c in frame["compound_id"].to_list()], dtype=np.int64)
        np.add.at(array, rows, frame["quantity_units"].to_numpy().astype(np.int64))
        units[str(category_id[0])] = array
    depot_col = {d.depot_id: k for k, d in enumerate(day.depots)}
    if compounds and day.depots:
        distance = haversine_matrix_m(
            np.array([c.lon for c in compounds]),
            np.array([c.lat for c in compounds]),
            np.array([d.lon for d in day.depots]),
            np.array([d.lat for d in day.depots]),
        )
    else:
        distance = np.zeros((len(compounds), len(day.depots)))
    reach: dict[str, npt.NDArray[np.bool_]] = {}
    for offer in day.offers:
        if offer.delivery_date != day.delivery_date:
            continue
        area = offer.service_area
        inside = np.isin(district_of, [code[d] for d in area.districts if d in code])
        cols = [depot_col[d] for d in offer.depot_ids if d in depot_col]
        if area.max_distance_m is not None and cols and len(compounds):
            inside |= distance[:, cols].min(axis=1) <= area.max_distance_m
        reach[offer.offer_id] = inside
    layout = Layout(districts, ids, district_of, zones, zone_of, units, reach, {})
    zero = np.zeros(len(ids), dtype=np.int64)
    eligible = {
        o.offer_id: layout.per_zone(o.offer_id, units.get(o.category_id, zero))
        for o in day.offers
        if o.offer_id in reach
    }
    return Layout(districts, ids, district_of, zones, zone_of, units, reach, eligible)


def split_capacity(capacity: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Integer shares of ``capacity`` for ``weights`` (eligible demand by zone).

    Each share is at most its weight; the shares sum to ``min(capacity, Σ weights)``: every
    weight in full when the capacity covers them, else proportional with the largest
    remainders (ties by key) rounded up.
    """
    if capacity < 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"capacity and weights must be >= 0, got {capacity} and {weights}")
    total = sum(weights.values())
    if total <= capacity:
        return dict(weights)
    shares = {k: capacity * w // total for k, w in weights.items()}
    left = capacity - sum(shares.values())
    ranked = sorted(weights, key=lambda k: (-(capacity * weights[k] % total), k))
    for key in ranked[:left]:
        shares[key] += 1
    return shares


def first_shares(day: CityDay, layout: Layout) -> dict[str, dict[str, int]]:
    """Round-1 capacity of every offer by zone (only positive shares)."""
    by_id = {o.offer_id: o for o in day.offers}
    return {
        offer_id: {
            d: s for d, s in split_capacity(by_id[offer_id].capacity_units, e).items() if s > 0
        }
        for offer_id, e in layout.eligible.items()
    }


# --- matching pieces -------------------------------------------------------------------


@dataclass(frozen=True)
class _Supply:
    """The day's supply side grouped by supplier, built once for all pieces."""

    depots: Mapping[str, tuple[Depot, ...]]
    vehicles: Mapping[str, tuple[Vehicle, ...]]
    drivers: Mapping[str, tuple[Driver, ...]]
    certificates: Mapping[str, tuple[Certificate, ...]]


def _group_supply(day: CityDay) -> _Supply:
    depots: dict[str, list[Depot]] = defaultdict(list)
    vehicles: dict[str, list[Vehicle]] = defaultdict(list)
    drivers: dict[str, list[Driver]] = defaultdict(list)
    certificates: dict[str, list[Certificate]] = defaultdict(list)
    owner: dict[tuple[HolderKind, str], str] = {}
    for d in day.depots:
        depots[d.supplier_id].append(d)
    for v in day.vehicles:
        vehicles[v.supplier_id].append(v)
        owner[HolderKind.vehicle, v.vehicle_id] = v.supplier_id
    for r in day.drivers:
        drivers[r.supplier_id].append(r)
        owner[HolderKind.driver, r.driver_id] = r.supplier_id
    for s in day.suppliers:
        owner[HolderKind.supplier, s.supplier_id] = s.supplier_id
    for c in day.certificates:
        supplier_id = owner.get((c.holder_kind, c.holder_id))
        if supplier_id is not None:
            certificates[supplier_id].append(c)
    return _Supply(
        {k: tuple(v) for k, v in depots.items()},
        {k: tuple(v) for k, v in vehicles.items()},
        {k: tuple(v) for k, v in drivers.items()},
        {k: tuple(v) for k, v in certificates.items()},
    )


class Decomposer:
    """Builds the pieces of one city day; holds the layout and the grouped supply."""

    def __init__(self, day: CityDay) -> None:
        self.day = day
        self.layout = lay_out(day)
        self._supply = _group_supply(day)
        self._offer = {o.offer_id: o for o in day.offers}
        demand = day_demand(day)
        self._zone = self.layout.zone_by_compound()
        self._demand = {
            str(key[0]): frame
            for key, frame in demand.with_columns(
                pl.col("compound_id").replace_strict(self._zone, default=None).alias("_zone")
            )
            .partition_by("_zone", as_dict=True, include_key=False)
            .items()
        }

    def shares(self) -> dict[str, dict[str, int]]:
        """Round-1 capacity of every offer by zone."""
        return first_shares(self.day, self.layout)

    def match_piece(
        self,
        zones: Sequence[str],
        capacity: Mapping[str, int],
        params: Params,
        round_: int = 1,
    ) -> MatchPiece:
        """The matching piece of ``zones`` with offers at ``capacity`` (offer_id → units).

        Offers with no capacity here are left out (an offer needs capacity > 0).
        """
        day = self.day
        chosen = set(zones)
        compounds = sorted(
            (c for c in day.compounds if self._zone.get(c.compound_id) in chosen),
            key=lambda c: c.compound_id,
        )
        frames = [self._demand[d] for d in sorted(chosen) if d in self._demand]
        demand = pl.concat(frames) if frames else day.demand.clear()
        wanted = set(demand["compound_id"].to_list())
        compounds = [c for c in compounds if c.compound_id in wanted]
        offers = [
            self._offer[o].model_copy(update={"capacity_units": units})
            for o, units in sorted(capacity.items())
            if units > 0
        ]
        suppliers = sorted({o.supplier_id for o in offers})
        by_supplier = {s.supplier_id: s for s in day.suppliers}
        supply = self._supply
        problem = Problem.from_frames(
            day.delivery_date,
            demand,
            categories=day.categories,
            compounds=compounds,
            offers=offers,
            suppliers=[by_supplier[s] for s in suppliers],
            depots=[x for s in suppliers for x in supply.depots.get(s, ())],
            vehicles=[x for s in suppliers for x in supply.vehicles.get(s, ())],
            drivers=[x for s in suppliers for x in supply.drivers.get(s, ())],
            certificates=[x for s in suppliers for x in supply.certificates.get(s, ())],
            lockdown=[s for s in day.lockdown if s.compound_id in wanted],
        )
        return MatchPiece(
            scope="+".join(sorted(chosen)), round=round_, problem=problem, params=params
        )

    def first_round(self, params: Params) -> list[MatchPiece]:
        """One round-1 piece per zone with demand."""
        shares = self.shares()
        return [
            self.match_piece([z], {o: s[z] for o, s in shares.items() if z in s}, params)
            for z in self.layout.zones
        ]

    def second_round(
        self, params: Params, first: Mapping[str, Allocation]
    ) -> tuple[list[MatchPiece], dict[str, dict[str, int]]]:
        """Round-2 pieces from round-1 allocations (by zone), and the grants made.

        Unused capacity of each offer is split between the zones with unmet demand of its
        category inside its reach (not "no eligible supplier"); a zone with a grant is
        solved again at round-1 use + grant.
        """
        layout = self.layout
        used: dict[str, Counter[str]] = defaultdict(Counter)
        unmet: dict[str, npt.NDArray[np.int64]] = {}
        position = {c: k for k, c in enumerate(layout.compound_ids)}
        for zone, allocation in first.items():
            for line in allocation.lines:
                used[line.offer_id][zone] += line.quantity_units
            for row in allocation.unmet:
                if row.reason is UnmetReason.no_eligible_supplier:
                    continue
                array = unmet.setdefault(row.category_id, np.zeros(len(position), dtype=np.int64))
                array[position[row.compound_id]] += row.quantity_units
        grants: dict[str, dict[str, int]] = {}
        for offer_id in sorted(layout.reach):
            offer = self._offer[offer_id]
            pool = offer.capacity_units - sum(used[offer_id].values())
            if pool <= 0 or offer.category_id not in unmet:
                continue
            weights = layout.per_zone(offer_id, unmet[offer.category_id])
            granted = {d: g for d, g in split_capacity(pool, weights).items() if g > 0}
            if granted:
                grants[offer_id] = granted
        touched = sorted({d for granted in grants.values() for d in granted})
        pieces = []
        for zone in touched:
            capacity = {
                o: used[o][zone] + grants.get(o, {}).get(zone, 0)
                for o in layout.reach
                if used[o][zone] or grants.get(o, {}).get(zone, 0)
            }
            pieces.append(self.match_piece([zone], capacity, params, round_=2))
        return pieces, grants


def better(second: Allocation, first: Allocation) -> bool:
    """Whether ``second`` serves at least as well: priority units, then units."""
    a, b = second.objectives, first.objectives
    return (a.priority_served_units, a.served_units) >= (b.priority_served_units, b.served_units)


def merge_allocations(parts: Iterable[Allocation]) -> Allocation:
    """One allocation from pieces over disjoint compounds (lines sorted by compound, offer)."""
    chosen = list(parts)
    if not chosen:
        raise ValueError("no allocation to merge")
    floors: dict[str, int] = {}
    for part in chosen:
        for category_id, permille in part.objectives.min_served_permille:
            floors[category_id] = min(permille, floors.get(category_id, permille))
    lines = sorted(
        (line for p in chosen for line in p.lines), key=lambda x: (x.compound_id, x.offer_id)
    )
    unmet = sorted(
        (u for p in chosen for u in p.unmet), key=lambda x: (x.compound_id, x.category_id, x.reason)
    )
    demand = sorted(
        (d for p in chosen for d in p.demand), key=lambda x: (x.compound_id, x.category_id)
    )
    messages = sorted({p.message for p in chosen if p.message})
    return Allocation(
        delivery_date=chosen[0].delivery_date,
        status=max((p.status for p in chosen), key=_STATUS_ORDER.index),
        lines=tuple(lines),
        unmet=tuple(unmet),
        demand=tuple(demand),
        objectives=Objectives(
            priority_served_units=sum(p.objectives.priority_served_units for p in chosen),
            min_served_permille=tuple(sorted(floors.items())),
            served_units=sum(p.objectives.served_units for p in chosen),
            cap_excess_units=sum(p.objectives.cap_excess_units for p in chosen),
            cost_cents=sum(p.objectives.cost_cents for p in chosen),
        ),
        solve_time_s=sum(p.solve_time_s for p in chosen),
        solver=chosen[0].solver,
        seed=chosen[0].seed,
        message="; ".join(messages)[:2000],
    )


def capacity_overruns(day: CityDay, allocation: Allocation) -> list[str]:
    """Offers allocated beyond their capacity, as sentences (empty when none is)."""
    used: Counter[str] = Counter()
    for line in allocation.lines:
        used[line.offer_id] += line.quantity_units
    capacity = {o.offer_id: o.capacity_units for o in day.offers}
    return [
        f"offer {o}: allocated {u} > capacity {capacity.get(o, 0)}"
        for o, u in sorted(used.items())
        if u > capacity.get(o, 0)
    ]


# --- routing pieces --------------------------------------------------------------------


def delivery_id(line: AllocationLine) -> str:
    """A delivery id from the line's offer and compound (stable when other lines change)."""
    text = f"{line.offer_id}_{line.compound_id}"
    if len(text) <= 56:
        return text
    return "d-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def routing_day(
    day: CityDay, allocation: Allocation
) -> tuple[RoutingProblem, tuple[Infeasible, ...]]:
    """The whole day's routing problem (stable delivery ids) and what cannot enter it."""
    problem, infeasible = build_routing_problem(
        day.delivery_date,
        allocation,
        compounds=day.compounds,
        gates=day.gates,
        categories=day.categories,
        depots=day.depots,
        vehicles=day.vehicles,
        drivers=day.drivers,
        certificates=day.certificates,
    )
    renamed: dict[str, str] = {}
    seen: Counter[str] = Counter()
    for n, line in enumerate(allocation.lines):
        stable = delivery_id(line)
        seen[stable] += 1
        renamed[f"del-{n + 1:05d}"] = stable if seen[stable] == 1 else f"{stable}_{seen[stable]}"
    deliveries = tuple(
        d.model_copy(update={"delivery_id": renamed[d.delivery_id]}) for d in problem.deliveries
    )
    blocked = tuple(
        b.model_copy(update={"subject": renamed.get(b.subject, b.subject)}) for b in infeasible
    )
    return problem.model_copy(update={"deliveries": deliveries}), blocked


def route_pieces(problem: RoutingProblem, params: RouteParams) -> list[RoutePiece]:
    """One piece per supplier with deliveries: its deliveries and its vehicles."""
    unstaggered = params.model_copy(update={"stagger_gates": False})
    pieces = []
    for supplier_id in sorted({d.supplier_id for d in problem.deliveries}):
        part = problem.model_copy(
            update={
                "deliveries": tuple(d for d in problem.deliveries if d.supplier_id == supplier_id),
                "vehicles": tuple(v for v in problem.vehicles if v.supplier_id == supplier_id),
            }
        )
        pieces.append(RoutePiece(scope=supplier_id, problem=part, params=unstaggered))
    return pieces


def merge_plans(
    problem: RoutingProblem,
    plans: Sequence[Plan],
    params: RouteParams,
    source: TravelMatrix,
    *,
    solve_time_s: float = 0.0,
) -> Plan:
    """The suppliers' plans as one, staggered at the gates over the whole city."""
    routes = [r for p in plans for r in p.routes]
    left = [u for p in plans for u in p.unassigned]
    return finish_plan(problem, routes, left, params, source, solve_time_s)
