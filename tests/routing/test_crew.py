"""Everyone on a crewed vehicle needs a 48-hour test and a work ID at every arrival."""

from __future__ import annotations

import datetime as dt

from data.schemas import Certificate, CertificateType, CrewMember, HolderKind
from routing.check import check_plan
from routing.crew import check_crew, on_board
from tests.routing.test_sheets import DRIVERS, PLAN, PROBLEM, at


def work_id(holder_kind: HolderKind, holder_id: str, until: str = "23:00") -> Certificate:
    return Certificate(
        certificate_id=f"wid-{holder_id}",
        type=CertificateType.work_id,
        holder_kind=holder_kind,
        holder_id=holder_id,
        valid_from=at("00:00"),
        valid_until=at(until),
    )


DRIVER = DRIVERS[0].model_copy(update={"test_taken_at": at("06:00") - dt.timedelta(hours=24)})
CERTIFICATES = [work_id(HolderKind.driver, "drv1"), work_id(HolderKind.crew, "k1")]


def crew_tested(taken: dt.datetime) -> CrewMember:
    return CrewMember(crew_id="k1", supplier_id="s1", name="李四", test_taken_at=taken)


def test_crew_test_expiring_mid_route_makes_the_later_stops_infeasible() -> None:
    # tested 09:40 two days before: expires 09:40 today, between the 09:35 and 09:45 arrivals
    member = crew_tested(at("09:40") - dt.timedelta(hours=48))
    crews = {"v1": on_board(DRIVER, [member], CERTIFICATES)}
    found = check_crew(PLAN, crews)
    assert [(v.delivery_id, v.person_id, v.certificate) for v in found] == [
        ("del-4", "k1", CertificateType.driver_test),
        ("del-1.2", "k1", CertificateType.driver_test),
    ]
    first = found[0]
    assert first.expired_at == at("09:40")
    assert "李四" in first.reason and "09:40" in first.reason and "48-hour test" in first.reason
    assert "09:45" in first.reason  # the arrival it spoils
    # the checker reports the same sentences after its own
    plain = check_plan(PROBLEM, PLAN)
    assert check_plan(PROBLEM, PLAN, crews=crews) == plain + [v.reason for v in found]


def test_a_valid_crew_adds_nothing_and_no_crew_keeps_the_driver_only_check() -> None:
    member = crew_tested(at("08:00"))
    crews = {"v1": on_board(DRIVER, [member], CERTIFICATES)}
    assert check_crew(PLAN, crews) == ()
    assert check_plan(PROBLEM, PLAN, crews=crews) == check_plan(PROBLEM, PLAN)
    assert check_crew(PLAN, {}) == ()


def test_missing_work_id_names_the_person_on_every_stop() -> None:
    member = crew_tested(at("08:00"))
    crews = {"v1": on_board(DRIVER, [member], CERTIFICATES[:1])}  # k1 has no work ID
    found = check_crew(PLAN, crews)
    assert len(found) == len(PLAN.routes[0].stops)
    assert {v.certificate for v in found} == {CertificateType.work_id}
    assert all(v.expired_at is None and "no work ID" in v.reason for v in found)


def test_driver_work_id_expiring_counts_on_a_crewed_vehicle() -> None:
    member = crew_tested(at("08:00"))
    certificates = [work_id(HolderKind.driver, "drv1", until="09:20"), CERTIFICATES[1]]
    found = check_crew(PLAN, {"v1": on_board(DRIVER, [member], certificates)})
    assert {v.person_id for v in found} == {"drv1"}
    assert [v.delivery_id for v in found] == ["del-3", "del-4", "del-1.2"]
    assert all(v.role == "driver" and v.expired_at == at("09:20") for v in found)
