"""Re-planning: breakdowns, failed deliveries, sealed compounds; kept stops stay unchanged,
seeds reproduce, and every re-plan passes the independent checker."""

from __future__ import annotations

import datetime as dt

import pytest

from data.schemas import Certificate, CertificateType, HolderKind, LockdownLevel, Supplier
from routing.check import check_plan, check_replan
from routing.model import Delivery, RoutingProblem, RoutingVehicle
from routing.replan import (
    CargoFate,
    ChangeKind,
    CompoundSealed,
    DeliveryFailed,
    Replan,
    ReplanError,
    StopChange,
    VehicleBreakdown,
    compound_sealed,
    delivery_of,
    replan,
)
from routing.result import Plan, PlanStatus, Stop, UnassignedReason
from routing.solve import solve
from tests.routing.test_solve import DAY, DEPOT, KM_LON, PARAMS, at, delivery, problem, vehicle

NEAR_WINDOW_END = at(7 + 20 / 60)
"""The 2 km gates close at 07:20, so each van serves its line nearest first (a loop and its
reverse are equally long: without this the solver's choice would be a tie)."""


def _line() -> list[Delivery]:
    """Three gates 2, 4, 6 km east (d1-d3) and three west (d4-d6), 20 units each."""
    spots = ((1, 2), (2, 4), (3, 6), (4, -2), (5, -4), (6, -6))
    line = [delivery(k, east, quantity_units=20, weight_kg=100) for k, east in spots]
    return [
        d.model_copy(update={"window_end": NEAR_WINDOW_END}) if abs(east) == 2 else d
        for d, (_, east) in zip(line, spots, strict=True)
    ]


def _van(k: int, east_m: float) -> RoutingVehicle:
    """A 60-unit van whose depot is ``east_m`` metres east of the others'."""
    return vehicle(k, capacity_units=60, depot_id=f"dep{k}",
                   depot_lon=DEPOT[0] + east_m / 1000 * KM_LON)  # fmt: skip


def _day(deliveries: list[Delivery] | None = None) -> tuple[RoutingProblem, Plan]:
    """Two vans of 60 units from depots 100 m apart: v1 (the western depot) serves the west
    gates, v2 the east, each nearest first, from 06:50."""
    data = problem(deliveries or _line(), [_van(1, -50), _van(2, 50)])
    plan = solve(data, PARAMS)
    assert check_plan(data, plan, PARAMS) == []
    assert {r.vehicle_id: [s.delivery_id for s in r.stops] for r in plan.routes} == {
        "v1": ["d4", "d5", "d6"],
        "v2": ["d1", "d2", "d3"],
    }
    return data, plan


def _stops(result: Replan | Plan) -> dict[str, list[str]]:
    plan = result.plan if isinstance(result, Replan) else result
    return {r.vehicle_id: [s.delivery_id for s in r.stops] for r in plan.routes}


def _route(plan: Plan, vehicle_id: str) -> list[Stop]:
    return list(next(r for r in plan.routes if r.vehicle_id == vehicle_id).stops)


