"""After-sales in the store: a group's delivery facts, claims read and written with the audit
log, deadlines swept with a clock, refunds into the ledger, and redeliveries for the planner.

The HTTP routes (api/routes/claims.py, receipts.py) and the CLI (`linli claims escalate`) call
these; the domain rules live in matcher/claims.py and matcher/receipt.py.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from api import audit
from api.errors import not_found
from api.group_store import record_refund
from api.security import Principal, Role
from api.settings import Settings
from data.schemas import Identifier, Model
from data.tables import (
    ClaimRow,
    GroupBuyRow,
    GroupCompoundRow,
    GroupSignupRow,
    OfferRow,
    PaymentRow,
    table_of,
)
from matcher.claims import Claim, ClaimState, ResolutionKind, escalate_due
from matcher.groups import Group

_CLAIMS = table_of(ClaimRow)
_GROUPS = table_of(GroupBuyRow)
_POOL = table_of(GroupCompoundRow)
_SIGNUPS = table_of(GroupSignupRow)
_OFFERS = table_of(OfferRow)
_PAYMENTS = table_of(PaymentRow)

OPEN_STATES = (ClaimState.filed.value, ClaimState.rejected.value)
"""States with a deadline that ``sweep`` evaluates."""


@dataclass(frozen=True)
class GroupFacts:
    """What after-sales reads of a group: its leader, compounds, supplier, offer and price."""

    group: Group
    leader: str
    leaders: dict[str, str | None]
    """Compound id → the leader who runs the group there (pooled groups: each joined one)."""
    unit_price_cents: int
    delivery_date: dt.date

    @property
    def compound_ids(self) -> tuple[str, ...]:
        """Compounds the group delivers to, lead compound first."""
        return tuple(self.leaders)


def group_facts(conn: Connection, group_id: str) -> GroupFacts | None:
    """The facts of one group, None if there is no such group."""
    row = conn.execute(select(_GROUPS).where(_GROUPS.c.group_id == group_id)).mappings().first()
    if row is None:
        return None
    group = Group.model_validate(row["data"])
    offer = (
        conn.execute(select(_OFFERS).where(_OFFERS.c.offer_id == row["offer_id"])).mappings().one()
    )
    pool = conn.execute(
        select(_POOL.c.compound_id, _POOL.c.leader)
        .where(_POOL.c.group_id == group_id)
        .order_by(_POOL.c.position)
    ).all()
    leaders: dict[str, str | None] = {row["compound_id"]: row["created_by"]}
    for compound_id, leader in pool:
        leaders.setdefault(compound_id, leader)
    return GroupFacts(
        group=group,
        leader=row["created_by"],
        leaders=leaders,
        unit_price_cents=int(offer["unit_price_cents"]),
        delivery_date=offer["delivery_date"],
    )


def facts_of(engine: Engine, group_id: str) -> GroupFacts:
    """The facts of one group; 404 if there is no such group."""
    with engine.connect() as conn:
        facts = group_facts(conn, group_id)
    if facts is None:
        raise not_found("group", group_id)
    return facts


def leads(user: Principal, facts: GroupFacts, compound_id: str | None = None) -> bool:
    """Whether ``user`` runs the group (its leader), or its part at ``compound_id`` (a pooled
    group's joined leader)."""
    if user.role is not Role.leader:
        return False
    if user.username == facts.leader:
        return True
    return compound_id is not None and facts.leaders.get(compound_id) == user.username


def answer_within(settings: Settings) -> dt.timedelta:
    """How long a supplier has to answer a claim (and a filer to appeal a rejection)."""
    return dt.timedelta(hours=settings.claim_escalation_hours)


def ordered_units(conn: Connection, facts: GroupFacts, compound_id: str) -> int:
    """Units the group ordered for one compound: its active sign-ups there, or (a group
    without sign-up lines, run by committed units only) the group's committed units at its
    lead compound."""
    group_id = facts.group.group_id
    lines = conn.execute(
        select(_SIGNUPS.c.compound_id, _SIGNUPS.c.quantity_units, _SIGNUPS.c.state).where(
            _SIGNUPS.c.group_id == group_id
        )
    ).all()
    if lines:
        return sum(q for c, q, state in lines if c == compound_id and state == "active")
    return facts.group.committed_units if compound_id == facts.compound_ids[0] else 0


def new_id(prefix: str) -> str:
    """A fresh short id such as ``cl-3f9a0c1b2d4e``."""
    return f"{prefix}-{secrets.token_hex(6)}"


# --- claims ------------------------------------------------------------------------------------


def insert_claim(conn: Connection, who: Principal | str, claim: Claim, filed_by: str) -> None:
    """Store a new claim and log it (inside the caller's write transaction)."""
    conn.execute(
        insert(_CLAIMS).values(
            claim_id=claim.claim_id,
            group_id=claim.group_id,
            compound_id=claim.compound_id,
            supplier_id=claim.supplier_id,
            signup_id=claim.signup_id,
            state=claim.state.value,
            due_at=claim.due_at,
            data=claim.model_dump(mode="json"),
            filed_by=filed_by,
            filed_at=claim.filed_at,
            updated_at=claim.filed_at,
        )
    )
    audit.append(
        conn,
        who,
        "claim.file",
        f"claim {claim.claim_id} group {claim.group_id}",
        after=_audited(claim),
    )


def save_claim(
    conn: Connection, who: Principal | str, before: Claim, after: Claim, action: str
) -> None:
    """Store a claim's new state and log the step (inside the caller's write transaction)."""
    conn.execute(
        update(_CLAIMS)
        .where(_CLAIMS.c.claim_id == after.claim_id)
        .values(
            state=after.state.value,
            due_at=after.due_at,
            data=after.model_dump(mode="json"),
            updated_at=after.history[-1].at,
        )
    )
    audit.append(
        conn,
        who,
        action,
        f"claim {after.claim_id} group {after.group_id}",
        before=_audited(before),
        after=_audited(after),
    )


def _audited(claim: Claim) -> dict[str, Any]:
    """A claim as the audit log keeps it: without the household's free-text note."""
    return claim.model_dump(mode="json", exclude={"note"})


def load_claim(conn: Connection, claim_id: str) -> tuple[Claim, str] | None:
    """A stored claim and who filed it, None if there is none."""
    row = conn.execute(
        select(_CLAIMS.c.data, _CLAIMS.c.filed_by).where(_CLAIMS.c.claim_id == claim_id)
    ).first()
    return None if row is None else (Claim.model_validate(row[0]), row[1])


def load_claims(conn: Connection, *where: Any) -> list[Claim]:
    """Stored claims matching the ``where`` clauses, oldest first."""
    query = select(_CLAIMS.c.data).where(*where).order_by(_CLAIMS.c.filed_at, _CLAIMS.c.claim_id)
    return [Claim.model_validate(data) for data in conn.execute(query).scalars()]


def sweep(engine: Engine, now: dt.datetime, **match: str) -> int:
    """Move on every stored claim whose deadline has passed at ``now`` (escalate unanswered,
    close unappealed; see ``matcher.claims.escalate_due``), logged as ``system``; ``match``
    narrows to a column value (``group_id=...``). Returns how many moved."""
    due = [
        _CLAIMS.c.state.in_(OPEN_STATES),
        _CLAIMS.c.due_at <= now,
        *(_CLAIMS.c[column] == value for column, value in match.items()),
    ]
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(_CLAIMS).where(*due)).scalar_one() == 0:
            return 0
    moved = 0
    with audit.write(engine) as conn:
        claims = load_claims(conn, *due)
        for before, after in zip(claims, escalate_due(claims, now), strict=True):
            if after.state is not before.state:
                save_claim(conn, "system", before, after, f"claim.{after.state}")
                moved += 1
    return moved


