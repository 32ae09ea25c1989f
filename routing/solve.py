"""Vehicle routes with PyVRP: one entry point ``solve(problem, params) -> Plan``.

Each supplier is routed on its own (its vehicles carry only its goods). Cold-chain
deliveries are routed first on the supplier's refrigerated vehicles; ambient deliveries then
go on its other vehicles plus the refrigerated ones left unused — a two-step split that
keeps refrigeration a hard rule without vehicle–client compatibility in the solver.
Deliveries larger than the biggest vehicle are split into vehicle-sized pieces first.
Each group (supplier × vehicle kind) is first solved with every delivery a required client
(PyVRP's plain VRPTW search, its strongest), for the whole budget unless no feasible plan
has appeared after ``REQUIRED_SHARE`` of it; then the rest of the budget solves the
prize-collecting model, every delivery an optional client
with a prize far above any route cost, so PyVRP serves all it can and what it cannot is
reported as unassigned with a reason. Vehicles alike in every modelled respect (depot,
shift, capacities, trips, cost) are one PyVRP vehicle type, and only multi-trip vehicles
get a reload depot: both measured to help the search (``benchmarks/solomon.py``). Travel is
``HaversineMatrix`` (great circle × circuity at ``Params.speed_kmh``) unless a
``TravelMatrix`` is passed (road graph, OSRM). Costs are metres plus each vehicle's fixed
cost at ¥1 per km (1 cent = 10 m). A vehicle may make up to ``Params.max_trips`` trips,
reloading at its depot in between.

Gate concurrency is post-processing (``routing.gates.stagger``): the solver does not see
other vehicles at a gate, so after routing every supplier, arrivals at a gate beyond its
``max_trucks`` wait for a free slot; a stop that cannot wait without breaking its window,
shift or route duration leaves its route and is reported ``gate_busy``.

For re-planning (``routing.replan``), ``route_suppliers`` also takes where each vehicle
is free (``VehicleStart``: a gate or its depot, a time, trips left, goods on board) and
which vehicles may serve a piece (``Restriction``). A vehicle out at a gate is a PyVRP
vehicle type with its own start depot there; until it reloads it may deliver only what
it has on board, modelled by one extra load dimension per such vehicle that its initial
load fills (PyVRP drops initial load at the first reload). A restriction is one extra
dimension that only the allowed vehicles have capacity in.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import Field
from pyvrp import Model as PyVRPModel
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from data.schemas import AwareDatetime, Identifier, Lat, Lon, Model
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
COMMITTED_PRIZE = 8
"""A committed piece (``Delivery.committed``) is worth this many ordinary pieces, so a
fleet too small for the day drops ordinary pieces first."""
REQUIRED_SHARE = 0.2
"""Share of a group's budget after which serving every piece is given up if no feasible
plan has been found (see ``_route_group``)."""
INFEASIBLE_COST = 2**63 - 1
"""The cost PyVRP reports to a stopping criterion while no feasible solution is known."""

METRES_PER_CENT = 10
"""Fixed vehicle cost in the objective: ¥1 per km means one cent buys ten metres."""


class VehicleStart(Model):
    """Where and when a vehicle is free during the day, and what it still carries."""

    vehicle_id: Identifier
    lon: Lon
    lat: Lat
    free_at: AwareDatetime
    route_start: AwareDatetime | None = Field(
        default=None, description="when its route began (counts toward the route duration)"
    )
    next_trip: int = Field(default=0, ge=0, description="index of its next trip from the depot")
    trips_left: int = Field(ge=0, description="trips it may still load at its depot")
    on_board: frozenset[Identifier] = Field(
        default=frozenset(),
        description="pieces it carries: its current trip goes on from here with only these",
    )


class Restriction(Model):
    """Only these vehicles may serve a piece; the reason to give when none can."""

    vehicle_ids: frozenset[Identifier]
    reason: UnassignedReason
    why: str = ""


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


@dataclass(frozen=True)
class _Launch:
    """How one vehicle enters the solver: start node, time bounds, reloads, first trip."""

    vehicle: RoutingVehicle
    node: int  # location index it starts from: its depot, or a gate it is at
    home: int  # location index of its depot
    early: int
    late: int
    duration: int
    reloads: int
    first_trip: int
    fixed_cost: int
    on_board: frozenset[str] | None  # None: loads at its depot first


def _launch(
    problem: RoutingProblem,
    vehicle: RoutingVehicle,
    start: VehicleStart | None,
    params: Params,
    node: int,
    home: int,
    piece_ids: set[str],
    matrix: Matrix,
) -> _Launch | None:
    """``vehicle``'s entry into the solver from ``start`` (``None``: its whole shift)."""
    shift_start = problem.seconds(vehicle.shift_start)
    shift_end = problem.seconds(vehicle.shift_end)
    fixed_cost = vehicle.fixed_cost_cents * METRES_PER_CENT
    if start is None:
        duration = min(problem.max_route_duration_s, shift_end - shift_start)
        return _Launch(vehicle, home, home, shift_start, shift_end, duration,
                       params.max_trips - 1, 0, fixed_cost, None)  # fmt: skip
    late = shift_end
    if start.route_start is not None:
        late = min(late, problem.seconds(start.route_start) + problem.max_route_duration_s)
        fixed_cost = 0  # already paid for the day
    free = problem.seconds(start.free_at)
    carried = start.on_board & piece_ids
    if carried and node != home:
        launch = _Launch(vehicle, node, home, free, late, late - free, start.trips_left,
                         max(0, start.next_trip - 1), fixed_cost, frozenset(carried))  # fmt: skip
    else:
        if start.trips_left == 0:
            return None
        early = max(shift_start, free + int(matrix.duration_s[node, home]))
        duration = late - early
        if start.route_start is None:
            duration = min(problem.max_route_duration_s, duration)
        launch = _Launch(vehicle, home, home, early, late, duration, start.trips_left - 1,
                         start.next_trip, fixed_cost, None)  # fmt: skip
    return launch if launch.early < launch.late else None


