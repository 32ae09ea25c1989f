"""Groups in the store: a group with its compounds and sign-up lines, who may see or run it,
and recording payments and refunds (``record_refund`` is what the claims part calls).

Who sees what (the privacy rule of DESIGN.md):

- the group's leader (``group_buy.created_by``) runs the group: sign-ups of the lead
  compound, payments, close; for a pooled group each neighbour compound's leader who joined
  (``group_compound.leader``) collects and sees the sign-ups of their own compound only;
- any other leader of a served compound, the compound's committee, an admin and the
  offer's dispatcher see the group's aggregates (state, units, amounts, ledger link), never
  a household: the committee governs compounds but household lines are the leader's;
- a volunteer sees rooms and units of their own building, never names, phones or flags.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from api import audit
from api.security import Principal, Role
from data.tables import (
    GroupBuyRow,
    GroupCompoundRow,
    GroupSignupRow,
    PaymentRow,
    table_of,
)
from matcher.groups import Group
from matcher.payments import LedgerBalance, Movement, PaymentKind, SignupLine, balance_ledger

GROUPS = table_of(GroupBuyRow)
GROUP_COMPOUNDS = table_of(GroupCompoundRow)
SIGNUPS = table_of(GroupSignupRow)
PAYMENTS = table_of(PaymentRow)


@dataclass(frozen=True)
class StoredGroup:
    """A group row, its model, and the compounds it serves (lead first) with their leaders."""

    row: dict[str, Any]
    group: Group
    leaders: dict[str, str | None]

    @property
    def group_id(self) -> str:
        """The group's id."""
        return self.group.group_id

    @property
    def leader(self) -> str:
        """The username of the leader who opened and runs the group."""
        return str(self.row["created_by"])


