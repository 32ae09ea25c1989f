"""Route sheets for drivers (their own) and dispatchers (their supplier's), and stop reports.

A driver reports each stop as arrived, delivered (with units) or failed (with a reason);
the report carries a client-made ``event_id``, so a report re-sent after a dropped
connection is stored once. Reports feed re-planning and the dispatcher's view of the day.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Hashable
from typing import Self

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, TypeAdapter, model_validator
from sqlalchemy import insert, select

from api import audit
from api.day_plans import CurrentPlan, current_plan
from api.demand_cache import DemandCache, Version
from api.deps import StoreDep, User, require
from api.errors import ApiError
from api.jobs import JobKind, finished
from api.security import Principal, Role
from data.store import Store
from data.tables import StopEventRow, table_of
from routing.result import Plan, Route
from routing.sheets import RouteSheet, build_documents

router = APIRouter(tags=["route sheets"])
_EVENTS = table_of(StopEventRow)


class SheetView(BaseModel):
    """A route sheet and the plan job it belongs to (stop reports name that job)."""

    job_id: str
    sheet: RouteSheet


class StopStatus(enum.StrEnum):
    """What a driver reports at a stop."""

    arrived = "arrived"
    delivered = "delivered"
    failed = "failed"


class StopReport(BaseModel):
    """A driver's report on one stop."""

    event_id: str = Field(min_length=1, max_length=64, description="client-made, retry-safe")
    status: StopStatus
    quantity_units: int | None = Field(default=None, ge=0)
    reason: str = Field(default="", max_length=500)
    at: dt.datetime | None = Field(default=None, description="when; default now")

    model_config = {
        "json_schema_extra": {
            "examples": [{"event_id": "a1b2", "status": "delivered", "quantity_units": 20}]
        }
    }

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.status is StopStatus.delivered and self.quantity_units is None:
            raise ValueError("quantity_units: say how many units were handed over")
        if self.status is StopStatus.failed and not self.reason.strip():
            raise ValueError("reason: say why the delivery failed")
        return self


class StopEvent(BaseModel):
    """A stored stop report."""

    job_id: str
    event_id: str
    vehicle_id: str
    delivery_id: str
    status: StopStatus
    quantity_units: int | None
    reason: str
    at: dt.datetime
    reported_by: str


_SHEETS = TypeAdapter(list[SheetView])


async def _sheets(
    request: Request, store: Store, day: dt.date, keep: Callable[[Route], bool]
) -> Response:
    """Route sheets of the current plan's routes that ``keep`` picks, as JSON, built once per
    plan and data version (household orders of the visited compounds split unloading by
    building). The plan and version are read in one threadpool call; a known answer is then
    sent from the cache on the event loop."""
    cache: DemandCache = request.app.state.demand

    def lookup() -> tuple[Hashable, Version, CurrentPlan, Plan]:
        version = cache.version()
        current = _plan_of(request, store, day)
        plan = _only(current.plan, {r.vehicle_id for r in current.plan.routes if keep(r)})
        key = (
            "route_sheets",
            day,
            tuple(sorted(current.job_of_supplier.items())),
            tuple(sorted(r.vehicle_id for r in plan.routes)),
        )
        return key, version, current, plan

    key, version, current, plan = await run_in_threadpool(lookup)
    body = cache.peek(key, version)
    if body is None:
        body = await run_in_threadpool(
            cache.memo,
            key,
            lambda: _SHEETS.dump_json(_build_sheets(store, day, current, plan)),
            version,
        )
    return Response(body, media_type="application/json")


def _build_sheets(store: Store, day: dt.date, current: CurrentPlan, plan: Plan) -> list[SheetView]:
    """Build the route sheets of ``plan``'s routes."""
    visited = sorted({s.compound_id for r in plan.routes for s in r.stops})
    orders = [o for c in visited for o in store.orders(c, day)]
    supply = store.supply()
    documents = build_documents(
        current.problem,
        plan,
        compounds=[c for c in store.compounds() if c.compound_id in visited],
        buildings=[b for c in visited for b in store.buildings(c)],
        gates=[g for c in visited for g in store.gates(c)],
        categories=store.categories(),
        vehicles=supply.vehicles,
        drivers=supply.drivers,
        orders=orders,
        depots=supply.depots,
    )
    return [
        SheetView(job_id=current.job_of_supplier[sheet.supplier_id], sheet=sheet)
        for sheet in documents.route_sheets
    ]


def _plan_of(request: Request, store: Store, day: dt.date) -> CurrentPlan:
    current = current_plan(store, day, request.app.state.demand)
    if current is None:
        raise ApiError(404, "not_found", f"no plan on {day}; a dispatcher plans it first")
    return current


def _only(plan: Plan, keep: set[str]) -> Plan:
    return plan.model_copy(update={"routes": tuple(r for r in plan.routes if r.vehicle_id in keep)})


