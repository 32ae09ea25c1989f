"""Many leaders per compound, pooled groups, sign-ups (lines, 接龙, resident link) with the
roster check, payments and the balance, resident codes, and who sees which household."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.accounts import add_user
from api.security import Role
from data.store import Store
from tests.api.conftest import PASSWORD

DEADLINE = "2022-04-14T20:00:00+08:00"
OPENED = "2022-04-14T08:00:00+08:00"
SIGNED = "2022-04-14T10:00:00+08:00"
EXTRA = {
    "leader_b": (Role.leader, "c-huamu", None, ()),
    "committee": (Role.committee, None, None, ("c-huamu",)),
    "committee_other": (Role.committee, None, None, ("c-tangqiao",)),
    "volunteer": (Role.volunteer, "c-huamu", "c-huamu-b03", ()),
}
"""A second leader of c-huamu, a committee of each compound, c-huamu 3号楼's volunteer."""


@pytest.fixture(scope="module")
def headers(
    client: TestClient, api_url: str, tokens: dict[str, dict[str, str]]
) -> Iterator[dict[str, dict[str, str]]]:
    store = Store.open(api_url)
    for name, (role, bound, building, scope) in EXTRA.items():
        add_user(store.engine, name, PASSWORD, role, bound_to=bound, building_id=building,
                 compound_ids=scope, by="seed")  # fmt: skip
    store.close()
    found = dict(tokens)
    for name in EXTRA:
        reply = client.post("/auth/token", data={"username": name, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        found[name] = {"Authorization": f"Bearer {reply.json()['access_token']}"}
    yield found


def _open(client: TestClient, who: dict[str, str], compound: str, **extra: object) -> str:
    body = {"offer_id": "off-b-eggs", "deadline": DEADLINE, "opened_at": OPENED,
            "allocated_units": 20, "threshold_units": 2, **extra}  # fmt: skip
    reply = client.post(f"/compounds/{compound}/groups", headers=who, json=body)
    assert reply.status_code == 201, reply.text
    group_id: str = reply.json()["group"]["group_id"]
    return group_id


def test_two_leaders_of_one_compound_each_see_only_their_own_households(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    mine = _open(client, headers["leader"], "c-huamu", delivery_fee_cents=500,
                 leader_commission_cents=0)  # fmt: skip
    theirs = _open(client, headers["leader_b"], "c-huamu")
    line = {"building_id": "c-huamu-b03", "room": "502", "household_name": "甲先生",
            "phone": "13911112222", "priority_flags": ["pregnant"],
            "quantity_units": 2}  # fmt: skip
    added = client.post(f"/groups/{mine}/signups", headers=headers["leader"],
                        json={"lines": [line], "at": SIGNED})  # fmt: skip
    assert added.status_code == 201, added.text
    code = added.json()[0]["resident_code"]
    other = {**line, "household_name": "乙女士", "phone": "13933334444", "room": "1101",
             "building_id": "c-huamu-b05", "priority_flags": []}  # fmt: skip
    reply = client.post(f"/groups/{theirs}/signups", headers=headers["leader_b"],
                        json={"lines": [other], "at": SIGNED})  # fmt: skip
    assert reply.status_code == 201, reply.text
    # the other leader of the same compound: aggregates of my group, never its households
    assert client.get(f"/groups/{mine}", headers=headers["leader_b"]).status_code == 200
    for path in (f"/groups/{mine}/signups", f"/groups/{mine}/payments", f"/groups/{mine}/balance"):
        assert client.get(path, headers=headers["leader_b"]).status_code == 403, path
    assert client.post(f"/groups/{mine}/signups", headers=headers["leader_b"],
                       json={"lines": [line]}).status_code == 403  # fmt: skip
    own = client.get(f"/groups/{mine}/signups", headers=headers["leader"]).text
    assert "甲先生" in own and "pregnant" in own and "乙女士" not in own
    listed = client.get("/compounds/c-huamu/groups", headers=headers["leader_b"])
    assert {mine, theirs} <= {g["group"]["group_id"] for g in listed.json()}
    # committee: every group of its compounds, aggregates only; not other compounds'
    for path in ("/compounds/c-huamu/groups", f"/groups/{mine}"):
        reply = client.get(path, headers=headers["committee"])
        assert (
            reply.status_code == 200 and "甲先生" not in reply.text and "pregnant" not in reply.text
        )
        assert client.get(path, headers=headers["committee_other"]).status_code == 403
    assert client.get(f"/groups/{mine}/signups", headers=headers["committee"]).status_code == 403
    # volunteer of 3号楼: rooms and packages of their building, no names, phones or reasons
    rooms = client.get(f"/groups/{mine}/buildings/c-huamu-b03/rooms", headers=headers["volunteer"])
    assert rooms.status_code == 200 and rooms.json()[0]["room"] == "502"
    assert not any(x in rooms.text for x in ("甲先生", "13911112222", "pregnant"))
    other_building = f"/groups/{mine}/buildings/c-huamu-b05/rooms"
    assert client.get(other_building, headers=headers["volunteer"]).status_code == 403
    assert client.get(f"/groups/{mine}/signups", headers=headers["volunteer"]).status_code == 403
    # the resident code shows that household only
    seen = client.get(f"/resident/{code}")
    assert seen.status_code == 200 and seen.json()["payment_status"] == "unpaid"
    assert seen.json()["due_cents"] == 2 * 2800 + 500 and "乙女士" not in seen.text
    assert client.get("/resident/nocodehere").status_code == 404


def test_roster_check_names_the_line(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    group = _open(client, headers["leader"], "c-huamu")
    lines = [
        {"building_id": "c-huamu-b12", "room": "301", "quantity_units": 1},
        {"building_id": "c-huamu-b12", "room": "1201", "quantity_units": 1},  # 11 floors
        {"building_id": "c-huamu-b99", "room": "301", "quantity_units": 1},
        {"building_id": "c-huamu-b12", "room": "309", "quantity_units": 1},  # 6 flats a floor
    ]
    reply = client.post(f"/groups/{group}/signups", headers=headers["leader"],
                        json={"lines": lines, "at": SIGNED})  # fmt: skip
    assert reply.status_code == 422
    issues = {(i["row"], i["field"]) for i in reply.json()["detail"]}
    assert issues == {(2, "room"), (3, "building_id"), (4, "room")}
    assert "floor 12" in str(reply.json()["detail"])
    paste = "#接龙\n1. 3号楼 502 鸡蛋x1\n2. 3号楼 2502 鸡蛋x2\n"
    reply = client.post(f"/groups/{group}/signups/jielong", headers=headers["leader"],
                        json={"text": paste, "at": SIGNED})  # fmt: skip
    assert reply.status_code == 422
    assert [(i["row"], i["field"]) for i in reply.json()["detail"]] == [(2, "room")]
    view = client.get(f"/groups/{group}", headers=headers["leader"]).json()
    assert view["group"]["committed_units"] == 0  # all or nothing


def test_pooled_group_payments_ledger_and_resident_link(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    group = _open(client, headers["leader"], "c-huamu", pool_compound_ids=["c-tangqiao"],
                  threshold_units=4, delivery_fee_cents=300, leader_commission_cents=100,
                  drop="shared", drop_compound_id="c-huamu")  # fmt: skip
    view = client.get(f"/groups/{group}", headers=headers["leader_other"]).json()
    assert [c["leader"] for c in view["compounds"]] == ["leader", None]
    ledger_path = view["ledger_path"]
    token = ledger_path.rsplit("/", 1)[-1]
    resident = {"compound_id": "c-tangqiao", "building_id": "c-tangqiao-b01", "room": "301",
                "household_name": "丙阿姨", "phone": "13955556666", "quantity_units": 2,
                "at": SIGNED}  # fmt: skip
    before = client.post(f"/public/groups/{token}/signups", json=resident)
    assert before.status_code == 422 and before.json()["detail"][0]["field"] == "compound_id"
    joined = client.post(f"/groups/{group}/join", headers=headers["leader_other"],
                         json={"at": SIGNED})  # fmt: skip
    assert joined.status_code == 200 and joined.json()["compounds"][1]["leader"] == "leader_other"
    again = client.post(f"/groups/{group}/join", headers=headers["leader_other"], json={})
    assert again.status_code == 409
    assert (
        client.post(f"/groups/{group}/join", headers=headers["leader_b"], json={}).status_code
        == 409
    )
    key = {"Idempotency-Key": "join-form-1"}
    signed = client.post(f"/public/groups/{token}/signups", json=resident, headers=key)
    assert signed.status_code == 201, signed.text
    code = signed.json()["resident_code"]
    # the answer was lost and the page resends: the same receipt, no second line
    resent = client.post(f"/public/groups/{token}/signups", json=resident, headers=key)
    assert resent.status_code == 201 and resent.json()["resident_code"] == code
    assert resent.headers.get("Idempotent-Replayed") == "true"
    other = client.post(f"/public/groups/{token}/signups", json=resident | {"room": "302"},
                        headers=key)  # fmt: skip
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    paste = "#接龙 4月15日\n1. 3号楼 502 王阿姨 鸡蛋x1 (老人)\n2. 5号楼 1101 鸡蛋x2\n"
    pasted = client.post(f"/groups/{group}/signups/jielong", headers=headers["leader"],
                         json={"text": paste, "at": SIGNED})  # fmt: skip
    assert pasted.status_code == 201, pasted.text
    again = client.post(f"/groups/{group}/signups/jielong", headers=headers["leader"],
                        json={"text": paste, "at": SIGNED})  # fmt: skip
    assert again.status_code == 201  # a re-paste updates its lines, it does not add them twice
    view = client.get(f"/groups/{group}", headers=headers["committee"]).json()
    assert view["group"]["committed_units"] == 5
    assert {c["compound_id"]: c["active_units"] for c in view["compounds"]} == {
        "c-huamu": 3, "c-tangqiao": 2}  # fmt: skip
    # each compound's leader sees the households of their own compound only
    huamu = client.get(f"/groups/{group}/signups", headers=headers["leader"])
    tangqiao = client.get(f"/groups/{group}/signups", headers=headers["leader_other"])
    assert "王阿姨" in huamu.text and "丙阿姨" not in huamu.text
    assert "丙阿姨" in tangqiao.text and "王阿姨" not in tangqiao.text
    closed = client.post(f"/groups/{group}/close", headers=headers["leader"], json={"at": DEADLINE})
    assert closed.json()["group"]["state"] == "formed"
    assert closed.json()["group"]["ordered_units"] == 5
    # payments: each leader records their own compound's lines
    lines = {r["household_name"] or r["room"]: r["signup_id"] for r in huamu.json()}
    tq_line = tangqiao.json()[0]["signup_id"]
    pay = {"kind": "household", "signup_id": tq_line, "amount_cents": 2 * 2800 + 160,
           "method": "wechat", "at": DEADLINE}  # fmt: skip
    assert client.post(f"/groups/{group}/payments", headers=headers["leader"],
                       json=pay).status_code == 403  # fmt: skip
    reply = client.post(f"/groups/{group}/payments", headers=headers["leader_other"], json=pay)
    assert reply.status_code == 201, reply.text
    balance = client.get(f"/groups/{group}/balance", headers=headers["leader"]).json()
    assert balance["expected_cents"] == 5 * 2800 + 400 and not balance["balanced"]
    assert {b["signup_id"] for b in balance["flagged"]} == set(lines.values())
    for signup_id in lines.values():
        due = next(b["due_cents"] for b in balance["lines"] if b["signup_id"] == signup_id)
        paid = {"kind": "household", "signup_id": signup_id, "amount_cents": due}
        reply = client.post(f"/groups/{group}/payments", headers=headers["leader"], json=paid)
        assert reply.status_code == 201, reply.text
    balance = client.get(f"/groups/{group}/balance", headers=headers["leader"]).json()
    assert balance["balanced"] and balance["difference_cents"] == 0
    mine_only = client.get(f"/groups/{group}/balance", headers=headers["leader_other"]).json()
    assert [b["signup_id"] for b in mine_only["lines"]] == [tq_line]
    refund = {"kind": "refund", "signup_id": tq_line, "amount_cents": 300, "claim_id": "cl-1"}
    assert client.post(f"/groups/{group}/payments", headers=headers["leader_other"],
                       json=refund).status_code == 201  # fmt: skip
    ledger = client.get(ledger_path)
    body = ledger.json()
    assert body["balanced"] and body["credits_cents"] == 300 and body["refunded_cents"] == 300
    assert body["delivery_fee_cents"] == 300 and body["leader_commission_cents"] == 100
    assert body["compounds"] == ["c-huamu", "c-tangqiao"]
    for private in ("王阿姨", "丙阿姨", "13955556666", "elderly", "502", "signup_id", code):
        assert private not in ledger.text, private
    seen = client.get(f"/resident/{code}").json()
    assert seen["payment_status"] == "paid" and seen["refunded_cents"] == 300
    assert seen["group_state"] == "formed" and "王阿姨" not in str(seen)


def test_whole_case_close_waitlists_lines_beyond_the_last_case(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    group = _open(client, headers["leader_b"], "c-huamu", threshold_units=1)
    lines = [{"building_id": "c-huamu-b03", "room": f"{f}01", "quantity_units": 1}
             for f in range(1, 4)]  # fmt: skip
    client.post(f"/groups/{group}/signups", headers=headers["leader_b"],
                json={"lines": lines, "at": SIGNED})  # fmt: skip
    (first, *_) = client.get(f"/groups/{group}/signups", headers=headers["leader_b"]).json()
    cancelled = client.post(f"/groups/{group}/signups/{first['signup_id']}/cancel",
                            headers=headers["leader_b"], json={"at": SIGNED})  # fmt: skip
    assert cancelled.json()["state"] == "cancelled"
    view = client.get(f"/groups/{group}", headers=headers["leader_b"]).json()
    assert view["group"]["committed_units"] == 2
    closed = client.post(f"/groups/{group}/close", headers=headers["leader_b"],
                         json={"at": DEADLINE}).json()  # fmt: skip
    # the eggs offer ships single units: nothing is waitlisted, every line is ordered
    assert closed["group"]["ordered_units"] == 2 and closed["compounds"][0]["waitlisted_units"] == 0


NEW_ENDPOINTS = [
    ("get", "/groups/{g}/signups"),
    ("get", "/groups/{g}/payments"),
    ("get", "/groups/{g}/balance"),
    ("get", "/groups/{g}/buildings/c-huamu-b03/rooms"),
    ("get", "/groups/{g}"),
]


def test_new_endpoints_answer_401_403_404_as_expected(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    group = _open(client, headers["leader"], "c-huamu")
    allowed = {
        "/groups/{g}/signups": {"leader"},
        "/groups/{g}/payments": {"leader"},
        "/groups/{g}/balance": {"leader"},
        "/groups/{g}/buildings/c-huamu-b03/rooms": {"leader", "volunteer"},
        "/groups/{g}": {
            "leader",
            "leader_b",
            "committee",
            "volunteer",
            "admin",
            "dispatcher_other",
        },
    }
    for _, template in NEW_ENDPOINTS:
        for role, who in headers.items():
            reply = client.get(template.format(g=group), headers=who)
            expected = 401 if role == "anonymous" else 200 if role in allowed[template] else 403
            if template == "/groups/{g}" and role == "dispatcher_other":
                expected = 200  # off-b-eggs is sup-b's: its dispatcher follows the group
            if template == "/groups/{g}" and role == "dispatcher":
                expected = 403
            assert reply.status_code == expected, (role, template, reply.text)
            if reply.status_code >= 400:
                assert set(reply.json()) == {"error", "detail", "field"}
        missing = client.get(template.format(g="g-nope"), headers=headers["leader"])
        assert missing.status_code == 404, template
    assert client.post("/public/groups/not-a-token/signups", json={
        "compound_id": "c-huamu", "building_id": "c-huamu-b03", "room": "502",
        "quantity_units": 1}).status_code == 404  # fmt: skip


def test_committee_sets_lockdown_of_its_compounds_only(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    change = {"level": "controlled", "valid_from": "2022-04-20"}
    ok = client.put("/compounds/c-huamu/lockdown", headers=headers["committee"], json=change)
    assert ok.status_code == 200, ok.text
    other = client.put("/compounds/c-tangqiao/lockdown", headers=headers["committee"], json=change)
    assert other.status_code == 403
    assert client.put("/compounds/c-huamu/lockdown", headers=headers["volunteer"],
                      json=change).status_code == 403  # fmt: skip
    verify = client.post("/certificates/cert-b-permit/verify", headers=headers["committee"])
    assert verify.status_code == 200


def test_cli_user_add_committee_and_volunteer(api_url: str) -> None:
    from typer.testing import CliRunner

    from api.accounts import authenticate
    from api.cli import app

    db = api_url  # --db takes a URL: the module's SQLite file or PostgreSQL schema
    runner = CliRunner()
    made = runner.invoke(app, ["user", "add", "jwh", "--role", "committee", "--compound",
                               "c-huamu", "--compound", "c-tangqiao", "--password",
                               PASSWORD, "--db", db])  # fmt: skip
    assert made.exit_code == 0, made.output
    made = runner.invoke(app, ["user", "add", "vol5", "--role", "volunteer", "--bound-to",
                               "c-huamu", "--building", "c-huamu-b05", "--password", PASSWORD,
                               "--db", db])  # fmt: skip
    assert made.exit_code == 0, made.output
    wrong = runner.invoke(app, ["user", "add", "vol9", "--role", "volunteer", "--bound-to",
                                "c-huamu", "--building", "c-huamu-b99", "--password", PASSWORD,
                                "--db", db])  # fmt: skip
    assert wrong.exit_code != 0 and "no building 'c-huamu-b99'" in wrong.output
    store = Store.open(api_url)
    committee = authenticate(store.engine, "jwh", PASSWORD)
    volunteer = authenticate(store.engine, "vol5", PASSWORD)
    store.close()
    assert committee is not None and committee.compound_ids == ("c-huamu", "c-tangqiao")
    assert volunteer is not None and volunteer.building_id == "c-huamu-b05"
