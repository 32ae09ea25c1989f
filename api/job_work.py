"""What a worker process does with one job id: run it and write status, progress and result.

Runs in a fresh process (spawned), opens its own store, and never raises: a failure is
written to the job row as a sentence for the client; the traceback goes to the worker log.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select, update

from data.store import Store, write_transaction
from data.tables import JobRow, table_of

log = logging.getLogger("linli.jobs")
_JOBS = table_of(JobRow)


def _set(store: Store, job_id: str, **values: Any) -> None:
    with write_transaction(store.engine) as conn:
        conn.execute(update(_JOBS).where(_JOBS.c.job_id == job_id).values(**values))


def _latest_allocation(store: Store, day: dt.date, job_id: str | None) -> dict[str, Any]:
    """The allocation of match job ``job_id``, or of the day's latest successful match."""
    query = select(_JOBS.c.result, _JOBS.c.job_id).where(
        _JOBS.c.kind == "match", _JOBS.c.status == "succeeded", _JOBS.c.delivery_date == day
    )
    if job_id:
        query = query.where(_JOBS.c.job_id == job_id)
    with store.engine.connect() as conn:
        row = conn.execute(query.order_by(_JOBS.c.finished_at.desc()).limit(1)).first()
    if row is None:
        which = f"match job {job_id}" if job_id else f"a successful match on {day}"
        raise LookupError(f"no {which}; run matching first (POST /match)")
    result: dict[str, Any] = row[0]
    return result["allocation"]  # type: ignore[no-any-return]


def _match(store: Store, job_id: str, day: dt.date, params: dict[str, Any]) -> dict[str, Any]:
    from api.matching import match_day
    from matcher.model import Params

    _set(store, job_id, progress=10, message="matching demand to offers")
    match = match_day(store, day, Params(**params))
    return {
        "allocation": match.allocation.model_dump(mode="json"),
        "decisions": [d.model_dump(mode="json") for d in match.decisions],
    }


def _plan(
    store: Store, job_id: str, day: dt.date, params: dict[str, Any], supplier_id: str | None
) -> dict[str, Any]:
    from api.group_deliveries import group_units, redelivery_units, with_group_lines
    from matcher.result import Allocation
    from routing.check import check_plan
    from routing.deliveries import build_routing_problem
    from routing.model import Params
    from routing.solve import solve

    options = dict(params)
    match_job = options.pop("match_job_id", None)
    allocation = Allocation.model_validate(_latest_allocation(store, day, match_job))
    _set(store, job_id, progress=10, message="building deliveries and windows")
    supply = store.supply()
    with store.engine.connect() as conn:
        units = group_units(conn, day)
        owed, unplaced = redelivery_units(conn, day, supply.offers)
    allocation = with_group_lines(
        allocation,
        units,
        offers=supply.offers,
        compounds=store.compounds(),
        depots=supply.depots,
        extra=owed,
    )
    vehicles, drivers = supply.vehicles, supply.drivers
    if supplier_id is not None:  # a dispatcher routes their own lines with their own fleet
        lines = tuple(line for line in allocation.lines if line.supplier_id == supplier_id)
        allocation = allocation.model_copy(update={"lines": lines})
        vehicles = tuple(v for v in vehicles if v.supplier_id == supplier_id)
        drivers = tuple(d for d in drivers if d.supplier_id == supplier_id)
    problem, infeasible = build_routing_problem(
        day,
        allocation,
        compounds=store.compounds(),
        gates=store.gates(),
        categories=store.categories(),
        depots=supply.depots,
        vehicles=vehicles,
        drivers=drivers,
        certificates=supply.certificates,
        committed={*units, *owed},
    )
    # delivery ids named by supplier stay unique when plans of several dispatchers merge
    renamed = {d.delivery_id: f"{d.supplier_id}-{d.delivery_id}" for d in problem.deliveries}
    problem = problem.model_copy(
        update={
            "deliveries": tuple(
                d.model_copy(update={"delivery_id": renamed[d.delivery_id]})
                for d in problem.deliveries
            )
        }
    )
    infeasible = tuple(
        i.model_copy(update={"subject": renamed.get(i.subject, i.subject)}) for i in infeasible
    )
    route_params = Params(**options)
    _set(store, job_id, progress=30, message=f"routing {len(problem.deliveries)} deliveries")
    plan = solve(problem, route_params)
    _set(store, job_id, progress=90, message="checking every route independently")
    violations = check_plan(problem, plan, route_params)
    return {
        "problem": problem.model_dump(mode="json"),
        "plan": plan.model_dump(mode="json"),
        "infeasible": [i.model_dump(mode="json") for i in infeasible],
        "violations": list(violations),
        "params": route_params.model_dump(mode="json"),
        "unplaced_redeliveries": [u.model_dump(mode="json") for u in unplaced],
    }


