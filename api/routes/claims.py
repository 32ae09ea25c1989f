"""After-sales claims (售后): filed by a household (with its resident code) or the group's
leader, answered by the supplier's dispatcher, escalated to the residents' committee when
unanswered by the deadline (``Settings.claim_escalation_hours``), decided there, closed by the
leader once the resolution is carried out.

Deadlines are evaluated whenever claims are read or moved (and by `linli claims escalate`).
Household fields (the line, the household's note) appear only to the group's leader and to
the household's own code; the dispatcher, the committee and admins get the claim without them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import select

from api import aftersales, audit
from api.deps import SettingsDep, StoreDep, User, governs, require
from api.errors import ApiError, not_found
from api.security import Principal, Role
from data.schemas import SHANGHAI, AwareDatetime, Identifier
from data.store import Store
from data.tables import ClaimRow, GroupSignupRow, table_of
from matcher.claims import (
    Claim,
    ClaimKind,
    ClaimSource,
    ClaimState,
    ClaimStep,
    InvalidClaimTransitionError,
    Resolution,
    ResolutionKind,
    file_claim,
)
from matcher.groups import GroupState

router = APIRouter(tags=["claims"])
_CLAIMS = table_of(ClaimRow)
_SIGNUPS = table_of(GroupSignupRow)

CLAIMABLE = frozenset({GroupState.dispatched, GroupState.delivered, GroupState.settled})
"""Group states whose goods have left the supplier: their lines can be claimed on."""

RESIDENT = "resident"
"""The actor name of a household acting through its resident code (never the code itself)."""

CodePath = Annotated[str, Path(min_length=4, max_length=16)]


class FileClaim(BaseModel):
    """The group's leader claims on a household's line or on the group's delivery."""

    kind: ClaimKind
    units: int = Field(gt=0, le=100_000)
    signup_id: str | None = Field(default=None, max_length=32, description="None: group-level")
    compound_id: str | None = Field(
        default=None, max_length=64, description="group-level: where; default the lead compound"
    )
    note: str = Field(default="", max_length=500)
    at: AwareDatetime | None = Field(default=None, description="when; default now")

    model_config = {"json_schema_extra": {"examples": [{"kind": "spoiled", "units": 2}]}}


class ResidentClaim(BaseModel):
    """A household claims on its own line."""

    kind: ClaimKind
    units: int = Field(gt=0, le=100_000)
    note: str = Field(default="", max_length=500)
    at: AwareDatetime | None = None


class ResolutionBody(BaseModel):
    """How the claim is made good; amounts and units default to the claim's."""

    kind: ResolutionKind
    amount_cents: int | None = Field(default=None, gt=0, le=10**9)
    units: int | None = Field(default=None, gt=0, le=100_000)
    redelivery_date: dt.date | None = Field(
        default=None, description="redelivery: the plan that carries it; default the next day"
    )


class Accept(ResolutionBody):
    """The supplier accepts, with a refund, a credit or a redelivery."""

    method: str = Field(default="transfer", min_length=1, max_length=32, description="refund")
    at: AwareDatetime | None = None


class Reject(BaseModel):
    """The supplier rejects, saying why."""

    reason: str = Field(min_length=1, max_length=500)
    at: AwareDatetime | None = None


class Decide(BaseModel):
    """The committee upholds an escalated claim with a resolution, or dismisses it."""

    decision: Literal["uphold", "dismiss"]
    resolution: ResolutionBody | None = None
    reason: str = Field(default="", max_length=500)
    method: str = Field(default="transfer", min_length=1, max_length=32)
    at: AwareDatetime | None = None


class Step(BaseModel):
    """Appeal a rejection, or close a claim whose resolution was carried out."""

    note: str = Field(default="", max_length=500)
    at: AwareDatetime | None = None


class ClaimSummary(BaseModel):
    """A claim without household fields: for the dispatcher, the committee and admins."""

    claim_id: str
    group_id: str
    compound_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    household: bool = Field(description="filed on one household's line (which is not shown)")
    source: ClaimSource
    kind: ClaimKind
    units: int
    amount_cents: int
    state: ClaimState
    due_at: dt.datetime | None
    resolution: Resolution | None
    reason: str
    history: tuple[ClaimStep, ...]


