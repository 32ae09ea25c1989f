"""A group's public ledger (账本): what residents pay, against the supplier's list price.

The ledger is what anyone with the group's link may check, so it carries prices, amounts and
the group's history and never a household. The leader's commission and the delivery fee are
fields of their own so that they are always disclosed, even when zero. With the recorded
payments (``matcher.payments``) it shows paid and refunded totals and whether the ledger
balances, with the number of lines that do not (never which household they are).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from data.schemas import Offer
from matcher.groups import Group, GroupState, Transition
from matcher.payments import LedgerBalance


class Ledger(BaseModel):
    """What anyone with the link may check: prices, amounts and the group's history."""

    group_id: str
    compound_name: str
    supplier_name: str
    category_id: str
    package_name: str
    state: GroupState
    threshold_units: int
    committed_units: int
    case_size_units: int
    unit_price_cents: int
    list_price_cents: int | None
    ordered_units: int = Field(description="units ordered (whole cases once closed)")
    amount_cents: int = Field(description="ordered units × unit price")
    list_amount_cents: int | None = Field(description="ordered units × supplier list price")
    saving_cents: int | None
    delivery_fee_cents: int = Field(default=0, description="disclosed when the group opened")
    leader_commission_cents: int = Field(
        default=0, description="disclosed when the group opened; zero allowed"
    )
    credits_cents: int = Field(default=0, description="claim refunds credited by the supplier")
    invoice_cents: int = Field(default=0, description="amount − credits: owed to the supplier")
    expected_cents: int = Field(default=0, description="invoice + fee + commission")
    paid_cents: int = Field(default=0, description="household payments recorded")
    refunded_cents: int = Field(default=0, description="refunds recorded")
    advance_cents: int = Field(default=0, description="paid to the supplier in advance")
    balanced: bool = Field(default=True, description="paid − refunded = expected, every line")
    lines_off: int = Field(default=0, description="how many lines break the balance")
    compounds: list[str] = Field(default=[], description="compounds served (pooled: several)")
    deadline: dt.datetime
    history: list[Transition]


def ledger_of(
    group: Group,
    offer: Offer,
    *,
    compound_name: str,
    supplier_name: str,
    balance: LedgerBalance | None = None,
) -> Ledger:
    """The ledger of ``group`` on ``offer``: amounts from the ordered units (the committed
    units until the group closes) and the prices; totals of ``balance`` when given."""
    ordered = group.committed_units if group.ordered_units is None else group.ordered_units
    amount = ordered * offer.unit_price_cents
    listed = None if offer.list_price_cents is None else ordered * offer.list_price_cents
    totals: dict[str, int | bool] = {}
    if balance is not None:
        totals = {
            "credits_cents": balance.credits_cents,
            "invoice_cents": balance.invoice_cents,
            "expected_cents": balance.expected_cents,
            "paid_cents": balance.paid_cents,
            "refunded_cents": balance.refunded_cents,
            "advance_cents": balance.advance_cents,
            "balanced": balance.balanced,
            "lines_off": len(balance.flagged),
        }
    else:
        fees = group.delivery_fee_cents + group.leader_commission_cents
        totals = {"invoice_cents": amount, "expected_cents": amount + fees}
    return Ledger(
        group_id=group.group_id,
        compound_name=compound_name,
        supplier_name=supplier_name,
        category_id=group.category_id,
        package_name=offer.package_name,
        state=group.state,
        threshold_units=group.threshold_units,
        committed_units=group.committed_units,
        case_size_units=offer.case_size_units,
        unit_price_cents=offer.unit_price_cents,
        list_price_cents=offer.list_price_cents,
        ordered_units=ordered,
        amount_cents=amount,
        list_amount_cents=listed,
        saving_cents=None if listed is None else listed - amount,
        delivery_fee_cents=group.delivery_fee_cents,
        leader_commission_cents=group.leader_commission_cents,
        compounds=list(group.served),
        deadline=group.deadline,
        history=list(group.history),
        **totals,
    )
