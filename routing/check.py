"""Independent feasibility check of a plan, recomputed from the problem data alone.

It does not trust the solver's numbers: loads are re-added, travel times recomputed with
the same speed model (its own haversine by default, or the ``TravelMatrix`` the plan was
made with), windows, shifts, the driver's test and the vehicle pass (the route ends before
either expires), refrigeration and gate truck limits checked, and quantities conserved
(routed + unassigned = ordered for every delivery).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable

import numpy as np

from data.geo import haversine_m
from routing.matrix import TravelMatrix
from routing.model import Params, RoutingProblem, parent_id
from routing.result import Plan

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


def check_plan(
    problem: RoutingProblem,
    plan: Plan,
    params: Params | None = None,
    matrix: TravelMatrix | None = None,
) -> list[str]:
    """Every violation found, as a sentence; an empty list means the plan is feasible.

    Pass the ``matrix`` the plan was solved with, if not the default haversine.
    """
    params = params or Params()
    travel = _haversine_leg(params) if matrix is None else _matrix_leg(problem, matrix)

    def _travel_s(lon1: float, lat1: float, lon2: float, lat2: float) -> int:
        return travel(lon1, lat1, lon2, lat2)[1]

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
        for stop in route.stops:
            if stop.trip != trip:  # back to the depot to reload first
                metres, seconds = travel(lon, lat, vehicle.depot_lon, vehicle.depot_lat)
                clock += dt.timedelta(seconds=seconds)
                distance += metres
                legs += 1
                lon, lat, trip = vehicle.depot_lon, vehicle.depot_lat, stop.trip
            delivery = deliveries.get(parent_id(stop.delivery_id))
            if delivery is None:
                problems.append(f"stop for unknown delivery {stop.delivery_id}")
                continue
            carried[delivery.delivery_id] += stop.quantity_units
            if delivery.supplier_id != vehicle.supplier_id:
                problems.append(f"{vehicle.vehicle_id} carries another supplier's goods")
            if delivery.cold_chain and not vehicle.refrigerated:
                problems.append(
                    f"cold-chain {stop.delivery_id} on unrefrigerated {vehicle.vehicle_id}"
                )
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
        carried[parent_id(item.delivery_id)] += item.quantity_units
    for delivery in problem.deliveries:
        if carried[delivery.delivery_id] != delivery.quantity_units:
            problems.append(
                f"{delivery.delivery_id}: {carried[delivery.delivery_id]} units routed or "
                f"listed as unassigned, {delivery.quantity_units} ordered"
            )
    return problems


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
