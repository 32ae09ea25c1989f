"""Re-planning during the day: breakdowns, sealed compounds and failed deliveries.

``replan(problem, plan, events, now, params)`` keeps every stop a vehicle has served by
``now`` and the one it is driving to or unloading at (committed), unchanged, and routes
every other piece again from where each vehicle is then. A vehicle out on a trip starts at
the gate of its committed stop when it leaves it and, until it reloads, may deliver only
what is still on board from that trip; a vehicle between trips, done, or not yet out
starts at its depot. The new plan is each vehicle's kept stops followed by its new ones.

- ``VehicleBreakdown``: the vehicle stops at ``at``; stops it had started unloading by
  then count as delivered. What it was still to deliver goes to other vehicles from the
  depot; the goods on board are lost (``vehicle_broken_down``) or re-sent from the depot,
  since a broken truck's cargo moves only by reloading.
- ``CompoundSealed``: the compound turns 封控. Its remaining deliveries still end at the
  gate (volunteers carry them in), but only vehicles of a supplier that serves sealed
  compounds and that hold a vehicle pass for them may go there (``sealed_no_pass``).
- ``DeliveryFailed``: the gate refused a served stop. Its units go back to the depot and
  are delivered again from ``retry_from`` (default: the failure) inside the delivery's
  window, or reported ``delivery_failed`` when no window remains; the delivery's other
  pieces still to come wait until then too.

Re-planned pieces leave from the depot's stock: a returned or stranded load is restocked,
not chased. Gate staggering books the kept stops first and only delays new ones. Events
accumulate: pass a ``Replan`` as ``plan`` and its events stay in force.
"""

from __future__ import annotations

import datetime as dt
import enum
import heapq
import math
import time
from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal, Self

import numpy as np
from pydantic import Field, model_validator

from data.schemas import (
    AwareDatetime,
    Certificate,
    CertificateType,
    HolderKind,
    Identifier,
    Lat,
    LockdownLevel,
    Lon,
    Model,
    Supplier,
)
from routing.gates import route_distance_m, visits
from routing.matrix import HaversineMatrix, TravelMatrix
from routing.model import Delivery, Params, RoutingProblem, RoutingVehicle, parent_id
from routing.result import (
    Plan,
    Route,
    Stop,
    Unassigned,
    UnassignedReason,
    category_loads,
    unassigned,
)
from routing.solve import Restriction, VehicleStart, plan_status, route_suppliers


class CargoFate(enum.StrEnum):
    """What becomes of the goods on a broken-down vehicle."""

    lost = "lost"  # spoiled or impounded: reported unassigned
    resend = "resend"  # sent again from the depot on other vehicles


