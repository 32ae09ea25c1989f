"""Vehicle crews of a day (随车人员): the dispatcher names who rides on a vehicle besides the
driver, and the stored plan is re-checked at once: everyone on board needs a 48-hour test
and a work ID valid at each arrival, so the answer lists the stops the change makes
infeasible, each with the person and the expiry. Dispatcher of the supplier, or admin.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import delete, insert

from api import audit
from api.crews import CREWS, assignments, crews_on_board
from api.day_plans import current_plan
from api.deps import StoreDep, User, require, require_supplier
from api.errors import ApiError, not_found
from api.security import Role
from data.schemas import CrewAssignment, Identifier
from data.store import Store
from routing.crew import CrewViolation, check_crew

router = APIRouter(prefix="/suppliers/{supplier_id}/vehicles/{vehicle_id}", tags=["crews"])


class CrewIn(BaseModel):
    """Who rides on the vehicle besides its driver, in order; empty: the driver alone."""

    crew_ids: tuple[Identifier, ...] = Field(default=(), max_length=8)


class Person(BaseModel):
    """Someone on board, as the dispatcher sees them (no phone)."""

    person_id: str
    name: str
    role: Literal["driver", "crew"]


class CrewCheck(BaseModel):
    """The vehicle's crew on a date and what the stored plan's stops make of it."""

    vehicle_id: str
    delivery_date: dt.date
    crew_ids: tuple[str, ...]
    planned: bool = Field(description="the vehicle has a route in the day's current plan")
    on_board: tuple[Person, ...]
    affected_stops: tuple[CrewViolation, ...] = Field(
        description="stops reached when someone on board lacks a valid test or work ID"
    )


def _vehicle(store: Store, supplier_id: str, vehicle_id: str) -> None:
    owner = {v.vehicle_id: v.supplier_id for v in store.supply().vehicles}.get(vehicle_id)
    if owner != supplier_id:
        raise not_found("vehicle", vehicle_id)


def _check(request: Request, store: Store, vehicle_id: str, day: dt.date) -> CrewCheck:
    crewed = [a for a in assignments(store, day) if a.vehicle_id == vehicle_id]
    crew_ids = crewed[0].crew_ids if crewed else ()
    current = current_plan(store, day, request.app.state.demand)
    routes = (
        ()
        if current is None
        else tuple(r for r in current.plan.routes if r.vehicle_id == vehicle_id)
    )
    if current is None or not routes:
        members = {m.crew_id: m for m in store.supply().crew}
        people = tuple(Person(person_id=c, name=members[c].name, role="crew") for c in crew_ids)
        return CrewCheck(vehicle_id=vehicle_id, delivery_date=day, crew_ids=crew_ids,
                         planned=False, on_board=people, affected_stops=())  # fmt: skip
    plan = current.plan.model_copy(update={"routes": routes})
    board = crews_on_board(store.supply(), plan, crewed)
    people = tuple(
        Person(person_id=p.person_id, name=p.name, role=p.role) for p in board.get(vehicle_id, ())
    )
    return CrewCheck(
        vehicle_id=vehicle_id,
        delivery_date=day,
        crew_ids=crew_ids,
        planned=True,
        on_board=people,
        affected_stops=check_crew(plan, board),
    )


@router.get("/crew", response_model=CrewCheck)
def get_crew(
    supplier_id: str,
    vehicle_id: str,
    request: Request,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
) -> CrewCheck:
    """The vehicle's crew on a date, checked against the stored plan."""
    require(user, Role.admin, Role.dispatcher)
    require_supplier(user, supplier_id)
    _vehicle(store, supplier_id, vehicle_id)
    return _check(request, store, vehicle_id, day)


@router.put("/crew", response_model=CrewCheck)
def put_crew(
    supplier_id: str,
    vehicle_id: str,
    body: CrewIn,
    request: Request,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
) -> CrewCheck:
    """Set the vehicle's crew on a date and re-check the stored plan's stops with it."""
    require(user, Role.admin, Role.dispatcher)
    require_supplier(user, supplier_id)
    _vehicle(store, supplier_id, vehicle_id)
    try:
        assignment = CrewAssignment(
            vehicle_id=vehicle_id, delivery_date=day, crew_ids=body.crew_ids
        )
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error), "crew_ids") from None
    members = {m.crew_id: m.supplier_id for m in store.supply().crew}
    for crew_id in assignment.crew_ids:
        if members.get(crew_id) != supplier_id:
            raise ApiError(
                422,
                "invalid_request",
                f"no crew member {crew_id!r} of {supplier_id}; add them to the supply file "
                "(list 'crew') and import it first",
                "crew_ids",
            )
    match = (CREWS.c.vehicle_id == vehicle_id) & (CREWS.c.delivery_date == day)
    before = [a.crew_ids for a in assignments(store, day) if a.vehicle_id == vehicle_id]
    with audit.write(store.engine) as conn:
        conn.execute(delete(CREWS).where(match))
        for position, crew_id in enumerate(assignment.crew_ids):
            conn.execute(
                insert(CREWS).values(
                    vehicle_id=vehicle_id, delivery_date=day, crew_id=crew_id, position=position
                )
            )
        audit.append(
            conn,
            user,
            "vehicle.crew",
            f"{vehicle_id}/{day}",
            before=list(before[0]) if before else None,
            after=list(assignment.crew_ids),
        )
    return _check(request, store, vehicle_id, day)