def test_breakdown_keeps_served_stops_and_sends_the_rest_on_another_vehicle() -> None:
    data, plan = _day()
    # 07:36: v1 has served d4 and d5 and drives to d6; v2 unloads d3, its last stop.
    broken = VehicleBreakdown(vehicle_id="v1", at=at(7.6))
    after = replan(data, plan, [broken], at(7.6), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    assert _route(after.plan, "v1") == _route(plan, "v1")[:2]
    assert _route(after.plan, "v2")[:3] == _route(plan, "v2")
    assert _stops(after) == {"v1": ["d4", "d5"], "v2": ["d1", "d2", "d3", "d6"]}
    (moved_stop,) = _route(after.plan, "v2")[3:]
    assert moved_stop.trip == 1  # v2 reloads the re-sent goods at the depot
    assert after.plan.unassigned == () and after.plan.status is PlanStatus.complete
    assert after.changes == (
        StopChange(delivery_id="d6", kind=ChangeKind.moved, quantity_units=20,
                   from_vehicle_id="v1", to_vehicle_id="v2"),
    )  # fmt: skip
    v1, v2 = after.vehicles
    assert (v1.broken, v1.free_at, v1.fixed_stops, v1.on_board) == (True, None, 2, ("d6",))
    assert (v2.broken, v2.fixed_stops, v2.free_at) == (False, 3, _route(plan, "v2")[2].departure)


def test_breakdown_with_cargo_lost_reports_what_was_on_board() -> None:
    data, plan = _day()
    # 07:15: v1 served d4 and drives to d5 with d5 and d6 on board.
    broken = VehicleBreakdown(vehicle_id="v1", at=at(7.25), cargo=CargoFate.lost,
                              lon=121.53, lat=31.2)  # fmt: skip
    after = replan(data, plan, [broken], at(7.25), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    assert _stops(after) == {"v1": ["d4"], "v2": ["d1", "d2", "d3"]}
    assert [(u.delivery_id, u.reason) for u in after.plan.unassigned] == [
        ("d5", UnassignedReason.vehicle_broken_down),
        ("d6", UnassignedReason.vehicle_broken_down),
    ]
    assert "v1 broke down at 07:15" in after.plan.unassigned[0].detail
    assert [(c.delivery_id, c.kind, c.reason) for c in after.changes] == [
        ("d5", ChangeKind.cancelled, UnassignedReason.vehicle_broken_down),
        ("d6", ChangeKind.cancelled, UnassignedReason.vehicle_broken_down),
    ]
    assert (after.vehicles[0].lon, after.vehicles[0].lat) == (121.53, 31.2)
    # Re-sent instead, both go to v2 after it reloads; the next re-plan keeps v1 down.
    resent = replan(data, plan, [broken.model_copy(update={"cargo": CargoFate.resend})],
                    at(7.25), PARAMS)  # fmt: skip
    assert check_replan(data, plan, resent, PARAMS) == []
    assert sorted(_stops(resent)["v2"][3:]) == ["d5", "d6"]
    later = replan(data, resent, [], at(8), PARAMS)
    assert check_replan(data, resent, later, PARAMS) == []
    assert later.events == resent.events and _stops(later)["v1"] == ["d4"]


def test_vehicle_out_on_a_trip_commits_its_next_stop_and_keeps_its_load() -> None:
    data, plan = _day()
    # 07:15: v2 served d1 and drives to d2 (committed) with d3 still on board.
    after = replan(data, plan, [], at(7.25), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    v2 = after.vehicles[1]
    assert (v2.fixed_stops, v2.on_board) == (2, ("d3",))
    assert (v2.lon, v2.lat, v2.free_at) == (data.deliveries[1].lon, data.deliveries[1].lat,
                                           _route(plan, "v2")[1].departure)  # fmt: skip
    assert _stops(after) == _stops(plan)
    assert after.changes == ()


def test_failed_delivery_is_delivered_again_later_in_its_window() -> None:
    planned, plan = _day()
    # the compound keeps its gate open until noon for the retry
    data = planned.model_copy(update={"deliveries": tuple(
        d.model_copy(update={"window_end": at(12)}) if d.delivery_id == "d1" else d
        for d in planned.deliveries)})  # fmt: skip
    refused = DeliveryFailed(vehicle_id="v2", delivery_id="d1", at=at(7.15),
                             reason="gate closed for disinfection", retry_from=at(9))  # fmt: skip
    after = replan(data, plan, [refused], at(7.25), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    assert after.plan.unassigned == ()
    again = [(r.vehicle_id, s) for r in after.plan.routes for s in r.stops
             if s.delivery_id == "d1.1"]  # fmt: skip
    ((carrier, stop),) = again
    assert stop.quantity_units == 20 and stop.service_start >= at(9)
    assert _route(after.plan, "v2")[:2] == _route(plan, "v2")[:2]  # d1 stays as it was
    assert after.changes == (
        StopChange(delivery_id="d1", kind=ChangeKind.retried, quantity_units=20,
                   from_vehicle_id="v2", to_vehicle_id=carrier),
    )  # fmt: skip
    assert delivery_of("d1.1", {"d1"}) == "d1"


def test_failed_delivery_with_no_window_left_is_unassigned_with_its_reason() -> None:
    data, plan = _day()
    refused = DeliveryFailed(vehicle_id="v2", delivery_id="d1", at=at(7.15),
                             reason="no volunteer at the gate", retry_from=at(9))  # fmt: skip
    after = replan(data, plan, [refused], at(7.25), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    ((left),) = after.plan.unassigned
    assert (left.delivery_id, left.quantity_units, left.reason) == (
        "d1.1",
        20,
        UnassignedReason.delivery_failed,
    )
    assert "no volunteer at the gate" in left.detail and "ends 07:20" in left.detail
    assert after.plan.status is PlanStatus.partial
    assert [(c.kind, c.reason) for c in after.changes] == [
        (ChangeKind.cancelled, UnassignedReason.delivery_failed)
    ]


def test_sealed_compound_goes_only_to_vehicles_with_a_pass() -> None:
    data, plan = _day()
    sealed = CompoundSealed(compound_id="c3", at=at(6), suppliers_serving=frozenset({"s1"}),
                            vehicles_with_pass=frozenset({"v1"}))  # fmt: skip
    after = replan(data, plan, [sealed], at(6), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    assert after.plan.unassigned == ()
    carrier = {s.delivery_id: r.vehicle_id for r in after.plan.routes for s in r.stops}
    assert carrier["d3"] == "v1"
    # The checker refuses the same plan if only v2 held the pass.
    other = sealed.model_copy(update={"vehicles_with_pass": frozenset({"v2"})})
    wrong = after.model_copy(update={"events": (other,)})
    assert any("sealed compound c3" in p for p in check_replan(data, plan, wrong, PARAMS))


@pytest.mark.parametrize(
    ("serving", "passes", "why"),
    [
        (frozenset(), frozenset({"v1", "v2"}), "does not serve sealed compounds"),
        (frozenset({"s1"}), frozenset(), "no working vehicle of s1 holds a pass"),
    ],
)
def test_sealed_compound_without_a_pass_is_unassigned(
    serving: frozenset[str], passes: frozenset[str], why: str
) -> None:
    data, plan = _day()
    sealed = CompoundSealed(compound_id="c3", at=at(7.25), suppliers_serving=serving,
                            vehicles_with_pass=passes)  # fmt: skip
    after = replan(data, plan, [sealed], at(7.25), PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    ((left),) = after.plan.unassigned
    assert (left.delivery_id, left.reason) == ("d3", UnassignedReason.sealed_no_pass)
    assert why in left.detail


def test_compound_sealed_reads_suppliers_and_vehicle_passes() -> None:
    supplier = Supplier(supplier_id="s1", name="Supplier",
                        lockdown_levels_served=frozenset({LockdownLevel.sealed}))  # fmt: skip
    other = Supplier(supplier_id="s2", name="Other",
                     lockdown_levels_served=frozenset({LockdownLevel.normal}))  # fmt: skip

    def vehicle_pass(holder: str, scope: str) -> Certificate:
        return Certificate(certificate_id=f"p-{holder}", type=CertificateType.vehicle_pass,
                           holder_kind=HolderKind.vehicle, holder_id=holder, scope=scope,
                           valid_from=DAY, valid_until=DAY + dt.timedelta(days=1))  # fmt: skip

    passes = [vehicle_pass("v1", "sealed"), vehicle_pass("v2", "controlled"),
              vehicle_pass("v3", "")]  # fmt: skip
    sealed = compound_sealed("c3", at(7), [supplier, other], passes)
    assert sealed.suppliers_serving == {"s1"}
    assert sealed.vehicles_with_pass == {"v1", "v3"}


def test_same_seed_same_replan() -> None:
    data, plan = _day()
    events = [VehicleBreakdown(vehicle_id="v2", at=at(7.25))]
    first = replan(data, plan, events, at(7.25), PARAMS)
    again = replan(data, plan, events, at(7.25), PARAMS)
    skip = {"plan": {"solve_time_s"}}
    assert first.model_dump(exclude=skip) == again.model_dump(exclude=skip)
    assert check_replan(data, plan, first, PARAMS) == []
    assert Replan.model_validate_json(first.model_dump_json()) == first


def test_replan_at_day_start_without_events_serves_the_same_deliveries() -> None:
    data, plan = _day()
    after = replan(data, plan, [], DAY, PARAMS)
    assert check_replan(data, plan, after, PARAMS) == []
    assert all(v.fixed_stops == 0 and v.free_at == at(6) for v in after.vehicles)

    def served(result: Plan) -> dict[str, int]:
        units: dict[str, int] = {}
        for route in result.routes:
            for stop in route.stops:
                units[stop.delivery_id] = units.get(stop.delivery_id, 0) + stop.quantity_units
        return units

    assert served(after.plan) == served(plan)
    assert after.plan.status is PlanStatus.complete and after.plan.unassigned == ()
    assert after.plan.distance_m == plan.distance_m


def test_checker_catches_a_changed_kept_stop_and_a_broken_vehicle_driving_on() -> None:
    data, plan = _day()
    broken = VehicleBreakdown(vehicle_id="v1", at=at(7.6))
    after = replan(data, plan, [broken], at(7.6), PARAMS)
    v1, v2 = after.plan.routes
    moved = v2.stops[0].model_copy(update={"service_start": v2.stops[0].service_start
                                           + dt.timedelta(minutes=1)})  # fmt: skip
    changed = after.plan.model_copy(
        update={"routes": (v1, v2.model_copy(update={"stops": (moved, *v2.stops[1:])}))}
    )
    problems = check_replan(data, plan, after.model_copy(update={"plan": changed}), PARAMS)
    assert any("v2: its 3 served and committed stops are not kept" in p for p in problems)
    driving_on = after.plan.model_copy(
        update={"routes": (v1.model_copy(update={"stops": (*v1.stops, v2.stops[-1])}),
                           v2.model_copy(update={"stops": v2.stops[:-1]}))}
    )  # fmt: skip
    problems = check_replan(data, plan, after.model_copy(update={"plan": driving_on}), PARAMS)
    assert any("v1 broke down at 07:36 but has new stops" in p for p in problems)


def test_events_that_do_not_fit_are_refused() -> None:
    data, plan = _day()
    with pytest.raises(ReplanError, match="after now"):
        replan(data, plan, [VehicleBreakdown(vehicle_id="v1", at=at(9))], at(8), PARAMS)
    with pytest.raises(ReplanError, match="unknown vehicle v9"):
        replan(data, plan, [VehicleBreakdown(vehicle_id="v9", at=at(7))], at(8), PARAMS)
    not_reached = DeliveryFailed(vehicle_id="v2", delivery_id="d3", at=at(7.1), reason="closed")
    with pytest.raises(ReplanError, match="d3 is not a stop v2 has served"):
        replan(data, plan, [not_reached], at(7.1), PARAMS)
