"""Documents as data: route sheets for drivers, sorting lists for leaders, pickup notices.

Built from the router's plan and the day's household orders as frozen models with JSON
export, so renderers (HTML, PDF) and the API read the same values. Privacy is in the types:
only ``LeaderSortingList`` carries household lines (room, name, phone, priority flags);
route sheets, aggregate sorting lists and notices hold counts per compound, building and
category, and a gate contact role, never a resident's phone.

What the plan delivers to a compound × category is split over its buildings in proportion
to their ordered units, priority households' units first, by largest remainder, so every
split sums exactly to the delivered units. A building's share is split the same way over
its households (leader version) and, in arrival order with priority units on the earliest
truck, over the stops that carry it (route sheets, notice time slots).

A pickup point a leader pinned by hand overrides the computed one in notices and sorting
lists, which say it is pinned. In a compound sealed (封控) on the day nobody collects: the
building's volunteers bring everything to the doors, so notices say when the volunteer
comes (the building's hand-out slot) instead of where to collect, and sorting lists say so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self, TypeVar

import numpy as np
from pydantic import Field, model_validator

from data.geo import haversine_m
from data.schemas import (
    SHANGHAI,
    AwareDatetime,
    Building,
    Category,
    Compound,
    Depot,
    Driver,
    Gate,
    HouseholdOrder,
    Identifier,
    Lat,
    Lon,
    Model,
    PriorityFlag,
    Vehicle,
)
from routing.gates import visits
from routing.matrix import HaversineMatrix, TravelMatrix
from routing.model import RoutingProblem, RoutingVehicle
from routing.result import CategoryLoad, Plan, Route, Stop

T = TypeVar("T")

StopKey = tuple[str, int]
"""(vehicle_id, index of the stop in its route): one stop of the plan."""

PRIVACY_NOTE = (
    "sorting_lists_leader/ holds household rooms, names, phones and priority flags: for the "
    "compound's group leaders only. Every other file holds counts per compound, building and "
    "category."
)


class SheetParams(Model):
    """How documents are made: the pickup slot after trucks arrive, its rounding, gate contact."""

    pickup_opens_after_s: int = Field(
        default=30 * 60,
        ge=0,
        description="unloading, disinfection and sorting after the first truck arrives",
    )
    pickup_closes_after_s: int = Field(
        default=2 * 3600, gt=0, description="the slot ends this long after the last truck arrives"
    )
    slot_rounding_min: int = Field(
        default=10, ge=1, le=60, description="slot times are rounded up to a multiple of this"
    )
    gate_contact_role: str = Field(
        default="小区门口志愿者 / gate volunteer",
        min_length=1,
        description="who meets the truck at the gate: a role, never a resident's phone",
    )

    @model_validator(mode="after")
    def _slot(self) -> Self:
        if self.pickup_closes_after_s <= self.pickup_opens_after_s:
            raise ValueError(
                f"pickup_closes_after_s {self.pickup_closes_after_s} is not after "
                f"pickup_opens_after_s {self.pickup_opens_after_s}; the slot would be empty"
            )
        return self


# --- documents -----------------------------------------------------------------------------


class CategoryRef(Model):
    """A category as documents name it."""

    category_id: Identifier
    name_zh: str
    name_en: str
    unit: str


class BuildingUnits(Model):
    """Units of a stop's category meant for one building."""

    building_id: Identifier
    building_name: str
    units: int = Field(gt=0)


class UnloadLine(Model):
    """What to unload of one category at a stop, and which buildings it is for."""

    category: CategoryRef
    units: int = Field(gt=0)
    weight_kg: int = Field(ge=0)
    buildings: tuple[BuildingUnits, ...]
    unsorted_units: int = Field(
        default=0, ge=0, description="units beyond the compound's orders: the leader assigns them"
    )
    delivery_ids: tuple[str, ...] = Field(min_length=1)
    delivery_units: tuple[int, ...] = Field(
        default=(), description="units of each of ``delivery_ids``, in the same order"
    )


class SheetStop(Model):
    """One gate visit of a route sheet: where, when, what to unload, how far from the last."""

    sequence: int = Field(ge=1)
    trip: int = Field(ge=0, description="0-based trip as in the plan; reload at the depot between")
    compound_id: Identifier
    compound_name: str
    gate_id: Identifier
    gate_name: str
    gate_lon: Lon
    gate_lat: Lat
    window_start: AwareDatetime
    window_end: AwareDatetime
    arrival: AwareDatetime
    service_start: AwareDatetime
    departure: AwareDatetime
    gate_wait_s: int = Field(ge=0)
    unload: tuple[UnloadLine, ...] = Field(min_length=1)
    units: int = Field(gt=0)
    weight_kg: int = Field(ge=0)
    gate_contact_role: str
    leg_from: Literal["depot", "previous_stop"]
    leg_distance_m: int = Field(ge=0)
    leg_duration_s: int = Field(ge=0)


class RouteSheet(Model):
    """One vehicle's day for its driver: vehicle, driver, certificate validity, stops, totals."""

    delivery_date: dt.date
    vehicle_id: Identifier
    plate: str
    refrigerated: bool
    supplier_id: Identifier
    driver_id: Identifier | None
    driver_name: str
    driver_test_valid_until: AwareDatetime | None
    vehicle_pass_valid_until: AwareDatetime | None
    depot_id: Identifier
    depot_name: str
    depot_lon: Lon
    depot_lat: Lat
    start: AwareDatetime
    end: AwareDatetime
    trips: int = Field(ge=1)
    stops: tuple[SheetStop, ...] = Field(min_length=1)
    return_distance_m: int = Field(ge=0, description="last stop back to the depot")
    return_duration_s: int = Field(ge=0)
    distance_m: int = Field(ge=0)
    duration_s: int = Field(ge=0)
    units: int = Field(ge=0)
    weight_kg: int = Field(ge=0)
    load_by_category: tuple[CategoryLoad, ...]


