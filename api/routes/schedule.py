"""The arrival schedule per gate (排期表) of a compound, for its committee and leaders.

From the day's current plan: which supplier's truck, for which groups, arrives at which
gate when, and where a gate would take more trucks at once than its limit. Contacts are
the gate's contact role and the supplier's dispatch phone; no household or driver data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from api.day_plans import current_plan
from api.demand_cache import DemandCache
from api.deps import StoreDep, User
from api.errors import ApiError, forbidden, not_found
from api.security import Principal, Role
from data.store import Store
from data.tables import GroupBuyRow, GroupCompoundRow, OfferRow, table_of
from routing.result import Plan
from routing.schedule import ArrivalSchedule, arrival_schedule

router = APIRouter(prefix="/compounds/{compound_id}", tags=["schedule"])
_GROUPS = table_of(GroupBuyRow)
_GROUP_COMPOUNDS = table_of(GroupCompoundRow)
_OFFERS = table_of(OfferRow)


def allow_schedule(user: Principal, compound_id: str) -> None:
    """403 unless admin, a leader of the compound, or a committee scoped to it."""
    if user.role is Role.admin:
        return
    if user.role is Role.leader and user.compound_id == compound_id:
        return
    if user.role is Role.committee and compound_id in user.compound_ids:
        return
    raise forbidden(f"the schedule of {compound_id!r} is not yours to see")


def _groups(store: Store, compound_id: str, day: dt.date) -> dict[tuple[str, str], list[str]]:
    """(supplier_id, category_id) → the compound's live groups (own or pooled) on ``day``."""
    pooled = select(_GROUP_COMPOUNDS.c.group_id).where(
        _GROUP_COMPOUNDS.c.compound_id == compound_id
    )
    query = (
        select(_GROUPS.c.group_id, _GROUPS.c.supplier_id, _OFFERS.c.category_id)
        .join(_OFFERS, _OFFERS.c.offer_id == _GROUPS.c.offer_id)
        .where(
            (_GROUPS.c.compound_id == compound_id) | _GROUPS.c.group_id.in_(pooled),
            _OFFERS.c.delivery_date == day,
            _GROUPS.c.state != "failed",
        )
    )
    found: dict[tuple[str, str], list[str]] = {}
    with store.engine.connect() as conn:
        for group_id, supplier_id, category_id in conn.execute(query):
            found.setdefault((supplier_id, category_id), []).append(group_id)
    return found


@router.get("/schedule", response_model=ArrivalSchedule)
def schedule(
    compound_id: str,
    request: Request,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
) -> ArrivalSchedule:
    """Per gate: which truck arrives when, for which groups, and any overlap over the limit."""
    allow_schedule(user, compound_id)
    if store.compound(compound_id) is None:
        raise not_found("compound", compound_id)
    found = compound_schedule(store, compound_id, day, request.app.state.demand)
    if found is None:
        raise ApiError(404, "not_found", f"no plan on {day}; a dispatcher plans it first")
    return found


def compound_schedule(
    store: Store, compound_id: str, day: dt.date, demand: DemandCache
) -> ArrivalSchedule | None:
    """The compound's arrival schedule from the day's current plan; None before a plan."""
    compound = store.compound(compound_id)
    current = current_plan(store, day, demand)
    if compound is None or current is None:
        return None
    routes = tuple(
        r for r in current.plan.routes if any(s.compound_id == compound_id for s in r.stops)
    )
    plan: Plan = current.plan.model_copy(update={"routes": routes})
    supply = store.supply()
    return arrival_schedule(
        compound,
        store.gates(compound_id),
        plan,
        day,
        suppliers=supply.suppliers,
        vehicles=supply.vehicles,
        groups=_groups(store, compound_id, day),
    )