class _GiveUpWithoutFeasible:
    """PyVRP stopping criterion: ``stop``, or earlier when no feasible solution has been
    found after ``seconds`` (or ``iterations``, when given: reproducible on any load)."""

    def __init__(self, stop: StoppingCriterion, seconds: float, iterations: float | None):
        self._stop = stop
        self._seconds = seconds
        self._iterations = iterations
        self._started: float | None = None
        self._calls = 0
        self.elapsed_s = 0.0

    def __call__(self, best_cost: int) -> bool:
        now = time.perf_counter()
        if self._started is None:
            self._started = now
        self._calls += 1
        self.elapsed_s = now - self._started
        if self._stop(best_cost):
            return True
        if best_cost < INFEASIBLE_COST:
            return False
        if self._iterations is not None:
            return self._calls >= self._iterations
        return self.elapsed_s >= self._seconds

    def used_share(self, time_limit_s: float, iterations: int | None) -> float:
        """The share of the budget this run took (iterations when counted, else time)."""
        if iterations is not None:
            return min(1.0, self._calls / iterations)
        return min(1.0, self.elapsed_s / time_limit_s)


def _route_group(
    problem: RoutingProblem,
    deliveries: Sequence[Delivery],
    vehicles: Sequence[RoutingVehicle],
    params: Params,
    time_limit_s: float,
    source: TravelMatrix,
    missing: str,
    starts: Mapping[str, VehicleStart],
    restrictions: Mapping[str, Restriction],
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
    cut = [(p, restrictions.get(d.delivery_id)) for d in deliveries
           for p in split_pieces(d, cap_units, cap_kg)]  # fmt: skip
    pieces = [p for p, _ in cut]
    depot_ids = sorted({v.depot_id for v in vehicles})
    depot_at = {v.depot_id: (v.depot_lon, v.depot_lat) for v in vehicles}
    points = [depot_at[d] for d in depot_ids]
    node_of: dict[str, int] = {}
    for vehicle in vehicles:
        start = starts.get(vehicle.vehicle_id)
        if start is not None and (start.lon, start.lat) != depot_at[vehicle.depot_id]:
            node_of[vehicle.vehicle_id] = len(points)
            points.append((start.lon, start.lat))
    first_piece = len(points)
    lons = np.array([p[0] for p in points] + [p.lon for p in pieces])
    lats = np.array([p[1] for p in points] + [p.lat for p in pieces])
    matrix = source.matrix(lons, lats)

    piece_ids = {p.delivery_id for p in pieces}
    launches: list[_Launch] = []
    for vehicle in vehicles:
        home = depot_ids.index(vehicle.depot_id)
        node = node_of.get(vehicle.vehicle_id, home)
        start = starts.get(vehicle.vehicle_id)
        launch = _launch(problem, vehicle, start, params, node, home, piece_ids, matrix)
        if launch is not None:
            launches.append(launch)

    left: list[Unassigned] = []
    routable: list[int] = []
    for index, (piece, limit) in enumerate(cut):
        allowed = [la for la in launches if limit is None or la.vehicle.vehicle_id in
                   limit.vehicle_ids]  # fmt: skip
        if limit is not None and not any(v.vehicle_id in limit.vehicle_ids for v in vehicles):
            left.append(unassigned(piece, limit.reason, limit.why))
        elif _reachable(problem, piece, index + first_piece, allowed, matrix):
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

    # Extra load dimensions: one per vehicle out with goods on board, one per restriction.
    carrying = [la for la in launches if la.on_board is not None]
    limits = sorted({lim.vehicle_ids for i in routable if (lim := cut[i][1]) is not None},
                    key=sorted)  # fmt: skip
    big = len(routable) + 1
    # Vehicles alike in every modelled respect form one vehicle type: PyVRP's search moves
    # routes between types, and a type per vehicle hides that they are interchangeable.
    kinds: dict[tuple[object, ...], list[_Launch]] = {}
    for la in launches:
        vehicle = la.vehicle
        restricted = tuple(vehicle.vehicle_id in ids for ids in limits)
        key = (la.node, la.home, la.early, la.late, la.duration, la.reloads, la.fixed_cost,
               vehicle.capacity_kg, vehicle.capacity_units, restricted,
               la.vehicle.vehicle_id if la in carrying else None)  # fmt: skip
        kinds.setdefault(key, []).append(la)
    fleet_kinds = [sorted(group, key=lambda la: la.vehicle.vehicle_id) for group in kinds.values()]
    prize = PRIZE_FACTOR * (
        2 * int(matrix.distance_m.max()) + max(la.fixed_cost for la in launches)
    )

    # A load dimension that can never bind before the other is left out of the model:
    # every extra dimension costs PyVRP's search time on each move it evaluates.
    fleet = [la.vehicle for la in launches]
    units_follow = all(
        p.quantity_units * v.capacity_kg <= p.weight_kg * v.capacity_units
        for p in pieces
        for v in fleet
    )
    kg_follow = not units_follow and all(
        p.weight_kg * v.capacity_units <= p.quantity_units * v.capacity_kg
        for p in pieces
        for v in fleet
    )

    def pick(kg: int, units: int) -> list[int]:
        """The load dimensions kept: kg and units, or the one the other follows."""
        return [kg] if units_follow else [units] if kg_follow else [kg, units]

    def build(required: bool) -> PyVRPModel:
        """The PyVRP model; ``required``: every routable piece must be served."""
        model = PyVRPModel()
        locations = [model.add_location(float(x), float(y)) for x, y in zip(lons, lats,
                                                                          strict=True)]  # fmt: skip
        depots = {i: model.add_depot(locations[i], name=d) for i, d in enumerate(depot_ids)}
        for la in carrying:
            depots[la.node] = model.add_depot(locations[la.node], name=f"@{la.vehicle.vehicle_id}")
        for group in fleet_kinds:
            la = group[0]
            vehicle = la.vehicle
            extra = [big] * len(carrying)
            extra += [big if vehicle.vehicle_id in ids else 0 for ids in limits]
            initial = [big if c is la else 0 for c in carrying] + [0] * len(limits)
            model.add_vehicle_type(
                len(group),
                capacity=[*pick(vehicle.capacity_kg, vehicle.capacity_units), *extra],
                start_depot=depots[la.node],
                end_depot=depots[la.home],
                fixed_cost=la.fixed_cost,
                tw_early=la.early,
                tw_late=la.late,
                shift_duration=la.duration,
                # a reload depot, even unused, slows the search: only for multi-trip vehicles
                reload_depots=[depots[la.home]] if la.reloads > 0 else [],
                max_reloads=la.reloads,
                name=vehicle.vehicle_id,
                initial_load=[*pick(0, 0), *initial],
            )
        used = [*sorted(depots), *(i + first_piece for i in routable)]
        for a in used:
            for b in used:
                model.add_edge(
                    locations[a],
                    locations[b],
                    distance=int(matrix.distance_m[a, b]),
                    duration=int(matrix.duration_s[a, b]),
                )
        for index in routable:
            piece, limit = cut[index]
            extra = [int(piece.delivery_id not in (c.on_board or ())) for c in carrying]
            extra += [int(limit is not None and limit.vehicle_ids == ids) for ids in limits]
            model.add_client(
                locations[index + first_piece],
                delivery=[*pick(piece.weight_kg, piece.quantity_units), *extra],
                service_duration=piece.service_s,
                tw_early=problem.seconds(piece.window_start),
                tw_late=problem.seconds(piece.window_end),
                required=required,
                prize=0 if required else prize * (COMMITTED_PRIZE if piece.committed else 1),
                name=piece.delivery_id,
            )
        return model

    def stop_after(share: float) -> StoppingCriterion:
        stop: StoppingCriterion = MaxRuntime(time_limit_s * share)
        if params.max_iterations is not None:
            iterations = max(1, round(params.max_iterations * share))
            stop = MultipleCriteria([MaxIterations(iterations), stop])
        return stop

    with warnings.catch_warnings():
        # PyVRP warns when its penalties saturate on instances where not every optional
        # client fits; the plan is checked independently and leftovers are reported.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        # Serve every piece if that is possible (PyVRP's plain VRPTW search, its strongest,
        # in one uninterrupted run); give up on it when no complete feasible plan has shown
        # up after a fifth of the budget, and spend the rest on the prize-collecting model,
        # which may leave pieces out.
        patience = _GiveUpWithoutFeasible(
            stop_after(1.0),
            time_limit_s * REQUIRED_SHARE,
            None if params.max_iterations is None else params.max_iterations * REQUIRED_SHARE,
        )
        result = build(required=True).solve(patience, seed=params.seed, display=False)
        if not (result.best.is_feasible() and result.best.is_complete()):
            result = build(required=False).solve(
                stop_after(1 - patience.used_share(time_limit_s, params.max_iterations)),
                seed=params.seed,
                display=False,
            )
    solution = result.best
    vehicle_of_type = {kind: iter(group) for kind, group in enumerate(fleet_kinds)}

    routes: list[Route] = []
    served: set[int] = set()
    # an infeasible best (no feasible plan found in time) still has routes that are
    # feasible on their own: keep those, report the rest as not routed
    kept = [r for r in solution.routes() if solution.is_feasible() or r.is_feasible()]
    for route in kept:
        launch = next(vehicle_of_type[route.vehicle_type()])
        vehicle = launch.vehicle
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
                    trip=launch.first_trip + activity.trip,
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
    launches: Sequence[_Launch],
    matrix: Matrix,
) -> bool:
    """Whether some vehicle can reach the gate inside its window and get back in its shift."""
    for la in launches:
        options = []
        if la.on_board is None:
            options.append((la.home, la.early))
        else:
            if piece.delivery_id in la.on_board:
                options.append((la.node, la.early))
            if la.reloads > 0:
                options.append((la.home, la.early + int(matrix.duration_s[la.node, la.home])))
        back = int(matrix.duration_s[location, la.home])
        for node, leave in options:
            earliest = max(leave + int(matrix.duration_s[node, location]),
                           problem.seconds(piece.window_start))  # fmt: skip
            if earliest <= problem.seconds(piece.window_end) and (
                earliest + piece.service_s + back <= la.late
            ):
                return True
    return False


