"""Independent feasibility check of a plan, recomputed from the problem data alone.

It does not trust the solver's numbers: loads are re-added, travel times recomputed with
the same speed model (its own haversine by default, or the ``TravelMatrix`` the plan was
made with), windows, shifts, the driver's test and the vehicle pass (the route ends before
either expires), refrigeration and gate truck limits checked, and quantities conserved
(routed + unassigned = ordered for every delivery). Given the crews of crewed vehicles,
every person on board must hold a 48-hour test and a work ID at each arrival
(``routing.crew``): a stop after an expiry is a violation naming the person and the time.

``check_replan`` checks a re-plan against the plan it replaced: it recomputes which stops
each vehicle had served or was committed to at ``now`` and requires them first and
unchanged; new stops start from where the vehicle then is, no earlier than ``now``, and
on its current trip carry only what was on board; a broken-down vehicle gets nothing new
and never drives home; refused stops count for nothing, their re-deliveries wait until
``retry_from``; a sealed compound sees only vehicles with a pass.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from data.geo import haversine_m
from routing.crew import OnBoard, check_crew
from routing.matrix import TravelMatrix
from routing.model import Delivery, Params, RoutingProblem, RoutingVehicle
from routing.replan import (
    CompoundSealed,
    DeliveryFailed,
    Replan,
    VehicleBreakdown,
    delivery_of,
)
from routing.result import Plan, Route, Stop

Leg = Callable[[float, float, float, float], tuple[int, int]]
"""(lon1, lat1, lon2, lat2) -> (metres, seconds)."""

SLACK_S = 1
"""Rounding slack in seconds when comparing recomputed times."""


def _haversine_leg(params: Params) -> Leg:
    def leg(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[int, int]:
        metres = haversine_m(lon1, lat1, lon2, lat2) * params.circuity
        return round(metres), round(metres / (params.speed_kmh / 3.6))

    return leg


def _matrix_leg(problem: RoutingProblem, source: TravelMatrix) -> Leg:
    points = sorted(
        {(v.depot_lon, v.depot_lat) for v in problem.vehicles}
        | {(d.lon, d.lat) for d in problem.deliveries}
    )
    index = {p: i for i, p in enumerate(points)}
    lons = np.array([p[0] for p in points], dtype=np.float64)
    lats = np.array([p[1] for p in points], dtype=np.float64)
    metres, seconds = source.matrix(lons, lats) if points else (np.zeros((0, 0)),) * 2

    def leg(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[int, int]:
        a, b = index[lon1, lat1], index[lon2, lat2]
        return int(metres[a, b]), int(seconds[a, b])

    return leg


@dataclass(frozen=True)
class _Keep:
    """What a re-plan must keep of one vehicle's route, and what it then has on board."""

    fixed: tuple[Stop, ...] = ()
    start: dt.datetime | None = None
    on_board: frozenset[str] = frozenset()
    broken_at: dt.datetime | None = None


@dataclass(frozen=True)
class _Since:
    """A re-plan's clock and events, as the route walk needs them."""

    now: dt.datetime
    keep: dict[str, _Keep] = field(default_factory=dict)
    failed: frozenset[tuple[str, str]] = frozenset()
    retry_from: dict[str, dt.datetime] = field(default_factory=dict)
    sealed: dict[str, CompoundSealed] = field(default_factory=dict)


def check_plan(
    problem: RoutingProblem,
    plan: Plan,
    params: Params | None = None,
    matrix: TravelMatrix | None = None,
    crews: Mapping[str, Sequence[OnBoard]] | None = None,
) -> list[str]:
    """Every violation found, as a sentence; an empty list means the plan is feasible.

    Pass the ``matrix`` the plan was solved with, if not the default haversine. ``crews``
    (vehicle_id → everyone on board, ``routing.crew.on_board``) adds a check of each
    person's 48-hour test and work ID at every arrival of that vehicle.
    """
    params = params or Params()
    travel = _haversine_leg(params) if matrix is None else _matrix_leg(problem, matrix)
    found = _check(problem, plan, params, travel, None)
    return found + [v.reason for v in check_crew(plan, crews or {})]


