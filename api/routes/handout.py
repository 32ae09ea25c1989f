"""A building's hand-out sheet (派发单) for its volunteers, and the hand-out steps.

The building's volunteer, the compound's leader and an admin read the sheet (JSON, HTML or
PDF) and record the steps received → disinfected → handed out. The sheet carries room
numbers, packages and door-delivery marks only: no names, phones or priority reasons, so
every role that may open it sees the same thing. A volunteer of another building gets 403.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import insert, select

from api import audit
from api.deps import StoreDep, User
from api.errors import ApiError, forbidden, not_found
from api.places import level_on
from api.render.handout import handout_pdf
from api.render.html import handout_html
from api.security import Principal, Role
from data.schemas import AwareDatetime, Building, Compound, LockdownLevel, PriorityFlag
from data.store import Store
from data.tables import GroupBuyRow, GroupSignupRow, HandoutStepRow, OfferRow, table_of
from routing.handout import (
    DAY_KEY,
    HandoutLine,
    HandoutSheet,
    HandoutStep,
    HandoutStepError,
    StepRecord,
    build_handout,
    check_step,
    lines_from_orders,
)

router = APIRouter(prefix="/compounds/{compound_id}/buildings/{building_id}", tags=["hand-out"])
_STEPS = table_of(HandoutStepRow)
_SIGNUPS = table_of(GroupSignupRow)
_GROUPS = table_of(GroupBuyRow)
_OFFERS = table_of(OfferRow)

NOT_DELIVERED = ("open", "failed")
"""Group states whose sign-ups are not handed out (not formed yet, or failed)."""


class SheetFormat(enum.StrEnum):
    """How the sheet is sent."""

    json = "json"
    html = "html"
    pdf = "pdf"


class StepIn(BaseModel):
    """A hand-out step done for this building's delivery of the day."""

    step: HandoutStep
    at: AwareDatetime = Field(description="when the step was done, with an offset")
    delivery_key: str = Field(
        default=DAY_KEY, max_length=128, description="a group id, or empty for the day's orders"
    )


def allow_building(user: Principal, compound_id: str, building_id: str) -> None:
    """403 unless admin, the compound's leader, or this building's volunteer."""
    if user.role is Role.admin:
        return
    if user.role is Role.leader and user.compound_id == compound_id:
        return
    if (
        user.role is Role.volunteer
        and user.compound_id == compound_id
        and user.building_id == building_id
    ):
        return
    raise forbidden(f"building {building_id!r} of {compound_id!r} is not yours")


def _place(store: Store, compound_id: str, building_id: str) -> tuple[Compound, Building]:
    compound = store.compound(compound_id)
    if compound is None:
        raise not_found("compound", compound_id)
    for building in store.buildings(compound_id):
        if building.building_id == building_id:
            return compound, building
    raise not_found("building", building_id)


