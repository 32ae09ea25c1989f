"""After-sales claims (售后): a household or the group's leader claims on a delivered line; the
supplier's dispatcher answers by a deadline; unanswered claims escalate to the residents'
committee, which decides.

Every step is a recorded transition with its time, actor and note; deadlines are explicit
(``due_at``) and evaluated against a clock passed in (``escalate_due(claims, now)``), never
the wall clock. State machine::

    filed ──► accepted (refund | credit | redelivery) ──► closed
      │   └─► rejected (reason) ──► closed        (no appeal by due_at)
      │             └─► escalated                 (appealed before due_at)
      └────► escalated (no answer by due_at) ──► upheld (resolution) ──► closed
                                             └─► dismissed (reason; final)

``accepted`` and ``upheld`` mean the resolution is agreed; the group's leader closes the
claim once it is carried out (refund passed on, goods redelivered). A refund is recorded in
the ledger when the resolution is agreed. Claims that are ``accepted`` or ``upheld`` (now
or before closing) count against the supplier's reliability.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Self

from pydantic import Field, model_validator

from data.schemas import AwareDatetime, Identifier, Model

DEFAULT_ESCALATION = dt.timedelta(hours=24)
"""How long the dispatcher has to answer, and the filer to appeal a rejection."""


class ClaimKind(enum.StrEnum):
    """What went wrong with a delivered line."""

    missing = "missing"  # the package did not arrive
    short = "short"  # it arrived short (weight, count inside the package)
    spoiled = "spoiled"  # it arrived spoiled or damaged
    wrong = "wrong"  # another item arrived


class ClaimSource(enum.StrEnum):
    """Who opened the claim."""

    household = "household"  # a resident through their code
    leader = "leader"  # the group's leader
    receipt_check = "receipt_check"  # opened automatically by a receipt check at the gate


class ClaimState(enum.StrEnum):
    """Where a claim is in its life cycle."""

    filed = "filed"
    accepted = "accepted"
    rejected = "rejected"
    escalated = "escalated"
    upheld = "upheld"
    dismissed = "dismissed"
    closed = "closed"


ALLOWED: dict[ClaimState, frozenset[ClaimState]] = {
    ClaimState.filed: frozenset({ClaimState.accepted, ClaimState.rejected, ClaimState.escalated}),
    ClaimState.accepted: frozenset({ClaimState.closed}),
    ClaimState.rejected: frozenset({ClaimState.escalated, ClaimState.closed}),
    ClaimState.escalated: frozenset({ClaimState.upheld, ClaimState.dismissed}),
    ClaimState.upheld: frozenset({ClaimState.closed}),
    ClaimState.dismissed: frozenset(),
    ClaimState.closed: frozenset(),
}
"""The transitions a claim may take; anything else is an ``InvalidClaimTransitionError``."""

UPHELD = frozenset({ClaimState.accepted, ClaimState.upheld})
"""States meaning the supplier owes a resolution (they count against its reliability)."""


class ResolutionKind(enum.StrEnum):
    """How an upheld claim is made good."""

    refund = "refund"  # money back to the household (or the group), recorded in the ledger
    credit = "credit"  # deducted from the supplier's next invoice to the group
    redelivery = "redelivery"  # the goods come again with the next delivery


class InvalidClaimTransitionError(ValueError):
    """A claim was asked to move to a state its current state does not lead to (or too late)."""


class Resolution(Model):
    """What the supplier (or the committee) agreed to do about a claim."""

    kind: ResolutionKind
    amount_cents: int = Field(default=0, ge=0, description="refund or credit; 0 for redelivery")
    units: int = Field(default=0, ge=0, description="units redelivered; 0 for money")
    redelivery_date: dt.date | None = Field(
        default=None, description="the delivery date whose plan carries the redelivery"
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind is ResolutionKind.redelivery:
            if self.units <= 0 or self.redelivery_date is None:
                raise ValueError("a redelivery names its units and its redelivery_date")
        elif self.amount_cents <= 0:
            raise ValueError(f"a {self.kind} names a positive amount_cents")
        return self


class ClaimStep(Model):
    """One recorded state change of a claim: when, who, and why."""

    from_state: ClaimState | None
    to_state: ClaimState
    at: AwareDatetime
    actor: str
    note: str = ""


class Claim(Model):
    """An after-sales claim on one delivered line of a group (a household's or the group's)."""

    claim_id: Identifier
    group_id: str
    compound_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    signup_id: str | None = Field(default=None, description="the household line; None: group")
    source: ClaimSource
    kind: ClaimKind
    units: int = Field(gt=0)
    amount_cents: int = Field(ge=0, description="units × the group's unit price")
    note: str = ""
    receipt_check_id: str | None = None
    state: ClaimState = ClaimState.filed
    due_at: AwareDatetime | None = Field(
        description="deadline of the current state: the answer (filed) or an appeal (rejected)"
    )
    resolution: Resolution | None = None
    reason: str = Field(default="", description="why it was rejected or dismissed")
    history: tuple[ClaimStep, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _history_ends_in_state(self) -> Self:
        if self.history[-1].to_state is not self.state:
            raise ValueError(
                f"claim {self.claim_id}: state {self.state} differs from its last transition"
            )
        return self

    @property
    def filed_at(self) -> dt.datetime:
        """When the claim was filed."""
        return self.history[0].at

    @property
    def was_upheld(self) -> bool:
        """Whether the supplier owes (or owed) a resolution: accepted or upheld at some point."""
        return any(step.to_state in UPHELD for step in self.history)

    def _move(
        self,
        to: ClaimState,
        at: dt.datetime,
        actor: str,
        note: str,
        **update: object,
    ) -> Claim:
        if to not in ALLOWED[self.state]:
            allowed = ", ".join(sorted(ALLOWED[self.state])) or "none (final state)"
            raise InvalidClaimTransitionError(
                f"claim {self.claim_id} is {self.state}; it cannot become {to} (allowed: {allowed})"
            )
        if at < self.history[-1].at:
            raise InvalidClaimTransitionError(
                f"claim {self.claim_id}: {to} at {at.isoformat()} is before the last step at "
                f"{self.history[-1].at.isoformat()}"
            )
        step = ClaimStep(from_state=self.state, to_state=to, at=at, actor=actor, note=note)
        return self.model_copy(update={"state": to, "history": (*self.history, step), **update})

    def _before_due(self, what: str, at: dt.datetime) -> None:
        if self.due_at is not None and at >= self.due_at:
            raise InvalidClaimTransitionError(
                f"claim {self.claim_id}: the deadline to {what} passed at "
                f"{self.due_at.isoformat()}; "
                + (
                    "it goes to the residents' committee"
                    if self.state is ClaimState.filed
                    else "the rejection stands"
                )
            )

    def accept(self, resolution: Resolution, at: dt.datetime, actor: str) -> Claim:
        """The supplier accepts by the deadline with a refund, credit or redelivery."""
        self._check_resolution(resolution)
        if self.state is ClaimState.filed:
            self._before_due("answer", at)
        return self._move(
            ClaimState.accepted,
            at,
            actor,
            _resolution_note(resolution),
            resolution=resolution,
            due_at=None,
        )

    def reject(
        self, reason: str, at: dt.datetime, actor: str, *, appeal_within: dt.timedelta
    ) -> Claim:
        """The supplier rejects by the deadline with a reason; the filer may appeal within
        ``appeal_within``."""
        if not reason.strip():
            raise ValueError("reason: say why the claim is rejected")
        if self.state is ClaimState.filed:
            self._before_due("answer", at)
        return self._move(
            ClaimState.rejected, at, actor, reason, reason=reason, due_at=at + appeal_within
        )

    def appeal(self, at: dt.datetime, actor: str, note: str = "") -> Claim:
        """The filer disputes a rejection before its appeal deadline: the committee decides."""
        if self.state is not ClaimState.rejected:
            raise InvalidClaimTransitionError(
                f"claim {self.claim_id} is {self.state}; only a rejected claim is appealed "
                "(an unanswered one escalates by itself at its deadline)"
            )
        self._before_due("appeal", at)
        return self._move(ClaimState.escalated, at, actor, note or "appealed", due_at=None)

    def uphold(self, resolution: Resolution, at: dt.datetime, actor: str) -> Claim:
        """The committee upholds an escalated claim with a resolution."""
        self._check_resolution(resolution)
        return self._move(
            ClaimState.upheld, at, actor, _resolution_note(resolution), resolution=resolution
        )

    def dismiss(self, reason: str, at: dt.datetime, actor: str) -> Claim:
        """The committee dismisses an escalated claim with a reason (final)."""
        if not reason.strip():
            raise ValueError("reason: say why the claim is dismissed")
        return self._move(ClaimState.dismissed, at, actor, reason, reason=reason)

    def close(self, at: dt.datetime, actor: str, note: str = "") -> Claim:
        """The resolution was carried out (or the rejection stands): nothing more to do."""
        return self._move(ClaimState.closed, at, actor, note or "closed", due_at=None)

    def _check_resolution(self, resolution: Resolution) -> None:
        if resolution.amount_cents > self.amount_cents and resolution.kind is not (
            ResolutionKind.redelivery
        ):
            raise ValueError(
                f"amount_cents: {resolution.amount_cents} is more than the claim's "
                f"{self.amount_cents}"
            )
        if resolution.units > self.units:
            raise ValueError(f"units: {resolution.units} is more than the claim's {self.units}")


def _resolution_note(resolution: Resolution) -> str:
    if resolution.kind is ResolutionKind.redelivery:
        return f"redelivery of {resolution.units} units on {resolution.redelivery_date}"
    return f"{resolution.kind} of {resolution.amount_cents / 100:.2f} yuan"


def file_claim(
    *,
    claim_id: str,
    group_id: str,
    compound_id: str,
    supplier_id: str,
    category_id: str,
    source: ClaimSource,
    kind: ClaimKind,
    units: int,
    unit_price_cents: int,
    at: dt.datetime,
    actor: str,
    answer_within: dt.timedelta = DEFAULT_ESCALATION,
    signup_id: str | None = None,
    note: str = "",
    receipt_check_id: str | None = None,
) -> Claim:
    """A new claim, filed at ``at``: its amount is ``units`` at the unit price, and the
    supplier has ``answer_within`` to answer before it escalates."""
    if answer_within <= dt.timedelta(0):
        raise ValueError("answer_within must be positive")
    return Claim(
        claim_id=claim_id,
        group_id=group_id,
        compound_id=compound_id,
        supplier_id=supplier_id,
        category_id=category_id,
        signup_id=signup_id,
        source=source,
        kind=kind,
        units=units,
        amount_cents=units * unit_price_cents,
        note=note,
        receipt_check_id=receipt_check_id,
        due_at=at + answer_within,
        history=(
            ClaimStep(
                from_state=None,
                to_state=ClaimState.filed,
                at=at,
                actor=actor,
                note=f"{source}: {kind}, {units} units",
            ),
        ),
    )


def escalate_due(claims: Iterable[Claim], now: dt.datetime) -> tuple[Claim, ...]:
    """Every claim with its deadline reached at ``now`` moved on, the others unchanged: an
    unanswered ``filed`` claim escalates to the committee, an unappealed ``rejected`` one
    closes. The step is dated at the deadline itself, not at ``now``."""
    out = []
    for claim in claims:
        due = claim.due_at
        if due is not None and due <= now:
            if claim.state is ClaimState.filed:
                claim = claim._move(
                    ClaimState.escalated,
                    due,
                    "system",
                    "no answer from the supplier by the deadline",
                    due_at=None,
                )
            elif claim.state is ClaimState.rejected:
                claim = claim.close(due, "system", "not appealed by the deadline")
        out.append(claim)
    return tuple(out)
