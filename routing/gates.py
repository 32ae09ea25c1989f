"""Gate concurrency: stagger arrivals so no gate unloads more trucks at once than it allows.

PyVRP routes each supplier's vehicles without seeing the others at a gate, so this runs
after routing, over the whole day. Visits (consecutive stops of one vehicle at one gate)
are taken in order of service start; a visit that would make its gate exceed
``gate_max_trucks`` waits for the earliest free slot, and the wait is carried through the
rest of its route (later waiting at a window absorbs it). A visit that cannot wait without
breaking a later window, the vehicle's shift or the maximum route duration leaves its
route; its stops are reported ``gate_busy``. Greedy and first-come-first-served: it never
reorders a route, so it is a repair, not an optimisation.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.matrix import TravelMatrix
from routing.model import Delivery, RoutingProblem, RoutingVehicle, parent_id
from routing.result import (
    Route,
    Stop,
    Unassigned,
    UnassignedReason,
    category_loads,
    unassigned,
)


@dataclass
class _Timeline:
    """A route's times in seconds from ``day_start``, mutable while staggering."""

    route: Route
    vehicle: RoutingVehicle
    arrival: list[int]
    start: list[int]
    depart: list[int]
    drive: list[int]  # drive[i]: seconds from leaving stop i-1 (or the depot) to stop i
    end: int
    wait: list[int] = field(default_factory=list)
    dropped: set[int] = field(default_factory=set)


def visits(stops: Sequence[Stop]) -> list[tuple[int, int]]:
    """``(first, last)`` stop indices of each run of consecutive stops at one gate."""
    runs: list[tuple[int, int]] = []
    for i, stop in enumerate(stops):
        if runs and stops[runs[-1][1]].gate_id == stop.gate_id and stops[i - 1].trip == stop.trip:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _timeline(problem: RoutingProblem, route: Route, vehicle: RoutingVehicle) -> _Timeline:
    arrival = [problem.seconds(s.arrival) for s in route.stops]
    start = [problem.seconds(s.service_start) for s in route.stops]
    depart = [problem.seconds(s.departure) for s in route.stops]
    before = [problem.seconds(route.start), *depart[:-1]]
    return _Timeline(
        route=route,
        vehicle=vehicle,
        arrival=arrival,
        start=start,
        depart=depart,
        drive=[a - b for a, b in zip(arrival, before, strict=True)],
        end=problem.seconds(route.end),
        wait=[0] * len(route.stops),
    )


def _delayed(
    problem: RoutingProblem, line: _Timeline, first: int, new_start: int
) -> _Timeline | None:
    """``line`` with stop ``first`` served from ``new_start``; ``None`` if that breaks it."""
    stops = line.route.stops
    start, depart, arrival = list(line.start), list(line.depart), list(line.arrival)
    shift = new_start - start[first]
    start[first] = new_start
    depart[first] += shift
    for j in range(first + 1, len(stops)):
        arrival[j] = depart[j - 1] + line.drive[j]
        moved = max(arrival[j], line.start[j])
        depart[j] += moved - start[j]
        start[j] = moved
    end = line.end + (depart[-1] - line.depart[-1])
    for j in range(first, len(stops)):
        if j not in line.dropped and start[j] > problem.seconds(stops[j].window_end):
            return None
    begin = problem.seconds(line.route.start)
    if end > problem.seconds(line.vehicle.shift_end) or end - begin > problem.max_route_duration_s:
        return None
    wait = list(line.wait)
    wait[first] += shift
    return _Timeline(line.route, line.vehicle, arrival, start, depart, line.drive, end, wait,
                     line.dropped)  # fmt: skip


def _free_from(booked: list[tuple[int, int]], at: int, length: int, capacity: int) -> int:
    """Earliest time from ``at`` when an interval of ``length`` overlaps < ``capacity``."""
    for t in sorted({at, *(e for _, e in booked if e > at)}):
        if sum(1 for s, e in booked if s < t + max(length, 1) and e > t) < capacity:
            return t
    return at  # unreachable: after every booking ends the gate is free


