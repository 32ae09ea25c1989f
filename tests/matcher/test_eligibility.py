"""Each eligibility rule with a tiny named fixture; certificates against the window."""

from __future__ import annotations

import datetime as dt

import pytest

from data.schemas import (
    CertificateType,
    CrewAssignment,
    CrewMember,
    HolderKind,
    LockdownLevel,
    Supplier,
)
from matcher.eligibility import REASONS, CrewRoster, Reason, check_eligibility, describe
from tests.matcher.instances import (
    DAY,
    WINDOW_END,
    WINDOW_START,
    World,
    day_cert,
    one_pair,
)


def reason_of(world: World, offer_id: str = "o1", compound_id: str = "c1") -> Reason:
    problem = world.problem()
    return check_eligibility(problem).reason(offer_id, compound_id)


def test_baseline_is_eligible() -> None:
    assert reason_of(one_pair("veg")) is Reason.eligible
    assert reason_of(one_pair("pork")) is Reason.eligible


def test_offer_for_another_date_has_no_capacity() -> None:
    world = one_pair()
    world.offers.clear()
    world.add_offer("o1", "s1", "veg", 100, day=DAY + dt.timedelta(days=1))
    assert reason_of(world) is Reason.no_capacity_on_date


def test_missing_supply_permit() -> None:
    world = one_pair()
    world.drop_certificates("s1", CertificateType.supply_permit)
    assert reason_of(world) is Reason.supply_permit_invalid


def test_supply_permit_expiring_mid_window_is_ineligible() -> None:
    world = one_pair()
    world.drop_certificates("s1", CertificateType.supply_permit)
    world.certificates.append(
        day_cert(
            "permit-short",
            CertificateType.supply_permit,
            HolderKind.supplier,
            "s1",
            valid_until=WINDOW_START + dt.timedelta(hours=5),  # expires at noon
        )
    )
    assert reason_of(world) is Reason.supply_permit_invalid


def test_supply_permit_starting_mid_window_is_ineligible() -> None:
    world = one_pair()
    world.drop_certificates("s1", CertificateType.supply_permit)
    world.certificates.append(
        day_cert(
            "permit-late",
            CertificateType.supply_permit,
            HolderKind.supplier,
            "s1",
            valid_from=WINDOW_START + dt.timedelta(hours=1),
        )
    )
    assert reason_of(world) is Reason.supply_permit_invalid


def test_quarantine_report_required_only_where_the_category_says() -> None:
    pork = one_pair("pork")
    pork.drop_certificates("s1", CertificateType.quarantine_report)
    assert reason_of(pork) is Reason.quarantine_report_missing
    veg = one_pair("veg")
    veg.drop_certificates("s1", CertificateType.quarantine_report)
    assert reason_of(veg) is Reason.eligible


def test_quarantine_report_for_another_category_does_not_count() -> None:
    world = one_pair("pork")
    world.drop_certificates("s1", CertificateType.quarantine_report)
    world.certificates.append(
        day_cert(
            "qr-beef", CertificateType.quarantine_report, HolderKind.supplier, "s1", scope="beef"
        )
    )
    assert reason_of(world) is Reason.quarantine_report_missing


def test_quarantine_report_ending_before_window_end() -> None:
    world = one_pair("pork")
    world.drop_certificates("s1", CertificateType.quarantine_report)
    world.certificates.append(
        day_cert(
            "qr-short",
            CertificateType.quarantine_report,
            HolderKind.supplier,
            "s1",
            scope="pork",
            valid_until=WINDOW_END - dt.timedelta(minutes=1),
        )
    )
    assert reason_of(world) is Reason.quarantine_report_missing


def test_food_licence() -> None:
    world = one_pair("pork")
    world.drop_certificates("s1", CertificateType.food_licence)
    assert reason_of(world) is Reason.food_licence_missing


def test_outside_max_distance() -> None:
    world = one_pair()
    world.offers.clear()
    world.add_offer("o1", "s1", "veg", 100, max_km=0.5)  # c1 is 1 km away
    assert reason_of(world) is Reason.outside_service_area


def test_district_service_area() -> None:
    world = one_pair()
    world.offers.clear()
    world.add_offer("o1", "s1", "veg", 100, max_km=None, districts=("徐汇区",))
    assert reason_of(world) is Reason.outside_service_area
    world.offers.clear()
    world.add_offer("o1", "s1", "veg", 100, max_km=None, districts=("浦东新区",))
    assert reason_of(world) is Reason.eligible


def test_distance_is_metres_on_the_sphere() -> None:
    world = one_pair()
    eligibility = check_eligibility(world.problem())
    assert eligibility.distance("o1", "c1") == pytest.approx(1000, abs=15)


def test_lockdown_level_not_served() -> None:
    world = one_pair()
    world.suppliers[0] = Supplier(
        supplier_id="s1",
        name="供应商s1",
        lockdown_levels_served=frozenset({LockdownLevel.normal, LockdownLevel.precaution}),
    )
    world.set_level("c1", LockdownLevel.sealed)
    assert reason_of(world) is Reason.lockdown_level_not_served


