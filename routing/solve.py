"""Vehicle routes with PyVRP: one entry point ``solve(problem, params) -> Plan``.

Each supplier is routed on its own (its vehicles carry only its goods). Cold-chain
deliveries are routed first on the supplier's refrigerated vehicles; ambient deliveries then
go on its other vehicles plus the refrigerated ones left unused — a two-step split that
keeps refrigeration a hard rule without vehicle–client compatibility in the solver.
Deliveries larger than the biggest vehicle are split into vehicle-sized pieces first.
Every delivery is an optional client with a prize far above any route cost, so PyVRP
serves all it can and what it cannot is reported as unassigned with a reason. Travel is
``HaversineMatrix`` (great circle × circuity at ``Params.speed_kmh``) unless a
``TravelMatrix`` is passed (road graph, OSRM). Costs are metres plus each vehicle's fixed
cost at ¥1 per km (1 cent = 10 m). A vehicle may make up to ``Params.max_trips`` trips,
reloading at its depot in between.

Gate concurrency is post-processing (``routing.gates.stagger``): the solver does not see
other vehicles at a gate, so after routing every supplier, arrivals at a gate beyond its
``max_trucks`` wait for a free slot; a stop that cannot wait without breaking its window,
shift or route duration leaves its route and is reported ``gate_busy``. Not yet
modelled: re-planning.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from collections.abc import Sequence

import numpy as np
from pyvrp import Model
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from routing.gates import stagger
from routing.matrix import HaversineMatrix, Matrix, TravelMatrix
from routing.model import Delivery, Params, RoutingProblem, RoutingVehicle
from routing.result import (
    Plan,
    PlanStatus,
    Route,
    Stop,
    Unassigned,
    UnassignedReason,
    category_loads,
    unassigned,
)

PRIZE_FACTOR = 10
"""A piece's prize is this × (the longest round trip + the dearest vehicle's fixed cost):
above what serving it can cost, yet small enough to keep PyVRP's penalties in scale."""

METRES_PER_CENT = 10
"""Fixed vehicle cost in the objective: ¥1 per km means one cent buys ten metres."""


def split_pieces(delivery: Delivery, capacity_units: int, capacity_kg: int) -> list[Delivery]:
    """``delivery`` cut into the fewest equal pieces that each fit ``capacity``."""
    pieces = max(
        1,
        math.ceil(delivery.quantity_units / capacity_units),
        math.ceil(delivery.weight_kg / capacity_kg) if capacity_kg else 1,
    )
    if pieces == 1:
        return [delivery]
    units = [delivery.quantity_units // pieces + (k < delivery.quantity_units % pieces)
             for k in range(pieces)]  # fmt: skip
    weights = [delivery.weight_kg // pieces + (k < delivery.weight_kg % pieces)
               for k in range(pieces)]  # fmt: skip
    return [
        delivery.model_copy(
            update={
                "delivery_id": f"{delivery.delivery_id}.{k + 1}",
                "quantity_units": units[k],
                "weight_kg": weights[k],
                "service_s": delivery.service_for(units[k]),
            }
        )
        for k in range(pieces)
        if units[k] > 0
    ]


def _at(problem: RoutingProblem, seconds: int) -> dt.datetime:
    return problem.day_start + dt.timedelta(seconds=int(seconds))