def check_replan(
    problem: RoutingProblem,
    before: Plan | Replan,
    after: Replan,
    params: Params | None = None,
    matrix: TravelMatrix | None = None,
) -> list[str]:
    """Every violation of the re-plan ``after`` of ``before``, as a sentence (empty: none).

    Pass the ``matrix`` both were made with, if not the default haversine.
    """
    params = params or Params()
    travel = _haversine_leg(params) if matrix is None else _matrix_leg(problem, matrix)
    base, prior = (before.plan, before.events) if isinstance(before, Replan) else (before, ())
    problems = [f"the re-plan drops the earlier event {e.kind} at {e.at:%H:%M}"
                for e in prior if e not in after.events]  # fmt: skip
    now = after.now
    broken_at: dict[str, dt.datetime] = {}
    for event in after.events:
        if isinstance(event, VehicleBreakdown):
            broken_at[event.vehicle_id] = min(event.at, broken_at.get(event.vehicle_id, event.at))
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    known = {d.delivery_id: d for d in problem.deliveries}
    keep: dict[str, _Keep] = {v: _Keep(broken_at=t) for v, t in broken_at.items()}
    for route in base.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is not None:
            keep[route.vehicle_id] = _kept(route, vehicle, now, broken_at, known, travel)
    failed = frozenset(
        (e.vehicle_id, e.delivery_id) for e in after.events if isinstance(e, DeliveryFailed)
    )
    retry_from: dict[str, dt.datetime] = {}
    for event in after.events:
        if isinstance(event, DeliveryFailed):
            root = delivery_of(event.delivery_id, known)
            again = event.retry_from or event.at
            retry_from[root] = max(again, retry_from.get(root, again))
            stops = keep.get(event.vehicle_id, _Keep()).fixed
            if not any(s.delivery_id == event.delivery_id for s in stops):
                problems.append(
                    f"{event.delivery_id} is reported refused but {event.vehicle_id} had not "
                    f"reached it by {now:%H:%M}"
                )
    seals = sorted((e for e in after.events if isinstance(e, CompoundSealed)), key=lambda e: e.at)
    sealed = {e.compound_id: e for e in seals}
    context = _Since(now, keep, failed, retry_from, sealed)
    problems += _check(problem, after.plan, params, travel, context)
    routed = {r.vehicle_id for r in after.plan.routes}
    for vehicle_id, kept in sorted(keep.items()):
        if kept.fixed and vehicle_id not in routed:
            problems.append(f"{vehicle_id}: the re-plan drops its served and committed stops")
    return problems


def _kept(
    route: Route,
    vehicle: RoutingVehicle,
    now: dt.datetime,
    broken_at: dict[str, dt.datetime],
    known: dict[str, Delivery],
    travel: Leg,
) -> _Keep:
    """The stops of ``route`` served by ``now`` (or the breakdown) plus the one driven to."""
    stops = route.stops
    if route.vehicle_id in broken_at:
        at = broken_at[route.vehicle_id]
        served = 0
        while served < len(stops) and stops[served].service_start <= at:
            served += 1
        return _Keep(fixed=stops[:served], start=route.start, broken_at=at)
    done = 0
    while done < len(stops) and stops[done].departure <= now:
        done += 1
    if done == len(stops):
        return _Keep(fixed=stops, start=route.start)
    upcoming = stops[done]
    if done == 0:
        left = route.start <= now
    elif upcoming.trip == stops[done - 1].trip:
        left = True  # it has unloaded the stop before on the same trip and drives on
    elif (gate := known.get(delivery_of(upcoming.delivery_id, known))) is not None:
        _, out = travel(vehicle.depot_lon, vehicle.depot_lat, gate.lon, gate.lat)
        left = upcoming.arrival - dt.timedelta(seconds=out) <= now
    else:
        left = False  # an unknown delivery: the route walk reports it
    if not left:
        return _Keep(fixed=stops[:done], start=route.start if done else None)
    aboard = []
    for stop in stops[done + 1 :]:
        if stop.trip != upcoming.trip:
            break
        aboard.append(stop.delivery_id)
    return _Keep(fixed=stops[: done + 1], start=route.start, on_board=frozenset(aboard))


