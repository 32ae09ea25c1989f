"""Hand-out sheets, door delivery under 封控, pinned pickup points, vehicle crews and the
arrival schedule through the HTTP API, with who may see and change what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from api.security import Principal, Role, issue_token
from data.load import SupplyBundle
from data.schemas import SHANGHAI, Certificate, CertificateType, CrewMember, HolderKind
from data.store import Store
from data.tables import AuditEventRow, LockdownStatusRow, table_of
from tests.api.test_http_jobs import DAY, _wait

HUAMU = "/compounds/c-huamu"
SHEET = f"{HUAMU}/buildings/c-huamu-b03/handout"
PRIVATE = ("王阿姨", "13800138000", "elderly", "pregnant", "priority", "phone", "household_name")


def token(client: TestClient, principal: Principal) -> dict[str, str]:
    secret = client.app.state.settings.secret()  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {issue_token(principal, secret, 30)}"}


@pytest.fixture(scope="module")
def more(client: TestClient, tokens: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Tokens of volunteers and committees besides the seeded users."""
    people = {
        "volunteer": Principal(username="vol-b03", role=Role.volunteer, compound_id="c-huamu",
                               building_id="c-huamu-b03"),
        "volunteer_b05": Principal(username="vol-b05", role=Role.volunteer,
                                   compound_id="c-huamu", building_id="c-huamu-b05"),
        "committee": Principal(username="jwh-huamu", role=Role.committee,
                               compound_ids=("c-huamu",)),
        "committee_other": Principal(username="jwh-tq", role=Role.committee,
                                     compound_ids=("c-tangqiao",)),
    }  # fmt: skip
    return {**tokens, **{name: token(client, p) for name, p in people.items()}}


