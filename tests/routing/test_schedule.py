"""The arrival schedule per gate flags trucks over the gate's limit."""

from __future__ import annotations

from data.schemas import Supplier, Vehicle
from routing.result import Plan, Route, category_loads
from routing.schedule import ArrivalSchedule, arrival_schedule
from tests.routing.test_sheets import COMPOUNDS, GATE_MODELS, PLAN, TODAY, VEHICLES, at, stop

SUPPLIERS = [
    Supplier(supplier_id="s1", name="绿叶蔬菜", contact_phone="021-5555 0001"),
    Supplier(supplier_id="s2", name="鲜蛋行", contact_phone="021-5555 0002"),
]
V2 = Vehicle(vehicle_id="v2", supplier_id="s2", depot_id="dep2", plate="沪B·00002",
             capacity_kg=500, capacity_units=100)  # fmt: skip


def second_truck(times: str) -> Route:
    stops = (stop("del-9", "c1", "eggs", 5, 10, times),)
    return Route(vehicle_id="v2", supplier_id="s2", depot_id="dep2", driver_id="drv2",
                 start=at("08:00"), end=at("12:00"), stops=stops, distance_m=100,
                 load_units=5, load_kg=10, load_by_category=category_loads(stops))  # fmt: skip


def schedule(times: str) -> ArrivalSchedule:
    plan = Plan(routes=(*PLAN.routes, second_truck(times)), unassigned=(), distance_m=0,
                solve_time_s=0, seed=0)  # fmt: skip
    return arrival_schedule(COMPOUNDS[0], [GATE_MODELS[0]], plan, TODAY, suppliers=SUPPLIERS,
                            vehicles=[*VEHICLES, V2], groups={("s2", "eggs"): ["g-7"]})  # fmt: skip


def test_overlap_over_the_gate_limit_is_flagged() -> None:
    result = schedule("09:05 09:05 09:20")  # v1 unloads 09:00-09:15 at 东门 (max 1 truck)
    gate = result.gates[0]
    assert [(a.vehicle_id, a.over_limit) for a in gate.arrivals] == [
        ("v1", False), ("v2", True), ("v1", False)
    ]  # fmt: skip
    late = gate.arrivals[1]
    assert late.trucks_at_gate == 2 and late.group_ids == ("g-7",)
    assert late.dispatch_phone == "021-5555 0002" and late.plate == "沪B·00002"
    assert gate.over_limit and result.over_limit
    assert "超过上限 1" in result.notes_zh[0]
    assert "c2" not in {a.vehicle_id for a in gate.arrivals}


def test_staggered_trucks_are_not_flagged() -> None:
    result = schedule("09:20 09:20 09:30")
    assert not result.over_limit
    arrivals = result.gates[0].arrivals
    assert [a.eta for a in arrivals] == [at("08:50"), at("09:20"), at("10:40")]
    assert arrivals[0].dispatch_phone == "021-5555 0001" and arrivals[0].group_ids == ()
