"""A group's public ledger (账本): what residents pay, against the supplier's list price.

The ledger is what anyone with the group's link may check, so it carries prices, amounts and
the group's history and never a household. The leader's commission is a field of its own so
that it is always disclosed, even when it is zero.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from data.schemas import Offer
from matcher.groups import Group, GroupState, Transition


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
    amount_cents: int = Field(description="committed units × unit price")
    list_amount_cents: int | None = Field(description="committed units × supplier list price")
    saving_cents: int | None
    delivery_fee_cents: int = Field(
        default=0, description="disclosed: the offer's price includes delivery to the gate"
    )
    leader_commission_cents: int = Field(
        default=0, description="disclosed: linli groups carry no leader commission"
    )
    deadline: dt.datetime
    history: list[Transition]


def ledger_of(group: Group, offer: Offer, *, compound_name: str, supplier_name: str) -> Ledger:
    """The ledger of ``group`` on ``offer``: amounts from the committed units and the prices."""
    amount = group.committed_units * offer.unit_price_cents
    listed = (
        None if offer.list_price_cents is None else group.committed_units * offer.list_price_cents
    )
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
        amount_cents=amount,
        list_amount_cents=listed,
        saving_cents=None if listed is None else listed - amount,
        deadline=group.deadline,
        history=list(group.history),
    )