@router.get("/route-sheets/mine", response_model=list[SheetView])
async def my_route_sheets(
    request: Request, store: StoreDep, user: User, delivery_date: dt.date
) -> Response:
    """The signed-in driver's route sheets of the day (one per vehicle they drive)."""
    require(user, Role.driver)
    return await _sheets(request, store, delivery_date, lambda r: r.driver_id == user.driver_id)


@router.get("/route-sheets", response_model=list[SheetView])
async def route_sheets(
    request: Request,
    store: StoreDep,
    user: User,
    delivery_date: dt.date,
    supplier_id: str | None = None,
) -> Response:
    """Route sheets of the day: a dispatcher gets their supplier's, an admin any supplier's."""
    require(user, Role.admin, Role.dispatcher)
    if user.role is Role.dispatcher:
        if supplier_id not in (None, user.supplier_id):
            raise ApiError(403, "forbidden", f"supplier {supplier_id!r} is not yours")
        supplier_id = user.supplier_id
    return await _sheets(
        request, store, delivery_date, lambda r: supplier_id in (None, r.supplier_id)
    )


def _stop_owner(store: Store, user: Principal, job_id: str, delivery_id: str) -> tuple[str, int]:
    """The vehicle and units of the driver's stop ``delivery_id`` in plan job ``job_id``."""
    _, result = finished(store, job_id, JobKind.plan, JobKind.replan)
    plan = Plan.model_validate(result["plan"])
    for route in plan.routes:
        for stop in route.stops:
            if stop.delivery_id == delivery_id:
                if user.role is Role.driver and route.driver_id != user.driver_id:
                    break
                return route.vehicle_id, stop.quantity_units
    raise ApiError(403, "forbidden", f"stop {delivery_id} is not on your route in plan {job_id}")


@router.post(
    "/plans/{job_id}/stops/{delivery_id}/events", response_model=StopEvent, status_code=201
)
def report_stop(
    job_id: str,
    delivery_id: str,
    report: StopReport,
    store: StoreDep,
    user: User,
    response: Response,
) -> StopEvent:
    """Record arrived / delivered (units) / failed (reason); a re-sent event_id is a no-op."""
    require(user, Role.driver)
    vehicle_id, units = _stop_owner(store, user, job_id, delivery_id)
    if report.quantity_units is not None and report.quantity_units > units:
        raise ApiError(
            422,
            "invalid_request",
            f"the stop carries {units} units; report at most that",
            "quantity_units",
        )
    query = select(_EVENTS).where(_EVENTS.c.job_id == job_id, _EVENTS.c.event_id == report.event_id)
    with audit.write(store.engine) as conn:
        found = conn.execute(query).mappings().first()
        if found is None:
            values = {
                "job_id": job_id,
                "event_id": report.event_id,
                "vehicle_id": vehicle_id,
                "delivery_id": delivery_id,
                "status": report.status.value,
                "quantity_units": report.quantity_units,
                "reason": report.reason,
                "at": report.at or dt.datetime.now(dt.UTC),
                "reported_by": user.username,
            }
            conn.execute(insert(_EVENTS).values(**values))
            audit.append(
                conn,
                user,
                f"stop.{report.status}",
                f"plan {job_id} stop {delivery_id}",
                after={k: v for k, v in values.items() if k != "at"},
            )
            found = conn.execute(query).mappings().one()
        else:
            response.status_code = 200
            if found["delivery_id"] != delivery_id:
                raise ApiError(
                    409, "event_id_reused", "this event_id names another stop", "event_id"
                )
    return StopEvent.model_validate(dict(found))


@router.get("/plans/{job_id}/stops/events", response_model=list[StopEvent])
def stop_events(
    job_id: str,
    store: StoreDep,
    user: User,
) -> list[StopEvent]:
    """Stop reports of a plan: a driver's own, the plan's dispatcher's or an admin's view."""
    require(user, Role.admin, Role.dispatcher, Role.driver)
    _, result = finished(store, job_id, JobKind.plan, JobKind.replan)
    plan = Plan.model_validate(result["plan"])
    if user.role is Role.dispatcher:
        vehicles = {r.vehicle_id for r in plan.routes if r.supplier_id == user.supplier_id}
    elif user.role is Role.driver:
        vehicles = {r.vehicle_id for r in plan.routes if r.driver_id == user.driver_id}
    else:
        vehicles = {r.vehicle_id for r in plan.routes}
    if not vehicles and user.role is not Role.admin:
        raise ApiError(403, "forbidden", f"plan {job_id} has no route of yours")
    query = select(_EVENTS).where(_EVENTS.c.job_id == job_id).order_by(_EVENTS.c.id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [StopEvent.model_validate(dict(r)) for r in rows if r["vehicle_id"] in vehicles]