def _route_group(
    problem: RoutingProblem,
    deliveries: Sequence[Delivery],
    vehicles: Sequence[RoutingVehicle],
    params: Params,
    time_limit_s: float,
    source: TravelMatrix,
    missing: str,
) -> tuple[list[Route], list[Unassigned]]:
    """Route ``deliveries`` on ``vehicles`` (one supplier, one vehicle kind).

    ``missing`` says which vehicle is lacking when there is none.
    """
    if not deliveries:
        return [], []
    if not vehicles:
        return [], [unassigned(d, UnassignedReason.no_vehicle, missing) for d in deliveries]
    cap_units = max(v.capacity_units for v in vehicles)
    cap_kg = max(v.capacity_kg for v in vehicles)
    pieces = [p for d in deliveries for p in split_pieces(d, cap_units, cap_kg)]
    depot_ids = sorted({v.depot_id for v in vehicles})
    depot_at = {v.depot_id: (v.depot_lon, v.depot_lat) for v in vehicles}
    lons = np.array([depot_at[d][0] for d in depot_ids] + [p.lon for p in pieces])
    lats = np.array([depot_at[d][1] for d in depot_ids] + [p.lat for p in pieces])
    matrix = source.matrix(lons, lats)

    left: list[Unassigned] = []
    routable: list[int] = []
    for index, piece in enumerate(pieces):
        if _reachable(problem, piece, index + len(depot_ids), vehicles, depot_ids, matrix):
            routable.append(index)
        else:
            left.append(
                unassigned(
                    piece,
                    UnassignedReason.window_unreachable,
                    f"Window {piece.window_start:%H:%M}-{piece.window_end:%H:%M}.",
                )
            )
    if not routable:
        return [], left

    model = Model()
    locations = [model.add_location(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    depots = {d: model.add_depot(locations[i], name=d) for i, d in enumerate(depot_ids)}
    for vehicle in vehicles:
        start, end = problem.seconds(vehicle.shift_start), problem.seconds(vehicle.shift_end)
        model.add_vehicle_type(
            1,
            capacity=[vehicle.capacity_kg, vehicle.capacity_units],
            start_depot=depots[vehicle.depot_id],
            end_depot=depots[vehicle.depot_id],
            fixed_cost=vehicle.fixed_cost_cents * METRES_PER_CENT,
            tw_early=start,
            tw_late=end,
            shift_duration=min(problem.max_route_duration_s, end - start),
            reload_depots=[depots[vehicle.depot_id]],
            max_reloads=params.max_trips - 1,
            name=vehicle.vehicle_id,
        )
    used = [*range(len(depot_ids)), *(i + len(depot_ids) for i in routable)]
    for a in used:
        for b in used:
            model.add_edge(
                locations[a],
                locations[b],
                distance=int(matrix.distance_m[a, b]),
                duration=int(matrix.duration_s[a, b]),
            )
    prize = PRIZE_FACTOR * (
        2 * int(matrix.distance_m.max())
        + max(v.fixed_cost_cents for v in vehicles) * METRES_PER_CENT
    )
    for index in routable:
        piece = pieces[index]
        model.add_client(
            locations[index + len(depot_ids)],
            delivery=[piece.weight_kg, piece.quantity_units],
            service_duration=piece.service_s,
            tw_early=problem.seconds(piece.window_start),
            tw_late=problem.seconds(piece.window_end),
            required=False,
            prize=prize,
            name=piece.delivery_id,
        )
    with warnings.catch_warnings():
        # PyVRP warns when its penalties saturate on instances where not every optional
        # client fits; the plan is checked independently and leftovers are reported.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = model.solve(MaxRuntime(time_limit_s), seed=params.seed, display=False)
    solution = result.best

    routes: list[Route] = []
    served: set[int] = set()
    for route in solution.routes() if solution.is_feasible() else []:
        vehicle = vehicles[route.vehicle_type()]
        stops = []
        for activity in route.schedule():
            if not activity.is_client():
                continue
            piece_index = routable[activity.idx]
            served.add(piece_index)
            piece = pieces[piece_index]
            service_start = activity.start_time
            stops.append(
                Stop(
                    delivery_id=piece.delivery_id,
                    compound_id=piece.compound_id,
                    gate_id=piece.gate_id,
                    category_id=piece.category_id,
                    quantity_units=piece.quantity_units,
                    weight_kg=piece.weight_kg,
                    arrival=_at(problem, service_start - activity.wait_duration),
                    service_start=_at(problem, service_start),
                    departure=_at(problem, activity.end_time),
                    window_start=piece.window_start,
                    window_end=piece.window_end,
                    trip=activity.trip,
                )
            )
        routes.append(
            Route(
                vehicle_id=vehicle.vehicle_id,
                supplier_id=vehicle.supplier_id,
                depot_id=vehicle.depot_id,
                driver_id=vehicle.driver_id,
                start=_at(problem, route.start_time()),
                end=_at(problem, route.end_time()),
                stops=tuple(stops),
                distance_m=int(route.distance()),
                load_units=sum(s.quantity_units for s in stops),
                load_kg=sum(s.weight_kg for s in stops),
                trips=route.num_trips(),
                duration_s=int(route.end_time() - route.start_time()),
                load_by_category=category_loads(stops),
            )
        )
    for index in routable:
        if index not in served:
            left.append(unassigned(pieces[index], UnassignedReason.not_routed))
    return routes, left


def _reachable(
    problem: RoutingProblem,
    piece: Delivery,
    location: int,
    vehicles: Sequence[RoutingVehicle],
    depot_ids: list[str],
    matrix: Matrix,
) -> bool:
    """Whether some vehicle can reach the gate inside its window and get back in its shift."""
    for vehicle in vehicles:
        depot = depot_ids.index(vehicle.depot_id)
        out = int(matrix.duration_s[depot, location])
        back = int(matrix.duration_s[location, depot])
        earliest = max(problem.seconds(vehicle.shift_start) + out,
                       problem.seconds(piece.window_start))  # fmt: skip
        if earliest <= problem.seconds(piece.window_end) and (
            earliest + piece.service_s + back <= problem.seconds(vehicle.shift_end)
        ):
            return True
    return False


def solve(
    problem: RoutingProblem, params: Params | None = None, matrix: TravelMatrix | None = None
) -> Plan:
    """Routes for every supplier's deliveries; unassigned pieces listed with reasons.

    ``matrix`` gives travel distances and times (default: haversine × ``params.circuity``
    at ``params.speed_kmh``); pass the same one to ``check_plan``.
    """
    params = params or Params()
    source: TravelMatrix = matrix or HaversineMatrix(
        circuity=params.circuity, speed_kmh=params.speed_kmh
    )
    began = time.perf_counter()
    suppliers = sorted({d.supplier_id for d in problem.deliveries})
    groups = sum(
        any(d.cold_chain == cold for d in problem.deliveries if d.supplier_id == s)
        for s in suppliers
        for cold in (True, False)
    )
    budget = params.time_limit_s / max(1, groups)
    routes: list[Route] = []
    left: list[Unassigned] = []
    for supplier in suppliers:
        mine = [d for d in problem.deliveries if d.supplier_id == supplier]
        fleet = [v for v in problem.vehicles if v.supplier_id == supplier]
        cold = [d for d in mine if d.cold_chain]
        fridges = [v for v in fleet if v.refrigerated]
        cold_routes, cold_left = _route_group(
            problem, cold, fridges, params, budget, source,
            f"Supplier {supplier} has no refrigerated vehicle with a valid shift.",
        )  # fmt: skip
        busy = {r.vehicle_id for r in cold_routes}
        rest = [v for v in fleet if v.vehicle_id not in busy]
        ambient = [d for d in mine if not d.cold_chain]
        ambient_routes, ambient_left = _route_group(
            problem, ambient, rest, params, budget, source,
            f"Supplier {supplier} has no free vehicle with a valid shift.",
        )  # fmt: skip
        routes += cold_routes + ambient_routes
        left += cold_left + ambient_left
    if params.stagger_gates:
        routes, gate_left = stagger(problem, routes, source)
        left += gate_left
    ordered = sum(d.quantity_units for d in problem.deliveries)
    missing = sum(u.quantity_units for u in left)
    status = (
        PlanStatus.complete
        if missing == 0
        else PlanStatus.nothing_routed
        if missing == ordered
        else PlanStatus.partial
    )
    return Plan(
        routes=tuple(routes),
        unassigned=tuple(left),
        status=status,
        distance_m=sum(r.distance_m for r in routes),
        solve_time_s=time.perf_counter() - began,
        seed=params.seed,
    )