def _replan(
    store: Store, job_id: str, params: dict[str, Any], supplier_id: str | None
) -> dict[str, Any]:
    """Re-plan a plan job's day at ``now``: breakdowns and sealing from the request, and
    every stop the drivers reported failed."""
    from pydantic import TypeAdapter

    from data.tables import StopEventRow
    from routing.check import check_replan
    from routing.model import Params, RoutingProblem
    from routing.replan import DeliveryFailed, Event, Replan, replan
    from routing.result import Plan

    base_id = params["plan_job_id"]
    with store.engine.connect() as conn:
        base = conn.execute(
            select(_JOBS.c.result, _JOBS.c.supplier_id).where(_JOBS.c.job_id == base_id)
        ).one()
        events_table = table_of(StopEventRow)
        failed = (
            conn.execute(
                select(events_table)
                .where(events_table.c.job_id == base_id, events_table.c.status == "failed")
                .order_by(events_table.c.id)
            )
            .mappings()
            .all()
        )
    result: dict[str, Any] = base[0]
    problem = RoutingProblem.model_validate(result["problem"])
    before: Plan | Replan = (
        Replan.model_validate(result["replan"])
        if "replan" in result
        else Plan.model_validate(result["plan"])
    )
    now = dt.datetime.fromisoformat(params["now"])
    events: list[Event] = list(TypeAdapter(list[Event]).validate_python(params.get("events", [])))
    events += [
        DeliveryFailed(
            vehicle_id=row["vehicle_id"],
            delivery_id=row["delivery_id"],
            at=min(row["at"], now),
            reason=row["reason"],
        )
        for row in failed
    ]
    route_params = Params.model_validate(result.get("params", {})).model_copy(
        update={k: params[k] for k in ("time_limit_s", "seed") if k in params}
    )
    _set(store, job_id, progress=20, message=f"re-planning after {len(events)} events")
    new = replan(problem, before, events, now, route_params)
    _set(store, job_id, progress=90, message="checking the re-plan independently")
    violations = check_replan(problem, before, new, route_params)
    return {
        "problem": result["problem"],
        "plan": new.plan.model_dump(mode="json"),
        "replan": new.model_dump(mode="json"),
        "infeasible": result.get("infeasible", []),
        "violations": list(violations),
        "params": route_params.model_dump(mode="json"),
        "base_job_id": base_id,
    }


def run_job(database_url: str, job_id: str) -> None:
    """Run job ``job_id`` from the store at ``database_url`` to success or a stated failure."""
    store = Store.open(database_url)
    try:
        with store.engine.connect() as conn:
            row = conn.execute(select(_JOBS).where(_JOBS.c.job_id == job_id)).mappings().first()
        if row is None or row["status"] != "queued":
            return  # gone, or another worker has it
        now = dt.datetime.now(dt.UTC)
        _set(store, job_id, status="running", started_at=now, progress=1, message="started")
        try:
            if row["kind"] == "match":
                result = _match(store, job_id, row["delivery_date"], row["params"])
            elif row["kind"] == "replan":
                result = _replan(store, job_id, row["params"], row["supplier_id"])
            else:
                result = _plan(
                    store, job_id, row["delivery_date"], row["params"], row["supplier_id"]
                )
        except Exception as error:  # reported on the job, never lost in a log only
            log.exception("job %s failed", job_id)
            _set(
                store,
                job_id,
                status="failed",
                error=f"{type(error).__name__}: {error}"[:2000],
                message="failed",
                finished_at=dt.datetime.now(dt.UTC),
            )
            return
        _set(
            store,
            job_id,
            status="succeeded",
            progress=100,
            message="done",
            result=result,
            finished_at=dt.datetime.now(dt.UTC),
        )
    finally:
        store.close()
