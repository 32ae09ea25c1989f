"""Pool proposals (拼团建议) for a compound's leaders: the day's matching on the stored data,
then ``matcher.pooling.propose_pools``, cut to the pools this compound takes part in and the
compound's demand still unmet, with reasons. Aggregates only, never a household.

A leader then opens the pooled group with ``POST /compounds/{id}/groups``
(``pool_compound_ids``, ``drop``, ``drop_compound_id``) and each neighbour's leader joins it
with ``POST /groups/{group_id}/join``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.demand_cache import DemandCache
from api.deps import StoreDep, User, require, require_compound
from api.errors import not_found
from api.matching import DayMatch, match_day
from api.security import Role
from data.schemas import Identifier
from data.store import Store
from matcher.eligibility import Bilingual
from matcher.model import Params
from matcher.pooling import (
    DEFAULT_MAX_DISTANCE_M,
    POOL_UNMET_TEXT,
    Pool,
    PoolDrop,
    PoolingParams,
    PoolUnmetReason,
    propose_pools,
)
from matcher.result import UnmetReason

router = APIRouter(tags=["pooling"])

MATCH_TIME_LIMIT_S = 10.0
"""Wall-clock safety net of the matching behind a proposal request (an interactive call).

The matcher runs with its deterministic defaults (a deterministic-time budget derived from
this limit, one worker, seed 0), so the same stored day gives the same proposals; the match
is kept per day until the next import changes the stored data."""

MAX_REACH_M = 20_000
"""The widest pool a leader may ask for: beyond this no one walks or shares a drop."""


class PoolOffer(BaseModel):
    """The offer a pool buys from: package, price, minimum order, case size."""

    offer_id: Identifier
    supplier_id: Identifier
    supplier_name: str
    category_id: Identifier
    package_name: str
    unit_price_cents: int
    min_order_units: int
    case_size_units: int


class PoolMember(BaseModel):
    """One compound of a pool and the units it would order there (aggregates)."""

    compound_id: Identifier
    name: str
    units: int
    priority_units: int = Field(description="of which priority households' units")


class PoolProposal(BaseModel):
    """A proposed pooled group that includes the asking compound."""

    pool_id: str
    offer: PoolOffer
    compounds: list[PoolMember] = Field(description="lead compound first")
    lead_compound_id: Identifier
    joint_units: int
    min_order_units: int
    max_distance_m: int = Field(description="largest distance between two members, metres")
    drop: PoolDrop
    drop_compound_id: Identifier | None
    drop_compound_name: str | None
    cost_cents: int
    explanation: Bilingual


class StillUnmet(BaseModel):
    """Demand of the compound that neither the matcher nor a pool serves, and why."""

    category_id: Identifier
    quantity_units: int
    priority_quantity_units: int
    matcher_reason: UnmetReason
    reason: PoolUnmetReason
    explanation: Bilingual


class PoolProposals(BaseModel):
    """The compound's pool proposals on a delivery date."""

    compound_id: Identifier
    compound_name: str
    delivery_date: dt.date
    max_distance_m: int
    drop: PoolDrop
    pools: list[PoolProposal]
    unmet: list[StillUnmet]
    solver_message: str = Field(description="the matcher's note when a limit cut it short")


MATCH_PARAMS = Params(time_limit_s=MATCH_TIME_LIMIT_S)
"""The matcher's defaults (deterministic, seed 0, its supplier rules) with the short limit."""


def day_match(store: Store, cache: DemandCache, day: dt.date) -> DayMatch:
    """The day's matching with ``MATCH_PARAMS``, once per day and data version."""
    return cache.memo(("pool_match", day), lambda: match_day(store, day, MATCH_PARAMS))


def _proposal(pool: Pool, match: DayMatch) -> PoolProposal:
    problem = match.problem
    offer = next(o for o in problem.offers if o.offer_id == pool.offer_id)
    names = {c.compound_id: c.name for c in problem.compounds}
    return PoolProposal(
        pool_id=pool.pool_id,
        offer=PoolOffer(
            offer_id=offer.offer_id,
            supplier_id=offer.supplier_id,
            supplier_name=problem.supplier_by_id[offer.supplier_id].name,
            category_id=offer.category_id,
            package_name=offer.package_name,
            unit_price_cents=offer.unit_price_cents,
            min_order_units=offer.min_order_units,
            case_size_units=offer.case_size_units,
        ),
        compounds=[
            PoolMember(
                compound_id=c,
                name=names[c],
                units=pool.units_by_compound[c],
                priority_units=pool.priority_units_by_compound.get(c, 0),
            )
            for c in pool.compound_ids
        ],
        lead_compound_id=pool.lead_compound_id,
        joint_units=pool.joint_units,
        min_order_units=pool.min_order_units,
        max_distance_m=pool.max_distance_m,
        drop=pool.drop,
        drop_compound_id=pool.drop_compound_id,
        drop_compound_name=None if pool.drop_compound_id is None else names[pool.drop_compound_id],
        cost_cents=pool.cost_cents,
        explanation=pool.explanation,
    )


@router.get("/compounds/{compound_id}/pool-proposals", response_model=PoolProposals)
def pool_proposals(
    compound_id: str,
    request: Request,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
    max_distance_m: Annotated[
        int, Query(gt=0, le=MAX_REACH_M, description="largest distance between pool members")
    ] = DEFAULT_MAX_DISTANCE_M,
    drop: Annotated[
        PoolDrop, Query(description="per_compound: a stop each; shared: one agreed drop")
    ] = PoolDrop.per_compound,
) -> PoolProposals:
    """Pools with neighbouring compounds that reach a supplier's minimum order together, for
    the compound's leaders, its committee or an admin: the day is matched on the stored data
    (deterministic, short limit) and its demand below every minimum order pooled."""
    require(user, Role.admin, Role.leader, Role.committee)
    require_compound(user, compound_id)
    compound = store.compound(compound_id)
    if compound is None:
        raise not_found("compound", compound_id)
    match = day_match(store, request.app.state.demand, day)
    params = PoolingParams(max_distance_m=max_distance_m, drop=drop)
    result = propose_pools(
        match.problem, match.allocation, params, rules=MATCH_PARAMS, eligibility=match.eligibility
    )
    unmet = [
        StillUnmet(
            category_id=u.category_id,
            quantity_units=u.quantity_units,
            priority_quantity_units=u.priority_quantity_units,
            matcher_reason=u.matcher_reason,
            reason=u.reason,
            explanation=Bilingual(zh=POOL_UNMET_TEXT[u.reason][0], en=POOL_UNMET_TEXT[u.reason][1]),
        )
        for u in result.unmet
        if u.compound_id == compound_id
    ]
    return PoolProposals(
        compound_id=compound_id,
        compound_name=compound.name,
        delivery_date=day,
        max_distance_m=max_distance_m,
        drop=drop,
        pools=[_proposal(pool, match) for pool in result.pools_of(compound_id)],
        unmet=sorted(unmet, key=lambda u: u.category_id),
        solver_message=match.allocation.message,
    )