_PUBLIC_NOTES = frozenset(
    {
        ClaimState.filed,
        ClaimState.accepted,
        ClaimState.rejected,
        ClaimState.upheld,
        ClaimState.dismissed,
    }
)
"""Steps whose note is the supplier's or committee's (or generated): shown to everyone."""


_SUMMARY_FIELDS = set(ClaimSummary.model_fields) - {"household", "history"}


def summary(claim: Claim) -> ClaimSummary:
    """``claim`` without its household line and the notes households or leaders wrote."""
    return ClaimSummary(
        **claim.model_dump(include=_SUMMARY_FIELDS),
        household=claim.signup_id is not None,
        history=tuple(
            step
            if step.to_state in _PUBLIC_NOTES or step.actor == "system"
            else step.model_copy(update={"note": ""})
            for step in claim.history
        ),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sees_summary(user: Principal, claim: Claim) -> bool:
    """The claim's dispatcher, a committee of its compound, or an admin."""
    if user.role is Role.dispatcher:
        return user.supplier_id == claim.supplier_id
    return governs(user, claim.compound_id)


def _view(user: Principal, facts: aftersales.GroupFacts, claim: Claim) -> Claim | ClaimSummary:
    """The full claim for the group's leader, the summary for the others allowed; else 403."""
    if aftersales.leads(user, facts, claim.compound_id):
        return claim
    if _sees_summary(user, claim):
        return summary(claim)
    raise ApiError(403, "forbidden", f"claim {claim.claim_id} is not yours to see")


def _claimable(facts: aftersales.GroupFacts) -> None:
    if facts.group.state not in CLAIMABLE:
        raise ApiError(
            409,
            "not_delivered",
            f"group {facts.group.group_id} is {facts.group.state}; claims are filed on "
            "delivered lines (dispatched, delivered or settled groups)",
        )


def _unit_checked(units: int, most: int, what: str) -> None:
    if units > most:
        raise ApiError(
            422, "invalid_request", f"{what} has {most} units; claim at most that", "units"
        )


def _store_new(store: Store, who: Principal | str, claim: Claim, filed_by: str) -> None:
    with audit.write(store.engine) as conn:
        aftersales.insert_claim(conn, who, claim, filed_by)


# --- filing ------------------------------------------------------------------------------------


@router.post("/groups/{group_id}/claims", response_model=Claim, status_code=201)
def file_group_claim(
    group_id: str, body: FileClaim, store: StoreDep, settings: SettingsDep, user: User
) -> Claim:
    """The group's leader files a claim on a household's line (``signup_id``) or on the
    group's delivery at one compound."""
    require(user, Role.leader)
    facts = aftersales.facts_of(store.engine, group_id)
    if not aftersales.leads(user, facts, body.compound_id):
        raise ApiError(403, "forbidden", f"group {group_id} is not yours")
    _claimable(facts)
    compound_id = body.compound_id or facts.compound_ids[0]
    with store.engine.connect() as conn:
        if body.signup_id is not None:
            line = (
                conn.execute(
                    select(_SIGNUPS).where(
                        _SIGNUPS.c.signup_id == body.signup_id, _SIGNUPS.c.group_id == group_id
                    )
                )
                .mappings()
                .first()
            )
            if line is None or line["state"] != "active":
                raise ApiError(
                    422,
                    "invalid_request",
                    f"no active line {body.signup_id!r} in group {group_id}",
                    "signup_id",
                )
            compound_id = line["compound_id"]
            most = int(line["quantity_units"])
        else:
            if compound_id not in facts.leaders:
                raise ApiError(
                    422,
                    "invalid_request",
                    f"group {group_id} does not deliver to {compound_id!r}",
                    "compound_id",
                )
            most = aftersales.ordered_units(conn, facts, compound_id)
    if not aftersales.leads(user, facts, compound_id):
        raise ApiError(403, "forbidden", f"the group's part at {compound_id} is not yours")
    _unit_checked(body.units, most, "the line" if body.signup_id else "the delivery")
    claim = file_claim(
        claim_id=aftersales.new_id("cl"),
        group_id=group_id,
        compound_id=compound_id,
        supplier_id=facts.group.supplier_id,
        category_id=facts.group.category_id,
        source=ClaimSource.leader,
        kind=body.kind,
        units=body.units,
        unit_price_cents=facts.unit_price_cents,
        at=body.at or _now(),
        actor=user.username,
        answer_within=aftersales.answer_within(settings),
        signup_id=body.signup_id,
        note=body.note,
    )
    _store_new(store, user, claim, user.username)
    return claim


def _resident_line(store: Store, code: str) -> dict[str, object]:
    with store.engine.connect() as conn:
        row = (
            conn.execute(select(_SIGNUPS).where(_SIGNUPS.c.resident_code == code))
            .mappings()
            .first()
        )
    if row is None:
        raise ApiError(404, "not_found", "no household line has this code; ask your leader")
    return dict(row)


@router.post("/resident/{code}/claims", response_model=Claim, status_code=201, tags=["resident"])
def file_resident_claim(
    code: CodePath, body: ResidentClaim, store: StoreDep, settings: SettingsDep
) -> Claim:
    """A household files a claim on its own line with its resident code (no sign-in)."""
    line = _resident_line(store, code)
    if line["state"] != "active":
        raise ApiError(409, "not_active", f"this line is {line['state']}; nothing was delivered")
    facts = aftersales.facts_of(store.engine, str(line["group_id"]))
    _claimable(facts)
    _unit_checked(body.units, int(str(line["quantity_units"])), "your line")
    claim = file_claim(
        claim_id=aftersales.new_id("cl"),
        group_id=facts.group.group_id,
        compound_id=str(line["compound_id"]),
        supplier_id=facts.group.supplier_id,
        category_id=facts.group.category_id,
        source=ClaimSource.household,
        kind=body.kind,
        units=body.units,
        unit_price_cents=facts.unit_price_cents,
        at=body.at or _now(),
        actor=RESIDENT,
        answer_within=aftersales.answer_within(settings),
        signup_id=str(line["signup_id"]),
        note=body.note,
    )
    _store_new(store, RESIDENT, claim, RESIDENT)
    return claim


@router.get("/resident/{code}/claims", response_model=list[Claim], tags=["resident"])
def resident_claims(code: CodePath, store: StoreDep) -> list[Claim]:
    """The household's own claims, deadlines evaluated (no sign-in; the code is the key)."""
    line = _resident_line(store, code)
    aftersales.sweep(store.engine, _now(), signup_id=str(line["signup_id"]))
    with store.engine.connect() as conn:
        return aftersales.claims_of_signup(conn, str(line["signup_id"]))


@router.post("/resident/{code}/claims/{claim_id}/appeal", response_model=Claim, tags=["resident"])
def resident_appeal(code: CodePath, claim_id: str, body: Step, store: StoreDep) -> Claim:
    """The household appeals the rejection of its own claim: the committee decides."""
    line = _resident_line(store, code)
    claim, _ = _claim(store, claim_id)
    if claim.signup_id != line["signup_id"]:
        raise ApiError(403, "forbidden", f"claim {claim_id} is not on your line")
    return _step(
        store, RESIDENT, claim, "appeal", lambda c, at: c.appeal(at, RESIDENT, body.note), body.at
    )


# --- reading -----------------------------------------------------------------------------------


def _claim(store: Store, claim_id: str) -> tuple[Claim, str]:
    aftersales.sweep(store.engine, _now(), claim_id=claim_id)
    with store.engine.connect() as conn:
        found = aftersales.load_claim(conn, claim_id)
    if found is None:
        raise not_found("claim", claim_id)
    return found


@router.get("/groups/{group_id}/claims", response_model=list[Claim | ClaimSummary])
def group_claims(group_id: str, store: StoreDep, user: User) -> list[Claim | ClaimSummary]:
    """A group's claims: in full for its leader, without household fields for the supplier's
    dispatcher, the committee of its compounds and admins."""
    facts = aftersales.facts_of(store.engine, group_id)
    if not (
        aftersales.leads(user, facts)
        or any(aftersales.leads(user, facts, c) for c in facts.compound_ids)
        or (user.role is Role.dispatcher and user.supplier_id == facts.group.supplier_id)
        or any(governs(user, c) for c in facts.compound_ids)
    ):
        raise ApiError(403, "forbidden", f"group {group_id} is not yours")
    aftersales.sweep(store.engine, _now(), group_id=group_id)
    with store.engine.connect() as conn:
        claims = aftersales.load_claims(conn, _CLAIMS.c.group_id == group_id)
    out: list[Claim | ClaimSummary] = []
    for claim in claims:
        if aftersales.leads(user, facts, claim.compound_id):
            out.append(claim)
        elif _sees_summary(user, claim):
            out.append(summary(claim))
    return out


@router.get("/claims", response_model=list[ClaimSummary])
def list_claims(store: StoreDep, user: User, state: ClaimState | None = None) -> list[ClaimSummary]:
    """Claims to answer or decide: a dispatcher's supplier's, a committee's compounds', or
    all for an admin (no household fields), deadlines evaluated first."""
    require(user, Role.admin, Role.dispatcher, Role.committee)
    aftersales.sweep(store.engine, _now())
    where = []
    if user.role is Role.dispatcher:
        where.append(_CLAIMS.c.supplier_id == user.supplier_id)
    elif user.role is Role.committee:
        where.append(_CLAIMS.c.compound_id.in_(list(user.compound_ids)))
    if state is not None:
        where.append(_CLAIMS.c.state == state.value)
    with store.engine.connect() as conn:
        return [summary(c) for c in aftersales.load_claims(conn, *where)]


@router.get("/claims/{claim_id}", response_model=Claim | ClaimSummary)
def get_claim(claim_id: str, store: StoreDep, user: User) -> Claim | ClaimSummary:
    """One claim, deadlines evaluated: in full for the group's leader, else the summary."""
    claim, _ = _claim(store, claim_id)
    return _view(user, aftersales.facts_of(store.engine, claim.group_id), claim)


# --- answering, deciding, closing --------------------------------------------------------------


def _step(
    store: Store,
    who: Principal | str,
    claim: Claim,
    action: str,
    move: Callable[[Claim, dt.datetime], Claim],
    at: dt.datetime | None,
    *,
    refund_method: str | None = None,
) -> Claim:
    """Apply ``move(claim, at)``, store it with its audit event (and the refund, if the new
    resolution is one), in one transaction; domain refusals become 409/422."""
    when = at or _now()
    try:
        after = move(claim, when)
    except InvalidClaimTransitionError as error:
        raise ApiError(409, "invalid_transition", str(error), "state") from error
    except ValueError as error:
        field = str(error).split(":", 1)[0] if ":" in str(error) else None
        raise ApiError(422, "invalid_request", str(error), field) from error
    with audit.write(store.engine) as conn:
        current = aftersales.load_claim(conn, claim.claim_id)
        if current is None or current[0] != claim:
            raise ApiError(409, "conflict", f"claim {claim.claim_id} changed meanwhile; reload")
        aftersales.save_claim(conn, who, claim, after, f"claim.{action}")
        if refund_method is not None and isinstance(who, Principal):
            aftersales.record_claim_refund(conn, who, after, method=refund_method, at=when)
    return after


def _resolution(body: ResolutionBody, claim: Claim, at: dt.datetime) -> Resolution:
    try:
        if body.kind is ResolutionKind.redelivery:
            day = body.redelivery_date or at.astimezone(SHANGHAI).date() + dt.timedelta(days=1)
            return Resolution(kind=body.kind, units=body.units or claim.units, redelivery_date=day)
        return Resolution(kind=body.kind, amount_cents=body.amount_cents or claim.amount_cents)
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error), "kind") from error