def _check(
    problem: RoutingProblem,
    plan: Plan,
    params: Params,
    travel: Leg,
    since: _Since | None,
) -> list[str]:
    """The checks of ``check_plan``; with ``since``, also those of a re-plan's new stops."""
    deliveries = {d.delivery_id: d for d in problem.deliveries}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    problems: list[str] = []
    carried: Counter[str] = Counter()
    slack = dt.timedelta(seconds=SLACK_S)
    unloading: dict[str, list[tuple[dt.datetime, dt.datetime, str, int]]] = defaultdict(list)
    used_vehicles: Counter[str] = Counter(r.vehicle_id for r in plan.routes)
    for vehicle_id, count in used_vehicles.items():
        if count > 1:
            problems.append(f"vehicle {vehicle_id} has {count} routes")
    for route in plan.routes:
        vehicle = vehicles.get(route.vehicle_id)
        if vehicle is None:
            problems.append(f"route of unknown vehicle {route.vehicle_id}")
            continue
        keep = _Keep() if since is None else since.keep.get(vehicle.vehicle_id, _Keep())
        kept = len(keep.fixed)
        if since is not None:
            problems += _kept_problems(route, keep, since.now, slack)
        for trip in sorted({s.trip for s in route.stops}):
            units = sum(s.quantity_units for s in route.stops if s.trip == trip)
            kg = sum(s.weight_kg for s in route.stops if s.trip == trip)
            if units > vehicle.capacity_units or kg > vehicle.capacity_kg:
                problems.append(
                    f"{vehicle.vehicle_id} trip {trip} carries {units} units / {kg} kg over "
                    f"its capacity {vehicle.capacity_units} / {vehicle.capacity_kg}"
                )
        if len({s.trip for s in route.stops}) > params.max_trips:
            problems.append(f"{vehicle.vehicle_id} makes more than {params.max_trips} trips")
        if route.start < vehicle.shift_start - slack or route.end > vehicle.shift_end + slack:
            problems.append(f"{vehicle.vehicle_id} drives outside its shift")
        if (route.end - route.start).total_seconds() > problem.max_route_duration_s + SLACK_S:
            problems.append(f"{vehicle.vehicle_id} exceeds the maximum route duration")
        for name, until in (
            ("driver's 48-hour test", vehicle.driver_test_valid_until),
            ("vehicle pass", vehicle.vehicle_pass_valid_until),
        ):
            if until is not None and route.end > until + slack:
                problems.append(
                    f"{vehicle.vehicle_id} returns {route.end:%H:%M}, after its {name} "
                    f"expires {until:%H:%M}"
                )
        if route.driver_id != vehicle.driver_id:
            problems.append(
                f"{vehicle.vehicle_id} is driven by {route.driver_id}, not its assigned "
                f"driver {vehicle.driver_id}"
            )
        distance = legs = 0
        clock = route.start
        lon, lat = vehicle.depot_lon, vehicle.depot_lat
        trip = 0
        for i, stop in enumerate(route.stops):
            if stop.trip != trip:  # back to the depot to reload first
                metres, seconds = travel(lon, lat, vehicle.depot_lon, vehicle.depot_lat)
                clock += dt.timedelta(seconds=seconds)
                distance += metres
                legs += 1
                lon, lat, trip = vehicle.depot_lon, vehicle.depot_lat, stop.trip
            new = since is not None and i >= kept
            if since is not None and new:
                clock = max(clock, since.now)  # it is free from now where it is
            delivery = deliveries.get(delivery_of(stop.delivery_id, deliveries))
            if delivery is None:
                problems.append(f"stop for unknown delivery {stop.delivery_id}")
                continue
            refused = since is not None and (vehicle.vehicle_id, stop.delivery_id) in since.failed
            if not (refused and i < kept):
                carried[delivery.delivery_id] += stop.quantity_units
            if delivery.supplier_id != vehicle.supplier_id:
                problems.append(f"{vehicle.vehicle_id} carries another supplier's goods")
            if delivery.cold_chain and not vehicle.refrigerated:
                problems.append(
                    f"cold-chain {stop.delivery_id} on unrefrigerated {vehicle.vehicle_id}"
                )
            if since is not None and new:
                problems += _new_stop_problems(route, i, keep, vehicle, delivery, since, slack)
            metres, seconds = travel(lon, lat, delivery.lon, delivery.lat)
            distance += metres
            legs += 1
            earliest = clock + dt.timedelta(seconds=seconds)
            if stop.arrival < earliest - slack:
                problems.append(f"{stop.delivery_id}: arrives before the truck can get there")
            if not (
                delivery.window_start - slack <= stop.service_start <= delivery.window_end + slack
            ):
                problems.append(
                    f"{stop.delivery_id}: service at {stop.service_start:%H:%M} outside "
                    f"{delivery.window_start:%H:%M}-{delivery.window_end:%H:%M}"
                )
            service = dt.timedelta(seconds=delivery.service_for(stop.quantity_units))
            clock = stop.service_start + service
            lon, lat = delivery.lon, delivery.lat
            unloading[stop.gate_id].append(
                (stop.service_start, clock, vehicle.vehicle_id, delivery.gate_max_trucks)
            )
        if keep.broken_at is None:  # a broken-down vehicle never drives home
            metres, seconds = travel(lon, lat, vehicle.depot_lon, vehicle.depot_lat)
            distance += metres
            legs += 1
            if route.end < clock + dt.timedelta(seconds=seconds) - slack:
                problems.append(f"{vehicle.vehicle_id} is back at the depot too early")
        if abs(route.distance_m - distance) > legs:  # 1 m rounding per leg
            problems.append(
                f"{vehicle.vehicle_id}: route says {route.distance_m} m, its legs add up to "
                f"{distance} m"
            )
    problems += _gate_overlaps(unloading)
    for item in plan.unassigned:
        carried[delivery_of(item.delivery_id, deliveries)] += item.quantity_units
    for delivery in problem.deliveries:
        if carried[delivery.delivery_id] != delivery.quantity_units:
            problems.append(
                f"{delivery.delivery_id}: {carried[delivery.delivery_id]} units routed or "
                f"listed as unassigned, {delivery.quantity_units} ordered"
            )
    return problems


