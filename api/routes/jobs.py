"""Match and plan jobs: submit, poll, and read the result in the caller's scope.

Matching solves the whole day (suppliers share capacity), so every view of an allocation is
cut to the caller: a leader sees their compound's lines, unmet demand and explanations, a
dispatcher their supplier's lines, an admin everything. A dispatcher's plan routes only
their supplier's lines with their own fleet.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import SettingsDep, StoreDep, User, require
from api.errors import ApiError, not_found
from api.jobs import JobKind, JobRunner, JobStatus, JobView, finished
from api.security import Principal, Role
from data.schemas import AwareDatetime
from matcher.explain import Decision
from matcher.result import AllocationLine, SolveStatus, Unmet
from routing.model import parent_id
from routing.replan import CargoFate, VehicleBreakdown, compound_sealed
from routing.result import Plan, Route
from routing.windows import Infeasible

router = APIRouter(tags=["jobs"])


class MatchRequest(BaseModel):
    """Match a delivery date's demand to offers."""

    delivery_date: dt.date
    time_limit_s: float = Field(default=10.0, gt=0, le=600)
    seed: int = Field(default=0, ge=0)

    model_config = {"json_schema_extra": {"examples": [{"delivery_date": "2022-04-15"}]}}


class PlanRequest(BaseModel):
    """Route a date's allocation (a given match job's, or the latest successful one)."""

    delivery_date: dt.date
    match_job_id: str | None = Field(default=None, max_length=32)
    time_limit_s: float = Field(default=10.0, gt=0, le=600)
    seed: int = Field(default=0, ge=0)

    model_config = {"json_schema_extra": {"examples": [{"delivery_date": "2022-04-15"}]}}


class AllocationView(BaseModel):
    """An allocation cut to the caller's compound or supplier."""

    job_id: str
    delivery_date: dt.date
    status: SolveStatus
    lines: list[AllocationLine]
    unmet: list[Unmet]
    decisions: list[Decision]


class PlanView(BaseModel):
    """A plan cut to the caller's supplier, with the checker's verdict."""

    job_id: str
    delivery_date: dt.date
    routes: list[Route]
    unassigned: list[dict[str, Any]]
    distance_m: int
    not_routable: list[Infeasible]
    violations: list[str]


def runner(request: Request) -> JobRunner:
    """The app's job runner."""
    jobs: JobRunner = request.app.state.jobs
    return jobs


def may_see(user: Principal, job: JobView) -> bool:
    """Owner, admin, or someone bound to the same compound or supplier."""
    if user.role is Role.admin or user.username == job.owner:
        return True
    if user.role is Role.leader:
        return job.compound_id is not None and job.compound_id == user.compound_id
    if user.role is Role.dispatcher:
        return job.supplier_id is not None and job.supplier_id == user.supplier_id
    return False


def finished_job(request: Request, job_id: str, *kinds: JobKind) -> tuple[JobView, dict[str, Any]]:
    """A succeeded job of one of ``kinds`` and its result; 404 if none, 409 if not done."""
    return finished(runner(request).store, job_id, *kinds)


@router.post("/match", response_model=JobView, status_code=202, tags=["jobs"])
def submit_match(
    body: MatchRequest, request: Request, user: User, settings: SettingsDep
) -> JobView:
    """Start matching the date's demand (leader, dispatcher or admin); poll the job."""
    require(user, Role.admin, Role.leader, Role.dispatcher)
    params = {
        "time_limit_s": min(body.time_limit_s, settings.match_time_limit_s),
        "seed": body.seed,
    }
    return runner(request).submit(JobKind.match, user, body.delivery_date, params)


@router.post("/plans", response_model=JobView, status_code=202)
def submit_plan(body: PlanRequest, request: Request, user: User, settings: SettingsDep) -> JobView:
    """Start routing the date's allocation (dispatcher: their supplier; admin: all)."""
    require(user, Role.admin, Role.dispatcher)
    params: dict[str, Any] = {
        "time_limit_s": min(body.time_limit_s, settings.route_time_limit_s),
        "seed": body.seed,
    }
    if body.match_job_id:
        params["match_job_id"] = body.match_job_id
    return runner(request).submit(JobKind.plan, user, body.delivery_date, params)


class Breakdown(BaseModel):
    """A vehicle that stopped: where (default its last stop) and what happens to its cargo."""

    vehicle_id: str = Field(min_length=1, max_length=64)
    at: AwareDatetime
    cargo: CargoFate = CargoFate.resend


class ReplanRequest(BaseModel):
    """Re-plan the rest of a plan's day at ``now``; failed stop reports are included."""

    now: AwareDatetime
    breakdowns: list[Breakdown] = Field(default_factory=list, max_length=100)
    sealed_compounds: list[str] = Field(
        default_factory=list, max_length=100, description="compounds that turned 封控 at now"
    )
    time_limit_s: float = Field(default=10.0, gt=0, le=600)
    seed: int = Field(default=0, ge=0)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "now": "2022-04-15T11:00:00+08:00",
                    "breakdowns": [{"vehicle_id": "veh-a1", "at": "2022-04-15T10:40:00+08:00"}],
                }
            ]
        }
    }