def route_suppliers(
    problem: RoutingProblem,
    deliveries: Sequence[Delivery],
    params: Params,
    source: TravelMatrix,
    *,
    vehicles: Sequence[RoutingVehicle] | None = None,
    starts: Mapping[str, VehicleStart] | None = None,
    restrictions: Mapping[str, Restriction] | None = None,
) -> tuple[list[Route], list[Unassigned]]:
    """Routes of ``deliveries`` per supplier and vehicle kind, before gate staggering.

    ``vehicles`` defaults to the problem's; ``starts`` says where a vehicle is free (default:
    its depot for its whole shift); ``restrictions`` (by delivery id) limit who may serve.
    """
    fleet_all = problem.vehicles if vehicles is None else vehicles
    starts = starts or {}
    restrictions = restrictions or {}
    suppliers = sorted({d.supplier_id for d in deliveries})
    total = max(1, len(deliveries))

    def budget(group: Sequence[Delivery]) -> float:
        """The group's share of the time limit, in proportion to its deliveries."""
        return params.time_limit_s * len(group) / total

    routes: list[Route] = []
    left: list[Unassigned] = []
    for supplier in suppliers:
        mine = [d for d in deliveries if d.supplier_id == supplier]
        fleet = [v for v in fleet_all if v.supplier_id == supplier]
        cold = [d for d in mine if d.cold_chain]
        fridges = [v for v in fleet if v.refrigerated]
        cold_routes, cold_left = _route_group(
            problem, cold, fridges, params, budget(cold), source,
            f"Supplier {supplier} has no refrigerated vehicle with a valid shift.",
            starts, restrictions,
        )  # fmt: skip
        busy = {r.vehicle_id for r in cold_routes}
        rest = [v for v in fleet if v.vehicle_id not in busy]
        ambient = [d for d in mine if not d.cold_chain]
        ambient_routes, ambient_left = _route_group(
            problem, ambient, rest, params, budget(ambient), source,
            f"Supplier {supplier} has no free vehicle with a valid shift.",
            starts, restrictions,
        )  # fmt: skip
        routes += cold_routes + ambient_routes
        left += cold_left + ambient_left
    return routes, left


