"""Groups (团) on an offer: open (alone or pooled with neighbouring compounds), join a pool,
commit, close at the deadline in whole cases, advance, and the public ledger anyone with the
group's link may read (amounts, prices, fees, commission, balance; no household data).

Any leader of a compound opens groups for it, several at once; the group's leader runs it
(see ``api.group_store`` for who sees what); the offer's dispatcher moves a formed group on
(matched, dispatched, delivered); an admin may close and settles.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import func, insert, or_, select, update

from api import audit
from api.deps import StoreDep, User, require, require_compound
from api.errors import ApiError, not_found
from api.group_store import (
    GROUP_COMPOUNDS,
    SIGNUPS,
    StoredGroup,
    group_balance,
    load_group,
    save_group,
    sees_group,
    signup_rows,
)
from api.security import Principal, Role
from api.supplier_record import refused_suppliers
from data.schemas import SHANGHAI, AwareDatetime, Offer
from data.store import Store
from data.tables import GroupBuyRow, table_of
from matcher.groups import (
    HOLDS_CAPACITY,
    Drop,
    Group,
    GroupState,
    InvalidTransitionError,
    Rounding,
    Transition,
    close_with_cases,
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
    threshold_cents: int | None = Field(
        default=None, ge=1, le=10**10, description="a threshold in amount instead of units"
    )
    rounding: Rounding = Field(
        default=Rounding.down, description="whole cases at close: down waitlists, up = spare"
    )
    delivery_fee_cents: int = Field(default=0, ge=0, le=10**8, description="declared fee")
    leader_commission_cents: int = Field(
        default=0, ge=0, le=10**8, description="declared commission (disclosed, zero allowed)"
    )
    pool_compound_ids: list[str] = Field(
        default=[], max_length=10, description="neighbouring compounds to pool with"
    )
    drop: Drop = Field(default=Drop.per_compound, description="one stop each, or shared")
    drop_compound_id: str | None = Field(default=None, max_length=64)

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


class ServedCompound(BaseModel):
    """A compound a group delivers to, whether its leader joined, and its units (aggregate)."""

    compound_id: str
    leader: str | None
    active_units: int
    waitlisted_units: int


class GroupView(BaseModel):
    """A group, the compounds it serves and the link of its public ledger."""

    group: Group
    ledger_path: str
    compounds: list[ServedCompound] = []


class Joining(BaseModel):
    """A neighbour compound's leader joins a pooled group for their compound."""

    at: AwareDatetime | None = Field(default=None, description="when; default now")


def _stored(store: Store, group_id: str) -> StoredGroup:
    with store.engine.connect() as conn:
        stored = load_group(conn, group_id=group_id)
    if stored is None:
        raise not_found("group", group_id)
    return stored


def _view(store: Store, stored: StoredGroup) -> GroupView:
    """The group with per-compound units; sign-up counts only, never a household."""
    query = (
        select(SIGNUPS.c.compound_id, SIGNUPS.c.state, func.sum(SIGNUPS.c.quantity_units))
        .where(SIGNUPS.c.group_id == stored.group_id)
        .group_by(SIGNUPS.c.compound_id, SIGNUPS.c.state)
    )
    with store.engine.connect() as conn:
        units = {(c, state): int(n or 0) for c, state, n in conn.execute(query)}
    return GroupView(
        group=stored.group,
        ledger_path=f"/public/ledger/{stored.row['public_token']}",
        compounds=[
            ServedCompound(
                compound_id=c,
                leader=leader,
                active_units=units.get((c, "active"), 0),
                waitlisted_units=units.get((c, "waitlisted"), 0),
            )
            for c, leader in stored.leaders.items()
        ],
    )


def _runs(user: Principal, stored: StoredGroup, *, admin: bool = False) -> None:
    """403 unless ``user`` is the group's leader (or, with ``admin``, an admin)."""
    if admin and user.role is Role.admin:
        return
    if user.role is Role.leader and user.username == stored.leader:
        return
    raise ApiError(403, "forbidden", f"group {stored.group_id} is run by its own leader")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _offer(store: Store, offer_id: str) -> Offer:
    for offer in store.supply().offers:
        if offer.offer_id == offer_id:
            return offer
    raise not_found("offer", offer_id)