def _dispatcher_of(user: Principal, claim: Claim) -> None:
    require(user, Role.dispatcher)
    if user.supplier_id != claim.supplier_id:
        raise ApiError(403, "forbidden", f"claim {claim.claim_id} is another supplier's")


@router.post("/claims/{claim_id}/accept", response_model=ClaimSummary)
def accept_claim(claim_id: str, body: Accept, store: StoreDep, user: User) -> ClaimSummary:
    """The supplier's dispatcher accepts by the deadline: a refund (recorded in the group's
    ledger at once), a credit, or a redelivery (demand of its delivery date's plan)."""
    claim, _ = _claim(store, claim_id)
    _dispatcher_of(user, claim)
    at = body.at or _now()
    resolution = _resolution(body, claim, at)
    after = _step(
        store,
        user,
        claim,
        "accept",
        lambda c, when: c.accept(resolution, when, user.username),
        at,
        refund_method=body.method,
    )
    return summary(after)


@router.post("/claims/{claim_id}/reject", response_model=ClaimSummary)
def reject_claim(
    claim_id: str, body: Reject, store: StoreDep, settings: SettingsDep, user: User
) -> ClaimSummary:
    """The supplier's dispatcher rejects by the deadline with a reason; the filer may appeal
    within the same time, after which the rejection stands (closed)."""
    claim, _ = _claim(store, claim_id)
    _dispatcher_of(user, claim)
    within = aftersales.answer_within(settings)
    after = _step(
        store,
        user,
        claim,
        "reject",
        lambda c, when: c.reject(body.reason, when, user.username, appeal_within=within),
        body.at,
    )
    return summary(after)


