"""Recorded payments of a group and the ledger equation they must satisfy (账目平衡).

linli records money, it never moves it. Three kinds of movement exist, each a positive amount:

- ``household``: a household paid the leader for its sign-up line (``signup_id``); a
  household payment without a line is the leader paying for the spare units of a case the
  leader accepted (rounding ``up``);
- ``refund``: the leader paid a household back; with a ``claim_id`` it settles an upheld
  after-sales claim and is a credit the supplier owes the group, without one it returns an
  overpayment (or a waitlisted or cancelled line's money); a claim refund without a line
  settles a group-level claim (a receipt check at the gate) and is booked to the leader's line;
- ``advance``: the leader paid the supplier ahead of delivery (not a household movement).

The ledger balances when::

    household payments − refunds
        = supplier invoice (ordered units × unit price − claim credits)
        + declared delivery fee + declared leader commission

Each active sign-up line owes its units × unit price plus its share of the fee and the
commission (split by units, whole cents, remainders to the earliest lines), less the claim
refunds it received; waitlisted and cancelled lines owe nothing; the leader's own line owes
the spare units × unit price. Summed over the lines the dues are exactly the right-hand side,
so the equation holds if and only if every line is settled, and an imbalance is reported
with exactly the lines whose payments differ from their due.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Self

from pydantic import Field, model_validator

from data.schemas import Identifier, Model


class PaymentKind(enum.StrEnum):
    """What a recorded money movement is."""

    household = "household"
    refund = "refund"
    advance = "advance"


class SignupState(enum.StrEnum):
    """Where a household's sign-up line stands: counted, waiting for a case, or withdrawn."""

    active = "active"
    waitlisted = "waitlisted"
    cancelled = "cancelled"


class SignupLine(Model):
    """A sign-up line as the ledger needs it: its id, units and state, in sign-up order."""

    signup_id: Identifier
    quantity_units: int = Field(ge=1)
    state: SignupState = SignupState.active


class Movement(Model):
    """One recorded money movement (see the module docstring for the kinds)."""

    kind: PaymentKind
    amount_cents: int = Field(gt=0)
    signup_id: Identifier | None = None
    claim_id: Identifier | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.kind is PaymentKind.refund and self.signup_id is None and self.claim_id is None:
            raise ValueError(
                "a refund goes back to one sign-up line (give signup_id) or settles a "
                "group-level claim (give claim_id)"
            )
        if self.kind is PaymentKind.advance and (self.signup_id or self.claim_id):
            raise ValueError("an advance is the leader's payment to the supplier: no line, claim")
        if self.kind is PaymentKind.household and self.claim_id is not None:
            raise ValueError("only a refund settles a claim: drop claim_id or use kind refund")
        return self


class LineBalance(Model):
    """What one line owes and what was paid on it; ``signup_id`` None is the leader's line."""

    signup_id: Identifier | None
    state: SignupState
    due_cents: int = Field(description="units × price + fee share − claim refunds")
    paid_cents: int
    refunded_cents: int
    claim_refunded_cents: int
    balance_cents: int = Field(description="paid − refunded − due: 0 settled, < 0 owes, > 0 over")
    problem: str = Field(default="", description="why this line breaks the ledger; empty if not")


class LedgerBalance(Model):
    """The ledger equation of one group, its two sides, and the lines that break it."""

    unit_price_cents: int
    ordered_units: int
    active_units: int
    spare_units: int = Field(description="ordered units no household signed up for (leader's)")
    goods_cents: int = Field(description="ordered units × unit price")
    credits_cents: int = Field(description="claim refunds: what the supplier credits the group")
    invoice_cents: int = Field(description="goods − credits: what the supplier is owed")
    delivery_fee_cents: int
    leader_commission_cents: int
    expected_cents: int = Field(description="invoice + fee + commission")
    paid_cents: int
    refunded_cents: int
    net_cents: int = Field(description="household payments − refunds")
    difference_cents: int = Field(description="net − expected; 0 when balanced")
    advance_cents: int = Field(description="paid by the leader to the supplier in advance")
    supplier_outstanding_cents: int = Field(description="invoice − advances")
    balanced: bool
    lines: tuple[LineBalance, ...]
    flagged: tuple[LineBalance, ...] = Field(description="the lines that break the equation")


