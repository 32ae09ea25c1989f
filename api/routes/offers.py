"""The offers a compound's leader may open a group on, ranked, each with its explanation.

Ranking (``rank`` 1, 2, ...): eligible offers of suppliers the asking leader has not refused,
with capacity left, by unit price, then distance from the offer's nearest depot (the delivery
cost), then reliability score (higher first; a supplier without a record counts as 100 %: no
evidence against it), then offer id. Listed after them, unranked: eligible offers with no
capacity left, offers of refused suppliers (with the reason), and ineligible offers with the
reason code and sentence. Capacity left is the offer's capacity minus what groups that have
not failed hold.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import StoreDep, User, require, require_compound
from api.errors import not_found
from api.security import Role
from api.supplier_record import refused_suppliers, reliability_records
from data.schemas import Identifier
from data.tables import GroupBuyRow, SupplierRefusalRow, table_of
from matcher.eligibility import Bilingual, Reason, check_eligibility, describe
from matcher.groups import HOLDS_CAPACITY
from matcher.model import Problem, default_window
from matcher.reliability import ReliabilityRecord

router = APIRouter(tags=["offers"])
_GROUPS = table_of(GroupBuyRow)
_REFUSALS = table_of(SupplierRefusalRow)


class Reliability(BaseModel):
    """A supplier's reliability record, as shown beside its offers (aggregates only)."""

    score_permille: int | None
    on_time_permille: int | None
    short_or_spoiled_permille: int | None
    claims_upheld: int
    text: Bilingual

    @classmethod
    def of(cls, record: ReliabilityRecord) -> Reliability:
        """The view of one record."""
        return cls(
            score_permille=record.score_permille,
            on_time_permille=record.on_time_permille,
            short_or_spoiled_permille=record.short_or_spoiled_permille,
            claims_upheld=record.claims_upheld,
            text=record.text(),
        )


class Refusal(BaseModel):
    """A leader's refusal of a supplier (shown to the committee and admins)."""

    leader: str
    reason: str


class OfferChoice(BaseModel):
    """One offer for the compound: rank (None: not rankable), package, price, capacity left,
    eligibility with its explanation, reliability and refusals."""

    rank: int | None = Field(description="1 = best; None for offers not to open a group on")
    offer_id: Identifier
    supplier_id: Identifier
    supplier_name: str
    category_id: Identifier
    package_name: str
    unit_price_cents: int
    list_price_cents: int | None
    case_size_units: int
    min_order_units: int
    capacity_units: int
    capacity_left_units: int
    distance_m: int
    eligible: bool
    reason: Reason
    explanation: Bilingual
    reliability: Reliability | None
    refused: bool = Field(description="the asking leader refused this supplier")
    refusal_reason: str | None = None
    refusals: list[Refusal] = Field(
        default_factory=list, description="committee and admin: the compound's leaders' refusals"
    )


_NO_CAPACITY = Bilingual(
    zh="已被其他团占满，暂无余量。", en="no capacity left: groups hold it all."
)


