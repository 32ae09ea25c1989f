"""Recorded payments of a group (never processed): household payments and refunds per line,
the leader's advance to the supplier, and the group's balance with the lines that break it.

The leader who collects a line records its payments and refunds; the group's leader records
advances and the leader's own payment for spare units. Payments and the per-line balance are
for those leaders only; everyone else reads the totals on the public ledger.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import audit
from api.deps import StoreDep, User
from api.errors import ApiError, not_found
from api.group_store import (
    SIGNUPS,
    PaymentError,
    StoredGroup,
    group_balance,
    household_compounds,
    load_group,
    payment_rows,
    record_payment,
)
from api.security import Principal, Role
from data.store import Store
from matcher.payments import LedgerBalance, PaymentKind

router = APIRouter(tags=["payments"])


class PaymentIn(BaseModel):
    """One recorded money movement (see ``matcher.payments`` for the kinds)."""

    kind: PaymentKind
    amount_cents: int = Field(gt=0, le=10**9)
    signup_id: str | None = Field(default=None, max_length=32)
    method: str = Field(default="", max_length=32, description="a label: wechat, cash, ...")
    note: str = Field(default="", max_length=512)
    claim_id: str | None = Field(default=None, max_length=32)
    at: dt.datetime | None = Field(default=None, description="when; default now")


class PaymentView(BaseModel):
    """A recorded payment as its leader sees it."""

    payment_id: str
    group_id: str
    signup_id: str | None
    kind: str
    amount_cents: int
    method: str
    note: str
    claim_id: str | None
    at: dt.datetime
    recorded_by: str


def _load(store: Store, group_id: str) -> StoredGroup:
    with store.engine.connect() as conn:
        stored = load_group(conn, group_id=group_id)
    if stored is None:
        raise not_found("group", group_id)
    return stored


def _line_compounds(store: Store, stored: StoredGroup, user: Principal) -> frozenset[str]:
    """The compounds whose lines ``user`` records and reads; 403 if none."""
    mine = household_compounds(user, stored)
    if not mine:
        raise ApiError(403, "forbidden", "payments are recorded by the group's leaders")
    return mine


def _price(store: Store, stored: StoredGroup) -> int:
    offer = next(o for o in store.supply().offers if o.offer_id == stored.group.offer_id)
    return offer.unit_price_cents


@router.post("/groups/{group_id}/payments", response_model=PaymentView, status_code=201)
def add_payment(group_id: str, body: PaymentIn, store: StoreDep, user: User) -> PaymentView:
    """Record a payment, refund or advance (the amount is what changed hands, in cents)."""
    stored = _load(store, group_id)
    mine = _line_compounds(store, stored, user)
    if body.signup_id is None and user.username != stored.leader:
        raise ApiError(
            403, "forbidden", "advances and the leader's own payments are the group leader's"
        )
    at = body.at or dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise ApiError(422, "invalid_request", "give the time with its offset", "at")
    with audit.write(store.engine) as conn:
        if body.signup_id is not None:
            compound = conn.execute(
                select(SIGNUPS.c.compound_id).where(
                    SIGNUPS.c.signup_id == body.signup_id, SIGNUPS.c.group_id == group_id
                )
            ).scalar_one_or_none()
            if compound is None:
                raise not_found("sign-up", body.signup_id)
            if compound not in mine:
                raise ApiError(403, "forbidden", f"line {body.signup_id} is another leader's")
        try:
            payment_id = record_payment(
                conn,
                group_id=group_id,
                kind=body.kind,
                amount_cents=body.amount_cents,
                by=user,
                at=at,
                signup_id=body.signup_id,
                method=body.method,
                note=body.note,
                claim_id=body.claim_id,
            )
        except PaymentError as error:
            raise ApiError(422, "invalid_request", str(error), "signup_id") from error
        row = next(r for r in payment_rows(conn, group_id) if r["payment_id"] == payment_id)
    return PaymentView.model_validate(row)


@router.get("/groups/{group_id}/payments", response_model=list[PaymentView])
def list_payments(group_id: str, store: StoreDep, user: User) -> list[PaymentView]:
    """Payments on the lines ``user`` collects (and, for the group's leader, advances)."""
    stored = _load(store, group_id)
    mine = _line_compounds(store, stored, user)
    with store.engine.connect() as conn:
        lines = set(
            conn.execute(
                select(SIGNUPS.c.signup_id).where(
                    SIGNUPS.c.group_id == group_id, SIGNUPS.c.compound_id.in_(mine)
                )
            ).scalars()
        )
        rows = payment_rows(conn, group_id)
    lead = user.username == stored.leader
    return [
        PaymentView.model_validate(r)
        for r in rows
        if r["signup_id"] in lines or (r["signup_id"] is None and lead)
    ]


@router.get("/groups/{group_id}/balance", response_model=LedgerBalance)
def get_balance(group_id: str, store: StoreDep, user: User) -> LedgerBalance:
    """The ledger equation with every line's due and payments (line ids, never names): the
    group's leader; a pooled compound's leader gets the lines of their compound only."""
    stored = _load(store, group_id)
    if user.role is not Role.leader:
        raise ApiError(403, "forbidden", "the line balance is for the group's leaders")
    mine = _line_compounds(store, stored, user)
    with store.engine.connect() as conn:
        balance = group_balance(conn, stored, _price(store, stored))
        if user.username == stored.leader:
            return balance
        lines = set(
            conn.execute(
                select(SIGNUPS.c.signup_id).where(
                    SIGNUPS.c.group_id == group_id, SIGNUPS.c.compound_id.in_(mine)
                )
            ).scalars()
        )
    return balance.model_copy(
        update={
            "lines": tuple(b for b in balance.lines if b.signup_id in lines),
            "flagged": tuple(b for b in balance.flagged if b.signup_id in lines),
        }
    )
