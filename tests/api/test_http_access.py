"""Every endpoint × every role: 401/403/404 exactly where expected, and no household data
in any response but the compound leader's own orders (checked on the serialised JSON)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import API, USERS

ROLES = ["anonymous", *USERS]
DAY = "2022-04-15"
HOUSEHOLD_FIELDS = ("王阿姨", "13800138000", "钱奶奶", "孙女士", "pregnant", "chronic_illness")
"""Names, phones and priority flags of the seeded households: only the leader may see them."""


def _expect(allowed: set[str], *, denied: int = 403, **special: int) -> dict[str, int]:
    """Expected status per role: 200-class for ``allowed``, 401 anonymous, else ``denied``."""
    codes = {role: (200 if role in allowed else denied) for role in USERS}
    codes["anonymous"] = 401
    codes.update(special)
    return codes


READS: list[tuple[str, dict[str, int]]] = [
    ("/auth/me", _expect(set(USERS))),
    ("/compounds", _expect({"admin", "leader", "leader_other", "dispatcher", "dispatcher_other"})),
    ("/compounds/c-huamu", _expect({"admin", "leader", "dispatcher", "dispatcher_other"})),
    (
        "/compounds/c-huamu/buildings",
        _expect({"admin", "leader", "dispatcher", "dispatcher_other"}),
    ),
    ("/compounds/c-huamu/gates", _expect({"admin", "leader", "dispatcher", "dispatcher_other"})),
    ("/compounds/c-huamu/lockdown", _expect({"admin", "leader", "dispatcher", "dispatcher_other"})),
    ("/compounds/c-huamu/orders", _expect({"leader"})),
    ("/compounds/nowhere", _expect(set(), admin=404, dispatcher=404, dispatcher_other=404)),
    (
        f"/demand?delivery_date={DAY}",
        _expect({"admin", "leader", "leader_other", "dispatcher", "dispatcher_other"}),
    ),
    (
        f"/demand?delivery_date={DAY}&level=building",
        _expect({"admin", "leader", "leader_other", "dispatcher", "dispatcher_other"}),
    ),
    (
        f"/demand?delivery_date={DAY}&format=csv",
        _expect({"admin", "leader", "dispatcher"}, leader_other=200, dispatcher_other=200),
    ),
    ("/suppliers", _expect({"admin", "dispatcher", "dispatcher_other"})),
    ("/suppliers/sup-a", _expect({"admin", "dispatcher"})),
    ("/suppliers/sup-a/offers", _expect({"admin", "dispatcher"})),
    ("/suppliers/nobody", _expect(set(), admin=404)),
    ("/audit", _expect({"admin"})),
    ("/audit/verify", _expect({"admin"})),
    ("/jobs", _expect(set(USERS))),
    ("/jobs/0000000000000000", _expect(set(), denied=404)),
]


@pytest.mark.parametrize(("path", "expected"), READS, ids=[p for p, _ in READS])
def test_read_access(
    client: TestClient, tokens: dict[str, dict[str, str]], path: str, expected: dict[str, int]
) -> None:
    for role in ROLES:
        reply = client.get(path, headers=tokens[role])
        assert reply.status_code == expected[role], (role, path, reply.text)
        if reply.status_code >= 400:
            body = reply.json()
            assert set(body) == {"error", "detail", "field"}, body
            assert "Traceback" not in reply.text


def test_household_fields_only_in_the_leaders_own_orders(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    for path, expected in READS:
        for role in ROLES:
            reply = client.get(path, headers=tokens[role])
            if expected[role] != 200:
                continue
            text = reply.text
            leaks = [field for field in HOUSEHOLD_FIELDS if field in text]
            if role == "leader" and path == "/compounds/c-huamu/orders":
                assert "王阿姨" in text and "13800138000" in text and "pregnant" in text
                assert "孙女士" not in text  # another compound's household
            else:
                assert not leaks, (role, path, leaks)


def test_leader_sees_only_their_compound(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    listed = client.get("/compounds", headers=tokens["leader"]).json()
    assert [c["compound_id"] for c in listed["items"]] == ["c-huamu"]
    demand = client.get(f"/demand?delivery_date={DAY}", headers=tokens["leader"]).json()
    assert {line["compound_id"] for line in demand["items"]} == {"c-huamu"}
    asked = client.get(
        f"/demand?delivery_date={DAY}&compound_id=c-tangqiao", headers=tokens["leader"]
    ).json()
    assert asked["items"] == []


def test_demand_totals_and_small_count_suppression(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    rows = client.get(f"/demand?delivery_date={DAY}", headers=tokens["admin"]).json()["items"]
    by_key = {(r["compound_id"], r["category_id"]): r for r in rows}
    assert by_key["c-huamu", "vegetables"]["quantity_units"] == 3
    assert by_key["c-huamu", "vegetables"]["priority_quantity_units"] == 2
    assert by_key["c-huamu", "eggs"]["quantity_units"] == 3
    buildings = client.get(
        f"/demand?delivery_date={DAY}&level=building", headers=tokens["dispatcher"]
    ).json()["items"]
    b03 = next(r for r in buildings if r["building_id"] == "c-huamu-b03")
    assert b03["quantity_units"] in (1, 2) and b03["priority_households"] is None
    own = client.get(
        f"/demand?delivery_date={DAY}&level=building", headers=tokens["leader"]
    ).json()["items"]
    assert any(r["priority_households"] == 1 for r in own)
    csv_text = client.get(f"/demand?delivery_date={DAY}&format=csv", headers=tokens["admin"]).text
    assert csv_text.splitlines()[0].startswith("compound_id,category_id")
    assert len(csv_text.strip().splitlines()) == 1 + len(rows)


def _upload(
    client: TestClient, headers: dict[str, str], compound: str, name: str, **kw: Any
) -> Any:
    content = (API / name).read_bytes()
    return client.post(
        f"/compounds/{compound}/orders",
        headers=headers,
        files={"file": (name, content, "text/csv")},
        **kw,
    )


def test_write_access(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    for role in ROLES:
        expected = 201 if role == "leader_other" else (401 if role == "anonymous" else 403)
        reply = _upload(client, tokens[role], "c-tangqiao", "orders_tangqiao_more.csv")
        assert reply.status_code == expected, (role, reply.text)
        expected = 200 if role == "admin" else (401 if role == "anonymous" else 403)
        reply = client.put(
            "/compounds/c-tangqiao/lockdown",
            headers=tokens[role],
            json={"level": "controlled", "valid_from": DAY},
        )
        assert reply.status_code == expected, (role, reply.text)
        expected = 200 if role == "admin" else (401 if role == "anonymous" else 403)
        reply = client.post("/certificates/cert-b-permit/verify", headers=tokens[role])
        assert reply.status_code == expected, (role, reply.text)
        supply = (API / "supply.yaml").read_bytes()
        reply = client.post(
            "/suppliers/sup-b/supply",
            headers=tokens[role],
            files={"file": ("supply.yaml", supply, "application/yaml")},
        )
        # the file holds both suppliers: refused even for sup-b's own dispatcher and admin
        assert reply.status_code == (401 if role == "anonymous" else 403), (role, reply.text)
    lockdown = client.get("/compounds/c-tangqiao/lockdown", headers=tokens["admin"]).json()
    assert [s["level"] for s in lockdown] == ["controlled"]


def test_idempotent_reupload_and_conflicting_key(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    headers = {**tokens["leader_other"], "Idempotency-Key": "upload-1"}
    first = _upload(client, headers, "c-tangqiao", "orders_tangqiao_more.csv")
    again = _upload(client, headers, "c-tangqiao", "orders_tangqiao_more.csv")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = _upload(client, headers, "c-tangqiao", "orders_bad_row.csv")
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    orders = client.get("/compounds/c-tangqiao/orders", headers=tokens["leader_other"]).json()
    ids = [o["order_id"] for o in orders]
    assert sorted(ids) == sorted(set(ids)) and {"o-5", "o-6"} <= set(ids)


def test_import_is_transactional_and_lists_every_bad_row(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    before = client.get("/compounds/c-tangqiao/orders", headers=tokens["leader_other"]).json()
    reply = _upload(client, tokens["leader_other"], "c-tangqiao", "orders_bad_row.csv")
    assert reply.status_code == 422
    body = reply.json()
    assert body["error"] == "invalid_data"
    assert {(i["file"], i["row"], i["field"]) for i in body["detail"]} == {
        ("orders_bad_row.csv", 3, "quantity_units"),
        ("orders_bad_row.csv", 4, "building_id"),
    }
    after = client.get("/compounds/c-tangqiao/orders", headers=tokens["leader_other"]).json()
    assert after == before  # the good row o-7 was not imported either


def test_orders_for_another_compound_are_refused_with_the_row(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    reply = _upload(client, tokens["leader_other"], "c-tangqiao", "orders.csv")
    assert reply.status_code == 422
    assert reply.json()["field"] == "compound_id"


def test_jielong_paste(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    text = "#接龙 4月15日\n1. 1号楼 301 蔬菜套餐x2 (老人)\n"
    reply = client.post(
        "/compounds/c-tangqiao/orders",
        headers=tokens["leader_other"],
        data={"text": text, "delivery_date": DAY},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["orders"] == 1
    missing = client.post(
        "/compounds/c-tangqiao/orders", headers=tokens["leader_other"], data={"text": text}
    )
    assert missing.status_code == 422 and missing.json()["field"] == "delivery_date"


def test_bad_token_and_wrong_password(client: TestClient) -> None:
    wrong = client.post("/auth/token", data={"username": "admin", "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    forged = client.get("/auth/me", headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401


def test_expired_token_is_refused(client: TestClient) -> None:
    from api.security import Principal, Role, issue_token

    settings = client.app.state.settings  # type: ignore[attr-defined]
    token = issue_token(Principal(username="admin", role=Role.admin), settings.secret(), -1)
    reply = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401


def test_audit_log_records_changes_and_detects_tampering(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    client.put(
        "/compounds/c-huamu/lockdown",
        headers=tokens["admin"],
        json={"level": "sealed", "valid_from": "2022-04-16"},
    )
    events = client.get("/audit?limit=1000", headers=tokens["admin"]).json()
    actions = [e["action"] for e in events]
    assert "user.add" in actions and "lockdown.set" in actions
    last = [e for e in events if e["action"] == "lockdown.set"][-1]
    assert last["actor"] == "admin" and last["after"]["level"] == "sealed"
    assert client.get("/audit/verify", headers=tokens["admin"]).json()["ok"] is True


def test_geodata_import_admin_only_and_all_or_nothing(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    content = (API / "compounds_more.csv").read_bytes()
    files = {"file": ("compounds_more.csv", content, "text/csv")}
    for role in ROLES:
        reply = client.post("/compounds/import?kind=compounds", headers=tokens[role], files=files)
        expected = 201 if role == "admin" else (401 if role == "anonymous" else 403)
        assert reply.status_code == expected, (role, reply.text)
    bad = (API.parent / "load" / "buildings_unknown_compound.csv").read_bytes()
    reply = client.post(
        "/compounds/import?kind=buildings",
        headers=tokens["admin"],
        files={"file": ("buildings.csv", bad, "text/csv")},
    )
    assert reply.status_code == 422
    assert all(i["file"] == "buildings.csv" and i["row"] for i in reply.json()["detail"])
    assert client.get("/compounds/c-lujiazui/buildings", headers=tokens["admin"]).json() == []


def test_concurrent_retries_with_one_key_import_once(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    csv_text = (
        "order_id,compound_id,building_id,room,delivery_date,category_id,quantity_units\n"
        "o-race,c-tangqiao,c-tangqiao-b01,506,2022-04-15,eggs,2\n"
    )
    headers = {**tokens["leader_other"], "Idempotency-Key": "race-1"}

    def send(_: int) -> Any:
        files = {"file": ("race.csv", csv_text.encode(), "text/csv")}
        return client.post("/compounds/c-tangqiao/orders", headers=headers, files=files)

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, range(4)))
    assert [r.status_code for r in replies] == [201] * 4, [r.text for r in replies]
    assert len({r.text for r in replies}) == 1  # every retry got the first answer
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == 3
    orders = client.get("/compounds/c-tangqiao/orders", headers=tokens["leader_other"]).json()
    assert [o["order_id"] for o in orders].count("o-race") == 1


def test_demand_follows_a_reimport_of_earlier_content(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    header = "order_id,compound_id,building_id,room,delivery_date,category_id,quantity_units\n"

    def upload(units: int) -> None:
        body = f"{header}o-flip,c-tangqiao,c-tangqiao-b01,406,2022-04-15,dairy,{units}\n"
        files = {"file": ("flip.csv", body.encode(), "text/csv")}
        reply = client.post("/compounds/c-tangqiao/orders", headers=tokens["leader_other"],
                            files=files)  # fmt: skip
        assert reply.status_code == 201, reply.text

    def dairy() -> int:
        rows = client.get(
            f"/demand?delivery_date={DAY}&compound_id=c-tangqiao&category_id=dairy",
            headers=tokens["admin"],
        ).json()["items"]
        return sum(r["quantity_units"] for r in rows)

    for units in (1, 3, 1):  # the third upload repeats the first file exactly
        upload(units)
        assert dairy() == units