@router.get("/compounds/{compound_id}/groups", response_model=list[GroupView])
def list_groups(compound_id: str, store: StoreDep, user: User) -> list[GroupView]:
    """Every group serving the compound (pooled ones too), newest first: aggregates for any
    leader of the compound, its committee or an admin."""
    require(user, Role.admin, Role.leader, Role.committee)
    require_compound(user, compound_id)
    pooled = select(GROUP_COMPOUNDS.c.group_id).where(GROUP_COMPOUNDS.c.compound_id == compound_id)
    query = (
        select(_GROUPS.c.group_id)
        .where(or_(_GROUPS.c.compound_id == compound_id, _GROUPS.c.group_id.in_(pooled)))
        .order_by(_GROUPS.c.created_at.desc(), _GROUPS.c.group_id)
    )
    with store.engine.connect() as conn:
        ids = list(conn.execute(query).scalars())
    return [_view(store, _stored(store, group_id)) for group_id in ids]


def _check_open(
    store: Store, compound_id: str, body: OpenGroup
) -> tuple[Offer, tuple[str, ...], int, int]:
    """The offer, the compounds served (lead first), the threshold in units and the units
    to hold, or the ApiError naming the field to fix."""
    served = (compound_id, *dict.fromkeys(c for c in body.pool_compound_ids if c != compound_id))
    compounds = [store.compound(c) for c in served]
    for c, found in zip(served, compounds, strict=True):
        if found is None:
            raise not_found("compound", c)
    offer = _offer(store, body.offer_id)
    depots = {d.depot_id: d for d in store.supply().depots}
    for found in compounds:
        assert found is not None
        if not in_service_area(found, offer, depots):
            raise ApiError(
                422,
                "not_eligible",
                f"offer {offer.offer_id} does not serve {found.name}",
                "offer_id" if found.compound_id == compound_id else "pool_compound_ids",
            )
    if body.drop is Drop.shared and body.drop_compound_id not in served:
        raise ApiError(
            422,
            "invalid_request",
            f"a shared drop is at one of the served compounds: {', '.join(served)}",
            "drop_compound_id",
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
    if body.threshold_units is not None:
        threshold = body.threshold_units
    elif body.threshold_cents is not None:
        threshold = -(-body.threshold_cents // offer.unit_price_cents)
    else:
        threshold = offer.min_order_units
    return offer, served, threshold, wanted


@router.post("/compounds/{compound_id}/groups", response_model=GroupView, status_code=201)
def open_group(compound_id: str, body: OpenGroup, store: StoreDep, user: User) -> GroupView:
    """Open a group on an offer that serves the compound (and every pooled neighbour),
    holding part of its capacity; any leader of the compound may, several groups at once."""
    require(user, Role.leader)
    require_compound(user, compound_id)
    offer, served, threshold, wanted = _check_open(store, compound_id, body)
    with store.engine.connect() as conn:
        refused = refused_suppliers(conn, user.username).get(offer.supplier_id)
    if refused is not None:
        raise ApiError(
            422,
            "supplier_refused",
            f"you refused {offer.supplier_id} for your groups ({refused}); withdraw the "
            "refusal or pick another offer",
            "offer_id",
        )
    opened = body.opened_at or _now()
    if opened >= body.deadline:
        raise ApiError(422, "invalid_request", "the deadline has passed already", "deadline")
    fee, commission = body.delivery_fee_cents / 100, body.leader_commission_cents / 100
    fees = f"运费 ¥{fee:.2f},团长佣金 ¥{commission:.2f}"
    pooled = f",与 {', '.join(served[1:])} 拼团" if len(served) > 1 else ""
    group = Group(
        group_id=f"g-{secrets.token_hex(6)}",
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        compound_id=compound_id,
        category_id=offer.category_id,
        threshold_units=threshold,
        threshold_cents=body.threshold_cents if body.threshold_units is None else None,
        allocated_units=wanted,
        deadline=body.deadline,
        compound_ids=served if len(served) > 1 else (),
        drop=body.drop,
        drop_compound_id=body.drop_compound_id if body.drop is Drop.shared else None,
        case_size_units=offer.case_size_units,
        rounding=body.rounding,
        delivery_fee_cents=body.delivery_fee_cents,
        leader_commission_cents=body.leader_commission_cents,
        history=(
            Transition(
                from_state=None,
                to_state=GroupState.open,
                at=opened,
                note_zh=f"团长开团{pooled},{threshold} 份成团,截止 {body.deadline:%m-%d %H:%M};"
                f"{fees}。",
                note_en=f"opened by the leader{' (pooled)' if pooled else ''}: forms at "
                f"{threshold} units by {body.deadline:%m-%d %H:%M}; delivery fee "
                f"{body.delivery_fee_cents} cents, leader commission "
                f"{body.leader_commission_cents} cents.",
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
        conn.execute(
            insert(GROUP_COMPOUNDS),
            [
                {
                    "group_id": group.group_id,
                    "compound_id": c,
                    "position": position,
                    "leader": user.username if position == 0 else None,
                    "joined_at": opened,
                }
                for position, c in enumerate(served)
            ],
        )
        audit.append(conn, user, "group.open", f"group {group.group_id}", after=row["data"])
    return _view(store, _stored(store, group.group_id))


@router.post("/groups/{group_id}/join", response_model=GroupView)
def join_group(group_id: str, body: Joining, store: StoreDep, user: User) -> GroupView:
    """A pooled compound's leader joins the group for their compound; until then that
    compound's residents cannot sign up. The threshold counts jointly."""
    require(user, Role.leader)
    stored = _stored(store, group_id)
    if user.compound_id not in stored.leaders:
        raise ApiError(403, "forbidden", f"group {group_id} does not serve your compound")
    if stored.leaders[user.compound_id] is not None:
        raise ApiError(
            409,
            "already_joined",
            f"{stored.leaders[user.compound_id]} leads compound {user.compound_id} in this group",
        )
    if stored.group.state is not GroupState.open:
        raise ApiError(409, "group_closed", f"group {group_id} is {stored.group.state}")
    at = body.at or _now()
    with audit.write(store.engine) as conn:
        conn.execute(
            update(GROUP_COMPOUNDS)
            .where(
                GROUP_COMPOUNDS.c.group_id == group_id,
                GROUP_COMPOUNDS.c.compound_id == user.compound_id,
                GROUP_COMPOUNDS.c.leader.is_(None),
            )
            .values(leader=user.username, joined_at=at)
        )
        audit.append(
            conn,
            user,
            "group.join",
            f"group {group_id}",
            after={"compound_id": user.compound_id, "leader": user.username},
        )
    return _view(store, _stored(store, group_id))


@router.get("/groups/{group_id}", response_model=GroupView)
def get_group(group_id: str, store: StoreDep, user: User) -> GroupView:
    """A group's aggregates: leaders and volunteers of a served compound, its committee, the
    offer's dispatcher or an admin."""
    stored = _stored(store, group_id)
    if not sees_group(user, stored):
        raise ApiError(403, "forbidden", f"group {group_id} does not serve your compound")
    return _view(store, stored)


@router.post("/groups/{group_id}/commitments", response_model=GroupView)
def commit_units(group_id: str, body: Commitment, store: StoreDep, user: User) -> GroupView:
    """Add signed-up units without lines (whole cases of the offer) while the group is open:
    the group's leader only."""
    stored = _stored(store, group_id)
    _runs(user, stored)
    group = stored.group
    case = group.case_size_units
    if body.units % case:
        raise ApiError(422, "invalid_request", f"sold in whole cases of {case} units", "units")
    at = body.at or _now()
    try:
        after = group.commit(body.units, at)
    except InvalidTransitionError as error:
        raise ApiError(409, "group_closed", str(error), "units") from error
    with audit.write(store.engine) as conn:
        save_group(conn, user, group, after, "group.commit", _now())
    return _view(store, _stored(store, group_id))


@router.post("/groups/{group_id}/close", response_model=GroupView)
def close_group(group_id: str, body: Closing, store: StoreDep, user: User) -> GroupView:
    """Decide an open group whose deadline has passed: whole-case rounding of its sign-ups
    (lines beyond the last case waitlisted, or spare units for the leader), then formed or
    failed (capacity released). The group's leader or an admin."""
    stored = _stored(store, group_id)
    _runs(user, stored, admin=True)
    group = stored.group
    at = body.at or _now()
    if group.state is not GroupState.open:
        raise ApiError(409, "group_closed", f"group {group_id} is {group.state}", "at")
    if at < group.deadline:
        raise ApiError(
            409, "before_deadline", f"the deadline is {group.deadline.isoformat()}", "at"
        )
    with audit.write(store.engine) as conn:
        active = [r for r in signup_rows(conn, group_id) if r["state"] == "active"]
        listed = sum(r["quantity_units"] for r in active)
        unlisted = group.committed_units - listed
        lines = [("(unlisted)", unlisted)] if unlisted > 0 else []
        lines += [(r["signup_id"], r["quantity_units"]) for r in active]
        after, cases = close_with_cases(group, lines, at)
        if cases.waitlisted:
            conn.execute(
                update(SIGNUPS)
                .where(SIGNUPS.c.signup_id.in_(cases.waitlisted))
                .values(state="waitlisted", updated_at=at)
            )
        save_group(conn, user, group, after, f"group.{after.state}", at)
    return _view(store, _stored(store, group_id))


_ADVANCER: dict[GroupState, tuple[Role, ...]] = {
    GroupState.matched: (Role.admin, Role.dispatcher),
    GroupState.dispatched: (Role.admin, Role.dispatcher),
    GroupState.delivered: (Role.admin, Role.dispatcher, Role.leader),
    GroupState.settled: (Role.admin,),
}


@router.post("/groups/{group_id}/advance", response_model=GroupView)
def advance_group(group_id: str, body: Advance, store: StoreDep, user: User) -> GroupView:
    """Matched/dispatched by the offer's dispatcher, delivered also by a leader of the group,
    settled by an admin; any other step is a 409 naming the allowed ones."""
    stored = _stored(store, group_id)
    roles = _ADVANCER.get(body.to)
    if roles is None:
        raise ApiError(409, "invalid_transition", "open, formed and failed are not set by hand")
    require(user, *roles)
    if user.role is Role.dispatcher and user.supplier_id != stored.group.supplier_id:
        raise ApiError(403, "forbidden", f"group {group_id} is another supplier's")
    if user.role is Role.leader and user.username not in stored.leaders.values():
        raise ApiError(403, "forbidden", f"group {group_id} is not led by you")
    group = stored.group
    note = body.note or str(body.to)
    try:
        after = group.advance(body.to, body.at or _now(), note_zh=note, note_en=note)
    except InvalidTransitionError as error:
        raise ApiError(409, "invalid_transition", str(error), "to") from error
    with audit.write(store.engine) as conn:
        save_group(conn, user, group, after, f"group.{after.state}", _now())
    return _view(store, _stored(store, group_id))


@router.get("/public/ledger/{token}", response_model=Ledger, tags=["public"])
def public_ledger(token: Annotated[str, Path(max_length=64)], store: StoreDep) -> Ledger:
    """The group's public ledger: no sign-in, the unguessable link is the key."""
    with store.engine.connect() as conn:
        stored = load_group(conn, token=token)
        if stored is None:
            raise ApiError(404, "not_found", "no ledger at this link; ask the leader for it")
        group = stored.group
        offer = _offer(store, group.offer_id)
        balance = group_balance(conn, stored, offer.unit_price_cents)
    compound = store.compound(group.compound_id)
    supplier = next(s for s in store.supply().suppliers if s.supplier_id == group.supplier_id)
    return ledger_of(
        group,
        offer,
        compound_name=compound.name if compound else group.compound_id,
        supplier_name=supplier.name,
        balance=balance,
    )