def test_vehicle_pass_scoped_to_another_level() -> None:
    world = one_pair()
    world.drop_certificates("s1-v", CertificateType.vehicle_pass)
    world.certificates.append(
        day_cert(
            "pass-ctl", CertificateType.vehicle_pass, HolderKind.vehicle, "s1-v", scope="controlled"
        )
    )
    world.set_level("c1", LockdownLevel.sealed)
    assert reason_of(world) is Reason.no_vehicle_pass
    world.lockdown.clear()
    world.set_level("c1", LockdownLevel.controlled)
    assert reason_of(world) is Reason.eligible


def test_normal_compound_needs_no_pass() -> None:
    world = one_pair()
    world.drop_certificates("s1-v", CertificateType.vehicle_pass)
    assert reason_of(world) is Reason.eligible
    world.set_level("c1", LockdownLevel.controlled)
    assert reason_of(world) is Reason.no_vehicle_pass


def test_cold_chain_needs_refrigerated_vehicle() -> None:
    world = one_pair("pork")
    world.vehicles[0] = world.vehicles[0].model_copy(update={"refrigerated": False})
    assert reason_of(world) is Reason.no_refrigerated_vehicle
    veg = one_pair("veg")
    veg.vehicles[0] = veg.vehicles[0].model_copy(update={"refrigerated": False})
    assert reason_of(veg) is Reason.eligible


def test_driver_test_expiring_before_window_end() -> None:
    world = one_pair()
    # taken 50 h before the window ends: expired 2 h before the end
    world.drivers[0] = world.drivers[0].model_copy(
        update={"test_taken_at": WINDOW_END - dt.timedelta(hours=50)}
    )
    assert reason_of(world) is Reason.no_valid_driver_test


def test_driver_test_certificate_counts() -> None:
    world = one_pair()
    world.drivers[0] = world.drivers[0].model_copy(update={"test_taken_at": None})
    assert reason_of(world) is Reason.no_valid_driver_test
    world.certificates.append(
        day_cert("t1", CertificateType.driver_test, HolderKind.driver, "s1-drv")
    )
    assert reason_of(world) is Reason.eligible


def _crewed(world: World, *, taken_h_before_end: float, work_id: bool) -> CrewRoster:
    """Crew member 李四 assigned to s1's only vehicle on DAY, tested ``taken_h_before_end``
    hours before the window ends, with a work ID over the day if ``work_id``."""
    if work_id:
        world.certificates.append(day_cert("w1", CertificateType.work_id, HolderKind.crew, "k1"))
    member = CrewMember(
        crew_id="k1",
        supplier_id="s1",
        name="李四",
        test_taken_at=WINDOW_END - dt.timedelta(hours=taken_h_before_end),
    )
    return CrewRoster(
        members=(member,),
        assignments=(CrewAssignment(vehicle_id="s1-v", delivery_date=DAY, crew_ids=("k1",)),),
    )


def test_crew_member_needs_a_test_and_a_work_id_valid_at_window_end() -> None:
    world = one_pair()
    assert check_eligibility(world.problem(), CrewRoster()).reason("o1", "c1") is Reason.eligible
    crew = _crewed(world, taken_h_before_end=50, work_id=True)  # test expired 2 h before end
    assert check_eligibility(world.problem(), crew).reason("o1", "c1") is Reason.no_valid_crew
    world = one_pair()
    crew = _crewed(world, taken_h_before_end=10, work_id=False)  # tested, but no work ID
    assert check_eligibility(world.problem(), crew).reason("o1", "c1") is Reason.no_valid_crew
    world = one_pair()
    crew = _crewed(world, taken_h_before_end=10, work_id=True)
    assert check_eligibility(world.problem(), crew).reason("o1", "c1") is Reason.eligible
    # without the roster the driver-only rules decide, as before
    assert check_eligibility(world.problem()).reason("o1", "c1") is Reason.eligible


def test_crew_assigned_on_another_date_does_not_count() -> None:
    world = one_pair()
    crew = _crewed(world, taken_h_before_end=50, work_id=False)
    other = crew.assignments[0].model_copy(update={"delivery_date": DAY + dt.timedelta(days=1)})
    roster = crew.model_copy(update={"assignments": (other,)})
    assert check_eligibility(world.problem(), roster).reason("o1", "c1") is Reason.eligible


def test_every_reason_has_a_sentence_in_both_languages() -> None:
    world = one_pair()
    problem = world.problem()
    eligibility = check_eligibility(problem)
    for reason in REASONS:
        text = describe(
            problem,
            eligibility,
            reason,
            supplier_id="s1",
            compound_id="c1",
            category_id="veg",
            offer_id="o1",
        )
        assert "供应商s1" in text.zh and "供应商s1" in text.en
        assert "{" not in text.zh + text.en


def test_lockdown_status_resolution() -> None:
    world = one_pair()
    world.set_level("c1", LockdownLevel.sealed)
    problem = world.problem()
    assert problem.lockdown_levels["c1"] is LockdownLevel.sealed
