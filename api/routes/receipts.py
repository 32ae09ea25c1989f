"""Receipt check (验货) at the gate: the group's leader or a volunteer of the compound counts
what arrived; any difference from what was loaded opens a group-level claim at once.

Expected units (``matcher.receipt.expected_units``): the units the day's current plan loaded
for the compound, the group's supplier and category (the route sheets' unload lines), capped
at what the group ordered there; without such a plan, what the group ordered there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, select

from api import aftersales, audit
from api.day_plans import current_plan
from api.deps import SettingsDep, StoreDep, User, governs
from api.errors import ApiError
from api.routes.claims import CLAIMABLE
from api.security import Principal, Role
from data.schemas import AwareDatetime, Identifier
from data.store import Store
from data.tables import ClaimRow, ReceiptCheckRow, table_of
from matcher.claims import ClaimSource, file_claim
from matcher.receipt import Discrepancy, ReceiptLine, discrepancies, expected_units, received_units

router = APIRouter(tags=["receipt checks"])
_CHECKS = table_of(ReceiptCheckRow)
_CLAIMS = table_of(ClaimRow)


class RecordCheck(BaseModel):
    """What was counted at the gate for the group's delivery to one compound."""

    compound_id: str | None = Field(
        default=None, max_length=64, description="default the group's lead compound"
    )
    lines: list[ReceiptLine] = Field(min_length=1, max_length=20)
    at: AwareDatetime | None = Field(default=None, description="when; default now")

    model_config = {
        "json_schema_extra": {
            "examples": [{"lines": [{"units": 18}, {"units": 2, "condition": "spoiled"}]}]
        }
    }


class ReceiptCheck(BaseModel):
    """A recorded receipt check, its discrepancies and the claims they opened."""

    check_id: str
    group_id: str
    compound_id: Identifier
    supplier_id: Identifier
    expected_units: int
    expected_from: str = Field(description="plan (the route sheet's load) or ordered")
    plan_job_id: str | None
    received_units: int
    lines: tuple[ReceiptLine, ...]
    discrepancies: tuple[Discrepancy, ...]
    claim_ids: tuple[str, ...]
    at: dt.datetime
    recorded_by: str


def _loaded(
    request: Request,
    store: Store,
    day: dt.date,
    compound_id: str,
    supplier_id: str,
    category_id: str,
) -> tuple[int, str] | None:
    """Units the current plan of ``day`` loaded for the compound, supplier and category,
    and the plan job; None when no plan carries them."""
    current = current_plan(store, day, request.app.state.demand)
    if current is None or supplier_id not in current.job_of_supplier:
        return None
    units = sum(
        stop.quantity_units
        for route in current.plan.routes
        if route.supplier_id == supplier_id
        for stop in route.stops
        if stop.compound_id == compound_id and stop.category_id == category_id
    )
    return (units, current.job_of_supplier[supplier_id]) if units else None


def _may_record(user: Principal, facts: aftersales.GroupFacts, compound_id: str) -> None:
    """The group's leader (for a pooled group, the compound's joined leader) or a volunteer
    of the compound records the check."""
    if aftersales.leads(user, facts, compound_id):
        return
    if user.role is Role.volunteer and user.compound_id == compound_id:
        return
    raise ApiError(
        403,
        "forbidden",
        f"the delivery of group {facts.group.group_id} to {compound_id} is not yours to check",
    )


