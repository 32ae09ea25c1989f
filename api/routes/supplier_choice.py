"""A leader's choice of suppliers: refusing one for their groups (with a reason the committee
sees), and each supplier's reliability record (aggregates only)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select

from api import audit
from api.deps import StoreDep, User, require, require_compound
from api.errors import ApiError, not_found
from api.routes.offers import Reliability
from api.security import Role
from api.supplier_record import reliability_records
from data.schemas import AwareDatetime
from data.store import Store
from data.tables import SupplierRefusalRow, table_of
from matcher.reliability import ReliabilityRecord

router = APIRouter(tags=["suppliers"])
_REFUSALS = table_of(SupplierRefusalRow)


class Refuse(BaseModel):
    """Refuse a supplier for the leader's groups, saying why."""

    reason: str = Field(min_length=2, max_length=500)
    at: AwareDatetime | None = Field(default=None, description="when; default now")

    model_config = {
        "json_schema_extra": {"examples": [{"reason": "两次送来的菜烂了一半,不再合作"}]}
    }


class SupplierRefusal(BaseModel):
    """A stored refusal."""

    leader: str
    supplier_id: str
    compound_id: str
    reason: str
    at: dt.datetime


class ReliabilityView(Reliability):
    """A supplier's reliability record with its counts."""

    supplier_id: str
    arrivals: int
    on_time: int
    checked_deliveries: int
    short_or_spoiled: int
    delivered_lines: int
    claims_filed: int


def _supplier_exists(store: Store, supplier_id: str) -> None:
    if not any(s.supplier_id == supplier_id for s in store.supply().suppliers):
        raise not_found("supplier", supplier_id)


@router.post("/suppliers/{supplier_id}/refusals", response_model=SupplierRefusal, status_code=201)
def refuse_supplier(
    supplier_id: str, body: Refuse, store: StoreDep, user: User, response: Response
) -> SupplierRefusal:
    """A leader refuses a supplier for their groups: its offers are ranked out of the
    leader's offers and the leader cannot open a group on them. Refusing again updates the
    reason."""
    require(user, Role.leader)
    _supplier_exists(store, supplier_id)
    if user.compound_id is None:
        raise ApiError(403, "forbidden", "your leader account has no compound; ask an admin")
    row = {
        "leader": user.username,
        "supplier_id": supplier_id,
        "compound_id": user.compound_id,
        "reason": body.reason,
        "at": body.at or dt.datetime.now(dt.UTC),
    }
    key = (_REFUSALS.c.leader == user.username, _REFUSALS.c.supplier_id == supplier_id)
    with audit.write(store.engine) as conn:
        before = conn.execute(select(_REFUSALS.c.reason).where(*key)).scalar()
        if before is not None:
            conn.execute(delete(_REFUSALS).where(*key))
            response.status_code = 200
        conn.execute(insert(_REFUSALS).values(**row))
        audit.append(
            conn,
            user,
            "supplier.refuse",
            f"supplier {supplier_id} by {user.username}",
            before=None if before is None else {"reason": before},
            after={"reason": body.reason},
        )
    return SupplierRefusal.model_validate(row)


@router.delete("/suppliers/{supplier_id}/refusals", status_code=204)
def withdraw_refusal(supplier_id: str, store: StoreDep, user: User) -> Response:
    """The leader takes back their refusal of a supplier."""
    require(user, Role.leader)
    key = (_REFUSALS.c.leader == user.username, _REFUSALS.c.supplier_id == supplier_id)
    with audit.write(store.engine) as conn:
        before = conn.execute(select(_REFUSALS.c.reason).where(*key)).scalar()
        if before is None:
            raise ApiError(404, "not_found", f"you have not refused supplier {supplier_id!r}")
        conn.execute(delete(_REFUSALS).where(*key))
        audit.append(
            conn,
            user,
            "supplier.unrefuse",
            f"supplier {supplier_id} by {user.username}",
            before={"reason": before},
        )
    return Response(status_code=204)


@router.get("/compounds/{compound_id}/refusals", response_model=list[SupplierRefusal])
def compound_refusals(compound_id: str, store: StoreDep, user: User) -> list[SupplierRefusal]:
    """Refusals of the compound's leaders: all for its committee or an admin, a leader's own
    for a leader of the compound."""
    require(user, Role.admin, Role.committee, Role.leader)
    require_compound(user, compound_id)
    query = select(_REFUSALS).where(_REFUSALS.c.compound_id == compound_id)
    if user.role is Role.leader:
        query = query.where(_REFUSALS.c.leader == user.username)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(_REFUSALS.c.leader, _REFUSALS.c.supplier_id))
        return [SupplierRefusal.model_validate(dict(r)) for r in rows.mappings()]


@router.get("/suppliers/{supplier_id}/reliability", response_model=ReliabilityView)
def supplier_reliability(supplier_id: str, store: StoreDep, user: User) -> ReliabilityView:
    """The supplier's reliability record: its own dispatcher, admins, committees and leaders
    (aggregates only: no compound, group or household detail)."""
    require(user, Role.admin, Role.dispatcher, Role.committee, Role.leader)
    if user.role is Role.dispatcher and user.supplier_id != supplier_id:
        raise ApiError(403, "forbidden", f"supplier {supplier_id!r} is not yours")
    _supplier_exists(store, supplier_id)
    record = reliability_records(store.engine, [supplier_id]).get(supplier_id)
    record = record or ReliabilityRecord(supplier_id=supplier_id)
    return ReliabilityView(
        **Reliability.of(record).model_dump(),
        **record.model_dump(exclude={"claims_upheld"}),
    )