# --- refunds and redeliveries -----------------------------------------------------------------


def record_claim_refund(
    conn: Connection, who: Principal, claim: Claim, *, method: str, at: dt.datetime
) -> str | None:
    """The refund of an agreed claim as a ``payment`` row of kind refund with its claim_id;
    None when the resolution is not a refund (call inside ``audit.write``).

    A household's claim goes through the payments part's ``record_refund`` (the refund to
    that line). A group-level claim (a receipt check's) has no line: its refund is written
    here with ``signup_id`` None, the same columns, as the contract of the payment table says.
    """
    resolution = claim.resolution
    if resolution is None or resolution.kind is not ResolutionKind.refund:
        return None
    note = f"claim {claim.claim_id}: {claim.kind} {claim.units} units ({method})"
    if claim.signup_id is not None:
        return record_refund(
            conn,
            group_id=claim.group_id,
            signup_id=claim.signup_id,
            amount_cents=resolution.amount_cents,
            claim_id=claim.claim_id,
            by=who,
            at=at,
            note=note,
        )
    payment_id = new_id("pay")
    conn.execute(
        insert(_PAYMENTS).values(
            payment_id=payment_id,
            group_id=claim.group_id,
            signup_id=None,
            kind="refund",
            amount_cents=resolution.amount_cents,
            method=method,
            note=note,
            claim_id=claim.claim_id,
            at=at,
            recorded_by=who.username,
        )
    )
    audit.append(
        conn,
        who,
        "payment.refund",
        f"group {claim.group_id}",
        after={
            "payment_id": payment_id,
            "amount_cents": resolution.amount_cents,
            "claim_id": claim.claim_id,
            "signup_id": None,
        },
    )
    return payment_id


class Redelivery(Model):
    """Goods a supplier agreed to deliver again: demand for the plan of ``delivery_date``."""

    claim_id: Identifier
    group_id: str
    compound_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    units: int
    delivery_date: dt.date


def redeliveries(conn: Connection, delivery_date: dt.date) -> list[Redelivery]:
    """Redeliveries agreed (accepted or upheld, not yet closed) for ``delivery_date``: the
    planner adds them as demand of the compound × category for the supplier that owes them."""
    claims = load_claims(
        conn, _CLAIMS.c.state.in_([ClaimState.accepted.value, ClaimState.upheld.value])
    )
    return [
        Redelivery(
            claim_id=c.claim_id,
            group_id=c.group_id,
            compound_id=c.compound_id,
            supplier_id=c.supplier_id,
            category_id=c.category_id,
            units=c.resolution.units,
            delivery_date=delivery_date,
        )
        for c in claims
        if c.resolution is not None
        and c.resolution.kind is ResolutionKind.redelivery
        and c.resolution.redelivery_date == delivery_date
    ]


def claims_of_signup(conn: Connection, signup_id: str) -> list[Claim]:
    """A household line's claims (for the resident's own page)."""
    return load_claims(conn, _CLAIMS.c.signup_id == signup_id)


def claims_of_groups(conn: Connection, group_ids: Sequence[str]) -> list[Claim]:
    """Claims of several groups (daily reports, reliability)."""
    return load_claims(conn, _CLAIMS.c.group_id.in_(list(group_ids))) if group_ids else []
