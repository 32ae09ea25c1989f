"""Issue 10's acceptance end to end through the HTTP API on the embedded demo day.

The store holds the whole demo day, loaded by the same code as ``linli demo``
(``api.demo_run.run_demo``), on SQLite and on PostgreSQL. A leader asks for pool proposals
and opens a pooled group with a neighbour compound (whose leader joins), residents sign up
(a pasted 接龙 list, JSON lines and the public link, every room on the roster), the group
forms at its deadline, the supplier's dispatcher moves it to matched, matches and plans the
day (jobs polled; the plan carries the formed group's units), dispatches, the driver reports
the stop from the route sheet, the receipt check at the gate finds a short line, the
dispatcher accepts the claim with a refund, the refund is in the ledger (line balance and
public ledger), the supplier's reliability changes and the compound's daily report shows
all of it. Every reply to someone other than the group's leaders is checked for household
fields.

The clock is the requests' ``at``: the group opens on 14 April 2022 and closes after its
deadline. The receipt check and the claim answer use the real clock, because claim deadlines
are swept with the real clock whenever claims are read (a check dated 2022 would have its
claim escalated to the committee before the dispatcher could answer it).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from api.accounts import add_user
from api.demo_run import run_demo
from api.main import create_app
from api.routes.pooling import MATCH_PARAMS, day_match
from api.security import Role
from data.demo import DEMO_DATE
from data.roster import flats_per_floor
from data.schemas import SHANGHAI, Building
from data.store import Store
from matcher.pooling import Pool, PoolingParams, propose_pools
from tests.api.conftest import PASSWORD, settings_for

DAY = DEMO_DATE.isoformat()
OPENED = dt.datetime(2022, 4, 14, 12, 0, tzinfo=SHANGHAI)
DEADLINE = dt.datetime(2022, 4, 14, 20, 0, tzinfo=SHANGHAI)
SEED = 20220415
NAMES = ("王阿姨", "李先生", "赵奶奶", "孙女士")
PHONES = ("13900001111", "13900002222", "13900003333", "13900004444")
HOUSEHOLD_KEYS = ("household_name", "phone", "priority_flags", "resident_code")
SHORT_UNITS = 2


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store holding the embedded demo day, loaded as ``linli demo`` loads it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'demo.db'}"
        cleanup = None
    else:
        database: URL = request.getfixturevalue("postgres_url")
        schema = f"e2e_{secrets.token_hex(6)}"
        admin = create_engine(database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
        cleanup = (admin, schema)
    quiet = Console(file=StringIO())
    run_demo(url, seed=SEED, console=quiet, progress=Progress(console=quiet))
    try:
        yield url
    finally:
        if cleanup is not None:
            admin, schema = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(scope="module")
def client(demo_url: str) -> Iterator[TestClient]:
    """The API on the demo day, job workers running."""
    with TestClient(create_app(settings_for(demo_url))) as test_client:
        yield test_client


@dataclass
class Day:
    """The chosen pool, the people of the day and what the steps leave for the next ones."""

    pool: Pool
    headers: dict[str, dict[str, str]]
    buildings: dict[str, Building]
    facts: dict[str, Any] = field(default_factory=dict)


def _pick_pool(client: TestClient) -> Pool:
    """A pool of two compounds on an offer sold by the unit whose supplier the matcher
    already sends to both (so its trucks stop there): the first such in proposal order.

    The same cached match answers the endpoint (``day_match``), so this is the pool the
    leaders will be proposed."""
    app: Any = client.app
    match = day_match(app.state.store, app.state.demand, DEMO_DATE)
    result = propose_pools(match.problem, match.allocation, PoolingParams(), rules=MATCH_PARAMS)
    offers = {o.offer_id: o for o in match.problem.offers}
    served = {(line.supplier_id, line.compound_id) for line in match.allocation.lines}
    for pool in result.pools:
        if (
            len(pool.compound_ids) == 2
            and offers[pool.offer_id].case_size_units == 1
            and all((pool.supplier_id, c) in served for c in pool.compound_ids)
        ):
            return pool
    raise AssertionError("the demo day has no two-compound pool of a supplier serving both")


def _login(client: TestClient, name: str) -> dict[str, str]:
    reply = client.post("/auth/token", data={"username": name, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


@pytest.fixture(scope="module")
def day(client: TestClient) -> Day:
    """The pool the day is about and one user per role around it (the driver comes once the
    plan says who drives)."""
    app: Any = client.app
    store: Store = app.state.store
    pool = _pick_pool(client)
    lead, neighbour = pool.compound_ids
    far = next(c.compound_id for c in store.compounds() if c.compound_id not in pool.compound_ids)
    building = store.buildings(lead)[0]
    people: dict[str, tuple[Role, str | None, str | None, tuple[str, ...]]] = {
        "admin": (Role.admin, None, None, ()),
        "leader_a": (Role.leader, lead, None, ()),
        "leader_b": (Role.leader, neighbour, None, ()),
        "leader_far": (Role.leader, far, None, ()),
        "dispatcher": (Role.dispatcher, pool.supplier_id, None, ()),
        "committee": (Role.committee, None, None, (lead, neighbour)),
        "volunteer": (Role.volunteer, lead, building.building_id, ()),
    }
    for name, (role, bound, building_id, scope) in people.items():
        add_user(store.engine, name, PASSWORD, role, bound_to=bound, building_id=building_id,
                 compound_ids=scope, by="test")  # fmt: skip
    headers = {name: _login(client, name) for name in people} | {"anonymous": {}}
    buildings = {c: store.buildings(c)[0] for c in pool.compound_ids}
    return Day(pool=pool, headers=headers, buildings=buildings)


def _room(building: Building, index: int) -> str:
    """The ``index``-th room of the building's roster (floor then two-digit flat)."""
    flats = flats_per_floor(building)
    floor, flat = divmod(index, flats)
    assert floor < building.floors, "the building has fewer rooms than the test needs"
    return f"{floor + 1}{flat + 1:02d}"


