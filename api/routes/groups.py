"""Groups (团) of a compound on an offer: open, sign up, close at the deadline, advance, and the
public ledger anyone with the group's link may read (amounts and prices, no household data).

A compound's leader opens and runs its groups; the offer's dispatcher moves a formed group
on (matched, dispatched, delivered); an admin may do both and settles.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update

from api import audit
from api.deps import StoreDep, User, require, require_compound
from api.errors import ApiError, not_found
from api.security import Principal, Role
from data.schemas import SHANGHAI, AwareDatetime, Offer
from data.store import Store
from data.tables import GroupBuyRow, table_of
from matcher.groups import (
    HOLDS_CAPACITY,
    Group,
    GroupState,
    InvalidTransitionError,
    Transition,
    close_groups,
)
from matcher.ledger import Ledger, ledger_of
from matcher.service_area import in_service_area

router = APIRouter(tags=["groups"])
_GROUPS = table_of(GroupBuyRow)


class OpenGroup(BaseModel):
    """Open a group on an offer for the compound."""

    offer_id: str = Field(min_length=1, max_length=64)
    deadline: AwareDatetime
    threshold_units: int | None = Field(
        default=None, ge=1, description="成团门槛; default the offer's minimum order"
    )
    allocated_units: int | None = Field(
        default=None, ge=1, description="capacity to hold; default all the offer has left"
    )
    opened_at: AwareDatetime | None = Field(default=None, description="when; default now")

    model_config = {
        "json_schema_extra": {
            "examples": [{"offer_id": "off-a-veg", "deadline": "2022-04-14T20:00:00+08:00"}]
        }
    }


class Commitment(BaseModel):
    """Residents signed up for more units (whole cases)."""

    units: int = Field(gt=0, le=100_000)
    at: AwareDatetime | None = Field(default=None, description="when; default now")


class Closing(BaseModel):
    """Decide the group at its deadline (formed or failed)."""

    at: AwareDatetime | None = Field(default=None, description="when; default now")


class Advance(BaseModel):
    """Move a formed group along: matched, dispatched, delivered, settled."""

    to: GroupState
    at: AwareDatetime | None = None
    note: str = Field(default="", max_length=200)


class GroupView(BaseModel):
    """A group and the link of its public ledger."""

    group: Group
    ledger_path: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _row(store: Store, group_id: str) -> dict[str, Any]:
    query = select(_GROUPS).where(_GROUPS.c.group_id == group_id)
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise not_found("group", group_id)
    return dict(row)


def _view(row: dict[str, Any]) -> GroupView:
    return GroupView(
        group=Group.model_validate(row["data"]), ledger_path=f"/public/ledger/{row['public_token']}"
    )


def _may_run(user: Principal, row: dict[str, Any]) -> None:
    """The compound's leader or an admin runs a group (open, sign up, close)."""
    require(user, Role.admin, Role.leader)
    require_compound(user, row["compound_id"])


def _save(store: Store, user: Principal, before: Group, after: Group, action: str) -> None:
    with audit.write(store.engine) as conn:
        conn.execute(
            update(_GROUPS)
            .where(_GROUPS.c.group_id == after.group_id)
            .values(state=after.state.value, data=after.model_dump(mode="json"), updated_at=_now())
        )
        audit.append(conn, user, action, f"group {after.group_id}", **audit.changed(before, after))


def _offer(store: Store, offer_id: str) -> Offer:
    for offer in store.supply().offers:
        if offer.offer_id == offer_id:
            return offer
    raise not_found("offer", offer_id)


@router.get("/compounds/{compound_id}/groups", response_model=list[GroupView])
def list_groups(compound_id: str, store: StoreDep, user: User) -> list[GroupView]:
    """The compound's groups, newest first (its leader or an admin)."""
    require(user, Role.admin, Role.leader)
    require_compound(user, compound_id)
    query = (
        select(_GROUPS)
        .where(_GROUPS.c.compound_id == compound_id)
        .order_by(_GROUPS.c.created_at.desc())
    )
    with store.engine.connect() as conn:
        return [_view(dict(r)) for r in conn.execute(query).mappings()]


@router.post("/compounds/{compound_id}/groups", response_model=GroupView, status_code=201)
def open_group(compound_id: str, body: OpenGroup, store: StoreDep, user: User) -> GroupView:
    """Open a group on an offer that serves the compound, holding part of its capacity."""
    require(user, Role.leader)
    require_compound(user, compound_id)
    compound = store.compound(compound_id)
    if compound is None:
        raise not_found("compound", compound_id)
    offer = _offer(store, body.offer_id)
    depots = {d.depot_id: d for d in store.supply().depots}
    if not in_service_area(compound, offer, depots):
        raise ApiError(
            422,
            "not_eligible",
            f"offer {offer.offer_id} does not serve {compound.name}",
            "offer_id",
        )
    day_ends = dt.datetime.combine(offer.delivery_date + dt.timedelta(days=1), dt.time(0), SHANGHAI)
    if body.deadline >= day_ends:
        raise ApiError(
            422,
            "invalid_request",
            f"the deadline must be before the delivery date {offer.delivery_date} ends",
            "deadline",
        )
    with store.engine.connect() as conn:
        held = conn.execute(
            select(_GROUPS.c.data).where(
                _GROUPS.c.offer_id == offer.offer_id,
                _GROUPS.c.state.in_([s.value for s in HOLDS_CAPACITY]),
            )
        ).scalars()
        left = offer.capacity_units - sum(int(d["allocated_units"]) for d in held)
    wanted = body.allocated_units or left
    if left <= 0 or wanted > left:
        raise ApiError(
            409,
            "capacity_exhausted",
            f"offer {offer.offer_id} has {max(left, 0)} units left to hold",
            "allocated_units",
        )
    threshold = body.threshold_units or offer.min_order_units
    opened = body.opened_at or _now()
    if opened >= body.deadline:
        raise ApiError(422, "invalid_request", "the deadline has passed already", "deadline")
    group = Group(
        group_id=f"g-{secrets.token_hex(6)}",
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        compound_id=compound_id,
        category_id=offer.category_id,
        threshold_units=threshold,
        allocated_units=wanted,
        deadline=body.deadline,
        history=(
            Transition(
                from_state=None,
                to_state=GroupState.open,
                at=opened,
                note_zh=f"团长开团,{threshold} 份成团,截止 {body.deadline:%m-%d %H:%M}。",
                note_en=f"opened by the leader: forms at {threshold} units "
                f"by {body.deadline:%m-%d %H:%M}.",
            ),
        ),
    )
    row = {
        "group_id": group.group_id,
        "compound_id": compound_id,
        "supplier_id": offer.supplier_id,
        "offer_id": offer.offer_id,
        "state": group.state.value,
        "public_token": secrets.token_urlsafe(18),
        "data": group.model_dump(mode="json"),
        "created_by": user.username,
        "created_at": opened,
        "updated_at": opened,
    }
    with audit.write(store.engine) as conn:
        conn.execute(insert(_GROUPS).values(**row))
        audit.append(conn, user, "group.open", f"group {group.group_id}", after=row["data"])
    return _view(row)