class VehicleBreakdown(Model):
    """A vehicle stops for the day at ``at``, where it is or at ``lon, lat``."""

    kind: Literal["vehicle_breakdown"] = "vehicle_breakdown"
    vehicle_id: Identifier
    at: AwareDatetime
    lon: Lon | None = None
    lat: Lat | None = None
    cargo: CargoFate = CargoFate.resend

    @model_validator(mode="after")
    def _position(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError(f"breakdown of {self.vehicle_id}: give both lon and lat, or neither")
        return self


class CompoundSealed(Model):
    """A compound turns 封控 at ``at``; who may still deliver to its gate."""

    kind: Literal["compound_sealed"] = "compound_sealed"
    compound_id: Identifier
    at: AwareDatetime
    suppliers_serving: frozenset[Identifier] = Field(
        default=frozenset(), description="suppliers that serve sealed compounds"
    )
    vehicles_with_pass: frozenset[Identifier] = Field(
        default=frozenset(), description="vehicles holding a pass for sealed compounds"
    )


class DeliveryFailed(Model):
    """The gate refused a stop (``delivery_id`` as on the route) at ``at``, and why."""

    kind: Literal["delivery_failed"] = "delivery_failed"
    vehicle_id: Identifier
    delivery_id: Identifier
    at: AwareDatetime
    reason: str = Field(min_length=1, description="as the driver reports it, e.g. gate closed")
    retry_from: AwareDatetime | None = Field(
        default=None, description="earliest re-delivery; default the failure time"
    )


Event = Annotated[VehicleBreakdown | CompoundSealed | DeliveryFailed, Field(discriminator="kind")]
"""Something that happened during the day and changes the plan."""


class ChangeKind(enum.StrEnum):
    """How units of a delivery changed between the plan and the re-plan."""

    moved = "moved"  # planned on one vehicle, now on another
    cancelled = "cancelled"  # planned (or refused at the gate), now unassigned
    retried = "retried"  # refused at the gate, now planned again on a vehicle
    added = "added"  # unassigned before, now on a vehicle


class StopChange(Model):
    """Units of one delivery that changed vehicle or were cancelled, and why."""

    delivery_id: Identifier
    kind: ChangeKind
    quantity_units: int = Field(gt=0)
    from_vehicle_id: Identifier | None = None
    to_vehicle_id: Identifier | None = None
    reason: UnassignedReason | None = None


class VehicleState(Model):
    """Where a vehicle is at ``now``, from when it is free, and what it has on board."""

    vehicle_id: Identifier
    lon: Lon
    lat: Lat
    free_at: AwareDatetime | None = Field(description="None when broken down")
    fixed_stops: int = Field(ge=0, description="its first stops kept: served or committed")
    on_board: tuple[Identifier, ...] = ()
    broken: bool = False


class Replan(Model):
    """The re-planned day: the merged plan, the events so far and what changed."""

    plan: Plan
    now: AwareDatetime
    events: tuple[Event, ...]
    changes: tuple[StopChange, ...]
    vehicles: tuple[VehicleState, ...]


class ReplanError(ValueError):
    """An event that does not fit the plan: unknown vehicle, stop not reached, future time."""


def delivery_of(piece_id: str, known: Container[str]) -> str:
    """The ordered delivery ``piece_id`` was cut from (``d1.2.1`` → ``d1``), if known."""
    head = piece_id
    while head not in known:
        parent = parent_id(head)
        if parent == head:
            return piece_id
        head = parent
    return head


def compound_sealed(
    compound_id: str,
    at: dt.datetime,
    suppliers: Iterable[Supplier],
    certificates: Iterable[Certificate],
) -> CompoundSealed:
    """The sealing event with the suppliers and vehicle passes valid for sealed compounds."""
    return CompoundSealed(
        compound_id=compound_id,
        at=at,
        suppliers_serving=frozenset(
            s.supplier_id for s in suppliers if LockdownLevel.sealed in s.lockdown_levels_served
        ),
        vehicles_with_pass=frozenset(
            c.holder_id
            for c in certificates
            if c.type is CertificateType.vehicle_pass
            and c.holder_kind is HolderKind.vehicle
            and c.scope in ("", LockdownLevel.sealed.value)
            and c.valid_from <= at < c.valid_until
        ),
    )


class _Legs:
    """Travel between known points (depots, gates) from one matrix."""

    def __init__(self, points: Iterable[tuple[float, float]], source: TravelMatrix) -> None:
        ordered = sorted(set(points))
        self.index = {p: i for i, p in enumerate(ordered)}
        self.matrix = source.matrix(
            np.array([p[0] for p in ordered], dtype=np.float64),
            np.array([p[1] for p in ordered], dtype=np.float64),
        )

    def seconds(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        return int(self.matrix.duration_s[self.index[a], self.index[b]])

    def metres(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        return int(self.matrix.distance_m[self.index[a], self.index[b]])


@dataclass
class _Cut:
    """One vehicle's route split at ``now`` (or at its breakdown)."""

    vehicle: RoutingVehicle
    route: Route | None
    fixed: list[Stop]
    rest: list[Stop]
    on_board: list[Stop]
    state: VehicleState
    start: VehicleStart | None  # None when broken down
    breakdown: VehicleBreakdown | None = None


@dataclass
class _Line:
    """A vehicle's new stops in seconds from ``day_start``, mutable while staggering."""

    cut: _Cut
    tail: list[Stop]
    arrival: list[int]
    start: list[int]
    depart: list[int]
    drive: list[int]
    end: int
    bound: int
    route_start: dt.datetime
    wait: list[int] = field(default_factory=list)
    dropped: set[int] = field(default_factory=set)


def _heading(route: Route, j: int, t: dt.datetime, depot_to: int) -> bool:
    """Whether by ``t`` the vehicle has loaded and left for stop ``j``, stop ``j - 1`` being
    served (``depot_to``: seconds from the depot to stop ``j``)."""
    stops = route.stops
    if j >= len(stops):
        return False
    if j == 0:
        return route.start <= t
    if stops[j].trip == stops[j - 1].trip:
        return True
    return stops[j].arrival - dt.timedelta(seconds=depot_to) <= t


class _Day:
    """The problem, plan and events of one re-planning call, with travel between points."""

    def __init__(
        self,
        problem: RoutingProblem,
        base: Plan,
        events: Sequence[VehicleBreakdown | CompoundSealed | DeliveryFailed],
        now: dt.datetime,
        params: Params,
        source: TravelMatrix,
    ) -> None:
        self.problem, self.base, self.events, self.now = problem, base, events, now
        self.params, self.source = params, source
        self.deliveries = {d.delivery_id: d for d in problem.deliveries}
        self.vehicles = {v.vehicle_id: v for v in problem.vehicles}
        self.legs = _Legs(
            [(v.depot_lon, v.depot_lat) for v in problem.vehicles]
            + [(d.lon, d.lat) for d in problem.deliveries],
            source,
        )

    def root(self, piece_id: str) -> Delivery:
        return self.deliveries[delivery_of(piece_id, self.deliveries)]

    def gate(self, stop: Stop) -> tuple[float, float]:
        delivery = self.root(stop.delivery_id)
        return delivery.lon, delivery.lat

    def seconds(self, moment: dt.datetime) -> int:
        return self.problem.seconds(moment)

    def at(self, seconds: int) -> dt.datetime:
        return self.problem.day_start + dt.timedelta(seconds=seconds)

    def piece(self, piece_id: str, units: int, weight_kg: int | None = None) -> Delivery:
        """A part of an ordered delivery to route again (weight by share when not given)."""
        root = self.root(piece_id)
        if weight_kg is None:
            weight_kg = math.ceil(root.weight_kg * units / root.quantity_units)
        return root.model_copy(
            update={
                "delivery_id": piece_id,
                "quantity_units": units,
                "weight_kg": weight_kg,
                "service_s": root.service_for(units),
            }
        )


def _validate(day: _Day) -> None:
    """Raise ``ReplanError`` for an event that does not fit the problem or the clock."""
    problem, now = day.problem, day.now
    if now.tzinfo is None or now.utcoffset() is None:
        raise ReplanError("now has no timezone; pass an aware datetime (Asia/Shanghai)")
    for event in day.events:
        if event.at > now:
            raise ReplanError(f"{event.kind} at {event.at:%H:%M} is after now {now:%H:%M}")
        if (
            isinstance(event, VehicleBreakdown | DeliveryFailed)
            and event.vehicle_id not in day.vehicles
        ):
            raise ReplanError(f"{event.kind}: unknown vehicle {event.vehicle_id}")
        if isinstance(event, CompoundSealed) and not any(
            d.compound_id == event.compound_id for d in problem.deliveries
        ):
            raise ReplanError(f"compound_sealed: no delivery goes to {event.compound_id}")


def _cut(day: _Day, vehicle: RoutingVehicle, route: Route | None) -> _Cut:
    """Split ``vehicle``'s route into kept stops and the rest, and say where it is free."""
    stops = list(route.stops) if route is not None else []
    depot = (vehicle.depot_lon, vehicle.depot_lat)
    breakdown = next(
        (e for e in day.events
         if isinstance(e, VehicleBreakdown) and e.vehicle_id == vehicle.vehicle_id),
        None,
    )  # fmt: skip
    t = day.now if breakdown is None else breakdown.at
    if breakdown is None:
        k = next((i for i, s in enumerate(stops) if s.departure > t), len(stops))
    else:
        k = next((i for i, s in enumerate(stops) if s.service_start > t), len(stops))
    to_next = day.legs.seconds(depot, day.gate(stops[k])) if k < len(stops) else 0
    heading = route is not None and _heading(route, k, t, to_next)
    loaded_from = k if breakdown is not None else k + 1
    on_board: list[Stop] = []
    for stop in stops[loaded_from:] if heading else []:
        if stop.trip != stops[k].trip:
            break
        on_board.append(stop)
    if breakdown is not None:
        fixed = stops[:k]
        where = (
            (breakdown.lon, breakdown.lat)
            if breakdown.lon is not None and breakdown.lat is not None
            else day.gate(fixed[-1])
            if fixed
            else depot
        )
        state = VehicleState(
            vehicle_id=vehicle.vehicle_id, lon=where[0], lat=where[1], free_at=None,
            fixed_stops=len(fixed), on_board=tuple(s.delivery_id for s in on_board), broken=True,
        )  # fmt: skip
        return _Cut(vehicle, route, fixed, stops[k:], on_board, state, None, breakdown)
    fixed = stops[: k + 1] if heading else stops[:k]
    if heading:
        where, free = day.gate(stops[k]), stops[k].departure
    else:
        where, free = depot, max(day.now, vehicle.shift_start)
        if fixed:
            back = day.legs.seconds(day.gate(fixed[-1]), depot)
            free = max(free, fixed[-1].departure + dt.timedelta(seconds=back))
    start = VehicleStart(
        vehicle_id=vehicle.vehicle_id,
        lon=where[0],
        lat=where[1],
        free_at=free,
        route_start=route.start if fixed and route is not None else None,
        next_trip=fixed[-1].trip + 1 if fixed else 0,
        trips_left=max(0, day.params.max_trips - len({s.trip for s in fixed})),
        on_board=frozenset(s.delivery_id for s in on_board),
    )
    state = VehicleState(
        vehicle_id=vehicle.vehicle_id, lon=where[0], lat=where[1], free_at=free,
        fixed_stops=len(fixed), on_board=tuple(s.delivery_id for s in on_board),
    )  # fmt: skip
    return _Cut(vehicle, route, fixed, stops[len(fixed) :], on_board, state, start)


def _failed_stops(day: _Day, cuts: dict[str, _Cut]) -> dict[tuple[str, str], DeliveryFailed]:
    """Each refused stop as (vehicle, piece) → event; the stop must be one it kept."""
    failed: dict[tuple[str, str], DeliveryFailed] = {}
    for event in day.events:
        if not isinstance(event, DeliveryFailed):
            continue
        if not any(s.delivery_id == event.delivery_id for s in cuts[event.vehicle_id].fixed):
            raise ReplanError(
                f"delivery_failed: {event.delivery_id} is not a stop {event.vehicle_id} has "
                f"served or is serving by {day.now:%H:%M}; report failures of reached stops"
            )
        failed[event.vehicle_id, event.delivery_id] = event
    return failed


def _retry_id(root: str, taken: set[str]) -> str:
    """A fresh piece id ``root.N`` not among ``taken``."""
    numbers = [
        int(head)
        for piece in taken
        if piece.startswith(root + ".") and (head := piece[len(root) + 1 :].split(".")[0]).isdigit()
    ]
    return f"{root}.{max(numbers, default=0) + 1}"


def _pieces(
    day: _Day,
    cuts: dict[str, _Cut],
    failed: dict[tuple[str, str], DeliveryFailed],
    fresh: set[tuple[str, str]],
) -> tuple[list[Delivery], list[Unassigned], dict[str, Restriction]]:
    """What is left to route, what is already lost or undeliverable, and who may serve."""
    pieces: list[Delivery] = []
    left: list[Unassigned] = []
    for cut in cuts.values():
        for stop in cut.rest:
            piece = day.piece(stop.delivery_id, stop.quantity_units, stop.weight_kg)
            broken = cut.breakdown
            if broken is not None and broken.cargo is CargoFate.lost and stop in cut.on_board:
                why = f"{cut.vehicle.vehicle_id} broke down at {broken.at:%H:%M} with it on board."
                left.append(unassigned(piece, UnassignedReason.vehicle_broken_down, why))
            else:
                pieces.append(piece)
    for item in day.base.unassigned:
        pieces.append(day.piece(item.delivery_id, item.quantity_units))
    taken = {s.delivery_id for r in day.base.routes for s in r.stops}
    taken |= {u.delivery_id for u in day.base.unassigned}
    for vehicle_id, piece_id in sorted(fresh):
        stop = next(s for s in cuts[vehicle_id].fixed if s.delivery_id == piece_id)
        root = delivery_of(piece_id, day.deliveries)
        retry = _retry_id(root, taken)
        taken.add(retry)
        pieces.append(day.piece(retry, stop.quantity_units, stop.weight_kg))

    retry_from: dict[str, tuple[dt.datetime, DeliveryFailed]] = {}
    for event in failed.values():
        root = delivery_of(event.delivery_id, day.deliveries)
        since = max(event.retry_from or event.at, day.now)
        if root not in retry_from or retry_from[root][0] < since:
            retry_from[root] = (since, event)
    seals = sorted((e for e in day.events if isinstance(e, CompoundSealed)), key=lambda e: e.at)
    sealed = {e.compound_id: e for e in seals}  # the latest sealing of a compound counts
    available = [v for v in day.problem.vehicles if cuts[v.vehicle_id].start is not None]
    kept: list[Delivery] = []
    restrictions: dict[str, Restriction] = {}
    for piece in pieces:
        root = delivery_of(piece.delivery_id, day.deliveries)
        if root in retry_from:
            since, event = retry_from[root]
            if since >= piece.window_end:
                why = (
                    f"Refused at {event.at:%H:%M} ({event.reason}); the window ends "
                    f"{piece.window_end:%H:%M}, before a re-delivery from {since:%H:%M}."
                )
                left.append(unassigned(piece, UnassignedReason.delivery_failed, why))
                continue
            piece = piece.model_copy(update={"window_start": max(piece.window_start, since)})
        if (seal := sealed.get(piece.compound_id)) is not None:
            allowed = frozenset(
                v.vehicle_id
                for v in available
                if v.supplier_id == piece.supplier_id and v.vehicle_id in seal.vehicles_with_pass
            )
            since_txt = f"Compound {piece.compound_id} is sealed since {seal.at:%H:%M}"
            if piece.supplier_id not in seal.suppliers_serving or not allowed:
                why = (
                    f"{since_txt}; supplier {piece.supplier_id} does not serve sealed compounds."
                    if piece.supplier_id not in seal.suppliers_serving
                    else f"{since_txt}; no working vehicle of {piece.supplier_id} holds a pass."
                )
                left.append(unassigned(piece, UnassignedReason.sealed_no_pass, why))
                continue
            restrictions[piece.delivery_id] = Restriction(
                vehicle_ids=allowed,
                reason=UnassignedReason.sealed_no_pass,
                why=f"{since_txt}; only {', '.join(sorted(allowed))} may enter.",
            )
        kept.append(piece)
    return kept, left, restrictions


def _line(day: _Day, cut: _Cut, tail: Route) -> _Line:
    """``tail`` after ``cut``'s kept stops as a timeline to stagger."""
    arrival = [day.seconds(s.arrival) for s in tail.stops]
    start = [day.seconds(s.service_start) for s in tail.stops]
    depart = [day.seconds(s.departure) for s in tail.stops]
    first = day.seconds(cut.fixed[-1].departure if cut.fixed else tail.start)
    route_start = cut.route.start if cut.fixed and cut.route is not None else tail.start
    vehicle = cut.vehicle
    bound = min(
        day.seconds(vehicle.shift_end),
        day.seconds(route_start) + day.problem.max_route_duration_s,
    )
    return _Line(
        cut=cut,
        tail=list(tail.stops),
        arrival=arrival,
        start=start,
        depart=depart,
        drive=[a - b for a, b in zip(arrival, [first, *depart[:-1]], strict=True)],
        end=day.seconds(tail.end),
        bound=bound,
        route_start=route_start,
        wait=[0] * len(tail.stops),
    )


def _delay(line: _Line, first: int, new_start: int, window_end: list[int]) -> bool:
    """Serve tail stop ``first`` from ``new_start``, carried on; False (unchanged) if it breaks."""
    start, depart, arrival = list(line.start), list(line.depart), list(line.arrival)
    shift = new_start - start[first]
    start[first] = new_start
    depart[first] += shift
    for j in range(first + 1, len(start)):
        arrival[j] = depart[j - 1] + line.drive[j]
        moved = max(arrival[j], start[j])
        depart[j] += moved - start[j]
        start[j] = moved
    end = line.end + (depart[-1] - line.depart[-1])
    late = any(start[j] > window_end[j] for j in range(first, len(start)) if j not in line.dropped)
    if late or end > line.bound:
        return False
    line.start, line.depart, line.arrival, line.end = start, depart, arrival, end
    line.wait[first] += shift
    return True


def _free_slot(
    booked: list[tuple[int, int, str]], vehicle_id: str, at: int, length: int, capacity: int
) -> int:
    """Earliest time from ``at`` when fewer than ``capacity`` other vehicles unload."""
    for t in sorted({at, *(e for _, e, v in booked if e > at and v != vehicle_id)}):
        there = {v for s, e, v in booked if v != vehicle_id and s < t + max(length, 1) and e > t}
        if len(there) < capacity:
            return t
    return at  # unreachable: after every booking ends the gate is free


def _stagger(day: _Day, cuts: Iterable[_Cut], lines: list[_Line]) -> list[Unassigned]:
    """Delay new visits so no gate is over its truck limit; kept stops are booked first."""
    booked: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for cut in cuts:
        for stop in cut.fixed:
            booked[stop.gate_id].append(
                (day.seconds(stop.service_start), day.seconds(stop.departure),
                 cut.vehicle.vehicle_id)
            )  # fmt: skip
    runs = [visits(line.tail) for line in lines]
    ends = [[day.seconds(s.window_end) for s in line.tail] for line in lines]
    queue = [(lines[r].start[a], r, k) for r, rr in enumerate(runs) for k, (a, _) in enumerate(rr)]
    heapq.heapify(queue)
    left: list[Unassigned] = []
    while queue:
        key, r, k = heapq.heappop(queue)
        line = lines[r]
        first, last = runs[r][k]
        if key != line.start[first]:  # moved by an earlier wait on its route: re-queue
            heapq.heappush(queue, (line.start[first], r, k))
            continue
        stop = line.tail[first]
        vehicle_id = line.cut.vehicle.vehicle_id
        capacity = day.root(stop.delivery_id).gate_max_trucks
        gate = booked[stop.gate_id]
        slot = _free_slot(gate, vehicle_id, line.start[first],
                          line.depart[last] - line.start[first], capacity)  # fmt: skip
        if slot > line.start[first] and not _delay(line, first, slot, ends[r]):
            line.dropped.update(range(first, last + 1))
            for j in range(first, last + 1):
                piece = day.piece(line.tail[j].delivery_id, line.tail[j].quantity_units)
                why = f"Gate {stop.gate_id} was full."
                left.append(unassigned(piece, UnassignedReason.gate_busy, why))
            continue
        gate.append((line.start[first], line.depart[last], vehicle_id))
    return left


def _merged(
    day: _Day, cut: _Cut, line: _Line | None, failed: dict[tuple[str, str], DeliveryFailed]
) -> Route | None:
    """``cut``'s kept stops followed by its new ones, as one route (None if it has none)."""
    vehicle, route = cut.vehicle, cut.route
    tail: list[Stop] = []
    if line is not None:
        tail = [
            stop.model_copy(
                update={
                    "arrival": day.at(line.arrival[j]),
                    "service_start": day.at(line.start[j]),
                    "departure": day.at(line.depart[j]),
                    "gate_wait_s": line.wait[j],
                }
            )
            for j, stop in enumerate(line.tail)
            if j not in line.dropped
        ]
    stops = cut.fixed + tail
    if not stops:
        return None
    if (
        route is not None
        and not tail
        and cut.breakdown is None
        and len(cut.fixed) == len(route.stops)
    ):
        return route
    depot = (vehicle.depot_lon, vehicle.depot_lat)
    by_parent = {parent_id(s.delivery_id): day.root(s.delivery_id) for s in stops}
    distance = route_distance_m(vehicle, stops, by_parent, day.source)
    if cut.breakdown is not None:  # it never drives home
        distance -= day.legs.metres(day.gate(stops[-1]), depot)
        end = max(cut.breakdown.at, stops[-1].departure)
    elif tail and line is not None:
        end = day.at(line.end)
    else:
        end = stops[-1].departure + dt.timedelta(
            seconds=day.legs.seconds(day.gate(stops[-1]), depot)
        )
    begin = route.start if cut.fixed and route is not None else (
        line.route_start if line is not None else stops[0].arrival
    )  # fmt: skip
    delivered = [s for s in stops if (vehicle.vehicle_id, s.delivery_id) not in failed]
    return Route(
        vehicle_id=vehicle.vehicle_id,
        supplier_id=vehicle.supplier_id,
        depot_id=vehicle.depot_id,
        driver_id=vehicle.driver_id,
        start=begin,
        end=end,
        stops=tuple(stops),
        distance_m=distance,
        load_units=sum(s.quantity_units for s in delivered),
        load_kg=sum(s.weight_kg for s in delivered),
        trips=len({s.trip for s in stops}),
        duration_s=int((end - begin).total_seconds()),
        load_by_category=category_loads(delivered),
    )


def _changes(
    day: _Day,
    cuts: dict[str, _Cut],
    lines: dict[str, _Line],
    left: Sequence[Unassigned],
    fresh: set[tuple[str, str]],
) -> tuple[StopChange, ...]:
    """Units per delivery that moved vehicle, were cancelled, retried or added."""
    root = day.deliveries

    def of(piece_id: str) -> str:
        return delivery_of(piece_id, root)

    before: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    refused: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    after: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    dropped_before: dict[str, int] = defaultdict(int)
    for vehicle_id, cut in cuts.items():
        for stop in cut.rest:
            before[of(stop.delivery_id)][vehicle_id] += stop.quantity_units
    for item in day.base.unassigned:
        dropped_before[of(item.delivery_id)] += item.quantity_units
    for vehicle_id, piece_id in fresh:
        stop = next(s for s in cuts[vehicle_id].fixed if s.delivery_id == piece_id)
        refused[of(piece_id)][vehicle_id] += stop.quantity_units
    for vehicle_id, line in lines.items():
        for j, stop in enumerate(line.tail):
            if j not in line.dropped:
                after[of(stop.delivery_id)][vehicle_id] += stop.quantity_units
    gone: dict[str, dict[UnassignedReason, int]] = defaultdict(lambda: defaultdict(int))
    for item in left:
        gone[of(item.delivery_id)][item.reason] += item.quantity_units

    found: dict[tuple[str, ChangeKind, str | None, str | None, UnassignedReason | None], int] = (
        defaultdict(int)
    )
    for delivery_id in sorted(set(before) | set(refused) | set(after) | set(dropped_before)):
        was, came_back = dict(before[delivery_id]), dict(refused[delivery_id])
        now_on, lost = dict(after[delivery_id]), dict(gone[delivery_id])
        for vehicle_id in sorted(was):  # stays on the same vehicle
            same = min(was[vehicle_id], now_on.get(vehicle_id, 0))
            was[vehicle_id] -= same
            if vehicle_id in now_on:
                now_on[vehicle_id] -= same
        still = dropped_before[delivery_id]
        for why in sorted(lost):  # unassigned before and still
            same = min(still, lost[why])
            still, lost[why] = still - same, lost[why] - same
        sources: list[tuple[ChangeKind, str | None, int]] = [
            (ChangeKind.moved, v, n) for v, n in sorted(was.items())
        ]
        sources += [(ChangeKind.retried, v, n) for v, n in sorted(came_back.items())]
        sources += [(ChangeKind.added, None, still)]
        targets: list[tuple[str | None, UnassignedReason | None, int]] = [
            (v, None, n) for v, n in sorted(now_on.items())
        ]
        targets += [(None, r, n) for r, n in sorted(lost.items())]
        for kind, frm, units in sources:
            for i, (to, reason, room) in enumerate(targets):
                take = min(units, room)
                if take <= 0:
                    continue
                units -= take
                targets[i] = (to, reason, room - take)
                final = kind if to is not None else ChangeKind.cancelled
                if kind is ChangeKind.added and to is None:
                    continue
                found[delivery_id, final, frm, to, reason] += take
    return tuple(
        StopChange(delivery_id=d, kind=k, quantity_units=n, from_vehicle_id=f, to_vehicle_id=t,
                   reason=r)
        for (d, k, f, t, r), n in sorted(found.items(), key=lambda kv: str(kv[0]))
        if n > 0
    )  # fmt: skip


def replan(
    problem: RoutingProblem,
    plan: Plan | Replan,
    events: Sequence[Event],
    now: dt.datetime,
    params: Params | None = None,
    matrix: TravelMatrix | None = None,
) -> Replan:
    """The plan re-made at ``now`` after ``events``: kept stops first, then new ones.

    ``plan`` is the plan being driven; a ``Replan`` brings its own events along. Pass the
    ``matrix`` the plan was made with, and the same to ``check_replan``.
    """
    params = params or Params()
    source: TravelMatrix = matrix or HaversineMatrix(
        circuity=params.circuity, speed_kmh=params.speed_kmh
    )
    began = time.perf_counter()
    base, prior = (plan.plan, plan.events) if isinstance(plan, Replan) else (plan, ())
    if isinstance(plan, Replan) and now < plan.now:
        raise ReplanError(f"now {now:%H:%M} is before the re-plan's {plan.now:%H:%M}")
    day = _Day(problem, base, (*prior, *events), now, params, source)
    _validate(day)
    routes_of = {r.vehicle_id: r for r in base.routes}
    cuts = {v.vehicle_id: _cut(day, v, routes_of.get(v.vehicle_id)) for v in problem.vehicles}
    failed = _failed_stops(day, cuts)
    earlier = {(e.vehicle_id, e.delivery_id) for e in prior if isinstance(e, DeliveryFailed)}
    fresh = {key for key in failed if key not in earlier}
    pieces, left, restrictions = _pieces(day, cuts, failed, fresh)
    starts = {c.vehicle.vehicle_id: c.start for c in cuts.values() if c.start is not None}
    tails, routed_left = route_suppliers(
        problem,
        pieces,
        params,
        source,
        vehicles=[v for v in problem.vehicles if v.vehicle_id in starts],
        starts=starts,
        restrictions=restrictions,
    )
    left += routed_left
    lines = {t.vehicle_id: _line(day, cuts[t.vehicle_id], t) for t in tails}
    if params.stagger_gates:
        left += _stagger(day, cuts.values(), list(lines.values()))
    refused_roots = {delivery_of(piece, day.deliveries): e for (_, piece), e in failed.items()}
    left = [
        item.model_copy(
            update={
                "detail": f"{item.detail} Delivered again after the gate refused it at "
                f"{refused_roots[root].at:%H:%M} ({refused_roots[root].reason})."
            }
        )
        if (root := delivery_of(item.delivery_id, day.deliveries)) in refused_roots
        and item.reason is not UnassignedReason.delivery_failed
        else item
        for item in left
    ]
    routes = [
        route
        for vehicle in problem.vehicles
        if (route := _merged(day, cuts[vehicle.vehicle_id], lines.get(vehicle.vehicle_id),
                             failed)) is not None
    ]  # fmt: skip
    merged = Plan(
        routes=tuple(routes),
        unassigned=tuple(left),
        status=plan_status(
            sum(d.quantity_units for d in problem.deliveries),
            sum(u.quantity_units for u in left),
        ),
        distance_m=sum(r.distance_m for r in routes),
        solve_time_s=time.perf_counter() - began,
        seed=params.seed,
    )
    return Replan(
        plan=merged,
        now=now,
        events=day.events,
        changes=_changes(day, cuts, lines, left, fresh),
        vehicles=tuple(c.state for c in cuts.values()),
    )