@router.post("/plans/{job_id}/replan", response_model=JobView, status_code=202)
def submit_replan(
    job_id: str,
    body: ReplanRequest,
    request: Request,
    store: StoreDep,
    user: User,
    settings: SettingsDep,
) -> JobView:
    """Start re-planning a plan from the vehicles' positions at ``now`` (its dispatcher or an
    admin); drivers' failed-stop reports on that plan are taken in."""
    require(user, Role.admin, Role.dispatcher)
    job, result = finished_job(request, job_id, JobKind.plan, JobKind.replan)
    if user.role is Role.dispatcher and job.supplier_id != user.supplier_id:
        raise ApiError(403, "forbidden", f"plan {job_id} is not your supplier's own plan")
    vehicles = {v["vehicle_id"] for v in result["problem"]["vehicles"]}
    events: list[dict[str, Any]] = []
    for item in body.breakdowns:
        if item.vehicle_id not in vehicles:
            raise ApiError(422, "invalid_request", f"{item.vehicle_id} is not in plan {job_id}",
                           "breakdowns")  # fmt: skip
        if item.at > body.now:
            raise ApiError(422, "invalid_request", "a breakdown after now", "breakdowns")
        event = VehicleBreakdown(vehicle_id=item.vehicle_id, at=item.at, cargo=item.cargo)
        events.append(event.model_dump(mode="json"))
    supply = store.supply()
    for compound_id in body.sealed_compounds:
        if store.compound(compound_id) is None:
            raise not_found("compound", compound_id)
        sealed = compound_sealed(compound_id, body.now, supply.suppliers, supply.certificates)
        events.append(sealed.model_dump(mode="json"))
    params = {
        "plan_job_id": job_id,
        "now": body.now.isoformat(),
        "events": events,
        "time_limit_s": min(body.time_limit_s, settings.route_time_limit_s),
        "seed": body.seed,
    }
    return runner(request).submit(JobKind.replan, user, job.delivery_date, params)


@router.get("/jobs", response_model=list[JobView])
def list_jobs(
    request: Request,
    user: User,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[JobView]:
    """The caller's own jobs (admin: everyone's), newest first."""
    return runner(request).recent(None if user.role is Role.admin else user.username, status, limit)


@router.get("/jobs/{job_id}", response_model=JobView)
def get_job(job_id: str, request: Request, user: User) -> JobView:
    """Status and progress of a job (its owner, its compound's leader or supplier's dispatcher)."""
    job = runner(request).get(job_id)
    if job is None:
        raise not_found("job", job_id)
    if not may_see(user, job):
        raise ApiError(403, "forbidden", f"job {job_id} is not yours")
    return job


@router.get("/match/{job_id}/allocation", response_model=AllocationView)
def get_allocation(job_id: str, request: Request, user: User) -> AllocationView:
    """The allocation of a finished match job, cut to the caller's compound or supplier."""
    require(user, Role.admin, Role.leader, Role.dispatcher)
    job, result = finished_job(request, job_id, JobKind.match)
    allocation = result["allocation"]
    lines = [AllocationLine.model_validate(x) for x in allocation["lines"]]
    unmet = [Unmet.model_validate(x) for x in allocation["unmet"]]
    decisions = [Decision.model_validate(x) for x in result.get("decisions", [])]
    if user.role is Role.leader:
        lines = [x for x in lines if x.compound_id == user.compound_id]
        unmet = [x for x in unmet if x.compound_id == user.compound_id]
        decisions = [x for x in decisions if x.compound_id == user.compound_id]
    elif user.role is Role.dispatcher:
        lines = [x for x in lines if x.supplier_id == user.supplier_id]
        unmet, decisions = [], []
    return AllocationView(
        job_id=job.job_id,
        delivery_date=job.delivery_date,
        status=SolveStatus(allocation["status"]),
        lines=lines,
        unmet=unmet,
        decisions=decisions,
    )


@router.get("/plans/{job_id}", response_model=PlanView)
def get_plan(job_id: str, request: Request, user: User) -> PlanView:
    """Routes of a finished plan job: a dispatcher sees their supplier's, an admin all."""
    require(user, Role.admin, Role.dispatcher)
    job, result = finished_job(request, job_id, JobKind.plan, JobKind.replan)
    plan = Plan.model_validate(result["plan"])
    routes = list(plan.routes)
    unassigned = [u.model_dump(mode="json") for u in plan.unassigned]
    if user.role is Role.dispatcher:
        if job.supplier_id not in (None, user.supplier_id):
            raise ApiError(403, "forbidden", f"plan {job_id} is another supplier's")
        routes = [r for r in routes if r.supplier_id == user.supplier_id]
        delivery_supplier = {
            d["delivery_id"]: d["supplier_id"] for d in result["problem"]["deliveries"]
        }
        unassigned = [
            u
            for u in unassigned
            if delivery_supplier.get(parent_id(str(u["delivery_id"]))) == user.supplier_id
        ]
    return PlanView(
        job_id=job.job_id,
        delivery_date=job.delivery_date,
        routes=routes,
        unassigned=unassigned,
        distance_m=sum(r.distance_m for r in routes),
        not_routable=[Infeasible.model_validate(x) for x in result.get("infeasible", [])],
        violations=list(result.get("violations", [])),
    )
