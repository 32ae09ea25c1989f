"""Pickup points pinned by hand (团长指定取货点): a leader overrides the computed point of
their compound for a date, for every building or one; notices and sorting lists then use
the pin and say it is pinned. Leaders of the compound and admins only; every change audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from api import audit
from api.deps import StoreDep, User, require, require_compound
from api.errors import ApiError, not_found
from api.places import PINS
from api.security import Role
from data.schemas import AwareDatetime, Lat, Lon
from data.store import Store

router = APIRouter(prefix="/compounds/{compound_id}", tags=["pickup points"])


class PinIn(BaseModel):
    """A pickup point pinned for a date: every building (no ``building_id``) or one."""

    delivery_date: dt.date
    point_name: str = Field(min_length=1, max_length=128, description="e.g. 3号楼南侧空地")
    lon: Lon
    lat: Lat
    building_id: str | None = Field(default=None, description="None: every building")


class Pin(BaseModel):
    """A stored pin."""

    compound_id: str
    delivery_date: dt.date
    building_id: str | None
    point_name: str
    lon: float
    lat: float
    pinned_by: str
    pinned_at: AwareDatetime


def _check(store: Store, compound_id: str, building_id: str | None) -> None:
    if store.compound(compound_id) is None:
        raise not_found("compound", compound_id)
    if building_id is not None and building_id not in {
        b.building_id for b in store.buildings(compound_id)
    }:
        raise ApiError(
            422,
            "invalid_request",
            f"building {building_id!r} is not in {compound_id}; leave building_id out to pin "
            "for every building",
            "building_id",
        )


def _pins(store: Store, compound_id: str, day: dt.date) -> list[Pin]:
    query = select(PINS).where(PINS.c.compound_id == compound_id, PINS.c.delivery_date == day)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(PINS.c.building_id)).mappings().all()
    return [
        Pin(
            compound_id=r["compound_id"],
            delivery_date=r["delivery_date"],
            building_id=r["building_id"] or None,
            point_name=r["point_name"],
            lon=r["lon"],
            lat=r["lat"],
            pinned_by=r["pinned_by"],
            pinned_at=r["pinned_at"],
        )
        for r in rows
    ]


@router.get("/pickup-pins", response_model=list[Pin])
def list_pins(compound_id: str, store: StoreDep, user: User, delivery_date: dt.date) -> list[Pin]:
    """The pins of the compound on a date."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    _check(store, compound_id, None)
    return _pins(store, compound_id, delivery_date)


@router.put("/pickup-pins", response_model=list[Pin])
def pin_point(compound_id: str, body: PinIn, store: StoreDep, user: User) -> list[Pin]:
    """Pin a pickup point (replacing an earlier pin of the same date and building)."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    _check(store, compound_id, body.building_id)
    key = body.building_id or ""
    match = (
        (PINS.c.compound_id == compound_id)
        & (PINS.c.delivery_date == body.delivery_date)
        & (PINS.c.building_id == key)
    )
    with audit.write(store.engine) as conn:
        before = conn.execute(select(PINS.c.point_name).where(match)).scalar_one_or_none()
        conn.execute(delete(PINS).where(match))
        conn.execute(
            PINS.insert().values(
                compound_id=compound_id,
                delivery_date=body.delivery_date,
                building_id=key,
                point_name=body.point_name,
                lon=body.lon,
                lat=body.lat,
                pinned_by=user.username,
                pinned_at=dt.datetime.now(dt.UTC),
            )
        )
        audit.append(
            conn,
            user,
            "pickup.pin",
            f"{compound_id}/{body.delivery_date}/{key or '*'}",
            before=before,
            after=body.model_dump(mode="json"),
        )
    return _pins(store, compound_id, body.delivery_date)


@router.delete("/pickup-pins", status_code=204)
def unpin_point(
    compound_id: str,
    store: StoreDep,
    user: User,
    delivery_date: dt.date,
    building_id: Annotated[str | None, Query(description="None: the compound-wide pin")] = None,
) -> Response:
    """Remove a pin: the computed pickup point applies again."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    key = building_id or ""
    match = (
        (PINS.c.compound_id == compound_id)
        & (PINS.c.delivery_date == delivery_date)
        & (PINS.c.building_id == key)
    )
    with audit.write(store.engine) as conn:
        before = conn.execute(select(PINS.c.point_name).where(match)).scalar_one_or_none()
        if before is None:
            raise not_found("pin", f"{compound_id}/{delivery_date}/{key or '*'}")
        conn.execute(delete(PINS).where(match))
        audit.append(conn, user, "pickup.unpin", f"{compound_id}/{delivery_date}/{key or '*'}",
                     before=before)  # fmt: skip
    return Response(status_code=204)
