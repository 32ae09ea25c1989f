"""The audit log for admins: read events in order and check the hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api import audit
from api.audit import AuditEvent
from api.deps import StoreDep, User, require
from api.security import Role

router = APIRouter(prefix="/audit", tags=["audit"])


class ChainCheck(BaseModel):
    """The verdict on the hash chain."""

    ok: bool
    checked: int
    broken_at: int | None
    reason: str


@router.get("", response_model=list[AuditEvent])
def list_events(
    store: StoreDep,
    user: User,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: str | None = None,
) -> list[AuditEvent]:
    """Events after ``after_seq`` in order (page by passing the last seq back)."""
    require(user, Role.admin)
    return audit.events(store.engine, after_seq=after_seq, limit=limit, action=action)


@router.get("/verify", response_model=ChainCheck)
def verify_chain(store: StoreDep, user: User) -> ChainCheck:
    """Recompute the chain; names the first event that does not fit."""
    require(user, Role.admin)
    verdict = audit.verify(store.engine)
    return ChainCheck(
        ok=verdict.ok, checked=verdict.checked, broken_at=verdict.broken_at, reason=verdict.reason
    )