def fee_shares(total_cents: int, lines: Sequence[SignupLine]) -> dict[str, int]:
    """``total_cents`` split over the active ``lines`` by units, whole cents; the cents left
    by rounding down go one each to the earliest lines (deterministic, sums exactly)."""
    if total_cents < 0:
        raise ValueError(f"a fee cannot be negative, got {total_cents}")
    active = [line for line in lines if line.state is SignupState.active]
    units = sum(line.quantity_units for line in active)
    if not active:
        return {}
    shares = {line.signup_id: total_cents * line.quantity_units // units for line in active}
    left = total_cents - sum(shares.values())
    for line in active[:left]:
        shares[line.signup_id] += 1
    return shares


def balance_ledger(
    *,
    unit_price_cents: int,
    ordered_units: int,
    lines: Sequence[SignupLine],
    movements: Iterable[Movement],
    delivery_fee_cents: int = 0,
    leader_commission_cents: int = 0,
) -> LedgerBalance:
    """Check the ledger equation of a group and name every line that breaks it.

    ``ordered_units`` is what the supplier ships (after whole-case rounding); it may not be
    below the active lines' units. The fee and commission are shared by the active lines;
    with no active line they are the leader's to pay.
    """
    active_units = sum(x.quantity_units for x in lines if x.state is SignupState.active)
    if ordered_units < active_units:
        raise ValueError(
            f"ordered {ordered_units} units but active lines hold {active_units}; "
            "waitlist lines beyond the last whole case first"
        )
    known = {line.signup_id for line in lines}
    paid: dict[str | None, int] = {}
    refunded: dict[str | None, int] = {}
    claimed: dict[str | None, int] = {}
    advance = 0
    for move in movements:
        if move.signup_id is not None and move.signup_id not in known:
            raise ValueError(f"movement names sign-up {move.signup_id!r}, not a line of this group")
        if move.kind is PaymentKind.advance:
            advance += move.amount_cents
        elif move.kind is PaymentKind.household:
            paid[move.signup_id] = paid.get(move.signup_id, 0) + move.amount_cents
        else:
            refunded[move.signup_id] = refunded.get(move.signup_id, 0) + move.amount_cents
            if move.claim_id is not None:
                claimed[move.signup_id] = claimed.get(move.signup_id, 0) + move.amount_cents
    fees = delivery_fee_cents + leader_commission_cents
    shares = fee_shares(fees, lines)
    spare = ordered_units - active_units
    leader_due = spare * unit_price_cents + (0 if shares else fees)
    balances = [
        _line(
            line.signup_id,
            line.state,
            (line.quantity_units * unit_price_cents + shares[line.signup_id])
            if line.state is SignupState.active
            else 0,
            paid,
            refunded,
            claimed,
        )
        for line in lines
    ]
    leader = _line(None, SignupState.active, leader_due, paid, refunded, claimed)
    if leader_due or leader.paid_cents or leader.refunded_cents:
        balances.append(leader)
    goods = ordered_units * unit_price_cents
    credits = sum(claimed.values())
    total_paid = sum(paid.values())
    total_refunded = sum(refunded.values())
    expected = goods - credits + fees
    net = total_paid - total_refunded
    flagged = tuple(b for b in balances if b.balance_cents != 0)
    return LedgerBalance(
        unit_price_cents=unit_price_cents,
        ordered_units=ordered_units,
        active_units=active_units,
        spare_units=spare,
        goods_cents=goods,
        credits_cents=credits,
        invoice_cents=goods - credits,
        delivery_fee_cents=delivery_fee_cents,
        leader_commission_cents=leader_commission_cents,
        expected_cents=expected,
        paid_cents=total_paid,
        refunded_cents=total_refunded,
        net_cents=net,
        difference_cents=net - expected,
        advance_cents=advance,
        supplier_outstanding_cents=goods - credits - advance,
        balanced=not flagged,
        lines=tuple(balances),
        flagged=flagged,
    )


def _line(
    signup_id: str | None,
    state: SignupState,
    base_due: int,
    paid: dict[str | None, int],
    refunded: dict[str | None, int],
    claimed: dict[str | None, int],
) -> LineBalance:
    """One line's due, payments and the reason it is off, if it is."""
    got, back, claim = paid.get(signup_id, 0), refunded.get(signup_id, 0), claimed.get(signup_id, 0)
    due = base_due - claim
    balance = got - back - due
    who = "the leader's spare units" if signup_id is None else f"line {signup_id}"
    problem = ""
    if balance < 0 and back > claim:
        problem = (
            f"{who}: {back - claim} cents refunded without a claim; it now owes {-balance} "
            "cents (record the claim, or the household's payment again)"
        )
    elif balance < 0:
        problem = f"{who}: unpaid {-balance} of {due} cents; record the payment when it comes"
    elif balance > 0 and state is not SignupState.active and signup_id is not None:
        problem = f"{who} is {state} but holds {balance} cents; refund them"
    elif balance > 0:
        problem = f"{who}: overpaid by {balance} cents; refund the difference"
    return LineBalance(
        signup_id=signup_id,
        state=state,
        due_cents=due,
        paid_cents=got,
        refunded_cents=back,
        claim_refunded_cents=claim,
        balance_cents=balance,
        problem=problem,
    )