def _private(reply: Any) -> str:
    """The reply's JSON text, asserted free of household fields and the residents' words."""
    text_ = json.dumps(reply.json(), ensure_ascii=False)
    for word in (*HOUSEHOLD_KEYS, *NAMES, *PHONES):
        assert word not in text_, f"{word!r} leaked: {text_[:400]}"
    return text_


def _wait(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """Poll a job until it ends (at most three minutes)."""
    deadline = time.monotonic() + 180
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


# --- the pool proposals endpoint ---------------------------------------------------------------


def test_pool_proposals_show_the_pool_to_both_leaders_and_only_to_them(
    client: TestClient, day: Day
) -> None:
    pool, h = day.pool, day.headers
    lead, neighbour = pool.compound_ids
    path = f"/compounds/{lead}/pool-proposals?date={DAY}"
    for who in ("leader_a", "committee", "admin"):
        reply = client.get(path, headers=h[who])
        assert reply.status_code == 200, reply.text
        _private(reply)
        body = reply.json()
        assert body["compound_id"] == lead and body["delivery_date"] == DAY
        found = [p for p in body["pools"] if p["pool_id"] == pool.pool_id]
        assert len(found) == 1, body["pools"]
        proposal = found[0]
        assert [m["compound_id"] for m in proposal["compounds"]] == [lead, neighbour]
        assert {m["compound_id"]: m["units"] for m in proposal["compounds"]} == dict(
            pool.units_by_compound
        )
        assert proposal["joint_units"] == pool.joint_units >= proposal["min_order_units"]
        assert proposal["offer"]["offer_id"] == pool.offer_id
        assert proposal["offer"]["supplier_id"] == pool.supplier_id
        assert proposal["drop"] == "per_compound" and proposal["drop_compound_id"] is None
        names = [m["name"] for m in proposal["compounds"]]
        assert all(name in proposal["explanation"]["zh"] for name in names)
        assert all(name in proposal["explanation"]["en"] for name in names)
        assert all(u["category_id"] != pool.category_id for u in body["unmet"])
    theirs = client.get(f"/compounds/{neighbour}/pool-proposals?date={DAY}", headers=h["leader_b"])
    assert theirs.status_code == 200, theirs.text
    assert pool.pool_id in {p["pool_id"] for p in theirs.json()["pools"]}

    assert client.get(path).status_code == 401
    for who in ("dispatcher", "volunteer", "leader_b", "leader_far"):
        assert client.get(path, headers=h[who]).status_code == 403, who
    unknown = client.get(f"/compounds/no-such/pool-proposals?date={DAY}", headers=h["admin"])
    assert unknown.status_code == 404
    assert client.get(f"{path}&max_distance_m=0", headers=h["leader_a"]).status_code == 422
    assert client.get(f"{path}&drop=truck", headers=h["leader_a"]).status_code == 422


def test_pool_proposals_follow_the_distance_and_the_drop(client: TestClient, day: Day) -> None:
    pool, h = day.pool, day.headers
    lead = pool.compound_ids[0]
    path = f"/compounds/{lead}/pool-proposals?date={DAY}"
    shared = client.get(f"{path}&drop=shared", headers=h["leader_a"]).json()
    assert shared["drop"] == "shared"
    for proposal in shared["pools"]:
        members = [m["compound_id"] for m in proposal["compounds"]]
        assert proposal["drop"] == "shared" and proposal["drop_compound_id"] in members
        assert proposal["drop_compound_name"] in proposal["explanation"]["zh"]
    near = client.get(
        f"{path}&max_distance_m={max(1, pool.max_distance_m - 1)}", headers=h["leader_a"]
    ).json()
    assert near["max_distance_m"] == max(1, pool.max_distance_m - 1)
    for proposal in near["pools"]:
        assert proposal["max_distance_m"] < pool.max_distance_m
    assert pool.pool_id not in {p["pool_id"] for p in near["pools"]}


# --- the day, end to end ------------------------------------------------------------------------


def test_the_pooled_group_from_proposal_to_daily_report(client: TestClient, day: Day) -> None:
    pool, h = day.pool, day.headers
    lead, neighbour = pool.compound_ids
    offer_id, supplier_id = pool.offer_id, pool.supplier_id
    reliability_path = f"/suppliers/{supplier_id}/reliability"
    before = client.get(reliability_path, headers=h["committee"])
    assert before.status_code == 200, before.text
    assert before.json()["checked_deliveries"] == 0 and before.json()["claims_filed"] == 0

    # the leader opens the pooled group on the proposed offer; the neighbour's leader joins
    opening = {
        "offer_id": offer_id,
        "deadline": DEADLINE.isoformat(),
        "opened_at": OPENED.isoformat(),
        "allocated_units": pool.joint_units,
        "pool_compound_ids": [neighbour],
        "delivery_fee_cents": 1000,
    }
    assert client.post(f"/compounds/{lead}/groups", json=opening,
                       headers=h["leader_b"]).status_code == 403  # fmt: skip
    opened = client.post(f"/compounds/{lead}/groups", json=opening, headers=h["leader_a"])
    assert opened.status_code == 201, opened.text
    view = opened.json()
    group_id = view["group"]["group_id"]
    token = view["ledger_path"].rsplit("/", 1)[-1]
    assert view["group"]["state"] == "open"
    assert view["group"]["threshold_units"] == pool.min_order_units
    assert [(c["compound_id"], c["leader"]) for c in view["compounds"]] == [
        (lead, "leader_a"),
        (neighbour, None),
    ]
    building_b = day.buildings[neighbour]
    early = client.post(
        f"/public/groups/{token}/signups",
        json={"compound_id": neighbour, "building_id": building_b.building_id,
              "room": _room(building_b, 0), "quantity_units": 1,
              "at": (OPENED + dt.timedelta(minutes=5)).isoformat()},
    )  # fmt: skip
    assert early.status_code == 422 and "joined" in early.text
    assert client.post(f"/groups/{group_id}/join", json={},
                       headers=h["leader_far"]).status_code == 403  # fmt: skip
    joined = client.post(
        f"/groups/{group_id}/join",
        json={"at": (OPENED + dt.timedelta(minutes=30)).isoformat()},
        headers=h["leader_b"],
    )
    assert joined.status_code == 200, joined.text
    assert [c["leader"] for c in joined.json()["compounds"]] == ["leader_a", "leader_b"]

    # residents sign up: a pasted 接龙 list at the lead compound, the public link, JSON lines
    units_a = pool.units_by_compound[lead]
    units_b = pool.units_by_compound[neighbour]
    building_a = day.buildings[lead]
    key_a = building_a.name.removesuffix("号楼")
    jielong_units = [units_a - 3, 1]
    paste = "\n".join(
        [f"#接龙 4月15日 {building_a.name} 拼团 截止 4月14日 20:00"]
        + [
            f"{k + 1}. {key_a}号楼 {_room(building_a, k)} {NAMES[k]} {pool.category_id}x{n} "
            f"{PHONES[k]}"
            for k, n in enumerate(jielong_units)
        ]
    )
    at = (OPENED + dt.timedelta(hours=1)).isoformat()
    bad = client.post(
        f"/groups/{group_id}/signups",
        json={"lines": [{"building_id": building_a.building_id, "room": "9999",
                         "quantity_units": 1}], "at": at},
        headers=h["leader_a"],
    )  # fmt: skip
    assert bad.status_code == 422 and "9999" in bad.text
    pasted = client.post(
        f"/groups/{group_id}/signups/jielong",
        json={"text": paste, "at": at},
        headers=h["leader_a"],
    )
    assert pasted.status_code == 201, pasted.text
    assert [line["quantity_units"] for line in pasted.json()] == jielong_units
    assert [line["household_name"] for line in pasted.json()] == list(NAMES[:2])
    resident = client.post(
        f"/public/groups/{token}/signups",
        json={"compound_id": lead, "building_id": building_a.building_id,
              "room": _room(building_a, 2), "household_name": NAMES[2], "phone": PHONES[2],
              "priority_flags": ["elderly"], "quantity_units": 2, "at": at},
    )  # fmt: skip
    assert resident.status_code == 201, resident.text
    assert set(resident.json()) == {"signup_id", "resident_code", "quantity_units", "state",
                                    "check_path"}  # fmt: skip
    code = resident.json()["resident_code"]
    assert resident.json()["quantity_units"] == 2 and resident.json()["state"] == "active"
    lines_b = client.post(
        f"/groups/{group_id}/signups",
        json={"lines": [{"compound_id": neighbour, "building_id": building_b.building_id,
                         "room": _room(building_b, 0), "household_name": NAMES[3],
                         "phone": PHONES[3], "quantity_units": units_b}], "at": at},
        headers=h["leader_b"],
    )  # fmt: skip
    assert lines_b.status_code == 201, lines_b.text
    assert (
        client.get(f"/groups/{group_id}/signups", headers=h["leader_b"]).json()[0]["household_name"]
        == NAMES[3]
    )
    assert {s["household_name"] for s in client.get(
        f"/groups/{group_id}/signups", headers=h["leader_a"]).json()} == set(NAMES[:3])  # fmt: skip
    for who in ("committee", "dispatcher", "volunteer", "admin"):
        assert client.get(f"/groups/{group_id}/signups", headers=h[who]).status_code == 403
    rooms = client.get(
        f"/groups/{group_id}/buildings/{building_a.building_id}/rooms", headers=h["volunteer"]
    )
    assert rooms.status_code == 200, rooms.text
    _private(rooms)
    assert sum(r["quantity_units"] for r in rooms.json()) == units_a

    # it forms at the deadline (not before)
    early_close = client.post(f"/groups/{group_id}/close",
                              json={"at": (DEADLINE - dt.timedelta(minutes=1)).isoformat()},
                              headers=h["leader_a"])  # fmt: skip
    assert early_close.status_code == 409
    closed = client.post(
        f"/groups/{group_id}/close",
        json={"at": (DEADLINE + dt.timedelta(minutes=1)).isoformat()},
        headers=h["leader_a"],
    )
    assert closed.status_code == 200, closed.text
    group = closed.json()["group"]
    assert group["state"] == "formed"
    assert group["committed_units"] == group["ordered_units"] == pool.joint_units
    assert {c["compound_id"]: c["active_units"] for c in closed.json()["compounds"]} == {
        lead: units_a,
        neighbour: units_b,
    }

    # every household pays its due (units × price + its share of the fee)
    for leader in ("leader_a", "leader_b"):
        balance = client.get(f"/groups/{group_id}/balance", headers=h[leader]).json()
        collected = client.get(f"/groups/{group_id}/signups", headers=h[leader]).json()
        ids = {s["signup_id"] for s in collected}
        for line in balance["lines"]:
            if line["signup_id"] not in ids:
                continue  # the leader's own line, or the other compound's (its leader's)
            paid = client.post(
                f"/groups/{group_id}/payments",
                json={"kind": "household", "amount_cents": line["due_cents"],
                      "signup_id": line["signup_id"], "method": "wechat", "at": at},
                headers=h[leader],
            )  # fmt: skip
            assert paid.status_code == 201, paid.text
    balance = client.get(f"/groups/{group_id}/balance", headers=h["leader_a"]).json()
    price = balance["unit_price_cents"]
    assert balance["balanced"] is True and balance["flagged"] == []
    assert balance["paid_cents"] == pool.joint_units * price + 1000 == balance["expected_cents"]

    # the dispatcher takes it on, matches and plans the day, and dispatches
    matched = client.post(
        f"/groups/{group_id}/advance",
        json={"to": "matched", "at": (DEADLINE + dt.timedelta(hours=1)).isoformat()},
        headers=h["dispatcher"],
    )
    assert matched.status_code == 200, matched.text
    _private(matched)
    assert matched.json()["group"]["state"] == "matched"
    submitted = client.post("/match", json={"delivery_date": DAY, "time_limit_s": 5},
                            headers=h["dispatcher"])  # fmt: skip
    assert submitted.status_code == 202, submitted.text
    match_job = _wait(client, h["dispatcher"], submitted.json()["job_id"])
    assert match_job["status"] == "succeeded", match_job
    mine = client.get(f"/match/{match_job['job_id']}/allocation", headers=h["dispatcher"])
    assert mine.status_code == 200
    _private(mine)
    assert {line["supplier_id"] for line in mine.json()["lines"]} == {supplier_id}
    planned = client.post(
        "/plans",
        json={"delivery_date": DAY, "match_job_id": match_job["job_id"], "time_limit_s": 5},
        headers=h["dispatcher"],
    )
    assert planned.status_code == 202, planned.text
    plan_job = _wait(client, h["dispatcher"], planned.json()["job_id"])
    assert plan_job["status"] == "succeeded", plan_job
    plan = client.get(f"/plans/{plan_job['job_id']}", headers=h["dispatcher"])
    assert plan.status_code == 200
    _private(plan)
    assert plan.json()["violations"] == []
    route = next(
        (r for r in plan.json()["routes"] if any(s["compound_id"] == lead for s in r["stops"])),
        None,
    )
    assert route is not None, "the supplier's plan does not stop at the lead compound"
    assert route["supplier_id"] == supplier_id and route["driver_id"]
    # the formed group's goods are on the supplier's trucks at both compounds
    carried = {
        compound: sum(
            s["quantity_units"]
            for r in plan.json()["routes"]
            for s in r["stops"]
            if s["compound_id"] == compound and s["category_id"] == pool.category_id
        )
        for compound in (lead, neighbour)
    }
    assert carried[lead] >= units_a and carried[neighbour] >= units_b, carried
    dispatched = client.post(
        f"/groups/{group_id}/advance",
        json={"to": "dispatched", "at": route["start"]},
        headers=h["dispatcher"],
    )
    assert dispatched.status_code == 200 and dispatched.json()["group"]["state"] == "dispatched"

    # the driver opens the route sheet and reports the stop at the lead compound
    app: Any = client.app
    add_user(app.state.store.engine, "driver", PASSWORD, Role.driver,
             bound_to=route["driver_id"], by="test")  # fmt: skip
    h["driver"] = _login(client, "driver")
    sheets = client.get(f"/route-sheets/mine?delivery_date={DAY}", headers=h["driver"])
    assert sheets.status_code == 200, sheets.text
    _private(sheets)
    sheet = next(s for s in sheets.json() if s["sheet"]["vehicle_id"] == route["vehicle_id"])
    assert sheet["job_id"] == plan_job["job_id"]
    stop = next(s for s in sheet["sheet"]["stops"] if s["compound_id"] == lead)
    arrived_at = dt.datetime.fromisoformat(stop["window_start"]) + dt.timedelta(minutes=1)
    reported = 0
    for unload in stop["unload"]:
        for k, delivery_id in enumerate(unload["delivery_ids"]):
            events = f"/plans/{plan_job['job_id']}/stops/{delivery_id}/events"
            units = unload["delivery_units"][k] if unload["delivery_units"] else unload["units"]
            for status, extra in (("arrived", {}), ("delivered", {"quantity_units": units})):
                report = client.post(
                    events,
                    json={"event_id": f"{status}-{delivery_id}", "status": status,
                          "at": arrived_at.isoformat(), **extra},
                    headers=h["driver"],
                )  # fmt: skip
                assert report.status_code == 201, report.text
            reported += units
    assert reported == stop["units"] > 0
    delivered = client.post(
        f"/groups/{group_id}/advance",
        json={"to": "delivered", "at": (arrived_at + dt.timedelta(minutes=30)).isoformat()},
        headers=h["leader_a"],
    )
    assert delivered.status_code == 200 and delivered.json()["group"]["state"] == "delivered"

    # the receipt check at the lead compound's gate finds two packages under weight
    check = client.post(
        f"/groups/{group_id}/receipt-checks",
        json={
            "compound_id": lead,
            "lines": [
                {"units": units_a - SHORT_UNITS},
                {"units": SHORT_UNITS, "condition": "short", "note": "under weight"},
            ],
        },
        headers=h["volunteer"],
    )
    assert check.status_code == 201, check.text
    checked = check.json()
    assert checked["expected_units"] == units_a == checked["received_units"]
    # expected is what the plan loaded for the group at this compound
    assert checked["expected_from"] == "plan" and checked["plan_job_id"] == plan_job["job_id"]
    assert [(d["kind"], d["units"]) for d in checked["discrepancies"]] == [("short", SHORT_UNITS)]
    assert len(checked["claim_ids"]) == 1
    claim_id = checked["claim_ids"][0]
    listed = client.get("/claims?state=filed", headers=h["dispatcher"])
    _private(listed)
    assert claim_id in {c["claim_id"] for c in listed.json()}

    # the dispatcher accepts with a refund: it reaches the ledger
    assert client.post(f"/claims/{claim_id}/accept", json={"kind": "refund"},
                       headers=h["leader_a"]).status_code == 403  # fmt: skip
    accepted = client.post(f"/claims/{claim_id}/accept", json={"kind": "refund"},
                           headers=h["dispatcher"])  # fmt: skip
    assert accepted.status_code == 200, accepted.text
    _private(accepted)
    refund = SHORT_UNITS * price
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["resolution"]["amount_cents"] == refund
    balance = client.get(f"/groups/{group_id}/balance", headers=h["leader_a"]).json()
    assert balance["credits_cents"] == refund == balance["refunded_cents"]
    assert balance["invoice_cents"] == pool.joint_units * price - refund
    assert balance["balanced"] is True
    ledger = client.get(f"/public/ledger/{token}")
    assert ledger.status_code == 200
    _private(ledger)
    public = ledger.json()
    assert public["credits_cents"] == refund and public["refunded_cents"] == refund
    assert public["invoice_cents"] == pool.joint_units * price - refund
    assert public["compounds"] and public["balanced"] is True
    assert public["delivery_fee_cents"] == 1000 and public["leader_commission_cents"] == 0

    # the supplier's reliability record takes the arrival, the short line and the claim in
    after = client.get(reliability_path, headers=h["committee"])
    assert after.status_code == 200
    _private(after)
    record = after.json()
    assert record["arrivals"] >= 1 and record["on_time"] == record["arrivals"]
    assert record["checked_deliveries"] == 1 and record["short_or_spoiled"] == 1
    assert record["claims_filed"] == 1
    assert record != before.json()

    # the daily report shows the group, the arrivals, the settled claim, refund and ledger
    for who in ("leader_a", "committee"):
        report = client.get(f"/compounds/{lead}/daily-report?date={DAY}", headers=h[who])
        assert report.status_code == 200, report.text
        _private(report)
        body = report.json()
        line = next(g for g in body["groups"] if g["group_id"] == group_id)
        assert line["state"] == "delivered" and line["pooled_with"] == [neighbour]
        assert line["committed_units"] == pool.joint_units and line["balanced"] is True
        assert line["claim_refunds_cents"] == refund
        assert body["planned"] is True
        assert sum(g["arrivals"] for g in body["gates"]) >= 1
        assert body["claims"]["settled"] == 1 and body["claims"]["open"] == 0
        assert body["claims"]["refunded_cents"] == refund
        assert body["claims"]["by_state"] == {"accepted": 1}
        assert body["ledgers_balanced"] >= 1 and body["ledgers_off"] == 0
        assert "拼团" in body["text_zh"] and neighbour in body["text_en"]
        assert f"¥{refund / 100:,.2f}" in body["text_zh"]
    other = client.get(f"/compounds/{neighbour}/daily-report?date={DAY}", headers=h["leader_b"])
    assert other.status_code == 200
    assert group_id in {g["group_id"] for g in other.json()["groups"]}
    assert other.json()["claims"]["settled"] == 0  # the short line was at the lead compound
    assert client.get(f"/compounds/{lead}/daily-report?date={DAY}",
                      headers=h["leader_far"]).status_code == 403  # fmt: skip
    assert client.get(f"/compounds/{lead}/daily-report?date={DAY}").status_code == 401
    for who in ("dispatcher", "driver", "committee", "admin", "volunteer"):
        seen = client.get(f"/groups/{group_id}", headers=h[who])
        if seen.status_code == 200:
            _private(seen)
    # the resident who signed up with the link checks their own line with the code
    own = client.get(f"/resident/{code}")
    assert own.status_code == 200, own.text
    mine_line = own.json()
    assert mine_line["household_name"] == NAMES[2] and mine_line["quantity_units"] == 2
    assert mine_line["group_state"] == "delivered" and mine_line["payment_status"] == "paid"
    others = json.dumps(mine_line, ensure_ascii=False)
    assert not any(word in others for word in (*NAMES[:2], NAMES[3], *PHONES))
