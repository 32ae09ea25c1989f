"""The day's current plan: for each supplier, its routes in the newest successful plan job.

Dispatchers plan their own supplier, an admin may plan everyone; a compound's documents
and a driver's sheet must come from whichever plan is current for each supplier, so the
pieces are merged here into one routing problem and one plan.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from api.demand_cache import DemandCache
from data.store import Store
from data.tables import JobRow, table_of
from routing.model import RoutingProblem, parent_id
from routing.result import Plan, PlanStatus

_JOBS = table_of(JobRow)


@dataclass(frozen=True)
class CurrentPlan:
    """Merged problem and plan, and which job each supplier's part came from."""

    problem: RoutingProblem
    plan: Plan
    job_of_supplier: dict[str, str]


def current_plan(
    store: Store, day: dt.date, cache: DemandCache | None = None
) -> CurrentPlan | None:
    """The newest successful plan per supplier on ``day``, merged; None if none.

    With ``cache``, the merge is kept until another plan or re-plan of the day finishes.
    """
    if cache is None:
        return _merge(store, day)
    query = (
        select(_JOBS.c.job_id)
        .where(_JOBS.c.kind.in_(["plan", "replan"]), _JOBS.c.status == "succeeded")
        .where(_JOBS.c.delivery_date == day)
    )
    with store.engine.connect() as conn:
        jobs = tuple(sorted(conn.execute(query).scalars()))
    return cache.memo(("current_plan", day, jobs), lambda: _merge(store, day))


def _merge(store: Store, day: dt.date) -> CurrentPlan | None:
    """Read and merge the day's plan jobs."""
    query = (
        select(_JOBS.c.job_id, _JOBS.c.result)
        .where(_JOBS.c.kind.in_(["plan", "replan"]), _JOBS.c.status == "succeeded")
        .where(_JOBS.c.delivery_date == day)
        .order_by(_JOBS.c.finished_at.desc())
    )
    with store.engine.connect() as conn:
        jobs = conn.execute(query).all()
    if not jobs:
        return None
    owner: dict[str, str] = {}
    deliveries = []
    vehicles = []
    routes = []
    unassigned = []
    first: RoutingProblem | None = None
    for job_id, result in jobs:
        problem = RoutingProblem.model_validate(result["problem"])
        plan = Plan.model_validate(result["plan"])
        first = first or problem
        suppliers = {d.supplier_id for d in problem.deliveries} | {
            v.supplier_id for v in problem.vehicles
        }
        fresh = suppliers - set(owner)
        for supplier_id in fresh:
            owner[supplier_id] = job_id
        supplier_of = {d.delivery_id: d.supplier_id for d in problem.deliveries}
        deliveries += [d for d in problem.deliveries if d.supplier_id in fresh]
        vehicles += [v for v in problem.vehicles if v.supplier_id in fresh]
        routes += [r for r in plan.routes if r.supplier_id in fresh]
        unassigned += [
            u for u in plan.unassigned if supplier_of.get(parent_id(u.delivery_id)) in fresh
        ]
    assert first is not None
    merged_problem = first.model_copy(
        update={"deliveries": tuple(deliveries), "vehicles": tuple(vehicles)}
    )
    status = PlanStatus.complete if not unassigned else PlanStatus.partial
    merged = Plan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        status=status if routes or not unassigned else PlanStatus.nothing_routed,
        distance_m=sum(r.distance_m for r in routes),
        solve_time_s=0.0,
        seed=0,
    )
    return CurrentPlan(merged_problem, merged, owner)
