"""Independent feasibility check of a plan, recomputed from the problem data alone.

It does not trust the solver's numbers: loads are re-added, travel times recomputed with
the same speed model, windows, shifts and refrigeration checked, and quantities conserved
(routed + unassigned = ordered for every delivery).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from data.geo import haversine_m
from routing.model import Params, RoutingProblem
from routing.result import Plan
from routing.solve import parent_id

SLACK_S = 1
"""Rounding slack in seconds when comparing recomputed times."""


def _travel_s(params: Params, lon1: float, lat1: float, lon2: float, lat2: float) -> int:
    metres = haversine_m(lon1, lat1, lon2, lat2) * params.circuity
    return round(metres / (params.speed_kmh / 3.6))


def check_plan(problem: RoutingProblem, plan: Plan, params: Params | None = None) -> list[str]:
    """Every violation found, as a sentence; an empty list means the plan is feasible."""
    params = params or Params()
    deliveries = {d.delivery_id: d for d in problem.deliveries}
    vehicles = {v.vehicle_id: v for v in problem.vehicles}
    problems: list[str] = []
    carried: Counter[str] = Counter()
    slack = dt.timedelta(seconds=SLACK_S)
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
        clock = route.start
        lon, lat = vehicle.depot_lon, vehicle.depot_lat
        trip = 0
        for stop in route.stops:
            if stop.trip != trip:  # back to the depot to reload first
                clock += dt.timedelta(
                    seconds=_travel_s(params, lon, lat, vehicle.depot_lon, vehicle.depot_lat)
                )
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
            earliest = clock + dt.timedelta(
                seconds=_travel_s(params, lon, lat, delivery.lon, delivery.lat)
            )
            if stop.arrival < earliest - slack:
                problems.append(f"{stop.delivery_id}: arrives before the truck can get there")
            if not (
                delivery.window_start - slack <= stop.service_start <= delivery.window_end + slack
            ):
                problems.append(
                    f"{stop.delivery_id}: service at {stop.service_start:%H:%M} outside "
                    f"{delivery.window_start:%H:%M}-{delivery.window_end:%H:%M}"
                )
            clock = stop.service_start + dt.timedelta(seconds=delivery.service_s)
            lon, lat = delivery.lon, delivery.lat
        back = clock + dt.timedelta(
            seconds=_travel_s(params, lon, lat, vehicle.depot_lon, vehicle.depot_lat)
        )
        if route.end < back - slack:
            problems.append(f"{vehicle.vehicle_id} is back at the depot too early")
    for item in plan.unassigned:
        carried[parent_id(item.delivery_id)] += item.quantity_units
    for delivery in problem.deliveries:
        if carried[delivery.delivery_id] != delivery.quantity_units:
            problems.append(
                f"{delivery.delivery_id}: {carried[delivery.delivery_id]} units routed or "
                f"listed as unassigned, {delivery.quantity_units} ordered"
            )
    return problems
