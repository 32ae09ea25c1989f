"""Sorting lists (分拣单) and pickup notices of a compound from the day's current plan.

The leader of the compound gets the leader version with household lines; an admin gets the
aggregate list (no names, rooms, phones or priority flags). Notices carry no household data.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request

from api.day_plans import CurrentPlan, current_plan
from api.demand_cache import DemandCache
from api.deps import StoreDep, User, require, require_compound
from api.errors import ApiError, not_found
from api.places import pinned_points, sealed_compounds
from api.planning import pickups_for
from api.security import Role
from data.store import Store
from routing.pickup_day import pickup_lookup
from routing.sheets import (
    Documents,
    LeaderSortingList,
    PickupNotice,
    SortingList,
    build_documents,
)

router = APIRouter(prefix="/compounds/{compound_id}", tags=["documents"])


def _documents(request: Request, store: Store, compound_id: str, day: dt.date) -> Documents:
    """Documents of the current plan restricted to routes that stop at ``compound_id``,
    built once per plan and data version."""
    if store.compound(compound_id) is None:
        raise not_found("compound", compound_id)
    cache: DemandCache = request.app.state.demand
    current = current_plan(store, day, cache)
    if current is None:
        raise ApiError(404, "not_found", f"no plan on {day}; a dispatcher plans it first")
    routes = tuple(
        r for r in current.plan.routes if any(s.compound_id == compound_id for s in r.stops)
    )
    visited = sorted({s.compound_id for r in routes for s in r.stops})
    pinned = pinned_points(store, day, visited)
    sealed = sealed_compounds(store, day, visited)
    key = (
        "documents",
        compound_id,
        day,
        tuple(sorted(current.job_of_supplier.items())),
        tuple(sorted(pinned.items())),
        tuple(sorted(sealed)),
    )
    return cache.memo(key, lambda: _build(store, compound_id, day, current, pinned, sealed))


def _build(
    store: Store,
    compound_id: str,
    day: dt.date,
    current: CurrentPlan,
    pinned: dict[str, tuple[str, int]],
    sealed: frozenset[str],
) -> Documents:
    """Build the documents of the routes that stop at ``compound_id``, with the pinned pickup
    points and door delivery of sealed compounds."""
    routes = tuple(
        r for r in current.plan.routes if any(s.compound_id == compound_id for s in r.stops)
    )
    plan = current.plan.model_copy(update={"routes": routes})
    visited = sorted({s.compound_id for r in routes for s in r.stops})
    supply = store.supply()
    return build_documents(
        current.problem,
        plan,
        compounds=[c for c in store.compounds() if c.compound_id in visited],
        buildings=[b for c in visited for b in store.buildings(c)],
        gates=[g for c in visited for g in store.gates(c)],
        categories=store.categories(),
        vehicles=supply.vehicles,
        drivers=supply.drivers,
        orders=[o for c in visited for o in store.orders(c, day)],
        depots=supply.depots,
        pickup_points=pickup_lookup(pickups_for(store, day, plan, {compound_id})),
        pinned=pinned,
        sealed=sealed,
    )


@router.get("/sorting-list", response_model=LeaderSortingList | SortingList)
def sorting_list(
    compound_id: str, request: Request, store: StoreDep, user: User, delivery_date: dt.date
) -> LeaderSortingList | SortingList:
    """The leader's list with household lines, or the aggregate list for an admin."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    documents = _documents(request, store, compound_id, delivery_date)
    if user.role is Role.leader:
        for leader_list in documents.leader_sorting_lists:
            if leader_list.sorting_list.compound_id == compound_id:
                return leader_list
    else:
        for aggregate in documents.sorting_lists:
            if aggregate.compound_id == compound_id:
                return aggregate
    raise ApiError(404, "not_found", f"nothing reaches {compound_id} on {delivery_date}")


@router.get("/notices", response_model=list[PickupNotice])
def pickup_notices(
    compound_id: str, request: Request, store: StoreDep, user: User, delivery_date: dt.date
) -> list[PickupNotice]:
    """One pickup notice per building: time slot, pickup point, what arrives, chat text."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    documents = _documents(request, store, compound_id, delivery_date)
    return [n for n in documents.pickup_notices if n.compound_id == compound_id]