@router.post("/claims/{claim_id}/appeal", response_model=Claim)
def appeal_claim(claim_id: str, body: Step, store: StoreDep, user: User) -> Claim:
    """The group's leader appeals a rejection before its deadline: the committee decides."""
    claim, _ = _claim(store, claim_id)
    facts = aftersales.facts_of(store.engine, claim.group_id)
    if not aftersales.leads(user, facts, claim.compound_id):
        raise ApiError(403, "forbidden", f"claim {claim_id} is not in your group")
    return _step(
        store,
        user,
        claim,
        "appeal",
        lambda c, when: c.appeal(when, user.username, body.note),
        body.at,
    )


@router.post("/claims/{claim_id}/decide", response_model=ClaimSummary)
def decide_claim(claim_id: str, body: Decide, store: StoreDep, user: User) -> ClaimSummary:
    """The committee of the claim's compound (or an admin) decides an escalated claim:
    uphold with a resolution (a refund is recorded in the ledger) or dismiss with a reason."""
    claim, _ = _claim(store, claim_id)
    require(user, Role.admin, Role.committee)
    if not governs(user, claim.compound_id):
        raise ApiError(403, "forbidden", f"claim {claim_id} is in another committee's compound")
    at = body.at or _now()
    if body.decision == "uphold":
        if body.resolution is None:
            raise ApiError(422, "invalid_request", "uphold names a resolution", "resolution")
        resolution = _resolution(body.resolution, claim, at)
        after = _step(
            store,
            user,
            claim,
            "uphold",
            lambda c, when: c.uphold(resolution, when, user.username),
            at,
            refund_method=body.method,
        )
    else:
        if not body.reason.strip():
            raise ApiError(422, "invalid_request", "say why the claim is dismissed", "reason")
        after = _step(
            store,
            user,
            claim,
            "dismiss",
            lambda c, when: c.dismiss(body.reason, when, user.username),
            at,
        )
    return summary(after)


@router.post("/claims/{claim_id}/close", response_model=Claim | ClaimSummary)
def close_claim(claim_id: str, body: Step, store: StoreDep, user: User) -> Claim | ClaimSummary:
    """The group's leader (or an admin) closes an accepted or upheld claim once its
    resolution was carried out."""
    claim, _ = _claim(store, claim_id)
    facts = aftersales.facts_of(store.engine, claim.group_id)
    if not (aftersales.leads(user, facts, claim.compound_id) or user.role is Role.admin):
        raise ApiError(403, "forbidden", f"claim {claim_id} is not in your group")
    if claim.state not in (ClaimState.accepted, ClaimState.upheld):
        raise ApiError(
            409,
            "invalid_transition",
            f"claim {claim_id} is {claim.state}; only accepted or upheld claims are closed by hand",
            "state",
        )
    after = _step(
        store,
        user,
        claim,
        "close",
        lambda c, when: c.close(when, user.username, body.note),
        body.at,
    )
    return _view(user, facts, after)