def stagger(
    problem: RoutingProblem, routes: Sequence[Route], source: TravelMatrix
) -> tuple[list[Route], list[Unassigned]]:
    """Routes with waits inserted so every gate stays within its truck limit.

    Returns the adjusted routes and the stops that had to leave them (``gate_busy``).
    """
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    deliveries = {d.delivery_id: d for d in problem.deliveries}
    lines = [_timeline(problem, r, vehicles[r.vehicle_id]) for r in routes]
    runs = [visits(r.stops) for r in routes]
    queue = [(lines[r].start[first], r, k) for r, rr in enumerate(runs) for k, (first, _) in
             enumerate(rr)]  # fmt: skip
    heapq.heapify(queue)
    booked: dict[str, list[tuple[int, int]]] = {}
    while queue:
        key, r, k = heapq.heappop(queue)
        line = lines[r]
        first, last = runs[r][k]
        if key != line.start[first]:  # moved by an earlier wait on its route: re-queue
            heapq.heappush(queue, (line.start[first], r, k))
            continue
        stop = line.route.stops[first]
        capacity = deliveries[parent_id(stop.delivery_id)].gate_max_trucks
        gate = booked.setdefault(stop.gate_id, [])
        length = line.depart[last] - line.start[first]
        slot = _free_from(gate, line.start[first], length, capacity)
        if slot > line.start[first]:
            moved = _delayed(problem, line, first, slot)
            if moved is None:
                line.dropped.update(range(first, last + 1))
                continue
            lines[r] = line = moved
        gate.append((line.start[first], line.depart[last]))
    kept: list[Route] = []
    left: list[Unassigned] = []
    for line in lines:
        kept_route = _rebuilt(problem, line, deliveries, source)
        if kept_route is not None:
            kept.append(kept_route)
        for j in sorted(line.dropped):
            stop = line.route.stops[j]
            piece = deliveries[parent_id(stop.delivery_id)].model_copy(
                update={"delivery_id": stop.delivery_id, "quantity_units": stop.quantity_units}
            )
            left.append(
                unassigned(piece, UnassignedReason.gate_busy, f"Gate {stop.gate_id} was full.")
            )
    return kept, left


def _rebuilt(
    problem: RoutingProblem,
    line: _Timeline,
    deliveries: dict[str, Delivery],
    source: TravelMatrix,
) -> Route | None:
    """The route with the new times, without dropped stops (``None`` if none are left)."""
    route = line.route
    if not line.dropped and not any(line.wait):
        return route
    at = problem.day_start
    stops = [
        stop.model_copy(
            update={
                "arrival": at + dt.timedelta(seconds=line.arrival[j]),
                "service_start": at + dt.timedelta(seconds=line.start[j]),
                "departure": at + dt.timedelta(seconds=line.depart[j]),
                "gate_wait_s": line.wait[j],
            }
        )
        for j, stop in enumerate(route.stops)
        if j not in line.dropped
    ]
    if not stops:
        return None
    distance = route.distance_m
    if line.dropped:
        distance = route_distance_m(line.vehicle, stops, deliveries, source)
    return route.model_copy(
        update={
            "stops": tuple(stops),
            "end": at + dt.timedelta(seconds=line.end),
            "duration_s": line.end - problem.seconds(route.start),
            "distance_m": distance,
            "load_units": sum(s.quantity_units for s in stops),
            "load_kg": sum(s.weight_kg for s in stops),
            "trips": len({s.trip for s in stops}),
            "load_by_category": category_loads(stops),
        }
    )


def route_distance_m(
    vehicle: RoutingVehicle,
    stops: Sequence[Stop],
    deliveries: dict[str, Delivery],
    source: TravelMatrix,
) -> int:
    """Metres from the depot through ``stops`` (back to the depot between trips) and home."""
    points = [(vehicle.depot_lon, vehicle.depot_lat)]
    order = [0]
    trip = stops[0].trip if stops else 0
    for stop in stops:
        if stop.trip != trip:
            order.append(0)
            trip = stop.trip
        delivery = deliveries[parent_id(stop.delivery_id)]
        points.append((delivery.lon, delivery.lat))
        order.append(len(points) - 1)
    order.append(0)
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    metres = source.matrix(lons, lats).distance_m
    return sum(int(metres[a, b]) for a, b in itertools.pairwise(order))
