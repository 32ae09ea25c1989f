"""Receipt checks, claims with escalation, refunds into the ledger, supplier refusal,
reliability and the ranked offers through HTTP, on SQLite and PostgreSQL.

Groups and sign-up lines are written straight into the store (a dispatched group on
``off-a-veg`` at c-huamu with two household lines), so these tests depend only on the
after-sales endpoints.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from api.accounts import add_user
from api.security import Principal, Role, issue_token
from api.supplier_record import refused_suppliers
from data.schemas import SHANGHAI
from data.tables import (
    AuditEventRow,
    GroupBuyRow,
    GroupCompoundRow,
    GroupSignupRow,
    PaymentRow,
    table_of,
)
from matcher.groups import Group, GroupState, Transition
from tests.api.conftest import PASSWORD, settings_for

OPENED = dt.datetime(2022, 4, 14, 8, 0, tzinfo=SHANGHAI)
HOUSEHOLD_WORDS = ("signup_id", "王阿姨", "13800138000", "502", "pregnant", "the cabbage rotted")

EXTRA: dict[str, Principal] = {
    "committee": Principal(username="jwh", role=Role.committee, compound_ids=("c-huamu",)),
    "committee_other": Principal(
        username="jwh_other", role=Role.committee, compound_ids=("c-tangqiao",)
    ),
    "volunteer": Principal(
        username="vol", role=Role.volunteer, compound_id="c-huamu", building_id="c-huamu-b03"
    ),
}


@pytest.fixture(scope="module")
def auth(client: TestClient, tokens: dict[str, dict[str, str]], api_url: str) -> dict[str, Any]:
    """Headers of the shared users plus a committee per compound and a volunteer."""
    engine = client.app.state.store.engine  # type: ignore[attr-defined]
    secret = settings_for(api_url).secret()
    headers = dict(tokens)
    for name, principal in EXTRA.items():
        add_user(
            engine,
            principal.username,
            PASSWORD,
            principal.role,
            bound_to=principal.compound_id if principal.role is Role.volunteer else None,
            building_id=principal.building_id,
            compound_ids=principal.compound_ids,
        )
        token = issue_token(principal, secret, 60)
        headers[name] = {"Authorization": f"Bearer {token}"}
    return headers


def make_group(client: TestClient, group_id: str, codes: tuple[str, str]) -> None:
    """A dispatched group of ``leader`` on off-a-veg at c-huamu with two household lines."""
    engine = client.app.state.store.engine  # type: ignore[attr-defined]
    group = Group(
        group_id=group_id,
        offer_id="off-a-veg",
        supplier_id="sup-a",
        compound_id="c-huamu",
        category_id="vegetables",
        threshold_units=5,
        allocated_units=5,
        committed_units=5,
        deadline=OPENED + dt.timedelta(hours=12),
        history=(
            Transition(from_state=None, to_state=GroupState.open, at=OPENED, note_zh="开",
                       note_en="opened"),
        ),
    )  # fmt: skip
    for step, hours in ((GroupState.formed, 12), (GroupState.matched, 13)):
        group = group.advance(step, OPENED + dt.timedelta(hours=hours), note_zh="", note_en="")
    group = group.advance(GroupState.dispatched, OPENED + dt.timedelta(hours=20), note_zh="",
                          note_en="")  # fmt: skip
    line = {
        "group_id": group_id,
        "compound_id": "c-huamu",
        "phone": "13800138000",
        "proxy": True,
        "state": "active",
        "source": "api",
        "created_by": "leader",
        "created_at": OPENED,
        "updated_at": OPENED,
    }
    with engine.begin() as conn:
        conn.execute(
            insert(table_of(GroupBuyRow)).values(
                group_id=group_id,
                compound_id="c-huamu",
                supplier_id="sup-a",
                offer_id="off-a-veg",
                state=group.state.value,
                public_token=f"tok-{group_id}",
                data=group.model_dump(mode="json"),
                created_by="leader",
                created_at=OPENED,
                updated_at=OPENED,
            )
        )
        conn.execute(
            insert(table_of(GroupCompoundRow)).values(
                group_id=group_id, compound_id="c-huamu", position=0, leader="leader",
                joined_at=OPENED,
            )
        )  # fmt: skip
        conn.execute(
            insert(table_of(GroupSignupRow)),
            [
                line | {"signup_id": f"{group_id}-1", "building_id": "c-huamu-b03",
                        "room": "502", "household_name": "王阿姨",
                        "priority_flags": ["pregnant"], "quantity_units": 2,
                        "resident_code": codes[0]},
                line | {"signup_id": f"{group_id}-2", "building_id": "c-huamu-b05",
                        "room": "1101", "household_name": "赵先生", "priority_flags": [],
                        "quantity_units": 3, "resident_code": codes[1]},
            ],
        )  # fmt: skip


def no_household_fields(reply: Any) -> None:
    text = json.dumps(reply.json(), ensure_ascii=False)
    for word in HOUSEHOLD_WORDS:
        assert word not in text, f"{word!r} leaked in {text}"


def refunds(client: TestClient, claim_id: str) -> list[dict[str, Any]]:
    payments = table_of(PaymentRow)
    with client.app.state.store.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(payments).where(payments.c.claim_id == claim_id)).mappings()
        return [dict(r) for r in rows]


def reliability(client: TestClient, auth: dict[str, Any]) -> dict[str, Any]:
    reply = client.get("/suppliers/sup-a/reliability", headers=auth["dispatcher"])
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_receipt_check_opens_claims_and_an_accepted_refund_reaches_the_ledger(
    client: TestClient, auth: dict[str, Any]
) -> None:
    make_group(client, "g-rc", ("RCA00001", "RCA00002"))
    check = {"lines": [{"units": 3}, {"units": 1, "condition": "spoiled", "note": "502 烂了"}]}
    url = "/groups/g-rc/receipt-checks"
    assert client.post(url, json=check).status_code == 401
    for name in ("dispatcher", "leader_other", "committee", "driver"):
        assert client.post(url, json=check, headers=auth[name]).status_code == 403, name
    before = reliability(client, auth)
    reply = client.post(url, json=check, headers=auth["volunteer"])
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["expected_units"], body["expected_from"], body["received_units"]) == (
        5, "ordered", 4,
    )  # fmt: skip
    kinds = {d["kind"]: (d["units"], d["amount_cents"]) for d in body["discrepancies"]}
    assert kinds == {"missing": (1, 3500), "spoiled": (1, 3500)}
    assert len(body["claim_ids"]) == 2

    seen = client.get(url, headers=auth["dispatcher"])
    assert seen.status_code == 200
    assert "烂了" not in seen.text, seen.text
    assert set(seen.json()[0]["claim_ids"]) == set(body["claim_ids"])
    assert client.get(url, headers=auth["committee_other"]).status_code == 403

    claims = client.get("/groups/g-rc/claims", headers=auth["dispatcher"]).json()
    missing = next(c for c in claims if c["kind"] == "missing")
    assert missing["source"] == "receipt_check" and missing["household"] is False
    accept = {"kind": "refund"}
    target = f"/claims/{missing['claim_id']}/accept"
    assert client.post(target, json=accept).status_code == 401
    assert client.post(target, json=accept, headers=auth["dispatcher_other"]).status_code == 403
    assert client.post(target, json=accept, headers=auth["leader"]).status_code == 403
    accepted = client.post(target, json=accept, headers=auth["dispatcher"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
    (refund,) = refunds(client, missing["claim_id"])
    assert (refund["kind"], refund["amount_cents"], refund["signup_id"]) == ("refund", 3500, None)
    assert client.post(target, json=accept, headers=auth["dispatcher"]).status_code == 409

    after = reliability(client, auth)
    assert after["claims_upheld"] == before["claims_upheld"] + 1
    assert after["checked_deliveries"] == before["checked_deliveries"] + 1
    assert after["score_permille"] < (before["score_permille"] or 1000)
    no_household_fields(client.get("/suppliers/sup-a/reliability", headers=auth["leader"]))


def test_resident_code_files_on_its_own_line_only_and_others_see_no_household(
    client: TestClient, auth: dict[str, Any]
) -> None:
    make_group(client, "g-res", ("RCB00001", "RCB00002"))
    too_many = {"kind": "spoiled", "units": 3, "note": "the cabbage rotted"}
    assert client.post("/resident/RCB00001/claims", json=too_many).status_code == 422
    assert client.post("/resident/NOSUCHCODE/claims", json=too_many).status_code == 404
    filed = client.post("/resident/RCB00001/claims", json=too_many | {"units": 2})
    assert filed.status_code == 201, filed.text
    claim = filed.json()
    assert claim["signup_id"] == "g-res-1" and claim["amount_cents"] == 7000
    own = client.get("/resident/RCB00001/claims").json()
    assert [c["claim_id"] for c in own] == [claim["claim_id"]]
    assert client.get("/resident/RCB00002/claims").json() == []

    full = client.get(f"/claims/{claim['claim_id']}", headers=auth["leader"]).json()
    assert full["signup_id"] == "g-res-1" and full["note"] == "the cabbage rotted"
    for name in ("dispatcher", "committee", "admin"):
        reply = client.get(f"/claims/{claim['claim_id']}", headers=auth[name])
        assert reply.status_code == 200, name
        assert reply.json()["household"] is True
        no_household_fields(reply)
        no_household_fields(client.get("/groups/g-res/claims", headers=auth[name]))
    no_household_fields(client.get("/claims", headers=auth["dispatcher"]))
    for name in ("dispatcher_other", "committee_other", "leader_other", "volunteer"):
        assert client.get(f"/claims/{claim['claim_id']}", headers=auth[name]).status_code == 403
    assert client.get(f"/claims/{claim['claim_id']}").status_code == 401
    other_list = client.get("/claims", headers=auth["dispatcher_other"]).json()
    assert claim["claim_id"] not in {c["claim_id"] for c in other_list}

    rejected = client.post(
        f"/claims/{claim['claim_id']}/reject", json={"reason": "照片看不出问题"},
        headers=auth["dispatcher"],
    )  # fmt: skip
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    appeal = f"/resident/RCB00002/claims/{claim['claim_id']}/appeal"
    assert client.post(appeal, json={}).status_code == 403
    appealed = client.post(f"/resident/RCB00001/claims/{claim['claim_id']}/appeal", json={})
    assert appealed.status_code == 200 and appealed.json()["state"] == "escalated"


def test_unanswered_claim_escalates_and_the_committee_upholds_it(
    client: TestClient, auth: dict[str, Any]
) -> None:
    make_group(client, "g-esc", ("RCC00001", "RCC00002"))
    late = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)).isoformat()
    body = {"kind": "short", "units": 1, "signup_id": "g-esc-2", "at": late}
    assert (
        client.post("/groups/g-esc/claims", json=body, headers=auth["leader_other"]).status_code
        == 403
    )
    filed = client.post("/groups/g-esc/claims", json=body, headers=auth["leader"])
    assert filed.status_code == 201, filed.text
    claim_id = filed.json()["claim_id"]
    listed = client.get("/claims?state=escalated", headers=auth["committee"]).json()
    assert claim_id in {c["claim_id"] for c in listed}
    assert client.get("/claims", headers=auth["committee_other"]).json() == [] or claim_id not in {
        c["claim_id"] for c in client.get("/claims", headers=auth["committee_other"]).json()
    }
    answer = client.post(f"/claims/{claim_id}/accept", json={"kind": "credit"},
                         headers=auth["dispatcher"])  # fmt: skip
    assert answer.status_code == 409 and answer.json()["error"] == "invalid_transition"
    decide = {"decision": "uphold", "resolution": {"kind": "refund"}}
    assert client.post(f"/claims/{claim_id}/decide", json=decide,
                       headers=auth["committee_other"]).status_code == 403  # fmt: skip
    assert client.post(f"/claims/{claim_id}/decide", json={"decision": "uphold"},
                       headers=auth["committee"]).status_code == 422  # fmt: skip
    upheld = client.post(f"/claims/{claim_id}/decide", json=decide, headers=auth["committee"])
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["state"] == "upheld"
    no_household_fields(upheld)
    (refund,) = refunds(client, claim_id)
    assert (refund["signup_id"], refund["amount_cents"]) == ("g-esc-2", 3500)
    assert (
        client.post(f"/claims/{claim_id}/close", json={}, headers=auth["dispatcher"]).status_code
        == 403
    )
    closed = client.post(f"/claims/{claim_id}/close", json={}, headers=auth["leader"])
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    events = table_of(AuditEventRow)
    with client.app.state.store.engine.connect() as conn:  # type: ignore[attr-defined]
        actions = set(
            conn.execute(
                select(events.c.action).where(events.c.target.contains(claim_id))
            ).scalars()
        )
    assert {"claim.file", "claim.escalated", "claim.uphold", "claim.close"} <= actions


def test_refused_supplier_is_ranked_out_of_the_leaders_offers(
    client: TestClient, auth: dict[str, Any]
) -> None:
    offers = "/compounds/c-huamu/offers?date=2022-04-15"
    assert client.get(offers).status_code == 401
    for name in ("dispatcher", "leader_other", "committee_other", "driver"):
        assert client.get(offers, headers=auth[name]).status_code == 403, name
    ranked = client.get(offers, headers=auth["leader"]).json()
    assert [c["rank"] for c in ranked] == [1, 2]
    assert ranked[0]["offer_id"] == "off-b-eggs"  # cheaper (28.00 against 35.00)
    assert ranked[1]["reliability"] is not None  # sup-a has a record from the tests above
    refuse = {"reason": "上次送来的菜一半烂了"}
    assert (
        client.post("/suppliers/sup-a/refusals", json=refuse, headers=auth["committee"]).status_code
        == 403
    )
    made = client.post("/suppliers/sup-a/refusals", json=refuse, headers=auth["leader"])
    assert made.status_code == 201, made.text
    with client.app.state.store.engine.connect() as conn:  # type: ignore[attr-defined]
        assert refused_suppliers(conn, "leader") == {"sup-a": refuse["reason"]}
    ranked = client.get(offers, headers=auth["leader"]).json()
    veg = next(c for c in ranked if c["offer_id"] == "off-a-veg")
    assert (veg["rank"], veg["refused"], veg["refusal_reason"]) == (None, True, refuse["reason"])
    assert ranked[-1]["offer_id"] == "off-a-veg"
    seen = client.get(offers, headers=auth["committee"]).json()
    veg = next(c for c in seen if c["offer_id"] == "off-a-veg")
    assert veg["rank"] is not None and veg["refusals"] == [{"leader": "leader", **refuse}]
    listed = client.get("/compounds/c-huamu/refusals", headers=auth["committee"])
    assert [r["supplier_id"] for r in listed.json()] == ["sup-a"]
    assert (
        client.get("/compounds/c-huamu/refusals", headers=auth["committee_other"]).status_code
        == 403
    )
    other = client.get("/compounds/c-tangqiao/offers?date=2022-04-15", headers=auth["leader_other"])
    assert all(c["rank"] is not None for c in other.json())
    deadline = {"offer_id": "off-a-veg", "deadline": "2022-04-14T20:00:00+08:00",
                "opened_at": "2022-04-14T08:00:00+08:00"}  # fmt: skip
    refused = client.post("/compounds/c-huamu/groups", json=deadline, headers=auth["leader"])
    assert refused.status_code == 422 and refused.json()["error"] == "supplier_refused"
    assert refuse["reason"] in refused.json()["detail"]
    assert client.delete("/suppliers/sup-a/refusals", headers=auth["leader"]).status_code == 204
    assert client.delete("/suppliers/sup-a/refusals", headers=auth["leader"]).status_code == 404


def test_reliability_is_for_the_supplier_and_the_compounds_side_only(
    client: TestClient, auth: dict[str, Any]
) -> None:
    url = "/suppliers/sup-a/reliability"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=auth["dispatcher_other"]).status_code == 403
    assert client.get(url, headers=auth["driver"]).status_code == 403
    for name in ("dispatcher", "admin", "committee", "leader"):
        assert client.get(url, headers=auth[name]).status_code == 200, name
    assert client.get("/suppliers/nobody/reliability", headers=auth["admin"]).status_code == 404
