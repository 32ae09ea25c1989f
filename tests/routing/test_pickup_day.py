"""The day's pickup rule: points per households, capacity shares, sealed compounds at the gate."""

from __future__ import annotations

from data.schemas import LockdownLevel
from routing.pickup_day import PickupRule, pickup_lookup, plan_day_pickups
from routing.pickup_points import PickupPlan, PickupStatus
from tests.routing.test_pickup_points import BUILDINGS, COMPOUND, GATES


def test_points_follow_households_and_share_the_crowd() -> None:
    plans = plan_day_pickups(
        [COMPOUND], BUILDINGS, GATES, rule=PickupRule(households_per_point=250)
    )
    plan = plans["c1"]
    assert isinstance(plan, PickupPlan) and plan.status is PickupStatus.optimal
    assert plan.k == 2  # 420 households at 250 per point
    assert sum(p.load_households for p in plan.points) == 420
    capacity = 420 / 2 * 1.25
    assert all(p.load_households <= capacity for p in plan.points if p.kind != "gate")
    lookup = pickup_lookup(plans)
    assert set(lookup) == {b.building_id for b in BUILDINGS}
    assert all(metres >= 0 and name for name, metres in lookup.values())


def test_sealed_compound_uses_the_delivery_gate() -> None:
    plans = plan_day_pickups(
        [COMPOUND],
        BUILDINGS,
        GATES,
        levels={"c1": LockdownLevel.sealed},
        delivery_gates={"c1": "g1"},
    )
    plan = plans["c1"]
    assert isinstance(plan, PickupPlan) and plan.status is PickupStatus.sealed_gate_only
    assert {a.point_id for a in plan.assignments} == {"g1"}


def test_compounds_without_buildings_are_left_out() -> None:
    assert plan_day_pickups([COMPOUND], [], GATES) == {}