class SortingLine(Model):
    """One category for one building: units ordered and arriving, the priority households' part."""

    category_id: Identifier
    ordered_units: int = Field(ge=0)
    priority_ordered_units: int = Field(ge=0)
    units: int = Field(ge=0, description="arriving today")
    priority_units: int = Field(ge=0, description="of ``units``, for priority households")


class BuildingSorting(Model):
    """A building's lines of a sorting list, and where its goods go."""

    building_id: Identifier
    building_name: str
    units: int = Field(ge=0)
    lines: tuple[SortingLine, ...]
    pickup_point: str = Field(default="", description="empty: the delivery gate")
    pickup_pinned: bool = Field(default=False, description="pinned by a leader by hand")
    door_delivery: bool = Field(
        default=False, description="sealed compound: volunteers bring everything to the doors"
    )


class CategoryTotal(Model):
    """One category for the compound: ordered, planned, delivered, and what is short."""

    category: CategoryRef
    ordered_units: int = Field(ge=0)
    priority_ordered_units: int = Field(ge=0)
    planned_units: int = Field(ge=0, description="in the day's routing problem")
    delivered_units: int = Field(ge=0, description="on the plan's routes")
    priority_units: int = Field(ge=0, description="delivered units for priority households")
    short_units: int = Field(ge=0, description="ordered − delivered, if positive")
    unsorted_units: int = Field(ge=0, description="delivered beyond the orders")


class SortingArrival(Model):
    """A truck's stop at the compound: when, at which gate, which vehicle, what."""

    delivery_id: str
    arrival: AwareDatetime
    gate_id: Identifier
    gate_name: str
    vehicle_id: Identifier
    plate: str
    category_id: Identifier
    units: int = Field(gt=0)


class SortingList(Model):
    """分拣单 of a compound, aggregate: per building per category the units arriving.

    It holds no household data, so building volunteers, dispatchers and drivers may see it.
    """

    kind: Literal["aggregate"] = "aggregate"
    compound_id: Identifier
    compound_name: str
    delivery_date: dt.date
    arrivals: tuple[SortingArrival, ...]
    categories: tuple[CategoryTotal, ...]
    buildings: tuple[BuildingSorting, ...]
    short: bool = Field(description="some category delivers less than was ordered")
    notes_zh: tuple[str, ...]
    notes_en: tuple[str, ...]
    door_delivery: bool = Field(
        default=False, description="sealed compound: every building's goods go to the doors"
    )


class HouseholdLine(Model):
    """One household × category of the leader's list: who, which room, ordered, arriving."""

    building_id: Identifier
    building_name: str
    room: str
    household_name: str
    phone: str
    priority_flags: tuple[PriorityFlag, ...]
    proxy: bool
    order_id: str
    category_id: Identifier
    ordered_units: int = Field(gt=0)
    units: int = Field(ge=0, description="arriving today")


class LeaderSortingList(Model):
    """The leader's 分拣单: the aggregate list plus a line per household and category.

    Private: rooms, names, phones and priority flags are for the group leaders only.
    """

    kind: Literal["leader"] = "leader"
    sorting_list: SortingList
    households: tuple[HouseholdLine, ...]


class NoticeLine(Model):
    """One category of a pickup notice."""

    category: CategoryRef
    ordered_units: int = Field(ge=0)
    units: int = Field(ge=0)


class PickupNotice(Model):
    """取货通知 of one building: when and where to collect, what arrives, the chat messages."""

    compound_id: Identifier
    compound_name: str
    building_id: Identifier
    building_name: str
    delivery_date: dt.date
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    pickup_point: str
    walking_m: int = Field(ge=0)
    at_gate: bool = Field(description="the pickup point is the delivery gate (no planner input)")
    lines: tuple[NoticeLine, ...] = Field(min_length=1)
    short: bool
    message_zh: str
    message_en: str
    pinned: bool = Field(default=False, description="the pickup point was pinned by a leader")
    door_delivery: bool = Field(
        default=False,
        description="sealed compound: the slot is when the building's volunteer comes to the "
        "door; there is no pickup point",
    )


class Documents(Model):
    """Every document of a day's plan."""

    delivery_date: dt.date
    route_sheets: tuple[RouteSheet, ...]
    sorting_lists: tuple[SortingList, ...]
    leader_sorting_lists: tuple[LeaderSortingList, ...]
    pickup_notices: tuple[PickupNotice, ...]
    compounds_not_delivered: tuple[Identifier, ...] = Field(
        default=(), description="compounds with planned deliveries or orders but no routed stop"
    )

    def summary(self) -> str:
        """One English line: how many documents of each kind."""
        return (
            f"{len(self.route_sheets)} route sheets, {len(self.sorting_lists)} sorting lists "
            f"(+ {len(self.leader_sorting_lists)} leader versions), "
            f"{len(self.pickup_notices)} pickup notices"
        )


class DocumentIndex(Model):
    """``index.json``: every written file, relative to the folder, by kind."""

    delivery_date: dt.date
    route_sheets: tuple[str, ...]
    sorting_lists: tuple[str, ...]
    leader_sorting_lists: tuple[str, ...]
    pickup_notices: tuple[str, ...]
    compounds_not_delivered: tuple[Identifier, ...]
    privacy: str = PRIVACY_NOTE


