"""A household checks its own line with its resident code (no sign-in): what it signed up
for, what it paid and owes, the group's and the delivery's state, its claims, and its other
lines (same compound, building and room) — nothing about any other household.

Claims are read from the ``claim`` table when the store has one (``signup_id``, ``state``,
``due_at``): the claims part owns that table; this page only lists them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from sqlalchemy import Connection, select

from api.deps import StoreDep
from api.errors import ApiError
from api.group_store import SIGNUPS, group_balance, load_group, payment_rows
from data.tables import Base
from matcher.groups import Transition

router = APIRouter(prefix="/resident", tags=["public"])


class ResidentPayment(BaseModel):
    """A payment or refund recorded on the household's own line."""

    kind: str
    amount_cents: int
    method: str
    at: dt.datetime


class ResidentClaim(BaseModel):
    """A claim filed on the household's line and where it stands."""

    claim_id: str
    state: str
    due_at: dt.datetime | None


class OtherLine(BaseModel):
    """Another line of the same household, with its own code."""

    group_id: str
    package_name: str
    quantity_units: int
    state: str
    resident_code: str


class ResidentView(BaseModel):
    """What a resident code shows: this household's line and nothing else."""

    group_id: str
    package_name: str
    unit_price_cents: int
    building_id: str
    room: str
    household_name: str
    quantity_units: int
    line_state: str
    due_cents: int
    paid_cents: int
    refunded_cents: int
    payment_status: str
    payments: list[ResidentPayment]
    group_state: str
    deadline: dt.datetime
    history: list[Transition]
    claims: list[ResidentClaim]
    other_lines: list[OtherLine]


def _claims(conn: Connection, signup_id: str) -> list[ResidentClaim]:
    """Claims on the line, when the store has a claim table."""
    table = Base.metadata.tables.get("claim")
    if table is None:
        return []
    query = (
        select(table.c.claim_id, table.c.state, table.c.due_at)
        .where(table.c.signup_id == signup_id)
        .order_by(table.c.claim_id)
    )
    return [ResidentClaim(claim_id=c, state=s, due_at=d) for c, s, d in conn.execute(query)]


def _status(due: int, balance: int, state: str) -> str:
    """A word for the line's money: paid, unpaid, part_paid, overpaid, refunded, nothing_due."""
    if balance == 0:
        return "paid" if due > 0 else ("refunded" if state != "active" else "nothing_due")
    if balance > 0:
        return "overpaid"
    return "unpaid" if balance == -due else "part_paid"


@router.get("/{code}", response_model=ResidentView)
def resident_view(code: Annotated[str, Path(max_length=16)], store: StoreDep) -> ResidentView:
    """The household's own line by its code; 404 for an unknown code."""
    with store.engine.connect() as conn:
        line = conn.execute(select(SIGNUPS).where(SIGNUPS.c.resident_code == code)).mappings()
        row: dict[str, Any] | None = dict(found) if (found := line.first()) else None
        if row is None:
            raise ApiError(404, "not_found", "no line with this code; check it with your leader")
        stored = load_group(conn, group_id=row["group_id"])
        assert stored is not None  # the foreign key holds
        offers = {o.offer_id: o for o in store.supply().offers}
        offer = offers[stored.group.offer_id]
        balance = group_balance(conn, stored, offer.unit_price_cents)
        mine = next(b for b in balance.lines if b.signup_id == row["signup_id"])
        payments = [
            ResidentPayment(
                kind=p["kind"], amount_cents=p["amount_cents"], method=p["method"], at=p["at"]
            )
            for p in payment_rows(conn, row["group_id"])
            if p["signup_id"] == row["signup_id"]
        ]
        claims = _claims(conn, row["signup_id"])
        household = conn.execute(
            select(SIGNUPS).where(
                SIGNUPS.c.compound_id == row["compound_id"],
                SIGNUPS.c.building_id == row["building_id"],
                SIGNUPS.c.room == row["room"],
                SIGNUPS.c.signup_id != row["signup_id"],
            )
        ).mappings()
        others = []
        for other in household:
            group = load_group(conn, group_id=other["group_id"])
            assert group is not None
            others.append(
                OtherLine(
                    group_id=other["group_id"],
                    package_name=offers[group.group.offer_id].package_name,
                    quantity_units=other["quantity_units"],
                    state=other["state"],
                    resident_code=other["resident_code"],
                )
            )
    return ResidentView(
        group_id=row["group_id"],
        package_name=offer.package_name,
        unit_price_cents=offer.unit_price_cents,
        building_id=row["building_id"],
        room=row["room"],
        household_name=row["household_name"],
        quantity_units=row["quantity_units"],
        line_state=row["state"],
        due_cents=mine.due_cents,
        paid_cents=mine.paid_cents,
        refunded_cents=mine.refunded_cents,
        payment_status=_status(mine.due_cents, mine.balance_cents, row["state"]),
        payments=payments,
        group_state=stored.group.state.value,
        deadline=stored.group.deadline,
        history=list(stored.group.history),
        claims=claims,
        other_lines=others,
    )
