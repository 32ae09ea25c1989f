"""Groups through the API: open on an offer, sign up, close at the deadline, advance, and
the public ledger; who may do what, and capacity held and released."""

from __future__ import annotations

from fastapi.testclient import TestClient

DEADLINE = "2022-04-14T20:00:00+08:00"
OPENED = "2022-04-14T08:00:00+08:00"


def test_group_life_cycle_roles_and_ledger(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    body = {"offer_id": "off-a-veg", "deadline": DEADLINE, "threshold_units": 5,
            "allocated_units": 300, "opened_at": OPENED}  # fmt: skip
    for role, code in (("anonymous", 401), ("leader_other", 403), ("dispatcher", 403),
                       ("admin", 403), ("driver", 403)):  # fmt: skip
        reply = client.post("/compounds/c-huamu/groups", headers=tokens[role], json=body)
        assert reply.status_code == code, (role, reply.text)
    opened = client.post("/compounds/c-huamu/groups", headers=tokens["leader"], json=body)
    assert opened.status_code == 201, opened.text
    group_id = opened.json()["group"]["group_id"]
    ledger_path = opened.json()["ledger_path"]
    assert opened.json()["group"]["state"] == "open"

    too_much = {"offer_id": "off-a-veg", "deadline": DEADLINE, "allocated_units": 101,
                "opened_at": OPENED}  # fmt: skip
    reply = client.post(
        "/compounds/c-tangqiao/groups", headers=tokens["leader_other"], json=too_much
    )
    assert reply.status_code == 409 and reply.json()["error"] == "capacity_exhausted"
    late = {"offer_id": "off-a-veg", "deadline": "2022-04-16T08:00:00+08:00"}
    reply = client.post("/compounds/c-tangqiao/groups", headers=tokens["leader_other"], json=late)
    assert reply.status_code == 422 and reply.json()["field"] == "deadline"
    reply = client.post(
        "/compounds/c-tangqiao/groups",
        headers=tokens["leader_other"],
        json={"offer_id": "no-such-offer", "deadline": DEADLINE},
    )
    assert reply.status_code == 404

    url = f"/groups/{group_id}"
    early = {"units": 6, "at": "2022-04-14T10:00:00+08:00"}
    assert (
        client.post(f"{url}/commitments", headers=tokens["leader_other"], json=early).status_code
        == 403
    )
    committed = client.post(f"{url}/commitments", headers=tokens["leader"], json=early)
    assert committed.status_code == 200 and committed.json()["group"]["committed_units"] == 6
    after = {"units": 1, "at": "2022-04-14T21:00:00+08:00"}
    assert (
        client.post(f"{url}/commitments", headers=tokens["leader"], json=after).status_code == 409
    )

    before = client.post(
        f"{url}/close", headers=tokens["leader"], json={"at": "2022-04-14T19:00:00+08:00"}
    )
    assert before.status_code == 409 and before.json()["error"] == "before_deadline"
    closed = client.post(f"{url}/close", headers=tokens["leader"], json={"at": DEADLINE})
    assert closed.json()["group"]["state"] == "formed"

    step = {"to": "matched", "at": "2022-04-14T21:00:00+08:00"}
    assert (
        client.post(f"{url}/advance", headers=tokens["dispatcher_other"], json=step).status_code
        == 403
    )
    assert client.post(f"{url}/advance", headers=tokens["leader"], json=step).status_code == 403
    assert client.post(f"{url}/advance", headers=tokens["dispatcher"], json=step).status_code == 200
    skip = {"to": "settled", "at": "2022-04-14T22:00:00+08:00"}
    wrong = client.post(f"{url}/advance", headers=tokens["admin"], json=skip)
    assert wrong.status_code == 409 and "allowed: dispatched" in wrong.json()["detail"]
    for role, to, at in (
        ("dispatcher", "dispatched", "2022-04-15T08:00:00+08:00"),
        ("leader", "delivered", "2022-04-15T10:00:00+08:00"),
        ("admin", "settled", "2022-04-16T10:00:00+08:00"),
    ):
        reply = client.post(f"{url}/advance", headers=tokens[role], json={"to": to, "at": at})
        assert reply.status_code == 200, (role, reply.text)
    assert client.get(url, headers=tokens["dispatcher"]).json()["group"]["state"] == "settled"
    assert client.get(url, headers=tokens["dispatcher_other"]).status_code == 403
    assert client.get(url, headers=tokens["driver"]).status_code == 403

    ledger = client.get(ledger_path)  # no sign-in: the link is the key
    assert ledger.status_code == 200
    assert ledger.json()["amount_cents"] == 6 * 3500
    assert ledger.json()["state"] == "settled" and len(ledger.json()["history"]) == 6
    assert not any(x in ledger.text for x in ("王阿姨", "13800138000", "pregnant"))
    assert client.get("/public/ledger/not-a-token").status_code == 404
    listed = client.get("/compounds/c-huamu/groups", headers=tokens["leader"]).json()
    assert [g["group"]["group_id"] for g in listed] == [group_id]
    assert (
        client.get("/compounds/c-huamu/groups", headers=tokens["leader_other"]).status_code == 403
    )


def test_a_failed_group_releases_its_capacity(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    body = {"offer_id": "off-b-eggs", "deadline": DEADLINE, "threshold_units": 10,
            "opened_at": OPENED}  # fmt: skip
    first = client.post("/compounds/c-tangqiao/groups", headers=tokens["leader_other"], json=body)
    assert first.json()["group"]["allocated_units"] == 200  # all the offer has
    blocked = client.post("/compounds/c-huamu/groups", headers=tokens["leader"], json=body)
    assert blocked.status_code == 409
    group_id = first.json()["group"]["group_id"]
    client.post(
        f"/groups/{group_id}/commitments",
        headers=tokens["leader_other"],
        json={"units": 2, "at": "2022-04-14T09:00:00+08:00"},
    )
    closed = client.post(
        f"/groups/{group_id}/close", headers=tokens["admin"], json={"at": DEADLINE}
    )
    assert closed.json()["group"]["state"] == "failed"
    again = client.post("/compounds/c-huamu/groups", headers=tokens["leader"], json=body)
    assert again.status_code == 201 and again.json()["group"]["allocated_units"] == 200
    events = client.get("/audit?action=group.failed", headers=tokens["admin"]).json()
    assert [e["target"] for e in events] == [f"group {group_id}"]
