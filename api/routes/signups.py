"""Sign-up lines of a group (接龙): entered by a leader (JSON lines or a pasted 接龙 list) or by
a resident with the group's link; every 楼户号 is checked against the building roster
(``data.roster``) and every line gets a short resident code to check it with.

A leader enters and sees the lines of the compounds they lead in the group (a pooled
group's neighbour compound only once its leader joined); a volunteer sees rooms and units of
their own building; a resident sees their own line through ``/resident/{code}``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select, update

from api import audit, idempotency
from api.deps import StoreDep, User
from api.errors import ApiError, not_found
from api.group_store import SIGNUPS, StoredGroup, household_compounds, load_group, save_group
from api.security import Principal, Role
from data.errors import DataError, Issue
from data.jielong import parse_jielong
from data.roster import room_issue
from data.schemas import AwareDatetime, PriorityFlag
from data.store import Store
from matcher.groups import GroupState

router = APIRouter(tags=["signups"])

_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_CODE_LENGTH = 10
"""Resident codes: 10 of 31 unambiguous characters, about 50 bits: short and unguessable."""


class SignupIn(BaseModel):
    """One household line entered by a leader (or its volunteer's proxy order)."""

    compound_id: str | None = Field(default=None, max_length=64, description="default yours")
    building_id: str = Field(min_length=1, max_length=64)
    room: str = Field(min_length=1, max_length=16)
    household_name: str = Field(default="", max_length=256)
    phone: str = Field(default="", max_length=64)
    priority_flags: list[PriorityFlag] = Field(default=[], max_length=6)
    proxy: bool = False
    quantity_units: int = Field(ge=1, le=1000, description="packages")


class SignupLines(BaseModel):
    """Lines a leader enters at once, all or none."""

    lines: list[SignupIn] = Field(min_length=1, max_length=500)
    at: AwareDatetime | None = Field(default=None, description="when; default now")


class JielongPaste(BaseModel):
    """A pasted 接龙 list for one compound of the group (default the leader's own)."""

    text: str = Field(min_length=1, max_length=200_000)
    compound_id: str | None = Field(default=None, max_length=64)
    at: AwareDatetime | None = None


class ResidentSignup(BaseModel):
    """A resident signs up with the group's link (no account)."""

    compound_id: str = Field(min_length=1, max_length=64)
    building_id: str = Field(min_length=1, max_length=64)
    room: str = Field(min_length=1, max_length=16)
    household_name: str = Field(default="", max_length=256)
    phone: str = Field(default="", max_length=64)
    priority_flags: list[PriorityFlag] = Field(default=[], max_length=6)
    proxy: bool = Field(default=False, description="signed up for a neighbour (e.g. elderly)")
    quantity_units: int = Field(ge=1, le=100)
    at: AwareDatetime | None = None


class Cancelling(BaseModel):
    """Cancel a line while the group is open."""

    at: AwareDatetime | None = None


class SignupView(BaseModel):
    """A sign-up line with household fields: for the leader who collects it."""

    signup_id: str
    group_id: str
    compound_id: str
    building_id: str
    room: str
    household_name: str
    phone: str
    priority_flags: list[str]
    proxy: bool
    quantity_units: int
    state: str
    source: str
    resident_code: str
    created_at: dt.datetime


class RoomLine(BaseModel):
    """A line as a building volunteer sees it: room and packages, never who or why."""

    building_id: str
    room: str
    quantity_units: int
    state: str
    proxy: bool = Field(description="ordered for someone else: deliver to the door")


class SignupReceipt(BaseModel):
    """What a resident gets back: the code to check the line with."""

    signup_id: str
    resident_code: str
    quantity_units: int
    state: str
    check_path: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_code() -> str:
    """A fresh resident code."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def _load(store: Store, group_id: str | None = None, token: str | None = None) -> StoredGroup:
    with store.engine.connect() as conn:
        stored = load_group(conn, group_id=group_id, token=token)
    if stored is None:
        raise not_found("group", group_id or "at this link")
    return stored


def _open_for_signups(stored: StoredGroup, at: dt.datetime) -> None:
    """409 unless the group takes sign-ups at ``at``."""
    group = stored.group
    if group.state is not GroupState.open or at > group.deadline:
        raise ApiError(
            409,
            "group_closed",
            f"group {group.group_id} is {group.state}, deadline {group.deadline.isoformat()}; "
            "sign up to another group",
            "at",
        )


def _roster_issues(
    store: Store, stored: StoredGroup, lines: list[SignupIn], source: str, rows: list[int]
) -> list[Issue]:
    """Lines for a compound the group does not serve (or whose leader has not joined), or
    with a building or room that is not on the compound's roster."""
    issues = []
    for line, row in zip(lines, rows, strict=True):
        compound_id = line.compound_id or ""
        if compound_id not in stored.leaders:
            issues.append(
                Issue(source, row, "compound_id", f"group {stored.group_id} does not serve "
                      f"{compound_id!r}", f"use one of {', '.join(stored.leaders)}",
                      compound_id)
            )  # fmt: skip
            continue
        if stored.leaders[compound_id] is None:
            issues.append(
                Issue(source, row, "compound_id", f"compound {compound_id}'s leader has not "
                      "joined this pooled group yet", "ask your compound's leader to join it "
                      "first", compound_id)
            )  # fmt: skip
            continue
        buildings = {b.building_id: b for b in store.buildings(compound_id)}
        building = buildings.get(line.building_id)
        if building is None:
            issues.append(
                Issue(source, row, "building_id", f"no building {line.building_id!r} in "
                      f"{compound_id}", f"use one of {', '.join(sorted(buildings))}",
                      line.building_id)
            )  # fmt: skip
            continue
        problem = room_issue(building, line.room)
        if problem is not None:
            issues.append(Issue(source, row, "room", problem, "", line.room))
    return issues


def _insert(
    conn: Connection,
    stored: StoredGroup,
    lines: list[SignupIn],
    *,
    source: str,
    by: Principal | str,
    at: dt.datetime,
    ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Insert (or, for a known id, update) lines and commit their units to the group."""
    rows = []
    delta = 0
    for index, line in enumerate(lines):
        signup_id = ids[index] if ids else f"s-{secrets.token_hex(8)}"
        values: dict[str, Any] = {
            "group_id": stored.group_id,
            "compound_id": line.compound_id,
            "building_id": line.building_id,
            "room": line.room.strip(),
            "household_name": line.household_name,
            "phone": line.phone,
            "priority_flags": sorted(f.value for f in line.priority_flags),
            "proxy": line.proxy,
            "quantity_units": line.quantity_units,
            "updated_at": at,
        }
        known = conn.execute(select(SIGNUPS).where(SIGNUPS.c.signup_id == signup_id)).mappings()
        before = known.first()
        if before is None:
            values |= {
                "signup_id": signup_id,
                "state": "active",
                "source": source,
                "resident_code": new_code(),
                "created_by": by if isinstance(by, str) else by.username,
                "created_at": at,
            }
            conn.execute(insert(SIGNUPS).values(**values))
            delta += line.quantity_units
        else:
            if before["state"] == "active":
                delta += line.quantity_units - before["quantity_units"]
            conn.execute(update(SIGNUPS).where(SIGNUPS.c.signup_id == signup_id).values(**values))
            values = {**dict(before), **values}
        rows.append(values)
    group = stored.group
    if delta > 0:
        after = group.commit(delta, at)
    elif delta < 0:
        after = group.withdraw(-delta, at)
    else:
        after = group
    if after is not group:
        save_group(conn, by, group, after, "group.signup", at)
    audit.append(
        conn,
        by,
        "signup.add",
        f"group {stored.group_id}",
        after={"lines": [r["signup_id"] for r in rows], "units": delta, "source": source},
    )
    return rows


def _view(row: dict[str, Any]) -> SignupView:
    return SignupView.model_validate({k: row[k] for k in SignupView.model_fields})


def _collects(user: Principal, stored: StoredGroup, compound_id: str | None) -> str:
    """The compound of ``user``'s lines in this group; 403 unless they lead it here."""
    if user.role is not Role.leader:
        raise ApiError(403, "forbidden", "sign-up lines are entered by a leader of the group")
    mine = household_compounds(user, stored)
    wanted = compound_id or user.compound_id or ""
    if wanted not in mine:
        raise ApiError(
            403,
            "forbidden",
            f"you do not collect the sign-ups of {wanted!r} in group {stored.group_id}"
            + ("; join the pooled group first" if wanted in stored.leaders else ""),
        )
    return wanted


@router.post("/groups/{group_id}/signups", response_model=list[SignupView], status_code=201)
def add_signups(group_id: str, body: SignupLines, store: StoreDep, user: User) -> list[SignupView]:
    """Enter household lines (proxy orders included), all or none, each 楼户号 checked."""
    stored = _load(store, group_id)
    lines = [
        line.model_copy(update={"compound_id": _collects(user, stored, line.compound_id)})
        for line in body.lines
    ]
    at = body.at or _now()
    _open_for_signups(stored, at)
    issues = _roster_issues(store, stored, lines, "lines", list(range(1, len(lines) + 1)))
    if issues:
        raise DataError(issues)
    with audit.write(store.engine) as conn:
        rows = _insert(conn, stored, lines, source="api", by=user, at=at)
    return [_view(r) for r in rows]


@router.post("/groups/{group_id}/signups/jielong", response_model=list[SignupView], status_code=201)
def paste_jielong(
    group_id: str, body: JielongPaste, store: StoreDep, user: User
) -> list[SignupView]:
    """Sign-ups from a pasted 接龙 list: each line's packages of the group's category; pasting
    an updated list again updates each numbered line instead of adding it twice."""
    stored = _load(store, group_id)
    compound_id = _collects(user, stored, body.compound_id)
    at = body.at or _now()
    _open_for_signups(stored, at)
    offer = next(o for o in store.supply().offers if o.offer_id == stored.group.offer_id)
    orders = parse_jielong(
        body.text,
        compound_id=compound_id,
        delivery_date=offer.delivery_date,
        categories=store.categories(),
        buildings=store.buildings(compound_id),
        source="接龙",
    )
    lines: list[SignupIn] = []
    rows: list[int] = []
    issues: list[Issue] = []
    for order in orders:
        number = int(order.order_id.rsplit("-", 1)[-1])
        other = sorted({i.category_id for i in order.items} - {stored.group.category_id})
        if other:
            issues.append(
                Issue("接龙", number, "product", f"line {number} orders {', '.join(other)}; "
                      f"this group sells {stored.group.category_id}",
                      "paste that line into a group of its category")
            )  # fmt: skip
            continue
        lines.append(
            SignupIn(
                compound_id=compound_id,
                building_id=order.building_id,
                room=order.room,
                household_name=order.household_name,
                phone=order.phone,
                priority_flags=sorted(order.priority_flags),
                proxy=order.proxy,
                quantity_units=sum(i.quantity_units for i in order.items),
            )
        )
        rows.append(number)
    issues += _roster_issues(store, stored, lines, "接龙", rows)
    if issues:
        raise DataError(issues)
    ids = [
        "jl-" + hashlib.sha256(f"{group_id}|{compound_id}|{n}".encode()).hexdigest()[:24]
        for n in rows
    ]
    with audit.write(store.engine) as conn:
        saved = _insert(conn, stored, lines, source="jielong", by=user, at=at, ids=ids)
    return [_view(r) for r in saved]


@router.get("/groups/{group_id}/signups", response_model=list[SignupView])
def list_signups(group_id: str, store: StoreDep, user: User) -> list[SignupView]:
    """The lines with household fields of the compounds ``user`` leads in this group."""
    stored = _load(store, group_id)
    mine = household_compounds(user, stored)
    if not mine:
        raise ApiError(403, "forbidden", "household lines are for the leader who collects them")
    query = (
        select(SIGNUPS)
        .where(SIGNUPS.c.group_id == group_id, SIGNUPS.c.compound_id.in_(mine))
        .order_by(SIGNUPS.c.created_at, SIGNUPS.c.signup_id)
    )
    with store.engine.connect() as conn:
        return [_view(dict(r)) for r in conn.execute(query).mappings()]


@router.get("/groups/{group_id}/buildings/{building_id}/rooms", response_model=list[RoomLine])
def building_rooms(group_id: str, building_id: str, store: StoreDep, user: User) -> list[RoomLine]:
    """Rooms and packages of one building of the user's compound: its volunteer, or the
    leader who collects the compound's lines; no names, phones or priority reasons."""
    stored = _load(store, group_id)
    compound_id = user.compound_id or ""
    volunteer = user.role is Role.volunteer and user.building_id == building_id
    leader = compound_id in household_compounds(user, stored)
    if not (volunteer and compound_id in stored.leaders) and not leader:
        raise ApiError(403, "forbidden", f"building {building_id!r} is not yours in this group")
    query = (
        select(SIGNUPS)
        .where(
            SIGNUPS.c.group_id == group_id,
            SIGNUPS.c.compound_id == compound_id,
            SIGNUPS.c.building_id == building_id,
            SIGNUPS.c.state != "cancelled",
        )
        .order_by(SIGNUPS.c.room, SIGNUPS.c.created_at)
    )
    with store.engine.connect() as conn:
        return [
            RoomLine.model_validate({k: r[k] for k in RoomLine.model_fields})
            for r in conn.execute(query).mappings()
        ]


@router.post("/groups/{group_id}/signups/{signup_id}/cancel", response_model=SignupView)
def cancel_signup(
    group_id: str, signup_id: str, body: Cancelling, store: StoreDep, user: User
) -> SignupView:
    """Cancel a line while the group is open (its units leave the group's commitment)."""
    stored = _load(store, group_id)
    with store.engine.connect() as conn:
        found = conn.execute(
            select(SIGNUPS).where(SIGNUPS.c.signup_id == signup_id, SIGNUPS.c.group_id == group_id)
        ).mappings()
        row = found.first()
    if row is None:
        raise not_found("sign-up", signup_id)
    _collects(user, stored, row["compound_id"])
    at = body.at or _now()
    _open_for_signups(stored, at)
    if row["state"] == "cancelled":
        return _view(dict(row))
    with audit.write(store.engine) as conn:
        conn.execute(
            update(SIGNUPS)
            .where(SIGNUPS.c.signup_id == signup_id)
            .values(state="cancelled", updated_at=at)
        )
        if row["state"] == "active":
            group = stored.group
            save_group(conn, user, group, group.withdraw(row["quantity_units"], at),
                       "group.signup", at)  # fmt: skip
        audit.append(conn, user, "signup.cancel", f"group {group_id}", after={"line": signup_id})
    return _view({**dict(row), "state": "cancelled"})


@router.post(
    "/public/groups/{token}/signups",
    response_model=SignupReceipt,
    status_code=201,
    tags=["public"],
)
def resident_signup(
    token: Annotated[str, Path(max_length=64)],
    body: ResidentSignup,
    store: StoreDep,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=128, description="retry-safe key: a resent sign-up is not a second"),
    ] = None,
) -> SignupReceipt:
    """A resident signs up with the group's link (no sign-in): the room must be on the
    roster and the compound's leader must have joined; returns the resident code. With an
    ``Idempotency-Key`` (the resident page sends one per form) a sign-up resent after a lost
    answer gets the first receipt again instead of a second line."""
    if not idempotency_key:
        return _resident_signup(store, token, body)
    owner = f"public:{token}"[:64]
    request_sha = idempotency.fingerprint("signup", token, body.model_dump_json())
    with idempotency.exclusive(store.engine, owner, idempotency_key):
        replayed = idempotency.replay(store.engine, owner, idempotency_key, request_sha)
        if replayed is not None:
            response.headers["Idempotent-Replayed"] = "true"
            return SignupReceipt.model_validate(replayed)
        receipt = _resident_signup(store, token, body)
        idempotency.remember(
            store.engine, owner, idempotency_key, request_sha, 201, receipt.model_dump()
        )
    return receipt