def plan_status(ordered_units: int, unassigned_units: int) -> PlanStatus:
    """``complete``, ``partial`` or ``nothing_routed`` from units ordered and left over."""
    if unassigned_units == 0:
        return PlanStatus.complete
    return PlanStatus.nothing_routed if unassigned_units == ordered_units else PlanStatus.partial


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
    routes, left = route_suppliers(problem, problem.deliveries, params, source)
    return finish_plan(problem, routes, left, params, source, time.perf_counter() - began)


def finish_plan(
    problem: RoutingProblem,
    routes: Sequence[Route],
    left: Sequence[Unassigned],
    params: Params,
    source: TravelMatrix,
    solve_time_s: float,
) -> Plan:
    """The plan of ``problem`` from its routes and leftovers: arrivals staggered at the gates
    (when ``params`` say so), status and totals."""
    routes, left = list(routes), list(left)
    if params.stagger_gates:
        routes, gate_left = stagger(problem, routes, source)
        left += gate_left
    return Plan(
        routes=tuple(routes),
        unassigned=tuple(left),
        status=plan_status(
            sum(d.quantity_units for d in problem.deliveries),
            sum(u.quantity_units for u in left),
        ),
        distance_m=sum(r.distance_m for r in routes),
        solve_time_s=solve_time_s,
        seed=params.seed,
    )
