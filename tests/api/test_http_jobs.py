"""Match and plan jobs through the API: worker processes, polling, scoped results, restart."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from api.jobs import INTERRUPTED
from api.main import create_app
from data.store import Store
from data.tables import JobRow, table_of
from tests.api.conftest import settings_for

DAY = "2022-04-15"
_JOBS = table_of(JobRow)


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """Poll until the job leaves queued/running (at most two minutes)."""
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_match_then_plan_jobs_scoped_per_role(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    submitted = client.post(
        "/match", headers=tokens["leader"], json={"delivery_date": DAY, "time_limit_s": 5}
    )
    assert submitted.status_code == 202, submitted.text
    job = _wait(client, tokens["leader"], submitted.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100 and job["compound_id"] == "c-huamu"
    job_id = job["job_id"]
    assert client.get(f"/jobs/{job_id}", headers=tokens["leader_other"]).status_code == 403
    assert client.get(f"/jobs/{job_id}", headers=tokens["driver"]).status_code == 403

    mine = client.get(f"/match/{job_id}/allocation", headers=tokens["leader"]).json()
    assert mine["lines"] and {x["compound_id"] for x in mine["lines"]} == {"c-huamu"}
    assert {d["compound_id"] for d in mine["decisions"]} == {"c-huamu"}
    served = {x["category_id"]: x["quantity_units"] for x in mine["lines"]}
    assert served == {"vegetables": 3, "eggs": 3}
    supplier = client.get(f"/match/{job_id}/allocation", headers=tokens["dispatcher"]).json()
    assert {x["supplier_id"] for x in supplier["lines"]} == {"sup-a"}
    assert supplier["decisions"] == [] and supplier["unmet"] == []
    assert client.get(f"/match/{job_id}/allocation", headers=tokens["driver"]).status_code == 403

    planned = client.post(
        "/plans",
        headers=tokens["dispatcher"],
        json={"delivery_date": DAY, "match_job_id": job_id, "time_limit_s": 2},
    )
    assert planned.status_code == 202, planned.text
    plan_job = _wait(client, tokens["dispatcher"], planned.json()["job_id"])
    assert plan_job["status"] == "succeeded", plan_job
    plan = client.get(f"/plans/{plan_job['job_id']}", headers=tokens["dispatcher"]).json()
    assert plan["violations"] == []
    assert [r["vehicle_id"] for r in plan["routes"]] == ["veh-a1"]
    routed = sum(s["quantity_units"] for r in plan["routes"] for s in r["stops"])
    assert routed == 6  # sup-a carries vegetables only: 3 units to each compound
    assert (
        client.get(f"/plans/{plan_job['job_id']}", headers=tokens["dispatcher_other"]).status_code
        == 403
    )
    assert (
        client.post("/plans", headers=tokens["leader"], json={"delivery_date": DAY}).status_code
        == 403
    )


def test_plan_without_a_match_fails_with_a_sentence(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    reply = client.post(
        "/plans", headers=tokens["dispatcher"], json={"delivery_date": "2022-04-20"}
    )
    job = _wait(client, tokens["dispatcher"], reply.json()["job_id"])
    assert job["status"] == "failed"
    assert "run matching first" in job["error"]
    result = client.get(f"/plans/{job['job_id']}", headers=tokens["dispatcher"])
    assert result.status_code == 409 and result.json()["error"] == "job_not_done"


def test_restart_leaves_no_job_running(api_url: str) -> None:
    store = Store.open(api_url)
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        for job_id, status in (("deadbeef00000001", "running"), ("deadbeef00000002", "queued")):
            conn.execute(
                insert(_JOBS).values(
                    job_id=job_id,
                    kind="match",
                    status=status,
                    progress=40 if status == "running" else 0,
                    message=status,
                    owner="admin",
                    compound_id=None,
                    supplier_id=None,
                    delivery_date=dt.date(2022, 4, 15),
                    params={"time_limit_s": 2, "seed": 0},
                    created_at=now,
                )
            )
    with TestClient(create_app(settings_for(api_url))) as restarted:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                rows = dict(
                    conn.execute(
                        select(_JOBS.c.job_id, _JOBS.c.status).where(
                            _JOBS.c.job_id.in_(["deadbeef00000001", "deadbeef00000002"])
                        )
                    ).all()
                )
            if rows["deadbeef00000002"] in ("succeeded", "failed"):
                break
            time.sleep(0.3)
        assert restarted.app is not None
    with store.engine.connect() as conn:
        interrupted = conn.execute(
            select(_JOBS.c.status, _JOBS.c.error).where(_JOBS.c.job_id == "deadbeef00000001")
        ).one()
    store.close()
    assert interrupted == ("failed", INTERRUPTED)
    assert rows["deadbeef00000002"] == "succeeded"  # the queued job was run after the restart


HOUSEHOLD = ("王阿姨", "13800138000", "钱奶奶", "孙女士", "pregnant", "chronic_illness")


def test_documents_and_stop_reports_after_planning(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    match = client.post("/match", headers=tokens["admin"], json={"delivery_date": DAY})
    match_id = _wait(client, tokens["admin"], match.json()["job_id"])["job_id"]
    plan = client.post(
        "/plans", headers=tokens["admin"], json={"delivery_date": DAY, "match_job_id": match_id}
    )
    plan_job = _wait(client, tokens["admin"], plan.json()["job_id"])
    assert plan_job["status"] == "succeeded", plan_job
    plan_id = plan_job["job_id"]

    mine = client.get(f"/route-sheets/mine?delivery_date={DAY}", headers=tokens["driver"])
    assert mine.status_code == 200, mine.text
    sheets = mine.json()
    assert [s["sheet"]["vehicle_id"] for s in sheets] == ["veh-a1"]
    assert all(s["job_id"] == plan_id for s in sheets)
    other = client.get(f"/route-sheets/mine?delivery_date={DAY}", headers=tokens["driver_other"])
    assert [s["sheet"]["vehicle_id"] for s in other.json()] == ["veh-b1"]
    supplier = client.get(f"/route-sheets?delivery_date={DAY}", headers=tokens["dispatcher"])
    assert [s["sheet"]["supplier_id"] for s in supplier.json()] == ["sup-a"]
    assert (
        client.get(f"/route-sheets?delivery_date={DAY}", headers=tokens["leader"]).status_code
        == 403
    )
    assert (
        client.get(
            f"/route-sheets/mine?delivery_date={DAY}", headers=tokens["dispatcher"]
        ).status_code
        == 403
    )
    for reply in (mine, other, supplier):
        assert not [f for f in HOUSEHOLD if f in reply.text]

    leader_list = client.get(
        f"/compounds/c-huamu/sorting-list?delivery_date={DAY}", headers=tokens["leader"]
    )
    assert leader_list.status_code == 200, leader_list.text
    assert leader_list.json()["kind"] == "leader" and "王阿姨" in leader_list.text
    aggregate = client.get(
        f"/compounds/c-huamu/sorting-list?delivery_date={DAY}", headers=tokens["admin"]
    )
    assert aggregate.json()["kind"] == "aggregate"
    assert not [f for f in HOUSEHOLD if f in aggregate.text]
    units = sum(b["units"] for b in aggregate.json()["buildings"])
    assert units == 6  # 3 vegetables + 3 eggs reach c-huamu
    for role in ("leader_other", "dispatcher", "driver"):
        denied = client.get(
            f"/compounds/c-huamu/sorting-list?delivery_date={DAY}", headers=tokens[role]
        )
        assert denied.status_code == 403, role
    notices = client.get(
        f"/compounds/c-huamu/notices?delivery_date={DAY}", headers=tokens["leader"]
    )
    assert {n["building_id"] for n in notices.json()} == {
        "c-huamu-b03",
        "c-huamu-b05",
        "c-huamu-b12",
    }
    assert not [f for f in HOUSEHOLD if f in notices.text]
    assert all(not n["at_gate"] and n["pickup_point"] for n in notices.json())  # planned

    stop = sheets[0]["sheet"]["stops"][0]
    delivery_id = stop["unload"][0]["delivery_ids"][0]
    url = f"/plans/{plan_id}/stops/{delivery_id}/events"
    report = {"event_id": "e-1", "status": "delivered", "quantity_units": 1}
    first = client.post(url, headers=tokens["driver"], json=report)
    assert first.status_code == 201, first.text
    again = client.post(url, headers=tokens["driver"], json=report)
    assert again.status_code == 200 and again.json() == first.json()
    assert client.post(url, headers=tokens["driver_other"], json=report).status_code == 403
    too_many = {"event_id": "e-2", "status": "delivered", "quantity_units": 10_000}
    assert client.post(url, headers=tokens["driver"], json=too_many).status_code == 422
    no_reason = {"event_id": "e-3", "status": "failed"}
    assert client.post(url, headers=tokens["driver"], json=no_reason).status_code == 422
    events = client.get(f"/plans/{plan_id}/stops/events", headers=tokens["dispatcher"]).json()
    assert [e["event_id"] for e in events] == ["e-1"]
    assert (
        client.get(f"/plans/{plan_id}/stops/events", headers=tokens["dispatcher_other"]).json()
        == []
    )

    # a refused delivery, reported by the driver, feeds a re-plan of the rest of the day
    routes = client.get(f"/plans/{plan_id}", headers=tokens["admin"]).json()["routes"]
    last = next(r for r in routes if r["vehicle_id"] == "veh-a1")["stops"][-1]
    refused = {
        "event_id": "e-9",
        "status": "failed",
        "reason": "gate closed",
        "at": last["arrival"],
    }
    url = f"/plans/{plan_id}/stops/{last['delivery_id']}/events"
    assert client.post(url, headers=tokens["driver"], json=refused).status_code == 201
    now = dt.datetime.fromisoformat(last["arrival"]) + dt.timedelta(minutes=1)
    request = {"now": now.isoformat(), "time_limit_s": 2}
    assert (
        client.post(
            f"/plans/{plan_id}/replan", headers=tokens["dispatcher"], json=request
        ).status_code
        == 403
    )
    submitted = client.post(f"/plans/{plan_id}/replan", headers=tokens["admin"], json=request)
    assert submitted.status_code == 202, submitted.text
    replanned = _wait(client, tokens["admin"], submitted.json()["job_id"])
    assert replanned["status"] == "succeeded", replanned
    new = client.get(f"/plans/{replanned['job_id']}", headers=tokens["admin"]).json()
    assert new["violations"] == []
    retried = [s for r in new["routes"] for s in r["stops"]
               if s["delivery_id"].startswith(last["delivery_id"] + ".")]  # fmt: skip
    gave_up = [u for u in new["unassigned"] if u["reason"] == "delivery_failed"]
    assert retried or gave_up
    assert (
        sum(s["quantity_units"] for s in retried) + sum(u["quantity_units"] for u in gave_up)
        == last["quantity_units"]
    )
    sheets_now = client.get(f"/route-sheets/mine?delivery_date={DAY}", headers=tokens["driver"])
    assert {s["job_id"] for s in sheets_now.json()} == {replanned["job_id"]}