# --- splitting -----------------------------------------------------------------------------


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` by largest remainder; ties go to the first.

    Shares sum to ``total`` and none exceeds its weight when ``total <= sum(weights)``.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError(f"cannot split {total} units by weights {list(weights)}: negative")
    whole = sum(weights)
    if whole == 0:
        if total:
            raise ValueError(f"cannot split {total} units over weights that sum to zero")
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def split_priority_first(
    total: int, priority: Sequence[int], rest: Sequence[int]
) -> tuple[list[int], list[int], int]:
    """``total`` units over recipients: priority units first, then the rest, each by ``apportion``.

    Returns the priority shares, the other shares and the surplus beyond every order.
    """
    if len(priority) != len(rest):
        raise ValueError(f"{len(priority)} priority quantities for {len(rest)} recipients")
    if total <= sum(priority):
        return apportion(total, priority), [0] * len(rest), 0
    left = total - sum(priority)
    if left <= sum(rest):
        return list(priority), apportion(left, rest), 0
    return list(priority), list(rest), left - sum(rest)


# --- building ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """Lookups by id for everything documents name."""

    compounds: dict[str, Compound]
    buildings: dict[str, Building]
    gates: dict[str, Gate]
    categories: dict[str, Category]
    vehicles: dict[str, Vehicle]
    drivers: dict[str, Driver]
    depots: dict[str, Depot]
    routing_vehicles: dict[str, RoutingVehicle]
    category_rank: dict[str, int]


def _get(table: Mapping[str, T], key: str, kind: str) -> T:
    try:
        return table[key]
    except KeyError:
        raise ValueError(
            f"the plan names {kind} {key!r}, which is not among the {kind}s given; pass the "
            f"store's {kind}s"
        ) from None


def _category_ref(category: Category) -> CategoryRef:
    return CategoryRef(
        category_id=category.category_id,
        name_zh=category.name_zh,
        name_en=category.name_en,
        unit=category.unit,
    )


@dataclass(frozen=True)
class _Wanted:
    """One household order × category: the units it asks for."""

    order: HouseholdOrder
    category_id: str
    units: int


@dataclass
class _Share:
    """One compound × category: ordered per building, the split, and each stop's part."""

    building_ids: list[str]
    ordered: list[int]
    priority_ordered: list[int]
    priority: list[int]
    rest: list[int]
    surplus: int
    planned: int
    delivered: int
    wanted: list[_Wanted]
    by_stop: dict[StopKey, list[tuple[str | None, int]]] = field(default_factory=dict)

    def units(self, i: int) -> int:
        """Units arriving for building ``i``."""
        return self.priority[i] + self.rest[i]


def _wanted(orders: Sequence[HouseholdOrder], day: dt.date) -> dict[tuple[str, str], list[_Wanted]]:
    """Per compound × category, each household's units, by building, room and order."""
    result: dict[tuple[str, str], list[_Wanted]] = defaultdict(list)
    for order in sorted(
        (o for o in orders if o.delivery_date == day),
        key=lambda o: (o.compound_id, o.building_id, o.room, o.order_id),
    ):
        units: dict[str, int] = {}
        for item in order.items:
            units[item.category_id] = units.get(item.category_id, 0) + item.quantity_units
        for category_id, quantity in units.items():
            result[order.compound_id, category_id].append(_Wanted(order, category_id, quantity))
    return result


def _share(
    wanted: list[_Wanted],
    stops: list[tuple[StopKey, Stop]],
    planned: int,
) -> _Share:
    """The buildings' shares of what ``stops`` deliver, and each stop's part of them."""
    ordered: dict[str, int] = defaultdict(int)
    priority_ordered: dict[str, int] = defaultdict(int)
    for line in wanted:
        ordered[line.order.building_id] += line.units
        if line.order.priority:
            priority_ordered[line.order.building_id] += line.units
    ids = sorted(ordered)
    delivered = sum(stop.quantity_units for _, stop in stops)
    p_ordered = [priority_ordered[b] for b in ids]
    rest_ordered = [ordered[b] - priority_ordered[b] for b in ids]
    priority, rest, surplus = split_priority_first(delivered, p_ordered, rest_ordered)
    share = _Share(
        building_ids=ids,
        ordered=[ordered[b] for b in ids],
        priority_ordered=p_ordered,
        priority=priority,
        rest=rest,
        surplus=surplus,
        planned=planned,
        delivered=delivered,
        wanted=wanted,
    )
    queue: list[tuple[str | None, int]] = [
        *((b, u) for b, u in zip(ids, priority, strict=True) if u),
        *((b, u) for b, u in zip(ids, rest, strict=True) if u),
        *([(None, surplus)] if surplus else []),
    ]
    position, taken = 0, 0
    for key, stop in sorted(stops, key=lambda ks: (ks[1].arrival, ks[0])):
        parts: dict[str | None, int] = {}
        need = stop.quantity_units
        while need:
            building_id, units = queue[position]
            take = min(need, units - taken)
            parts[building_id] = parts.get(building_id, 0) + take
            need -= take
            taken += take
            if taken == units:
                position, taken = position + 1, 0
        share.by_stop[key] = sorted(parts.items(), key=lambda bu: (bu[0] is None, bu[0] or ""))
    return share


DocumentPart = tuple[Collection[str], Sequence[HouseholdOrder]]
"""Compound ids and their household orders: one piece of a day's documents."""


def build_documents(
    problem: RoutingProblem,
    plan: Plan,
    *,
    compounds: Sequence[Compound],
    buildings: Sequence[Building],
    gates: Sequence[Gate],
    categories: Sequence[Category],
    vehicles: Sequence[Vehicle],
    drivers: Sequence[Driver],
    orders: Sequence[HouseholdOrder],
    depots: Sequence[Depot] = (),
    pickup_points: Mapping[str, tuple[str, int]] | None = None,
    params: SheetParams | None = None,
    matrix: TravelMatrix | None = None,
    pinned: Mapping[str, tuple[str, int]] | None = None,
    sealed: Collection[str] = (),
) -> Documents:
    """Route sheets, sorting lists (aggregate and leader) and pickup notices of ``plan``.

    ``orders`` are the household orders of the plan's compounds (other dates are ignored);
    ``pickup_points`` maps a building_id to (pickup point name, walking metres), else the
    delivery gate is the pickup point; ``matrix`` gives leg distances and times (default
    haversine × 1.4 at 18 km/h, the router's default). ``pinned`` maps a building_id to a
    point a leader pinned (name, walking metres): it overrides ``pickup_points``. Compounds
    in ``sealed`` (封控 on the day) get door delivery by building volunteers. A compound,
    gate, category, vehicle or driver the plan names but the arguments lack raises a
    ``ValueError`` naming it.
    """
    built: list[Documents] = []
    routed = {stop.compound_id for route in plan.routes for stop in route.stops}
    whole = build_documents_in_parts(
        problem,
        plan,
        [(routed, orders)],
        on_part=built.append,
        compounds=compounds,
        buildings=buildings,
        gates=gates,
        categories=categories,
        vehicles=vehicles,
        drivers=drivers,
        depots=depots,
        pickup_points=pickup_points,
        params=params,
        matrix=matrix,
        pinned=pinned,
        sealed=sealed,
    )
    (part,) = built
    return whole.model_copy(
        update={
            "sorting_lists": part.sorting_lists,
            "leader_sorting_lists": part.leader_sorting_lists,
            "pickup_notices": part.pickup_notices,
        }
    )


def build_documents_in_parts(
    problem: RoutingProblem,
    plan: Plan,
    parts: Iterable[DocumentPart],
    *,
    on_part: Callable[[Documents], None],
    compounds: Sequence[Compound],
    buildings: Sequence[Building],
    gates: Sequence[Gate],
    categories: Sequence[Category],
    vehicles: Sequence[Vehicle],
    drivers: Sequence[Driver],
    depots: Sequence[Depot] = (),
    pickup_points: Mapping[str, tuple[str, int]] | None = None,
    params: SheetParams | None = None,
    matrix: TravelMatrix | None = None,
    pinned: Mapping[str, tuple[str, int]] | None = None,
    sealed: Collection[str] = (),
) -> Documents:
    """``build_documents`` a part at a time, for a city's day: each part's sorting lists,
    leader lists and notices go to ``on_part`` as soon as they are built, so the day's
    household orders and compound documents are never all in memory; the route sheets
    (which need every part's building shares) and the undelivered compounds are returned.

    Every routed compound must be in exactly one part, with its orders (a ``ValueError``
    names those missing or repeated); the documents are the same as ``build_documents``'s.
    """
    params = params or SheetParams()
    source: TravelMatrix = matrix or HaversineMatrix()
    day = problem.day_start.astimezone(SHANGHAI).date()
    ref = _Reference(
        compounds={c.compound_id: c for c in compounds},
        buildings={b.building_id: b for b in buildings},
        gates={g.gate_id: g for g in gates},
        categories={c.category_id: c for c in categories},
        vehicles={v.vehicle_id: v for v in vehicles},
        drivers={d.driver_id: d for d in drivers},
        depots={d.depot_id: d for d in depots},
        routing_vehicles={v.vehicle_id: v for v in problem.vehicles},
        category_rank={c.category_id: k for k, c in enumerate(categories)},
    )
    stops_of: dict[tuple[str, str], list[tuple[StopKey, Stop]]] = defaultdict(list)
    for route in plan.routes:
        for index, stop in enumerate(route.stops):
            stops_of[stop.compound_id, stop.category_id].append(((route.vehicle_id, index), stop))
    planned: dict[tuple[str, str], int] = defaultdict(int)
    for delivery in problem.deliveries:
        planned[delivery.compound_id, delivery.category_id] += delivery.quantity_units
    keys_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key in (*stops_of, *planned):
        keys_of[key[0]].add(key)
    routed = {compound_id for compound_id, _ in stops_of}
    places = _Places(
        points={**(pickup_points or {}), **(pinned or {})},
        pinned=frozenset(pinned or {}),
        sealed=frozenset(sealed),
    )
    rank = ref.category_rank
    by_stop: dict[StopKey, list[tuple[str | None, int]]] = {}
    done: set[str] = set()
    ordered: set[str] = set()
    for compound_ids, orders in parts:
        wanted = _wanted(orders, day)
        wanted_keys: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for key in wanted:
            wanted_keys[key[0]].add(key)
        ordered.update(wanted_keys)
        mine = sorted(set(compound_ids) & routed)
        again = done.intersection(mine)
        if again:
            raise ValueError(f"compounds {sorted(again)[:5]} are in more than one part")
        done.update(mine)
        shares: dict[str, dict[str, _Share]] = {}
        for compound_id in mine:
            keys = sorted(
                keys_of[compound_id] | wanted_keys[compound_id],
                key=lambda k: (rank.get(k[1], len(rank)), k[1]),
            )
            shares[compound_id] = {
                k[1]: _share(wanted.get(k, []), stops_of.get(k, []), planned.get(k, 0))
                for k in keys
            }
            for share in shares[compound_id].values():
                by_stop.update(share.by_stop)
        lists = tuple(_sorting_list(c, day, shares[c], stops_of, ref, places) for c in mine)
        on_part(
            Documents(
                delivery_date=day,
                route_sheets=(),
                sorting_lists=lists,
                leader_sorting_lists=tuple(
                    _leader_list(s, shares[s.compound_id], ref) for s in lists
                ),
                pickup_notices=tuple(
                    notice
                    for c in mine
                    for notice in _notices(c, day, shares[c], stops_of, ref, places, params)
                ),
            )
        )
    missing = routed - done
    if missing:
        raise ValueError(
            f"routed compounds {sorted(missing)[:5]} ({len(missing)} in all) are in no part; "
            "give every routed compound and its orders in one part"
        )
    sheets = tuple(
        _route_sheet(route, day, ref, by_stop, params, source)
        for route in sorted(plan.routes, key=lambda r: r.vehicle_id)
    )
    unrouted = {c for c, _ in planned} | ordered
    return Documents(
        delivery_date=day,
        route_sheets=sheets,
        sorting_lists=(),
        leader_sorting_lists=(),
        pickup_notices=(),
        compounds_not_delivered=tuple(sorted(unrouted - routed)),
    )


def _route_sheet(
    route: Route,
    day: dt.date,
    ref: _Reference,
    by_stop: Mapping[StopKey, list[tuple[str | None, int]]],
    params: SheetParams,
    source: TravelMatrix,
) -> RouteSheet:
    """The driver's sheet of one route: one stop per gate visit, legs from ``source``."""
    vehicle = _get(ref.vehicles, route.vehicle_id, "vehicle")
    shift = _get(ref.routing_vehicles, route.vehicle_id, "routing vehicle")
    driver = None if route.driver_id is None else _get(ref.drivers, route.driver_id, "driver")
    runs = visits(route.stops)
    run_gates = [_get(ref.gates, route.stops[first].gate_id, "gate") for first, _ in runs]
    lons = np.array([shift.depot_lon, *(g.lon for g in run_gates)], dtype=np.float64)
    lats = np.array([shift.depot_lat, *(g.lat for g in run_gates)], dtype=np.float64)
    metres, seconds = source.matrix(lons, lats)
    stops: list[SheetStop] = []
    for n, ((first, last), gate) in enumerate(zip(runs, run_gates, strict=True)):
        here = route.stops[first : last + 1]
        from_depot = n == 0 or route.stops[runs[n - 1][1]].trip != here[0].trip
        before = 0 if from_depot else n
        compound = _get(ref.compounds, here[0].compound_id, "compound")
        stops.append(
            SheetStop(
                sequence=n + 1,
                trip=here[0].trip,
                compound_id=compound.compound_id,
                compound_name=compound.name,
                gate_id=gate.gate_id,
                gate_name=gate.name,
                gate_lon=gate.lon,
                gate_lat=gate.lat,
                window_start=here[0].window_start,
                window_end=here[0].window_end,
                arrival=here[0].arrival,
                service_start=here[0].service_start,
                departure=here[-1].departure,
                gate_wait_s=sum(s.gate_wait_s for s in here),
                unload=_unload(route.vehicle_id, first, here, ref, by_stop),
                units=sum(s.quantity_units for s in here),
                weight_kg=sum(s.weight_kg for s in here),
                gate_contact_role=params.gate_contact_role,
                leg_from="depot" if from_depot else "previous_stop",
                leg_distance_m=int(metres[before, n + 1]),
                leg_duration_s=int(seconds[before, n + 1]),
            )
        )
    depot = ref.depots.get(route.depot_id)
    return RouteSheet(
        delivery_date=day,
        vehicle_id=route.vehicle_id,
        plate=vehicle.plate,
        refrigerated=vehicle.refrigerated,
        supplier_id=route.supplier_id,
        driver_id=route.driver_id,
        driver_name="" if driver is None else driver.name,
        driver_test_valid_until=shift.driver_test_valid_until,
        vehicle_pass_valid_until=shift.vehicle_pass_valid_until,
        depot_id=route.depot_id,
        depot_name=route.depot_id if depot is None else depot.name,
        depot_lon=shift.depot_lon,
        depot_lat=shift.depot_lat,
        start=route.start,
        end=route.end,
        trips=route.trips,
        stops=tuple(stops),
        return_distance_m=int(metres[len(runs), 0]),
        return_duration_s=int(seconds[len(runs), 0]),
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        units=route.load_units,
        weight_kg=route.load_kg,
        load_by_category=route.load_by_category,
    )


def _unload(
    vehicle_id: str,
    first: int,
    stops: Sequence[Stop],
    ref: _Reference,
    by_stop: Mapping[StopKey, list[tuple[str | None, int]]],
) -> tuple[UnloadLine, ...]:
    """One line per category of a gate visit, with the units per building."""
    grouped: dict[str, list[tuple[StopKey, Stop]]] = {}
    for offset, stop in enumerate(stops):
        grouped.setdefault(stop.category_id, []).append(((vehicle_id, first + offset), stop))
    lines = []
    for category_id, keyed in grouped.items():
        per_building: dict[str | None, int] = defaultdict(int)
        for key, _ in keyed:
            for building_id, units in by_stop[key]:
                per_building[building_id] += units
        lines.append(
            UnloadLine(
                category=_category_ref(_get(ref.categories, category_id, "category")),
                units=sum(s.quantity_units for _, s in keyed),
                weight_kg=sum(s.weight_kg for _, s in keyed),
                buildings=tuple(
                    BuildingUnits(
                        building_id=b,
                        building_name=_building_name(ref, b),
                        units=units,
                    )
                    for b, units in sorted((b, u) for b, u in per_building.items() if b)
                ),
                unsorted_units=per_building.get(None, 0),
                delivery_ids=tuple(s.delivery_id for _, s in keyed),
                delivery_units=tuple(s.quantity_units for _, s in keyed),
            )
        )
    return tuple(lines)


@dataclass(frozen=True)
class _Places:
    """Where each building collects: computed or pinned points, and the sealed compounds."""

    points: Mapping[str, tuple[str, int]]
    pinned: frozenset[str]
    sealed: frozenset[str]


DOOR_DELIVERY_ZH = "送货上门"
DOOR_DELIVERY_EN = "door delivery"


def _building_name(ref: _Reference, building_id: str) -> str:
    building = ref.buildings.get(building_id)
    return building_id if building is None else building.name


def _sorting_list(
    compound_id: str,
    day: dt.date,
    shares: Mapping[str, _Share],
    stops_of: Mapping[tuple[str, str], list[tuple[StopKey, Stop]]],
    ref: _Reference,
    places: _Places,
) -> SortingList:
    """The aggregate sorting list of one compound: no household data."""
    compound = _get(ref.compounds, compound_id, "compound")
    door = compound_id in places.sealed
    totals = []
    notes_zh: list[str] = []
    notes_en: list[str] = []
    for category_id, share in shares.items():
        total = CategoryTotal(
            category=_category_ref(_get(ref.categories, category_id, "category")),
            ordered_units=sum(share.ordered),
            priority_ordered_units=sum(share.priority_ordered),
            planned_units=share.planned,
            delivered_units=share.delivered,
            priority_units=sum(share.priority),
            short_units=max(0, sum(share.ordered) - share.delivered),
            unsorted_units=share.surplus,
        )
        totals.append(total)
        zh, en = _notes(total)
        notes_zh += zh
        notes_en += en
    building_ids = sorted({b for share in shares.values() for b in share.building_ids})
    sorted_buildings = []
    for building_id in building_ids:
        lines = []
        for category_id, share in shares.items():
            if building_id not in share.building_ids:
                continue
            i = share.building_ids.index(building_id)
            lines.append(
                SortingLine(
                    category_id=category_id,
                    ordered_units=share.ordered[i],
                    priority_ordered_units=share.priority_ordered[i],
                    units=share.units(i),
                    priority_units=share.priority[i],
                )
            )
        point = places.points.get(building_id)
        sorted_buildings.append(
            BuildingSorting(
                building_id=building_id,
                building_name=_building_name(ref, building_id),
                units=sum(line.units for line in lines),
                lines=tuple(lines),
                pickup_point=f"{DOOR_DELIVERY_ZH} / {DOOR_DELIVERY_EN}"
                if door
                else ("" if point is None else point[0]),
                pickup_pinned=not door and building_id in places.pinned,
                door_delivery=door,
            )
        )
    if door:
        notes_zh.insert(0, "本小区封控：不设取货点，各楼物资由楼栋志愿者消杀后送货上门。")
        notes_en.insert(
            0,
            "The compound is sealed: no pickup point; each building's volunteers disinfect "
            "the goods and bring them to every door.",
        )
    arrivals = sorted(
        (
            SortingArrival(
                delivery_id=stop.delivery_id,
                arrival=stop.arrival,
                gate_id=stop.gate_id,
                gate_name=_get(ref.gates, stop.gate_id, "gate").name,
                vehicle_id=key[0],
                plate=_get(ref.vehicles, key[0], "vehicle").plate,
                category_id=stop.category_id,
                units=stop.quantity_units,
            )
            for category_id in shares
            for key, stop in stops_of.get((compound_id, category_id), [])
        ),
        key=lambda a: (a.arrival, a.vehicle_id, a.delivery_id),
    )
    return SortingList(
        compound_id=compound_id,
        compound_name=compound.name,
        delivery_date=day,
        arrivals=tuple(arrivals),
        categories=tuple(totals),
        buildings=tuple(sorted_buildings),
        short=any(t.short_units for t in totals),
        notes_zh=tuple(notes_zh),
        notes_en=tuple(notes_en),
        door_delivery=door,
    )


def _notes(total: CategoryTotal) -> tuple[list[str], list[str]]:
    """Sentences on a short or surplus category, Chinese and English."""
    c = total.category
    zh: list[str] = []
    en: list[str] = []
    if total.short_units:
        unplanned = max(0, total.ordered_units - total.planned_units)
        unrouted = max(0, total.planned_units - total.delivered_units)
        zh_text = (
            f"{c.name_zh}：订购 {total.ordered_units}，到货 {total.delivered_units}，"
            f"少 {total.short_units}（{unplanned} 未匹配到供应商或无法安排配送，"
            f"{unrouted} 未排进今天的车辆路线）。"
        )
        en_text = (
            f"{c.name_en}: ordered {total.ordered_units}, delivered {total.delivered_units}, "
            f"short {total.short_units} ({unplanned} not matched to a supplier or not "
            f"routable, {unrouted} left off today's routes)."
        )
        if total.delivered_units and total.priority_ordered_units:
            zh_text += (
                f"优先户（老人、孕妇、婴幼儿、病患等）订购 {total.priority_ordered_units}，"
                f"先分到 {total.priority_units}。"
            )
            en_text += (
                f" Priority households ordered {total.priority_ordered_units} and get "
                f"{total.priority_units} first."
            )
        if total.delivered_units > total.priority_units:
            zh_text += "其余按各楼、各户订购量比例分配（最大余数法）。"
            en_text += (
                " The rest is split over buildings and households in proportion to their "
                "orders (largest remainder)."
            )
        zh.append(zh_text)
        en.append(en_text)
    if total.unsorted_units:
        zh.append(f"{c.name_zh}：到货比订购多 {total.unsorted_units}，未分到楼栋，请团长安排。")
        en.append(
            f"{c.name_en}: {total.unsorted_units} units more than ordered arrive; they are "
            "not assigned to a building, the leader decides."
        )
    return zh, en


def _leader_list(
    sorting_list: SortingList, shares: Mapping[str, _Share], ref: _Reference
) -> LeaderSortingList:
    """The leader's version: each building's share split over its households, priority first."""
    lines: list[HouseholdLine] = []
    for category_id, share in shares.items():
        of_building: dict[str, list[_Wanted]] = defaultdict(list)
        for w in share.wanted:
            of_building[w.order.building_id].append(w)
        for i, building_id in enumerate(share.building_ids):
            mine = of_building[building_id]
            for is_priority, units in ((True, share.priority[i]), (False, share.rest[i])):
                group = [w for w in mine if w.order.priority == is_priority]
                for w, got in zip(group, apportion(units, [w.units for w in group]), strict=True):
                    lines.append(
                        HouseholdLine(
                            building_id=building_id,
                            building_name=_building_name(ref, building_id),
                            room=w.order.room,
                            household_name=w.order.household_name,
                            phone=w.order.phone,
                            priority_flags=tuple(sorted(w.order.priority_flags)),
                            proxy=w.order.proxy,
                            order_id=w.order.order_id,
                            category_id=category_id,
                            ordered_units=w.units,
                            units=got,
                        )
                    )
    rank = {c: k for k, c in enumerate(shares)}
    lines.sort(key=lambda h: (h.building_id, h.room, h.order_id, rank[h.category_id]))
    return LeaderSortingList(sorting_list=sorting_list, households=tuple(lines))


def _ceil_local(moment: dt.datetime, minutes: int) -> dt.datetime:
    """``moment`` in Shanghai time, rounded up to a multiple of ``minutes`` after midnight."""
    local = moment.astimezone(SHANGHAI)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    step = minutes * 60
    steps = math.ceil((local - midnight).total_seconds() / step)
    return midnight + dt.timedelta(seconds=steps * step)


def _notices(
    compound_id: str,
    day: dt.date,
    shares: Mapping[str, _Share],
    stops_of: Mapping[tuple[str, str], list[tuple[StopKey, Stop]]],
    ref: _Reference,
    places: _Places,
    params: SheetParams,
) -> list[PickupNotice]:
    """A pickup notice for every building of the compound with units arriving; in a sealed
    compound it says when the volunteer brings the goods to the door instead."""
    compound = _get(ref.compounds, compound_id, "compound")
    door = compound_id in places.sealed
    building_ids = sorted({b for share in shares.values() for b in share.building_ids})
    notices = []
    for building_id in building_ids:
        lines: list[NoticeLine] = []
        carrying: list[Stop] = []
        for category_id, share in shares.items():
            if building_id not in share.building_ids:
                continue
            i = share.building_ids.index(building_id)
            lines.append(
                NoticeLine(
                    category=_category_ref(_get(ref.categories, category_id, "category")),
                    ordered_units=share.ordered[i],
                    units=share.units(i),
                )
            )
            carrying += [
                stop
                for key, stop in stops_of.get((compound_id, category_id), [])
                if any(b == building_id for b, _ in share.by_stop[key])
            ]
        if not carrying:
            continue
        carrying.sort(key=lambda s: s.arrival)
        building = _get(ref.buildings, building_id, "building")
        gate = _get(ref.gates, carrying[0].gate_id, "gate")
        if door:
            point, walking_m = f"{DOOR_DELIVERY_ZH} / {DOOR_DELIVERY_EN}", 0
        elif building_id in places.points:
            point, walking_m = places.points[building_id]
        else:
            point = gate.name
            walking_m = round(haversine_m(building.lon, building.lat, gate.lon, gate.lat))
        start = _ceil_local(
            carrying[0].arrival + dt.timedelta(seconds=params.pickup_opens_after_s),
            params.slot_rounding_min,
        )
        end = _ceil_local(
            carrying[-1].arrival + dt.timedelta(seconds=params.pickup_closes_after_s),
            params.slot_rounding_min,
        )
        short = any(line.units < line.ordered_units for line in lines)
        arriving = [line for line in lines if line.units]
        place = (compound.name, building.name, point, walking_m)
        zh = (_door_zh if door else _message_zh)(place, start, end, arriving, short)
        en = (_door_en if door else _message_en)(place, start, end, arriving, short)
        notices.append(
            PickupNotice(
                compound_id=compound_id,
                compound_name=compound.name,
                building_id=building_id,
                building_name=building.name,
                delivery_date=day,
                slot_start=start,
                slot_end=end,
                pickup_point=point,
                walking_m=walking_m,
                at_gate=not door and building_id not in places.points,
                lines=tuple(lines),
                short=short,
                message_zh=zh,
                message_en=en,
                pinned=not door and building_id in places.pinned,
                door_delivery=door,
            )
        )
    return notices


_WEEKDAY_ZH = "一二三四五六日"
_WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _span_zh(start: dt.datetime, end: dt.datetime) -> str:
    s, e = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    day = f"{s.month}月{s.day}日（周{_WEEKDAY_ZH[s.weekday()]}）"
    if e.date() == s.date():
        return f"{day}{s:%H:%M}–{e:%H:%M}"
    return f"{day}{s:%H:%M} 至 {e.month}月{e.day}日 {e:%H:%M}"


def _span_en(start: dt.datetime, end: dt.datetime) -> str:
    s, e = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    day = f"{_WEEKDAY_EN[s.weekday()]} {s.day} {_MONTH_EN[s.month - 1]}"
    if e.date() == s.date():
        return f"{day}, {s:%H:%M}–{e:%H:%M}"
    return f"{day}, {s:%H:%M} to {e.day} {_MONTH_EN[e.month - 1]} {e:%H:%M}"


def _message_zh(
    place: tuple[str, str, str, int],
    start: dt.datetime,
    end: dt.datetime,
    lines: Sequence[NoticeLine],
    short: bool,
) -> str:
    """The chat message in Chinese: time and place first, short lines, kind to the elderly."""
    compound, building, point, walking_m = place
    goods = "、".join(f"{x.category.name_zh} {x.units} {x.category.unit}" for x in lines)
    text = [
        f"【{compound} {building} 团购到货取货通知】",
        f"取货时间：{_span_zh(start, end)}",
        f"取货地点：{point}（离本楼约 {walking_m} 米）",
        f"本楼到货：{goods}",
        "请在上述时间内到取货地点领取，戴好口罩，排队时保持一米距离，不要聚集。",
        "已登记的老人和行动不便的居民，由志愿者送货上门，请在家等候，不用下楼。",
    ]
    return _ending(text, short, zh=True)


def _message_en(
    place: tuple[str, str, str, int],
    start: dt.datetime,
    end: dt.datetime,
    lines: Sequence[NoticeLine],
    short: bool,
) -> str:
    """The chat message in English, same order as the Chinese one."""
    compound, building, point, walking_m = place
    goods = ", ".join(f"{x.category.name_en} {x.units} × {x.category.unit}" for x in lines)
    text = [
        f"[{compound} {building}: group-buy pickup notice]",
        f"When: {_span_en(start, end)}",
        f"Where: {point} (about {walking_m} m from your building)",
        f"Arriving for your building: {goods}",
        "Please collect within this time, wear a mask, keep one metre apart in the queue "
        "and do not crowd.",
        "Elderly and disabled residents who registered: volunteers bring your goods to your "
        "door; please wait at home.",
    ]
    return _ending(text, short, zh=False)


_SHORT_ZH = (
    "部分商品到货少于订购数量，已按公开规则优先保障老人、孕妇、婴幼儿和病患家庭，"
    "具体分配请看团长发布的分拣单。"
)
_SHORT_EN = (
    "Some items arrived short of what was ordered; by the public rules, households with "
    "elderly, pregnant, infant or ill members are served first. The leader's sorting list "
    "shows who gets what."
)
_CLOSING_ZH = "有问题请联系本楼志愿者或团长。谢谢大家配合！"
_CLOSING_EN = "Questions: ask your building volunteer or group leader. Thank you!"


def _ending(text: list[str], short: bool, *, zh: bool) -> str:
    """A notice's lines, the fair-share note when goods came short, and whom to ask."""
    if short:
        text.append(_SHORT_ZH if zh else _SHORT_EN)
    text.append(_CLOSING_ZH if zh else _CLOSING_EN)
    return "\n".join(text)


def _door_zh(
    place: tuple[str, str, str, int],
    start: dt.datetime,
    end: dt.datetime,
    lines: Sequence[NoticeLine],
    short: bool,
) -> str:
    """The sealed compound's message in Chinese: when the volunteer comes, stay at home."""
    compound, building, _, _ = place
    goods = "、".join(f"{x.category.name_zh} {x.units} {x.category.unit}" for x in lines)
    text = [
        f"【{compound} {building} 团购到货 送货上门通知】",
        f"送货时间：{_span_zh(start, end)}，本楼志愿者消杀后送到各户门口",
        "本小区封控，不设取货点，请不要下楼取货，在家等候。",
        f"本楼到货：{goods}",
        "志愿者放到门口后请及时取回，开门时戴好口罩，不与志愿者近距离接触。",
    ]
    return _ending(text, short, zh=True)


def _door_en(
    place: tuple[str, str, str, int],
    start: dt.datetime,
    end: dt.datetime,
    lines: Sequence[NoticeLine],
    short: bool,
) -> str:
    """The sealed compound's message in English, same order as the Chinese one."""
    compound, building, _, _ = place
    goods = ", ".join(f"{x.category.name_en} {x.units} × {x.category.unit}" for x in lines)
    text = [
        f"[{compound} {building}: group-buy door delivery notice]",
        f"Volunteer comes: {_span_en(start, end)}; your building's volunteers disinfect the "
        "goods and bring them to every door",
        "The compound is sealed: there is no pickup point; please stay at home, do not come down.",
        f"Arriving for your building: {goods}",
        "Take the goods in soon after they are left at your door; wear a mask when you open "
        "it and keep away from the volunteer.",
    ]
    return _ending(text, short, zh=False)


# --- writing -------------------------------------------------------------------------------


def to_json(document: Model) -> str:
    """A document as indented JSON text, Chinese kept as is (pydantic never escapes non-ASCII)."""
    return document.model_dump_json(indent=2) + "\n"


DOCUMENT_FOLDERS = ("route_sheets", "sorting_lists", "sorting_lists_leader", "notices")
"""The sub-folders ``write_documents`` owns under its folder."""


def _clear(folder: Path) -> None:
    """Remove earlier JSON documents (and folders left empty) so no stale file survives."""
    if not folder.is_dir():
        return
    for path in folder.rglob("*.json"):
        path.unlink()
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(sub.iterdir()):
            sub.rmdir()


def write_documents(documents: Documents, folder: Path) -> Path:
    """Write every document as JSON under ``folder`` plus ``index.json``; returns the index.

    Layout: route_sheets/<vehicle>.json, sorting_lists/<compound>.json (aggregate),
    sorting_lists_leader/<compound>.json, notices/<compound>/<building>.json. JSON files
    left in those folders by an earlier run are removed first.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name in DOCUMENT_FOLDERS:
        _clear(folder / name)

    def write(document: Model, *parts: str) -> str:
        path = folder.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_json(document), encoding="utf-8")
        return "/".join(parts)

    index = DocumentIndex(
        delivery_date=documents.delivery_date,
        route_sheets=tuple(
            write(s, "route_sheets", f"{s.vehicle_id}.json") for s in documents.route_sheets
        ),
        sorting_lists=tuple(
            write(s, "sorting_lists", f"{s.compound_id}.json") for s in documents.sorting_lists
        ),
        leader_sorting_lists=tuple(
            write(s, "sorting_lists_leader", f"{s.sorting_list.compound_id}.json")
            for s in documents.leader_sorting_lists
        ),
        pickup_notices=tuple(
            write(n, "notices", n.compound_id, f"{n.building_id}.json")
            for n in documents.pickup_notices
        ),
        compounds_not_delivered=documents.compounds_not_delivered,
    )
    path = folder / "index.json"
    path.write_text(to_json(index), encoding="utf-8")
    return path
