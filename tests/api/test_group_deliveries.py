"""What live groups and agreed redeliveries add to the day's routed lines, on SQLite and
PostgreSQL: a group's units per compound, never counted twice with an allocation line, a
redelivery on top, and one without an offer on its date reported."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from api.group_deliveries import group_units, redelivery_units, with_group_lines
from matcher.result import Allocation
from tests.api.test_http_claims import auth, make_group

__all__ = ["auth"]  # the fixture, shared with the claims tests

DAY = dt.date(2022, 4, 15)


def test_groups_and_redeliveries_become_routed_lines(
    client: TestClient, auth: dict[str, Any]
) -> None:
    store: Any = client.app.state.store  # type: ignore[attr-defined]
    make_group(client, "g-gd", ("GDA00001", "GDA00002"))
    with store.engine.connect() as conn:
        assert group_units(conn, DAY) == {("off-a-veg", "c-huamu"): 5}
        assert group_units(conn, DAY + dt.timedelta(days=1)) == {}

    # a household's claim on 2 units, made good by a redelivery on the day and one later
    for code, date in (("GDA00001", DAY), ("GDA00002", DAY + dt.timedelta(days=1))):
        filed = client.post(f"/resident/{code}/claims", json={"kind": "missing", "units": 2})
        assert filed.status_code == 201, filed.text
        accept = {"kind": "redelivery", "redelivery_date": date.isoformat()}
        answered = client.post(
            f"/claims/{filed.json()['claim_id']}/accept", json=accept, headers=auth["dispatcher"]
        )
        assert answered.status_code == 200, answered.text
    supply = store.supply()
    with store.engine.connect() as conn:
        owed, unplaced = redelivery_units(conn, DAY, supply.offers)
        later, missing = redelivery_units(conn, DAY + dt.timedelta(days=1), supply.offers)
    assert owed == {("off-a-veg", "c-huamu"): 2} and unplaced == ()
    assert later == {} and [(m.supplier_id, m.units) for m in missing] == [("sup-a", 2)]
    assert "no vegetables offer" in missing[0].reason

    empty = Allocation.model_construct(lines=())  # type: ignore[call-arg]  # lines only
    merged = with_group_lines(
        empty,
        {("off-a-veg", "c-huamu"): 5},
        offers=supply.offers,
        compounds=store.compounds(),
        depots=supply.depots,
        extra=owed,
    )
    (line,) = merged.lines
    assert (line.offer_id, line.compound_id, line.quantity_units) == ("off-a-veg", "c-huamu", 7)
    assert line.supplier_id == "sup-a" and line.depot_id == "dep-a" and line.distance_m > 0
    assert line.goods_cost_cents == 7 * 3500
    # a group opened from an allocation line is the same residents: the larger one counts
    same = with_group_lines(
        merged.model_copy(update={"lines": (line.model_copy(update={"quantity_units": 9}),)}),
        {("off-a-veg", "c-huamu"): 5},
        offers=supply.offers,
        compounds=store.compounds(),
        depots=supply.depots,
    )
    assert [x.quantity_units for x in same.lines] == [9]