@router.post("/groups/{group_id}/receipt-checks", response_model=ReceiptCheck, status_code=201)
def record_check(
    group_id: str,
    body: RecordCheck,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    user: User,
) -> ReceiptCheck:
    """Record what arrived; every discrepancy (missing, short, spoiled or damaged, wrong
    item) opens a group-level claim for the supplier to answer, priced at the unit price."""
    facts = aftersales.facts_of(store.engine, group_id)
    compound_id = body.compound_id or facts.compound_ids[0]
    if compound_id not in facts.leaders:
        raise ApiError(
            422,
            "invalid_request",
            f"group {group_id} does not deliver to {compound_id!r}",
            "compound_id",
        )
    _may_record(user, facts, compound_id)
    group = facts.group
    if group.state not in CLAIMABLE:
        raise ApiError(409, "not_delivered", f"group {group_id} is {group.state}; nothing to check")
    at = body.at or dt.datetime.now(dt.UTC)
    with store.engine.connect() as conn:
        ordered = aftersales.ordered_units(conn, facts, compound_id)
    loaded = _loaded(
        request, store, facts.delivery_date, compound_id, group.supplier_id, group.category_id
    )
    expected = expected_units(ordered, None if loaded is None else loaded[0])
    found = discrepancies(expected, body.lines, facts.unit_price_cents)
    check_id = aftersales.new_id("rc")
    claims = [
        file_claim(
            claim_id=aftersales.new_id("cl"),
            group_id=group_id,
            compound_id=compound_id,
            supplier_id=group.supplier_id,
            category_id=group.category_id,
            source=ClaimSource.receipt_check,
            kind=d.kind,
            units=d.units,
            unit_price_cents=facts.unit_price_cents,
            at=at,
            actor=user.username,
            answer_within=aftersales.answer_within(settings),
            receipt_check_id=check_id,
        )
        for d in found
    ]
    row = {
        "check_id": check_id,
        "group_id": group_id,
        "compound_id": compound_id,
        "supplier_id": group.supplier_id,
        "expected_units": expected,
        "expected_from": "ordered" if loaded is None else "plan",
        "plan_job_id": None if loaded is None else loaded[1],
        "received_units": received_units(body.lines),
        "lines": [line.model_dump(mode="json") for line in body.lines],
        "discrepancy": bool(found),
        "at": at,
        "recorded_by": user.username,
    }
    with audit.write(store.engine) as conn:
        conn.execute(insert(_CHECKS).values(**row))
        audit.append(
            conn,
            user,
            "receipt.check",
            f"group {group_id} compound {compound_id}",
            after={k: v for k, v in row.items() if k not in ("at", "lines")}
            | {"lines": [line.model_dump(mode="json", exclude={"note"}) for line in body.lines]},
        )
        for claim in claims:
            aftersales.insert_claim(conn, user, claim, user.username)
    return _view(row, found, tuple(c.claim_id for c in claims), with_notes=True)


def _view(
    row: dict[str, Any],
    found: tuple[Discrepancy, ...],
    claim_ids: tuple[str, ...],
    *,
    with_notes: bool,
) -> ReceiptCheck:
    lines = tuple(ReceiptLine.model_validate(line) for line in row["lines"])
    if not with_notes:
        lines = tuple(line.model_copy(update={"note": ""}) for line in lines)
    return ReceiptCheck.model_validate(
        {**row, "lines": lines, "discrepancies": found, "claim_ids": claim_ids}
    )


@router.get("/groups/{group_id}/receipt-checks", response_model=list[ReceiptCheck])
def group_checks(group_id: str, store: StoreDep, user: User) -> list[ReceiptCheck]:
    """A group's receipt checks: its leader and the compounds' volunteers with notes; the
    supplier's dispatcher, the committee and admins without the counters' notes."""
    facts = aftersales.facts_of(store.engine, group_id)
    on_site = any(aftersales.leads(user, facts, c) for c in facts.compound_ids) or (
        user.role is Role.volunteer and user.compound_id in facts.leaders
    )
    if not (
        on_site
        or (user.role is Role.dispatcher and user.supplier_id == facts.group.supplier_id)
        or any(governs(user, c) for c in facts.compound_ids)
    ):
        raise ApiError(403, "forbidden", f"group {group_id} is not yours")
    query = select(_CHECKS).where(_CHECKS.c.group_id == group_id).order_by(_CHECKS.c.at)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        claims = aftersales.load_claims(conn, _CLAIMS.c.group_id == group_id)
    out = []
    for row in rows:
        if user.role is Role.volunteer and row["compound_id"] != user.compound_id:
            continue
        lines = [ReceiptLine.model_validate(line) for line in row["lines"]]
        found = discrepancies(int(row["expected_units"]), lines, facts.unit_price_cents)
        ids = tuple(c.claim_id for c in claims if c.receipt_check_id == row["check_id"])
        out.append(_view(row, found, ids, with_notes=on_site))
    return out