@pytest.fixture(scope="module")
def planned(client: TestClient, more: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Match and plan the API day; the plan job."""
    match = client.post("/match", headers=more["admin"], json={"delivery_date": DAY})
    match_id = _wait(client, more["admin"], match.json()["job_id"])["job_id"]
    plan = client.post(
        "/plans", headers=more["admin"], json={"delivery_date": DAY, "match_job_id": match_id}
    )
    job = _wait(client, more["admin"], plan.json()["job_id"])
    assert job["status"] == "succeeded", job
    result: dict[str, Any] = client.get(f"/plans/{job['job_id']}", headers=more["admin"]).json()
    return result


def test_handout_sheet_per_role_and_without_household_data(
    client: TestClient, more: dict[str, dict[str, str]]
) -> None:
    expected = {"volunteer": 200, "leader": 200, "admin": 200, "volunteer_b05": 403,
                "leader_other": 403, "committee": 403, "dispatcher": 403, "driver": 403,
                "anonymous": 401}  # fmt: skip
    for who, status in expected.items():
        reply = client.get(f"{SHEET}?date={DAY}", headers=more[who])
        assert reply.status_code == status, (who, reply.text)
    sheet = client.get(f"{SHEET}?date={DAY}", headers=more["volunteer"])
    body = sheet.json()
    assert [(r["room"], r["units"], r["door_delivery"]) for r in body["rooms"]] == [
        ("502", 3, True)  # proxy and elderly: to the door, with no reason given
    ]
    assert not [word for word in PRIVATE if word in sheet.text]
    html = client.get(f"{SHEET}?date={DAY}&format=html", headers=more["volunteer"])
    assert html.status_code == 200 and "送货上门" in html.text and "王阿姨" not in html.text
    pdf = client.get(f"{SHEET}?date={DAY}&format=pdf", headers=more["volunteer"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = client.get(f"{HUAMU}/buildings/nope/handout?date={DAY}", headers=more["admin"])
    assert other.status_code == 404 and other.json()["error"] == "not_found"


def test_handout_steps_in_order_by_the_building_volunteer(
    client: TestClient, more: dict[str, dict[str, str]], api_url: str
) -> None:
    url = f"{SHEET}/steps?date={DAY}"

    def step(name: str, hhmm: str, who: str = "volunteer") -> Any:
        at = f"{DAY}T{hhmm}:00+08:00"
        return client.post(url, headers=more[who], json={"step": name, "at": at})

    assert step("received", "10:00", "volunteer_b05").status_code == 403
    skipped = step("disinfected", "10:00")
    assert skipped.status_code == 409 and skipped.json()["error"] == "out_of_order"
    assert step("received", "10:00").status_code == 201
    assert step("received", "10:01").json()["error"] == "conflict"
    assert step("disinfected", "10:20", "leader").status_code == 201
    done = step("handed_out", "11:00")
    assert done.status_code == 201
    day = done.json()["deliveries"][0]
    assert day["next_step"] is None and [s["step"] for s in day["steps"]] == [
        "received", "disinfected", "handed_out"
    ]  # fmt: skip
    events = table_of(AuditEventRow)
    with Store.open(api_url) as store, store.engine.connect() as conn:
        actions = conn.execute(select(events.c.action).where(events.c.action == "handout.step"))
        assert len(actions.all()) == 3


def test_sealed_compound_switches_notices_and_sheets_to_door_delivery(
    client: TestClient, more: dict[str, dict[str, str]], planned: dict[str, Any], api_url: str
) -> None:
    before = client.get(f"{HUAMU}/notices?delivery_date={DAY}", headers=more["leader"]).json()
    assert before and not any(n["door_delivery"] for n in before)
    with Store.open(api_url) as store, store.engine.begin() as conn:
        conn.execute(insert(table_of(LockdownStatusRow)).values(
            compound_id="c-huamu", level="sealed", valid_from=dt.date(2022, 4, 14),
            valid_until=dt.date(2022, 4, 20)))  # fmt: skip
    after = client.get(f"{HUAMU}/notices?delivery_date={DAY}", headers=more["leader"]).json()
    assert after and all(n["door_delivery"] for n in after)
    assert all("取货地点" not in n["message_zh"] and "送货时间" in n["message_zh"] for n in after)
    listed = client.get(f"{HUAMU}/sorting-list?delivery_date={DAY}", headers=more["admin"])
    assert listed.json()["door_delivery"] is True
    sheet = client.get(f"{HUAMU}/buildings/c-huamu-b05/handout?date={DAY}",
                       headers=more["volunteer_b05"]).json()  # fmt: skip
    assert sheet["sealed"] and all(r["door_delivery"] for r in sheet["rooms"])


def test_leader_pins_a_pickup_point(
    client: TestClient, more: dict[str, dict[str, str]], planned: dict[str, Any]
) -> None:
    tq = "/compounds/c-tangqiao"
    pin = {"delivery_date": DAY, "point_name": "中心花园", "lon": 121.5262, "lat": 31.2106,
           "building_id": "c-huamu-b03"}  # fmt: skip
    wrong = client.put(f"{tq}/pickup-pins", headers=more["leader_other"], json=pin)
    assert wrong.status_code == 422 and wrong.json()["field"] == "building_id"
    del pin["building_id"]
    for who, status in (("leader", 403), ("volunteer", 403), ("committee_other", 403),
                        ("dispatcher", 403), ("anonymous", 401)):  # fmt: skip
        assert client.put(f"{tq}/pickup-pins", headers=more[who], json=pin).status_code == status
    before = client.get(f"{tq}/notices?delivery_date={DAY}", headers=more["leader_other"]).json()
    assert before and not any(n["pinned"] for n in before)
    done = client.put(f"{tq}/pickup-pins", headers=more["leader_other"], json=pin)
    assert done.status_code == 200 and done.json()[0]["building_id"] is None
    after = client.get(f"{tq}/notices?delivery_date={DAY}", headers=more["leader_other"]).json()
    assert after and all(n["pinned"] and n["pickup_point"] == "中心花园" for n in after)
    assert all("中心花园" in n["message_zh"] for n in after)
    listed = client.get(f"{tq}/sorting-list?delivery_date={DAY}", headers=more["admin"]).json()
    assert all(b["pickup_pinned"] for b in listed["buildings"])
    pins = client.get(f"{tq}/pickup-pins?delivery_date={DAY}", headers=more["leader_other"])
    assert [p["point_name"] for p in pins.json()] == ["中心花园"]
    gone = client.delete(f"{tq}/pickup-pins?delivery_date={DAY}", headers=more["leader_other"])
    assert gone.status_code == 204
    again = client.delete(f"{tq}/pickup-pins?delivery_date={DAY}", headers=more["leader_other"])
    assert again.status_code == 404
    unpinned = client.get(f"{tq}/notices?delivery_date={DAY}", headers=more["leader_other"])
    assert not any(n["pinned"] for n in unpinned.json())


def test_crew_change_rechecks_the_stored_plan(
    client: TestClient, more: dict[str, dict[str, str]], planned: dict[str, Any], api_url: str
) -> None:
    route = next(r for r in planned["routes"] if r["vehicle_id"] == "veh-a1")
    arrivals = [dt.datetime.fromisoformat(s["arrival"]) for s in route["stops"]]
    assert len(arrivals) >= 2
    expiry = arrivals[0] + (arrivals[1] - arrivals[0]) / 2  # between the first two stops
    day_start = dt.datetime(2022, 4, 15, tzinfo=SHANGHAI)
    ids = [
        Certificate(certificate_id=f"wid-{h}", type=CertificateType.work_id, holder_kind=kind,
                    holder_id=h, valid_from=day_start, valid_until=day_start + dt.timedelta(1))
        for kind, h in ((HolderKind.driver, "drv-a1"), (HolderKind.crew, "crew-a1"),
                        (HolderKind.crew, "crew-a2"))
    ]  # fmt: skip
    crew = (
        CrewMember(crew_id="crew-a1", supplier_id="sup-a", name="李四",
                   test_taken_at=expiry - dt.timedelta(hours=48)),
        CrewMember(crew_id="crew-a2", supplier_id="sup-a", name="周五",
                   test_taken_at=day_start - dt.timedelta(hours=2)),
    )  # fmt: skip
    with Store.open(api_url) as store:
        store.import_supply(SupplyBundle(crew=crew, certificates=tuple(ids)), source="crew")
    url = f"/suppliers/sup-a/vehicles/veh-a1/crew?date={DAY}"
    for who, status in (("dispatcher_other", 403), ("leader", 403), ("driver", 403)):
        assert (
            client.put(url, headers=more[who], json={"crew_ids": ["crew-a2"]}).status_code == status
        )
    unknown = client.put(url, headers=more["dispatcher"], json={"crew_ids": ["crew-x"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "crew_ids"
    fine = client.put(url, headers=more["dispatcher"], json={"crew_ids": ["crew-a2"]})
    assert fine.status_code == 200, fine.text
    assert fine.json()["planned"] and fine.json()["affected_stops"] == []
    assert [p["person_id"] for p in fine.json()["on_board"]] == ["drv-a1", "crew-a2"]
    changed = client.put(url, headers=more["dispatcher"], json={"crew_ids": ["crew-a1"]}).json()
    hit = changed["affected_stops"]
    assert [h["stop_index"] for h in hit] == list(range(1, len(arrivals)))
    assert all(h["person_id"] == "crew-a1" and h["certificate"] == "driver_test" for h in hit)
    assert "李四" in hit[0]["reason"] and f"{expiry.astimezone(SHANGHAI):%H:%M}" in hit[0]["reason"]
    assert "phone" not in str(changed)
    read = client.get(url, headers=more["dispatcher"]).json()
    assert read["crew_ids"] == ["crew-a1"] and len(read["affected_stops"]) == len(hit)
    back = client.put(url, headers=more["dispatcher"], json={"crew_ids": []}).json()
    assert back["affected_stops"] == [] and back["on_board"] == []


def test_arrival_schedule_for_committee_and_leaders(
    client: TestClient, more: dict[str, dict[str, str]], planned: dict[str, Any]
) -> None:
    url = f"{HUAMU}/schedule?date={DAY}"
    expected = {"committee": 200, "leader": 200, "admin": 200, "committee_other": 403,
                "leader_other": 403, "volunteer": 403, "dispatcher": 403,
                "anonymous": 401}  # fmt: skip
    for who, status in expected.items():
        assert client.get(url, headers=more[who]).status_code == status, who
    schedule = client.get(url, headers=more["committee"]).json()
    gate = schedule["gates"][0]
    assert gate["gate_id"] == "g-huamu-w" and gate["max_trucks"] >= 1
    assert gate["arrivals"] and not schedule["over_limit"]  # the planner staggers gates
    assert {a["vehicle_id"] for a in gate["arrivals"]} <= {"veh-a1", "veh-b1"}
    text = str(schedule)
    household = [w for w in PRIVATE if w != "phone"]  # the supplier's dispatch phone is shown
    assert not [word for word in household if word in text] and "drv-a1" not in text
    empty = client.get(f"{HUAMU}/schedule?date=2022-05-01", headers=more["committee"])
    assert empty.status_code == 404