def _resident_signup(store: Store, token: str, body: ResidentSignup) -> SignupReceipt:
    stored = _load(store, token=token)
    at = body.at or _now()
    _open_for_signups(stored, at)
    line = SignupIn(**body.model_dump(exclude={"at"}))
    issues = _roster_issues(store, stored, [line], "sign-up", [1])
    if issues:
        raise DataError(issues)
    with audit.write(store.engine) as conn:
        (row,) = _insert(conn, stored, [line], source="resident", by="resident", at=at)
    return SignupReceipt(
        signup_id=row["signup_id"],
        resident_code=row["resident_code"],
        quantity_units=row["quantity_units"],
        state=row["state"],
        check_path=f"/resident/{row['resident_code']}",
    )


class RosterBuilding(BaseModel):
    """A building a resident may sign up from: names only, no household."""

    compound_id: str
    compound_name: str
    building_id: str
    name: str
    floors: int


@router.get("/public/groups/{token}/roster", response_model=list[RosterBuilding], tags=["public"])
def public_roster(
    token: Annotated[str, Path(max_length=64)], store: StoreDep
) -> list[RosterBuilding]:
    """The buildings of the compounds that take sign-ups in the group at this link (their
    leader has joined), for the resident page's building list (no sign-in)."""
    stored = _load(store, token=token)
    out = []
    for compound_id, leader in stored.leaders.items():
        compound = store.compound(compound_id)
        if leader is None or compound is None:
            continue
        out += [
            RosterBuilding(
                compound_id=compound_id,
                compound_name=compound.name,
                building_id=b.building_id,
                name=b.name,
                floors=b.floors,
            )
            for b in store.buildings(compound_id)
        ]
    return out