def _kept_problems(route: Route, keep: _Keep, now: dt.datetime, slack: dt.timedelta) -> list[str]:
    """Whether ``route`` starts with the stops it had to keep, from the same start."""
    found: list[str] = []
    kept = len(keep.fixed)
    if route.stops[:kept] != keep.fixed:
        found.append(
            f"{route.vehicle_id}: its {kept} served and committed stops are not kept first "
            "and unchanged"
        )
    if kept and route.start != keep.start:
        found.append(f"{route.vehicle_id}: its route start moved from {keep.start:%H:%M}")
    if not kept and route.start < now - slack:
        found.append(f"{route.vehicle_id} leaves {route.start:%H:%M}, before now {now:%H:%M}")
    if keep.broken_at is not None and len(route.stops) > kept:
        found.append(f"{route.vehicle_id} broke down at {keep.broken_at:%H:%M} but has new stops")
    return found


def _new_stop_problems(
    route: Route,
    i: int,
    keep: _Keep,
    vehicle: RoutingVehicle,
    delivery: Delivery,
    since: _Since,
    slack: dt.timedelta,
) -> list[str]:
    """What is wrong with the re-plan's new stop ``i`` of ``route``."""
    stop = route.stops[i]
    found: list[str] = []
    kept = len(keep.fixed)
    if kept and stop.trip == keep.fixed[-1].trip and stop.delivery_id not in keep.on_board:
        found.append(
            f"{vehicle.vehicle_id} delivers {stop.delivery_id} on its current trip without "
            "having it on board"
        )
    if stop.service_start < since.now - slack:
        found.append(f"{stop.delivery_id}: new stop at {stop.service_start:%H:%M}, before now")
    retry = since.retry_from.get(delivery.delivery_id)
    if retry is not None and stop.service_start < retry - slack:
        found.append(
            f"{stop.delivery_id}: delivered again at {stop.service_start:%H:%M}, before the "
            f"gate takes it back from {retry:%H:%M}"
        )
    seal = since.sealed.get(delivery.compound_id)
    if seal is not None and not (
        vehicle.supplier_id in seal.suppliers_serving
        and vehicle.vehicle_id in seal.vehicles_with_pass
    ):
        found.append(
            f"{vehicle.vehicle_id} enters sealed compound {delivery.compound_id} without a "
            "pass or a supplier serving sealed compounds"
        )
    return found


def _gate_overlaps(
    unloading: dict[str, list[tuple[dt.datetime, dt.datetime, str, int]]],
) -> list[str]:
    """Moments when a gate has more vehicles unloading than its ``max_trucks``."""
    found: list[str] = []
    for gate_id, spans in sorted(unloading.items()):
        limit = min(span[3] for span in spans)
        for start, _, vehicle_id, _ in spans:
            # At each unloading start, count the other vehicles unloading then.
            there = {v for s, e, v, _ in spans if s <= start < e and v != vehicle_id}
            if len(there) + 1 > limit:
                found.append(
                    f"gate {gate_id}: {len(there) + 1} trucks unload at {start:%H:%M:%S} "
                    f"({vehicle_id}, {', '.join(sorted(there))}), limit {limit}"
                )
                break
    return found