@router.get("/compounds/{compound_id}/offers", response_model=list[OfferChoice])
def ranked_offers(
    compound_id: str, date: dt.date, store: StoreDep, user: User, category: str | None = None
) -> list[OfferChoice]:
    """The compound's offers on ``date`` (optionally one category), ranked for opening a
    group (see the module docstring); the compound's leader, its committee or an admin."""
    require(user, Role.admin, Role.leader, Role.committee)
    require_compound(user, compound_id)
    compound = store.compound(compound_id)
    if compound is None:
        raise not_found("compound", compound_id)
    supply = store.supply()
    offers = tuple(
        o
        for o in supply.offers
        if o.delivery_date == date and (category is None or o.category_id == category)
    )
    if not offers:
        return []
    problem = Problem(
        delivery_date=date,
        window_start=default_window(date)[0],
        window_end=default_window(date)[1],
        categories=tuple(store.categories()),
        compounds=(compound,),
        lockdown=tuple(store.lockdown(compound_id)),
        demand=(),
        offers=offers,
        suppliers=supply.suppliers,
        depots=supply.depots,
        vehicles=supply.vehicles,
        drivers=supply.drivers,
        certificates=supply.certificates,
    )
    eligibility = check_eligibility(problem)
    ids = [o.offer_id for o in offers]
    with store.engine.connect() as conn:
        held_rows = conn.execute(
            select(_GROUPS.c.offer_id, _GROUPS.c.data).where(
                _GROUPS.c.offer_id.in_(ids),
                _GROUPS.c.state.in_([s.value for s in HOLDS_CAPACITY]),
            )
        ).all()
        mine = refused_suppliers(conn, user.username) if user.role is Role.leader else {}
        others: dict[str, list[Refusal]] = {}
        if user.role is not Role.leader:
            for leader, supplier_id, reason in conn.execute(
                select(_REFUSALS.c.leader, _REFUSALS.c.supplier_id, _REFUSALS.c.reason)
                .where(_REFUSALS.c.compound_id == compound_id)
                .order_by(_REFUSALS.c.leader)
            ):
                others.setdefault(supplier_id, []).append(Refusal(leader=leader, reason=reason))
    held: dict[str, int] = {}
    for offer_id, data in held_rows:
        held[offer_id] = held.get(offer_id, 0) + int(data["allocated_units"])
    records = reliability_records(store.engine, {o.supplier_id for o in offers})
    choices = []
    for offer in offers:
        reason = eligibility.reason(offer.offer_id, compound_id)
        record = records.get(offer.supplier_id)
        left = max(0, offer.capacity_units - held.get(offer.offer_id, 0))
        text = describe(
            problem,
            eligibility,
            reason,
            supplier_id=offer.supplier_id,
            compound_id=compound_id,
            category_id=offer.category_id,
            offer_id=offer.offer_id,
        )
        if reason is Reason.eligible and left == 0:
            text = Bilingual(zh=f"{text.zh}{_NO_CAPACITY.zh}", en=f"{text.en} {_NO_CAPACITY.en}")
        choices.append(
            OfferChoice(
                rank=None,
                offer_id=offer.offer_id,
                supplier_id=offer.supplier_id,
                supplier_name=problem.supplier_by_id[offer.supplier_id].name,
                category_id=offer.category_id,
                package_name=offer.package_name,
                unit_price_cents=offer.unit_price_cents,
                list_price_cents=offer.list_price_cents,
                case_size_units=offer.case_size_units,
                min_order_units=offer.min_order_units,
                capacity_units=offer.capacity_units,
                capacity_left_units=left,
                distance_m=eligibility.distance(offer.offer_id, compound_id),
                eligible=reason is Reason.eligible,
                reason=reason,
                explanation=text,
                reliability=None if record is None else Reliability.of(record),
                refused=offer.supplier_id in mine,
                refusal_reason=mine.get(offer.supplier_id),
                refusals=others.get(offer.supplier_id, []),
            )
        )
    return _ranked(choices)


def _ranked(choices: list[OfferChoice]) -> list[OfferChoice]:
    """Choices in the order of the module docstring, ranks set on the rankable ones."""

    def score(choice: OfferChoice) -> int:
        known = choice.reliability.score_permille if choice.reliability else None
        return 1000 if known is None else known

    def group(choice: OfferChoice) -> int:
        if not choice.eligible:
            return 3
        if choice.refused:
            return 2
        return 0 if choice.capacity_left_units > 0 else 1

    ordered = sorted(
        choices,
        key=lambda c: (
            group(c),
            list(Reason).index(c.reason),
            c.unit_price_cents,
            c.distance_m,
            -score(c),
            c.offer_id,
        ),
    )
    rank = 0
    out = []
    for choice in ordered:
        if group(choice) == 0:
            rank += 1
            choice = choice.model_copy(update={"rank": rank})
        out.append(choice)
    return out