def load_group(
    conn: Connection, *, group_id: str | None = None, token: str | None = None
) -> StoredGroup | None:
    """The group with ``group_id`` (or public ``token``), None if there is none."""
    query = select(GROUPS)
    query = query.where(
        GROUPS.c.group_id == group_id if token is None else GROUPS.c.public_token == token
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    served = conn.execute(
        select(GROUP_COMPOUNDS.c.compound_id, GROUP_COMPOUNDS.c.leader)
        .where(GROUP_COMPOUNDS.c.group_id == row["group_id"])
        .order_by(GROUP_COMPOUNDS.c.position)
    ).all()
    leaders: dict[str, str | None] = {c: leader for c, leader in served}
    if not leaders:  # a group opened from an allocation: its compound, led by its creator
        leaders = {row["compound_id"]: row["created_by"]}
    return StoredGroup(dict(row), Group.model_validate(row["data"]), leaders)


def save_group(conn: Connection, user: Principal | str, before: Group, after: Group,
               action: str, at: dt.datetime) -> None:  # fmt: skip
    """Write ``after`` over the group's row and audit the change (inside ``audit.write``)."""
    conn.execute(
        update(GROUPS)
        .where(GROUPS.c.group_id == after.group_id)
        .values(state=after.state.value, data=after.model_dump(mode="json"), updated_at=at)
    )
    audit.append(conn, user, action, f"group {after.group_id}", **audit.changed(before, after))


def sees_group(user: Principal, stored: StoredGroup) -> bool:
    """Whether ``user`` may read the group's aggregates."""
    served = stored.leaders
    if user.role is Role.admin:
        return True
    if user.role is Role.dispatcher:
        return user.supplier_id == stored.group.supplier_id
    if user.role in (Role.leader, Role.volunteer):
        return user.compound_id in served
    if user.role is Role.committee:
        return any(c in user.compound_ids for c in served)
    return False


def household_compounds(user: Principal, stored: StoredGroup) -> frozenset[str]:
    """The compounds of the group whose households ``user`` may see (a leader's own)."""
    if user.role is not Role.leader:
        return frozenset()
    return frozenset(c for c, leader in stored.leaders.items() if leader == user.username)


def signup_rows(conn: Connection, group_id: str) -> list[dict[str, Any]]:
    """Every sign-up line of a group, in sign-up order."""
    query = (
        select(SIGNUPS)
        .where(SIGNUPS.c.group_id == group_id)
        .order_by(SIGNUPS.c.created_at, SIGNUPS.c.signup_id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def payment_rows(conn: Connection, group_id: str) -> list[dict[str, Any]]:
    """Every recorded payment of a group, in time order."""
    query = (
        select(PAYMENTS)
        .where(PAYMENTS.c.group_id == group_id)
        .order_by(PAYMENTS.c.at, PAYMENTS.c.payment_id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def group_balance(conn: Connection, stored: StoredGroup, unit_price_cents: int) -> LedgerBalance:
    """The ledger equation of the group from its stored lines and payments.

    Before the group closes the ordered units are the active lines' units; a failed group
    orders nothing and declares no fee or commission due.
    """
    group = stored.group
    lines = [
        SignupLine(signup_id=r["signup_id"], quantity_units=r["quantity_units"], state=r["state"])
        for r in signup_rows(conn, stored.group_id)
    ]
    movements = [
        Movement(
            kind=r["kind"],
            amount_cents=r["amount_cents"],
            signup_id=r["signup_id"],
            claim_id=r["claim_id"],
        )
        for r in payment_rows(conn, stored.group_id)
    ]
    if group.state == "failed":  # owes nothing: every line waits, every payment goes back
        waiting = [line.model_copy(update={"state": "waitlisted"}) for line in lines]
        return balance_ledger(
            unit_price_cents=unit_price_cents, ordered_units=0, lines=waiting, movements=movements
        )
    active = sum(line.quantity_units for line in lines if line.state == "active")
    return balance_ledger(
        unit_price_cents=unit_price_cents,
        ordered_units=max(group.ordered_units or 0, active),
        lines=lines,
        movements=movements,
        delivery_fee_cents=group.delivery_fee_cents,
        leader_commission_cents=group.leader_commission_cents,
    )


class PaymentError(ValueError):
    """A payment or refund cannot be recorded as asked; the message says how to fix it."""


def record_payment(
    conn: Connection,
    *,
    group_id: str,
    kind: PaymentKind,
    amount_cents: int,
    by: Principal | str,
    at: dt.datetime,
    signup_id: str | None = None,
    method: str = "",
    note: str = "",
    claim_id: str | None = None,
) -> str:
    """Record (never process) one money movement of a group and audit it; call inside
    ``audit.write(engine)``. Returns the payment id. Raises PaymentError for a line of
    another group or an amount that is not positive."""
    try:
        move = Movement(kind=kind, amount_cents=amount_cents, signup_id=signup_id,
                        claim_id=claim_id)  # fmt: skip
    except ValueError as error:
        raise PaymentError(str(error).splitlines()[-1]) from error
    if at.tzinfo is None:
        raise PaymentError("the payment time needs a timezone")
    if signup_id is not None:
        owner = conn.execute(
            select(SIGNUPS.c.group_id).where(SIGNUPS.c.signup_id == signup_id)
        ).scalar_one_or_none()
        if owner != group_id:
            raise PaymentError(f"sign-up {signup_id!r} is not a line of group {group_id}")
    payment_id = f"p-{secrets.token_hex(8)}"
    values = {
        "payment_id": payment_id,
        "group_id": group_id,
        "signup_id": move.signup_id,
        "kind": move.kind.value,
        "amount_cents": move.amount_cents,
        "method": method[:32],
        "note": note[:512],
        "claim_id": move.claim_id,
        "at": at,
        "recorded_by": by if isinstance(by, str) else by.username,
    }
    conn.execute(insert(PAYMENTS).values(**values))
    after = {k: v for k, v in values.items() if k != "at"} | {"at": at.isoformat()}
    audit.append(conn, by, f"payment.{move.kind.value}", f"group {group_id}", after=after)
    return payment_id


def record_refund(
    conn: Connection,
    *,
    group_id: str,
    signup_id: str,
    amount_cents: int,
    claim_id: str | None,
    by: Principal | str,
    at: dt.datetime,
    note: str = "",
) -> str:
    """Record a refund to a household's line, settling ``claim_id`` if given (the claims part
    calls this when a claim is upheld with a refund); call inside ``audit.write(engine)``."""
    return record_payment(
        conn,
        group_id=group_id,
        kind=PaymentKind.refund,
        amount_cents=amount_cents,
        by=by,
        at=at,
        signup_id=signup_id,
        method="refund",
        note=note,
        claim_id=claim_id,
    )