def _signup_lines(
    store: Store, compound_id: str, building_id: str, day: dt.date
) -> tuple[list[HandoutLine], dict[str, str]]:
    """Active sign-ups of the building in groups delivering on ``day``, and group labels."""
    query = (
        select(
            _SIGNUPS.c.group_id,
            _SIGNUPS.c.room,
            _SIGNUPS.c.quantity_units,
            _SIGNUPS.c.proxy,
            _SIGNUPS.c.priority_flags,
            _OFFERS.c.package_name,
            _OFFERS.c.category_id,
        )
        .join(_GROUPS, _GROUPS.c.group_id == _SIGNUPS.c.group_id)
        .join(_OFFERS, _OFFERS.c.offer_id == _GROUPS.c.offer_id)
        .where(
            _SIGNUPS.c.compound_id == compound_id,
            _SIGNUPS.c.building_id == building_id,
            _SIGNUPS.c.state == "active",
            _OFFERS.c.delivery_date == day,
            _GROUPS.c.state.not_in(NOT_DELIVERED),
        )
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    names = {c.category_id: c.name_zh for c in store.categories()}
    lines, labels = [], {}
    for group_id, room, units, proxy, flags, package, category_id in rows:
        label = package or names.get(category_id, category_id)
        labels[group_id] = f"{label}（{group_id}）"
        lines.append(
            HandoutLine(
                room=room,
                package=label,
                units=units,
                proxy=proxy,
                priority_flags=frozenset(PriorityFlag(f) for f in flags),
                delivery_key=group_id,
            )
        )
    return lines, labels


def _steps(store: Store, compound_id: str, building_id: str, day: dt.date) -> list[StepRecord]:
    query = select(_STEPS).where(
        _STEPS.c.compound_id == compound_id,
        _STEPS.c.building_id == building_id,
        _STEPS.c.delivery_date == day,
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(_STEPS.c.at, _STEPS.c.id)).mappings().all()
    return [
        StepRecord(
            delivery_key=r["delivery_key"],
            step=HandoutStep(r["step"]),
            at=r["at"],
            recorded_by=r["recorded_by"],
        )
        for r in rows
    ]


def handout_sheet(store: Store, compound_id: str, building_id: str, day: dt.date) -> HandoutSheet:
    """The building's hand-out sheet on ``day`` from orders, sign-ups and recorded steps."""
    compound, building = _place(store, compound_id, building_id)
    lines = lines_from_orders(store.orders(compound_id, day), building_id, day, store.categories())
    signups, labels = _signup_lines(store, compound_id, building_id, day)
    return build_handout(
        compound,
        building,
        day,
        [*lines, *signups],
        sealed=level_on(store, compound_id, day) is LockdownLevel.sealed,
        steps=_steps(store, compound_id, building_id, day),
        labels=labels,
    )


@router.get("/handout", response_model=HandoutSheet)
def get_handout(
    compound_id: str,
    building_id: str,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
    format: SheetFormat = SheetFormat.json,
) -> HandoutSheet | Response:
    """The building's hand-out sheet: rooms, packages, door-delivery rooms, steps."""
    allow_building(user, compound_id, building_id)
    sheet = handout_sheet(store, compound_id, building_id, day)
    if format is SheetFormat.html:
        return Response(handout_html(sheet), media_type="text/html; charset=utf-8")
    if format is SheetFormat.pdf:
        return Response(handout_pdf(sheet), media_type="application/pdf")
    return sheet


@router.post("/handout/steps", response_model=HandoutSheet, status_code=201)
def record_step(
    compound_id: str,
    building_id: str,
    body: StepIn,
    store: StoreDep,
    user: User,
    day: Annotated[dt.date, Query(alias="date", description="delivery date")],
) -> HandoutSheet:
    """Record one hand-out step (in order: received → disinfected → handed out)."""
    allow_building(user, compound_id, building_id)
    sheet = handout_sheet(store, compound_id, building_id, day)
    known = {d.delivery_key for d in sheet.deliveries}
    if body.delivery_key not in known:
        raise ApiError(
            404,
            "not_found",
            f"no delivery {body.delivery_key!r} for {building_id} on {day}; use one of "
            f"{sorted(known) or 'none: nothing is handed out that day'}",
            "delivery_key",
        )
    target = f"handout:{compound_id}/{building_id}/{day}/{body.delivery_key}"
    with audit.write(store.engine) as conn:
        done = [
            StepRecord(
                delivery_key=r["delivery_key"],
                step=HandoutStep(r["step"]),
                at=r["at"],
                recorded_by=r["recorded_by"],
            )
            for r in conn.execute(
                select(_STEPS).where(
                    _STEPS.c.compound_id == compound_id,
                    _STEPS.c.building_id == building_id,
                    _STEPS.c.delivery_date == day,
                    _STEPS.c.delivery_key == body.delivery_key,
                )
            ).mappings()
        ]
        try:
            check_step(done, body.step, body.at)
        except HandoutStepError as error:
            raise ApiError(409, error.code, str(error), "step") from None
        conn.execute(
            insert(_STEPS).values(
                compound_id=compound_id,
                building_id=building_id,
                delivery_date=day,
                delivery_key=body.delivery_key,
                step=body.step.value,
                at=body.at,
                recorded_by=user.username,
            )
        )
        audit.append(
            conn, user, "handout.step", target, after={"step": body.step, "at": body.at.isoformat()}
        )
    return handout_sheet(store, compound_id, building_id, day)
