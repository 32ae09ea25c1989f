"""From a matcher allocation to a routing problem: nearest gate, weights, service time,
gate limit, windows and shifts with certificate expiry; what cannot enter is reported."""

from __future__ import annotations

import datetime as dt

from data.schemas import (
    SHANGHAI,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    Gate,
    HolderKind,
    Hours,
    Vehicle,
)
from matcher.model import DemandRow
from matcher.result import Allocation, AllocationLine, Objectives, SolveStatus
from routing.check import check_plan
from routing.deliveries import SERVICE_FIXED_S, SERVICE_PER_UNIT_S, build_routing_problem
from routing.model import Params
from routing.solve import solve
from routing.windows import WindowReason

DAY = dt.date(2022, 4, 15)


def at(hour: float) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=SHANGHAI) + dt.timedelta(hours=hour)


def hours(a: int, b: int) -> Hours:
    return Hours(opens_at=dt.time(a, 0), closes_at=dt.time(b, 0))


COMPOUNDS = [
    Compound(compound_id="c1", name="康桥小区", district="浦东新区", lon=121.56, lat=31.20,
             households=300, receiving_hours=hours(8, 17)),
    Compound(compound_id="c2", name="无门小区", district="浦东新区", lon=121.57, lat=31.21,
             households=100),
]  # fmt: skip
GATES = [
    Gate(gate_id="c1-north", compound_id="c1", name="北门", lon=121.560, lat=31.203,
         receiving_hours=hours(9, 12), max_trucks=2),
    Gate(gate_id="c1-south", compound_id="c1", name="南门", lon=121.560, lat=31.197),
]  # fmt: skip
CATEGORIES = [
    Category(category_id="vegetables", name_zh="蔬菜", name_en="vegetables", unit="份",
             unit_weight_g=5000),
    Category(category_id="meat", name_zh="肉", name_en="meat", unit="盒", unit_weight_g=1500,
             cold_chain=True),
]  # fmt: skip
DEPOTS = [Depot(depot_id="dep1", supplier_id="s1", name="仓", lon=121.55, lat=31.25)]
VEHICLES = [
    Vehicle(vehicle_id="v1", supplier_id="s1", depot_id="dep1", plate="沪A1", capacity_kg=2000,
            capacity_units=200, refrigerated=True),
    Vehicle(vehicle_id="v2", supplier_id="s1", depot_id="dep1", plate="沪A2", capacity_kg=2000,
            capacity_units=200),
]  # fmt: skip
DRIVERS = [  # r1's test (taken 2 days ago at 13:00) expires today at 13:00
    Driver(driver_id="r1", supplier_id="s1", name="王师傅", test_taken_at=at(-35)),
    Driver(driver_id="r2", supplier_id="s1", name="李师傅", test_taken_at=at(-2)),
]  # fmt: skip
PASSES = [
    Certificate(certificate_id=f"pass-{v}", type=CertificateType.vehicle_pass,
                holder_kind=HolderKind.vehicle, holder_id=v, valid_from=at(-24),
                valid_until=at(until))
    for v, until in (("v1", 48), ("v2", 16))
]  # fmt: skip


def line(compound: str, category: str, units: int) -> AllocationLine:
    return AllocationLine(offer_id=f"o-{category}", supplier_id="s1", compound_id=compound,
                          category_id=category, depot_id="dep1", distance_m=6000,
                          quantity_units=units, goods_cost_cents=100 * units,
                          delivery_cost_cents=0, fixed_cost_cents=0)  # fmt: skip


def allocation() -> Allocation:
    lines = (line("c1", "vegetables", 30), line("c1", "meat", 20), line("c2", "vegetables", 5))
    return Allocation(
        delivery_date=DAY,
        status=SolveStatus.optimal,
        lines=lines,
        unmet=(),
        demand=tuple(
            DemandRow(
                compound_id=x.compound_id,
                category_id=x.category_id,
                quantity_units=x.quantity_units,
            )
            for x in lines
        ),
        objectives=Objectives(priority_served_units=0, served_units=55, cost_cents=0),
        solve_time_s=0.0,
        solver="test",
        seed=0,
    )


def test_allocation_lines_become_deliveries_at_the_nearest_gate() -> None:
    problem, infeasible = build_routing_problem(
        DAY, allocation(), compounds=COMPOUNDS, gates=GATES, categories=CATEGORIES,
        depots=DEPOTS, vehicles=VEHICLES, drivers=DRIVERS, certificates=PASSES,
    )  # fmt: skip
    vegetables, meat = problem.deliveries
    assert vegetables.gate_id == "c1-north"  # the depot lies north of the compound
    assert (vegetables.window_start, vegetables.window_end) == (at(9), at(12))
    assert vegetables.weight_kg == 150 and not vegetables.cold_chain
    assert vegetables.service_s == SERVICE_FIXED_S + 30 * SERVICE_PER_UNIT_S
    assert vegetables.gate_max_trucks == 2
    assert meat.cold_chain and meat.weight_kg == 30
    (no_gate,) = infeasible
    assert no_gate.reason is WindowReason.hours_disjoint and "c2 has no gate" in no_gate.detail


def test_vehicle_shifts_carry_test_and_pass_expiry() -> None:
    problem, _ = build_routing_problem(
        DAY, allocation(), compounds=COMPOUNDS, gates=GATES, categories=CATEGORIES,
        depots=DEPOTS, vehicles=VEHICLES, drivers=DRIVERS, certificates=PASSES,
    )  # fmt: skip
    v1, v2 = problem.vehicles
    assert (v1.driver_id, v1.shift_end, v1.driver_test_valid_until) == ("r1", at(13), at(13))
    assert v1.vehicle_pass_valid_until == at(48)
    assert (v2.driver_id, v2.shift_end, v2.vehicle_pass_valid_until) == ("r2", at(16), at(16))
    assert v2.driver_test_valid_until == at(46)


def test_built_problem_routes_and_passes_the_checker() -> None:
    problem, _ = build_routing_problem(
        DAY, allocation(), compounds=COMPOUNDS, gates=GATES, categories=CATEGORIES,
        depots=DEPOTS, vehicles=VEHICLES, drivers=DRIVERS, certificates=PASSES,
    )  # fmt: skip
    params = Params(time_limit_s=30.0, seed=3, max_iterations=3000)
    plan = solve(problem, params)
    assert check_plan(problem, plan, params) == []
    assert plan.unassigned == ()
    carrier = {s.category_id: r.vehicle_id for r in plan.routes for s in r.stops}
    assert carrier == {"meat": "v1", "vegetables": "v2"}