@router.get("/groups/{group_id}", response_model=GroupView)
def get_group(group_id: str, store: StoreDep, user: User) -> GroupView:
    """A group: its compound's leader, the offer's dispatcher or an admin."""
    row = _row(store, group_id)
    if user.role is Role.dispatcher and user.supplier_id == row["supplier_id"]:
        return _view(row)
    _may_run(user, row)
    return _view(row)


@router.post("/groups/{group_id}/commitments", response_model=GroupView)
def commit_units(group_id: str, body: Commitment, store: StoreDep, user: User) -> GroupView:
    """Add signed-up units (whole cases of the offer) while the group is open."""
    row = _row(store, group_id)
    require(user, Role.leader)
    _may_run(user, row)
    group = Group.model_validate(row["data"])
    case = _offer(store, group.offer_id).case_size_units
    if body.units % case:
        raise ApiError(422, "invalid_request", f"sold in whole cases of {case} units", "units")
    try:
        after = group.commit(body.units, body.at or _now())
    except InvalidTransitionError as error:
        raise ApiError(409, "group_closed", str(error), "units") from error
    _save(store, user, group, after, "group.commit")
    return _view({**row, "data": after.model_dump(mode="json")})


@router.post("/groups/{group_id}/close", response_model=GroupView)
def close_group(group_id: str, body: Closing, store: StoreDep, user: User) -> GroupView:
    """Decide an open group whose deadline has passed: formed or failed (capacity released)."""
    row = _row(store, group_id)
    _may_run(user, row)
    group = Group.model_validate(row["data"])
    at = body.at or _now()
    if group.state is not GroupState.open:
        raise ApiError(409, "group_closed", f"group {group_id} is {group.state}", "at")
    if at < group.deadline:
        raise ApiError(
            409, "before_deadline", f"the deadline is {group.deadline.isoformat()}", "at"
        )
    (after,) = close_groups([group], at)
    _save(store, user, group, after, f"group.{after.state}")
    return _view({**row, "data": after.model_dump(mode="json")})


_ADVANCER: dict[GroupState, tuple[Role, ...]] = {
    GroupState.matched: (Role.admin, Role.dispatcher),
    GroupState.dispatched: (Role.admin, Role.dispatcher),
    GroupState.delivered: (Role.admin, Role.dispatcher, Role.leader),
    GroupState.settled: (Role.admin,),
}


@router.post("/groups/{group_id}/advance", response_model=GroupView)
def advance_group(group_id: str, body: Advance, store: StoreDep, user: User) -> GroupView:
    """Matched/dispatched by the offer's dispatcher, delivered also by the leader, settled
    by an admin; any other step is a 409 naming the allowed ones."""
    row = _row(store, group_id)
    roles = _ADVANCER.get(body.to)
    if roles is None:
        raise ApiError(409, "invalid_transition", "open, formed and failed are not set by hand")
    require(user, *roles)
    if user.role is Role.dispatcher and user.supplier_id != row["supplier_id"]:
        raise ApiError(403, "forbidden", f"group {group_id} is another supplier's")
    if user.role is Role.leader:
        require_compound(user, row["compound_id"])
    group = Group.model_validate(row["data"])
    note = body.note or str(body.to)
    try:
        after = group.advance(body.to, body.at or _now(), note_zh=note, note_en=note)
    except InvalidTransitionError as error:
        raise ApiError(409, "invalid_transition", str(error), "to") from error
    _save(store, user, group, after, f"group.{after.state}")
    return _view({**row, "data": after.model_dump(mode="json")})


@router.get("/public/ledger/{token}", response_model=Ledger, tags=["public"])
def public_ledger(token: Annotated[str, Path(max_length=64)], store: StoreDep) -> Ledger:
    """The group's public ledger: no sign-in, the unguessable link is the key."""
    query = select(_GROUPS).where(_GROUPS.c.public_token == token)
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise ApiError(404, "not_found", "no ledger at this link; ask the leader for it")
    group = Group.model_validate(row["data"])
    compound = store.compound(group.compound_id)
    supplier = next(s for s in store.supply().suppliers if s.supplier_id == group.supplier_id)
    return ledger_of(
        group,
        _offer(store, group.offer_id),
        compound_name=compound.name if compound else group.compound_id,
        supplier_name=supplier.name,
    )
