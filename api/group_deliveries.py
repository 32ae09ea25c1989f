"""What the day's live groups add to the routed deliveries.

A plan routes the allocation's lines (the demand-first flow). Groups opened on an offer by
leaders, pooled ones included, carry their own units: once a group has formed (and until it
is delivered) its units must be on a truck. For each offer × compound the routed quantity
is the larger of the allocation's line and the groups' units there, so a group opened from
an allocation line (the same residents) is not counted twice, and an offer-first group the
matcher never saw gets a line of its own.

Units per compound come from the group's active sign-up lines; a group without lines (units
committed in bulk) delivers its committed units to its lead compound; spare units of a case
rounded up go to the lead compound; a shared drop takes every compound's units to the drop.

Redeliveries a supplier agreed for the day (an accepted or upheld claim) come on top, on
that supplier's offer of the category for the day; one with no such offer is reported, not
dropped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, func, select

from api.aftersales import redeliveries
from api.group_store import load_group
from data.geo import haversine_m
from data.schemas import Compound, Depot, Identifier, Model, Offer
from data.tables import GroupBuyRow, GroupSignupRow, OfferRow, table_of
from matcher.groups import Drop, GroupState
from matcher.result import Allocation, AllocationLine

LIVE = (GroupState.formed, GroupState.matched, GroupState.dispatched)
"""States in which a group's goods still have to be delivered."""

_GROUPS = table_of(GroupBuyRow)
_SIGNUPS = table_of(GroupSignupRow)
_OFFERS = table_of(OfferRow)


def group_units(conn: Connection, day: dt.date) -> dict[tuple[str, str], int]:
    """(offer_id, compound_id) → units the day's live groups deliver there."""
    query = (
        select(_GROUPS.c.group_id)
        .join(_OFFERS, _OFFERS.c.offer_id == _GROUPS.c.offer_id)
        .where(_OFFERS.c.delivery_date == day, _GROUPS.c.state.in_([s.value for s in LIVE]))
        .order_by(_GROUPS.c.group_id)
    )
    units: dict[tuple[str, str], int] = defaultdict(int)
    for group_id in conn.execute(query).scalars():
        stored = load_group(conn, group_id=group_id)
        if stored is None:
            continue
        group = stored.group
        lines = conn.execute(
            select(_SIGNUPS.c.compound_id, func.sum(_SIGNUPS.c.quantity_units))
            .where(_SIGNUPS.c.group_id == group_id, _SIGNUPS.c.state == "active")
            .group_by(_SIGNUPS.c.compound_id)
        ).all()
        per_compound = {compound_id: int(n or 0) for compound_id, n in lines}
        if not per_compound:
            per_compound = {group.compound_id: group.committed_units}
        spare = (group.ordered_units or 0) - sum(per_compound.values())
        if spare > 0:
            per_compound[group.compound_id] = per_compound.get(group.compound_id, 0) + spare
        if group.drop is Drop.shared and group.drop_compound_id is not None:
            per_compound = {group.drop_compound_id: sum(per_compound.values())}
        for compound_id, n in per_compound.items():
            if n > 0:
                units[group.offer_id, compound_id] += n
    return dict(units)


class UnplacedRedelivery(Model):
    """A redelivery the day's plan cannot carry, and why."""

    claim_id: Identifier
    compound_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    units: int
    reason: str


def redelivery_units(
    conn: Connection, day: dt.date, offers: list[Offer] | tuple[Offer, ...]
) -> tuple[dict[tuple[str, str], int], tuple[UnplacedRedelivery, ...]]:
    """(offer_id, compound_id) → units redelivered on ``day``, and those without an offer."""
    units: dict[tuple[str, str], int] = defaultdict(int)
    unplaced = []
    for owed in redeliveries(conn, day):
        carrying = sorted(
            o.offer_id
            for o in offers
            if o.supplier_id == owed.supplier_id
            and o.category_id == owed.category_id
            and o.delivery_date == day
        )
        if carrying:
            units[carrying[0], owed.compound_id] += owed.units
        else:
            unplaced.append(
                UnplacedRedelivery(
                    claim_id=owed.claim_id,
                    compound_id=owed.compound_id,
                    supplier_id=owed.supplier_id,
                    category_id=owed.category_id,
                    units=owed.units,
                    reason=f"{owed.supplier_id} has no {owed.category_id} offer on {day}: it "
                    "publishes one, or the claim's redelivery moves to another date",
                )
            )
    return dict(units), tuple(unplaced)


def with_group_lines(
    allocation: Allocation,
    units: dict[tuple[str, str], int],
    *,
    offers: list[Offer] | tuple[Offer, ...],
    compounds: list[Compound] | tuple[Compound, ...],
    depots: list[Depot] | tuple[Depot, ...],
    extra: dict[tuple[str, str], int] | None = None,
) -> Allocation:
    """``allocation`` with each offer × compound raised to the groups' ``units`` where more,
    plus ``extra`` units (redeliveries) on top."""
    extra = extra or {}
    if not units and not extra:
        return allocation
    by_offer = {o.offer_id: o for o in offers}
    by_compound = {c.compound_id: c for c in compounds}
    by_depot = {d.depot_id: d for d in depots}
    lines = {(line.offer_id, line.compound_id): line for line in allocation.lines}
    wanted: dict[tuple[str, str], int] = {}
    for key in sorted({*units, *extra}):
        known = lines.get(key)
        base = max(units.get(key, 0), 0 if known is None else known.quantity_units)
        wanted[key] = base + extra.get(key, 0)
    for (offer_id, compound_id), n in wanted.items():
        known = lines.get((offer_id, compound_id))
        if known is not None:
            if n > known.quantity_units:
                lines[offer_id, compound_id] = known.model_copy(
                    update={
                        "quantity_units": n,
                        "goods_cost_cents": n * by_offer[offer_id].unit_price_cents,
                    }
                )
            continue
        offer, compound = by_offer[offer_id], by_compound[compound_id]
        reach = [
            (round(haversine_m(d.lon, d.lat, compound.lon, compound.lat)), d.depot_id)
            for d in (by_depot[i] for i in offer.depot_ids if i in by_depot)
        ]
        distance, depot_id = min(reach)
        lines[offer_id, compound_id] = AllocationLine(
            offer_id=offer_id,
            supplier_id=offer.supplier_id,
            compound_id=compound_id,
            category_id=offer.category_id,
            depot_id=depot_id,
            distance_m=distance,
            quantity_units=n,
            goods_cost_cents=n * offer.unit_price_cents,
            delivery_cost_cents=0,
            fixed_cost_cents=0,
        )
    ordered = tuple(
        sorted(lines.values(), key=lambda x: (x.compound_id, x.category_id, x.offer_id))
    )
    return allocation.model_copy(update={"lines": ordered})
