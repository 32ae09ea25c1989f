"""Vehicle routes: optimum on a tiny instance, capacity splits, refrigeration, windows,
shifts, seeds; every plan passes the independent checker."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
from pyvrp import Model as PyVRPModel
from pyvrp import Result, Solution
from pyvrp.stop import StoppingCriterion

from data.schemas import SHANGHAI
from routing.check import check_plan
from routing.matrix import HaversineMatrix, RoadGraphMatrix
from routing.model import Delivery, Params, RoutingProblem, RoutingVehicle
from routing.result import Plan, PlanStatus, UnassignedReason
from routing.solve import solve, split_pieces

DAY = dt.datetime(2022, 4, 15, 0, 0, tzinfo=SHANGHAI)
DEPOT = (121.55, 31.20)
KM_LON = 1 / (111.32 * 0.8555)
PARAMS = Params(time_limit_s=30.0, seed=7, max_iterations=3000)
"""Stops on iterations (the time limit is a safety net), so results do not depend on load."""
ROUTING = Path(__file__).resolve().parents[1] / "instances" / "routing"


def at(hour: float) -> dt.datetime:
    return DAY + dt.timedelta(hours=hour)


def delivery(k: int, east_km: float, north_km: float = 0.0, **changes: object) -> Delivery:
    """Delivery ``d{k}`` to a gate ``east_km`` east and ``north_km`` north of the depot."""
    values: dict[str, object] = {
        "delivery_id": f"d{k}",
        "supplier_id": "s1",
        "compound_id": f"c{k}",
        "gate_id": f"c{k}-g1",
        "lon": DEPOT[0] + east_km * KM_LON,
        "lat": DEPOT[1] + north_km / 111.2,
        "category_id": "vegetables",
        "quantity_units": 40,
        "weight_kg": 200,
        "window_start": at(7),
        "window_end": at(18),
        "service_s": 600,
    }
    values.update(changes)
    return Delivery.model_validate(values)


def vehicle(k: int, **changes: object) -> RoutingVehicle:
    values: dict[str, object] = {
        "vehicle_id": f"v{k}",
        "supplier_id": "s1",
        "depot_id": "dep1",
        "depot_lon": DEPOT[0],
        "depot_lat": DEPOT[1],
        "capacity_kg": 2000,
        "capacity_units": 100,
        "shift_start": at(6),
        "shift_end": at(20),
    }
    values.update(changes)
    return RoutingVehicle.model_validate(values)


def problem(deliveries: list[Delivery], vehicles: list[RoutingVehicle]) -> RoutingProblem:
    return RoutingProblem(day_start=DAY, deliveries=tuple(deliveries), vehicles=tuple(vehicles))


def test_tiny_instance_is_optimal_by_enumeration() -> None:
    gates = [delivery(k, e, n, quantity_units=30) for k, e, n in ((1, 2, 1), (2, 4, -1), (3, 1, 3))]
    data = problem(gates, [vehicle(1)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert plan.unassigned == ()
    lons = np.array([DEPOT[0]] + [g.lon for g in gates])
    lats = np.array([DEPOT[1]] + [g.lat for g in gates])
    dist = HaversineMatrix(circuity=1.4, speed_kmh=18).matrix(lons, lats).distance_m
    best = min(
        dist[0, a] + dist[a, b] + dist[b, c] + dist[c, 0]
        for a, b, c in itertools.permutations([1, 2, 3])
    )
    assert plan.distance_m == best


def test_large_delivery_is_split_across_vehicles() -> None:
    big = delivery(1, 3, quantity_units=250, weight_kg=1250)
    assert [p.quantity_units for p in split_pieces(big, 100, 2000)] == [84, 83, 83]
    data = problem([big], [vehicle(1), vehicle(2), vehicle(3)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert len(plan.routes) == 3
    assert sum(r.load_units for r in plan.routes) == 250
    assert all(r.load_units <= 100 for r in plan.routes)


def test_capacity_leaves_the_rest_unassigned_with_a_reason() -> None:
    data = problem([delivery(1, 2, quantity_units=80), delivery(2, 3, quantity_units=80)],
                   [vehicle(1)])  # fmt: skip
    one_trip = PARAMS.model_copy(update={"max_trips": 1})
    plan = solve(data, one_trip)
    assert check_plan(data, plan, one_trip) == []
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.not_routed]


def test_a_short_fleet_leaves_ordinary_deliveries_behind_before_committed_ones() -> None:
    # room for three of six equal deliveries; the committed ones lie farthest out
    near = [delivery(k, k) for k in (1, 2, 3)]
    far = [delivery(k, k + 2, committed=True) for k in (4, 5, 6)]
    data = problem([*near, *far], [vehicle(1, capacity_units=120)])
    one_trip = PARAMS.model_copy(update={"max_trips": 1})
    plan = solve(data, one_trip)
    assert check_plan(data, plan, one_trip) == []
    assert sorted(s.delivery_id for r in plan.routes for s in r.stops) == ["d4", "d5", "d6"]
    assert sorted(u.delivery_id for u in plan.unassigned) == ["d1", "d2", "d3"]


def test_vehicle_reloads_at_its_depot_for_a_second_trip() -> None:
    data = problem([delivery(1, 2, quantity_units=80), delivery(2, 3, quantity_units=80)],
                   [vehicle(1)])  # fmt: skip
    longer = PARAMS.model_copy(update={"max_iterations": 30_000})  # the reload takes a search
    plan = solve(data, longer)
    assert check_plan(data, plan, longer) == []
    assert plan.unassigned == ()
    (route,) = plan.routes
    assert route.trips == 2
    assert sorted(s.trip for s in route.stops) == [0, 1]


def test_cold_chain_goes_only_on_refrigerated_vehicles() -> None:
    meat = delivery(1, 2, category_id="meat", cold_chain=True)
    without = problem([meat], [vehicle(1)])
    plan = solve(without, PARAMS)
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.no_vehicle]
    assert check_plan(without, plan, PARAMS) == []
    with_fridge = problem([meat, delivery(2, 3)], [vehicle(1), vehicle(2, refrigerated=True)])
    plan = solve(with_fridge, PARAMS)
    assert check_plan(with_fridge, plan, PARAMS) == []
    carrier = {s.delivery_id: r.vehicle_id for r in plan.routes for s in r.stops}
    assert carrier == {"d1": "v2", "d2": "v1"}


def test_time_windows_are_met_or_reported() -> None:
    early = delivery(1, 2, window_start=at(4), window_end=at(5))  # before any shift
    later = delivery(2, 2, window_start=at(14), window_end=at(15))
    data = problem([early, later], [vehicle(1)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert [(u.delivery_id, u.reason) for u in plan.unassigned] == [
        ("d1", UnassignedReason.window_unreachable)
    ]
    (stop,) = plan.routes[0].stops
    assert at(14) <= stop.service_start <= at(15)


def test_shift_ending_with_the_driver_test_stops_the_route() -> None:
    # The driver's 48-hour test expires at 10:00, so the shift (and route) must end by then.
    after = delivery(1, 5, window_start=at(11), window_end=at(12))
    data = problem([after], [vehicle(1, shift_end=at(10))])
    plan = solve(data, PARAMS)
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.window_unreachable]
    assert check_plan(data, plan, PARAMS) == []


def test_same_seed_same_plan() -> None:
    gates = [delivery(k, (k * 7) % 5 + 1, (k * 3) % 4 - 2) for k in range(1, 9)]
    data = problem(gates, [vehicle(1), vehicle(2)])
    first = solve(data, PARAMS).model_dump(exclude={"solve_time_s"})
    again = solve(data, PARAMS).model_dump(exclude={"solve_time_s"})
    assert first == again


def test_checker_catches_a_broken_plan() -> None:
    data = problem([delivery(1, 2)], [vehicle(1)])
    plan = solve(data, PARAMS)
    route = plan.routes[0]
    late = route.stops[0].model_copy(update={"service_start": at(19)})
    broken = plan.model_copy(
        update={"routes": (route.model_copy(update={"stops": (late,)}),), "unassigned": ()}
    )
    assert any("outside" in p for p in check_plan(data, broken, PARAMS))
    dropped = plan.model_copy(update={"routes": ()})
    assert any("ordered" in p for p in check_plan(data, dropped, PARAMS))


def test_plan_reports_status_loads_and_reasons_as_sentences() -> None:
    meat = delivery(2, 3, category_id="meat", cold_chain=True, quantity_units=10, weight_kg=20)
    data = problem([delivery(1, 2), meat], [vehicle(1, driver_id="r1")])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert plan.status is PlanStatus.partial
    (left,) = plan.unassigned
    assert left.reason is UnassignedReason.no_vehicle and "refrigerated" in left.detail
    (route,) = plan.routes
    assert route.driver_id == "r1"
    assert route.duration_s == (route.end - route.start).total_seconds()
    assert [(c.category_id, c.quantity_units, c.weight_kg) for c in route.load_by_category] == [
        ("vegetables", 40, 200)
    ]
    assert Plan.model_validate_json(plan.to_json()) == plan
    everything = solve(problem([delivery(1, 2)], [vehicle(1)]), PARAMS)
    assert everything.status is PlanStatus.complete
    nothing = solve(problem([meat], [vehicle(1)]), PARAMS)
    assert nothing.status is PlanStatus.nothing_routed


def test_driver_test_expiring_mid_route_ends_the_route_in_time() -> None:
    # Test valid until 10:00: after serving one gate (08:00-09:00) there is no time to reach
    # the other, 14 km away, and unload before it expires.
    west = delivery(1, -5, window_start=at(8), service_s=3600)
    east = delivery(2, 5, window_start=at(8), service_s=3600)
    driven = vehicle(1, shift_end=at(10), driver_test_valid_until=at(10))
    data = problem([west, east], [driven])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert [u.reason for u in plan.unassigned] == [UnassignedReason.not_routed]
    (route,) = plan.routes
    assert len(route.stops) == 1 and route.end <= at(10)
    late = route.model_copy(update={"end": at(10.5)})
    broken = plan.model_copy(update={"routes": (late,)})
    assert any("48-hour test expires 10:00" in p for p in check_plan(data, broken, PARAMS))


def _same_gate(k: int, supplier: str, **changes: object) -> Delivery:
    """Delivery ``d{k}`` of ``supplier`` to gate ``g1`` 3 km east, 08:00-09:00, 30 min unloading."""
    values: dict[str, object] = {
        "supplier_id": supplier,
        "compound_id": "c1",
        "gate_id": "g1",
        "window_start": at(8),
        "window_end": at(9),
        "service_s": 1800,
    }
    values.update(changes)
    return Delivery.model_validate({**delivery(k, 3).model_dump(), **values})


def _two_suppliers(max_trucks: int, window_end: float = 9) -> RoutingProblem:
    return problem(
        [
            _same_gate(1, "s1", gate_max_trucks=max_trucks, window_end=at(window_end)),
            _same_gate(2, "s2", gate_max_trucks=max_trucks, window_end=at(window_end)),
        ],
        [vehicle(1), vehicle(2, supplier_id="s2")],
    )


def test_gate_takes_one_truck_at_a_time_so_arrivals_are_staggered() -> None:
    data = _two_suppliers(max_trucks=1)
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert plan.unassigned == ()
    first, second = sorted((r.stops[0] for r in plan.routes), key=lambda s: s.service_start)
    assert second.service_start >= first.service_start + dt.timedelta(seconds=1800)
    assert second.gate_wait_s > 0 and first.gate_wait_s == 0
    unstaggered = PARAMS.model_copy(update={"stagger_gates": False})
    overlapping = solve(data, unstaggered)
    assert any("gate g1: 2 trucks" in p for p in check_plan(data, overlapping, unstaggered))


def test_gate_for_two_trucks_needs_no_waiting() -> None:
    data = _two_suppliers(max_trucks=2)
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert all(s.gate_wait_s == 0 for r in plan.routes for s in r.stops)


def test_busy_gate_with_no_slot_left_is_reported() -> None:
    data = _two_suppliers(max_trucks=1, window_end=8.2)  # both must start unloading by 08:12
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert len(plan.routes) == 1
    (left,) = plan.unassigned
    assert left.reason is UnassignedReason.gate_busy and "g1" in left.detail


def test_split_pieces_share_service_time_by_units() -> None:
    big = delivery(1, 3, quantity_units=250, weight_kg=1250, service_s=600 + 6 * 250,
                   service_per_unit_s=6)  # fmt: skip
    pieces = split_pieces(big, 100, 2000)
    assert [p.service_s for p in pieces] == [600 + 6 * 84, 600 + 6 * 83, 600 + 6 * 83]
    data = problem([big], [vehicle(1), vehicle(2), vehicle(3)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert plan.status is PlanStatus.complete


def test_road_graph_matrix_plugs_into_solve_and_check() -> None:
    nodes, edges = ROUTING / "tiny_nodes.csv", ROUTING / "tiny_edges.csv"
    graph = RoadGraphMatrix.from_csv(nodes, edges)
    picks = [0, len(graph.node_ids) // 2, len(graph.node_ids) - 1]
    lon, lat = graph.node_lon[picks], graph.node_lat[picks]
    gates = [delivery(k, 0, lon=lon[k], lat=lat[k], quantity_units=10) for k in (1, 2)]
    fleet = [vehicle(1, depot_lon=lon[0], depot_lat=lat[0])]
    data = problem(gates, fleet)
    plan = solve(data, PARAMS, graph)
    assert plan.status is PlanStatus.complete
    assert check_plan(data, plan, PARAMS, graph) == []
    roads, _ = graph.matrix(np.array([lon[0], lon[1]]), np.array([lat[0], lat[1]]))
    assert plan.distance_m >= roads[0, 1]


def test_an_infeasible_search_result_keeps_its_feasible_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the search ends without a feasible plan (short limits on a big day), the routes
    that are feasible on their own are driven and only the rest is reported not routed."""
    searched = PyVRPModel.solve

    def ends_infeasible(self: PyVRPModel, stop: StoppingCriterion, **kwargs: object) -> Result:
        result = searched(self, stop, **kwargs)  # type: ignore[arg-type]
        data = self.data()
        clients = list(range(data.num_clients))
        # one client alone, then the other three on one truck: 120 units on a 100-unit truck
        best = Solution(data, [clients[:1], clients[1:]])
        assert not best.is_feasible()
        return Result(best, result.stats, result.num_iterations, result.runtime)

    monkeypatch.setattr(PyVRPModel, "solve", ends_infeasible)
    gates = [delivery(k, e) for k, e in ((1, 2), (2, 3), (3, 4), (4, 5))]
    data = problem(gates, [vehicle(1), vehicle(2)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert [len(route.stops) for route in plan.routes] == [1]
    routed = {stop.delivery_id for route in plan.routes for stop in route.stops}
    left = {u.delivery_id for u in plan.unassigned}
    assert routed | left == {"d1", "d2", "d3", "d4"} and not routed & left
    assert {u.reason for u in plan.unassigned} == {UnassignedReason.not_routed}
