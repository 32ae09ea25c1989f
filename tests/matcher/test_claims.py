"""The claim state machine: every transition allowed and refused, deadlines on a given clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from data.schemas import SHANGHAI
from matcher.claims import (
    ALLOWED,
    Claim,
    ClaimKind,
    ClaimSource,
    ClaimState,
    InvalidClaimTransitionError,
    Resolution,
    ResolutionKind,
    escalate_due,
    file_claim,
)

FILED = dt.datetime(2022, 4, 15, 18, 0, tzinfo=SHANGHAI)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(hours=24)
REFUND = Resolution(kind=ResolutionKind.refund, amount_cents=3500)


def filed(within: dt.timedelta = DAY, units: int = 2) -> Claim:
    """A household's claim on 2 spoiled units at 35.00 yuan, filed at 18:00."""
    return file_claim(
        claim_id="cl-1",
        group_id="g-1",
        compound_id="c-huamu",
        supplier_id="sup-a",
        category_id="vegetables",
        source=ClaimSource.household,
        kind=ClaimKind.spoiled,
        units=units,
        unit_price_cents=3500,
        at=FILED,
        actor="resident",
        answer_within=within,
        signup_id="su-1",
    )


def reach(state: ClaimState) -> Claim:
    """A claim brought to ``state`` by the shortest legal path."""
    claim = filed()
    paths: dict[ClaimState, list[Callable[[Claim], Claim]]] = {
        ClaimState.filed: [],
        ClaimState.accepted: [lambda c: c.accept(REFUND, FILED + HOUR, "disp")],
        ClaimState.rejected: [
            lambda c: c.reject("not ours", FILED + HOUR, "disp", appeal_within=DAY)
        ],
        ClaimState.escalated: [lambda c: escalate_due([c], FILED + DAY)[0]],
        ClaimState.upheld: [
            lambda c: escalate_due([c], FILED + DAY)[0],
            lambda c: c.uphold(REFUND, FILED + 2 * DAY, "jwh"),
        ],
        ClaimState.dismissed: [
            lambda c: escalate_due([c], FILED + DAY)[0],
            lambda c: c.dismiss("photos show fresh goods", FILED + 2 * DAY, "jwh"),
        ],
        ClaimState.closed: [
            lambda c: c.accept(REFUND, FILED + HOUR, "disp"),
            lambda c: c.close(FILED + 2 * HOUR, "leader"),
        ],
    }
    for step in paths[state]:
        claim = step(claim)
    assert claim.state is state
    return claim


def attempt(claim: Claim, to: ClaimState) -> Claim:
    """Ask ``claim`` to move to ``to`` with the method that leads there, a day later."""
    at = claim.history[-1].at + HOUR
    moves = {
        ClaimState.accepted: lambda: claim.accept(REFUND, at, "disp"),
        ClaimState.rejected: lambda: claim.reject("no", at, "disp", appeal_within=DAY),
        ClaimState.escalated: lambda: (
            escalate_due([claim], claim.due_at)[0]
            if claim.state is ClaimState.filed and claim.due_at is not None
            else claim.appeal(at, "leader")
        ),
        ClaimState.upheld: lambda: claim.uphold(REFUND, at, "jwh"),
        ClaimState.dismissed: lambda: claim.dismiss("no", at, "jwh"),
        ClaimState.closed: lambda: claim.close(at, "leader"),
    }
    return moves[to]()


def test_filing_prices_the_units_and_sets_the_answer_deadline() -> None:
    claim = filed()
    assert claim.state is ClaimState.filed
    assert claim.amount_cents == 7000
    assert claim.due_at == FILED + DAY
    assert claim.history[0].to_state is ClaimState.filed


@pytest.mark.parametrize("start", list(ClaimState))
@pytest.mark.parametrize("to", [s for s in ClaimState if s is not ClaimState.filed])
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    start: ClaimState, to: ClaimState
) -> None:
    claim = reach(start)
    if to in ALLOWED[start]:
        after = attempt(claim, to)
        assert after.state is to
        assert after.history[-1].from_state is start
        assert len(after.history) == len(claim.history) + 1
    else:
        with pytest.raises(InvalidClaimTransitionError, match=f"is {start}"):
            attempt(claim, to)


def test_an_unanswered_claim_is_not_appealed_but_waits_for_its_deadline() -> None:
    with pytest.raises(InvalidClaimTransitionError, match="only a rejected claim"):
        filed().appeal(FILED + HOUR, "leader")


def test_unanswered_claim_escalates_at_its_deadline_not_before() -> None:
    claim = filed()
    (still,) = escalate_due([claim], FILED + DAY - dt.timedelta(seconds=1))
    assert still is claim
    (moved,) = escalate_due([claim], FILED + 3 * DAY)
    assert moved.state is ClaimState.escalated
    assert moved.history[-1].at == FILED + DAY  # dated at the deadline, not at "now"
    assert moved.history[-1].actor == "system"
    assert moved.due_at is None


def test_escalation_time_is_configurable() -> None:
    claim = filed(within=2 * HOUR)
    assert claim.due_at == FILED + 2 * HOUR
    (moved,) = escalate_due([claim], FILED + 2 * HOUR)
    assert moved.state is ClaimState.escalated


def test_answer_after_the_deadline_is_refused() -> None:
    claim = filed()
    with pytest.raises(InvalidClaimTransitionError, match="deadline to answer passed"):
        claim.accept(REFUND, FILED + DAY, "disp")
    with pytest.raises(InvalidClaimTransitionError, match="deadline to answer passed"):
        claim.reject("late", FILED + DAY + HOUR, "disp", appeal_within=DAY)


def test_rejection_is_appealable_until_its_deadline_then_closes() -> None:
    rejected = filed().reject("bad photo", FILED + HOUR, "disp", appeal_within=DAY)
    assert rejected.due_at == FILED + HOUR + DAY
    assert rejected.reason == "bad photo"
    assert rejected.appeal(FILED + DAY, "resident").state is ClaimState.escalated
    with pytest.raises(InvalidClaimTransitionError, match="rejection stands"):
        rejected.appeal(FILED + HOUR + DAY, "resident")
    (closed,) = escalate_due([rejected], FILED + 5 * DAY)
    assert closed.state is ClaimState.closed
    assert closed.history[-1].at == FILED + HOUR + DAY


def test_escalate_due_leaves_answered_and_final_claims_alone() -> None:
    claims = [reach(s) for s in (ClaimState.accepted, ClaimState.upheld, ClaimState.dismissed)]
    assert escalate_due(claims, FILED + 30 * DAY) == tuple(claims)


def test_steps_cannot_go_back_in_time() -> None:
    with pytest.raises(InvalidClaimTransitionError, match="before the last step"):
        filed().accept(REFUND, FILED - HOUR, "disp")


def test_resolutions_are_checked_against_the_claim() -> None:
    claim = filed()
    with pytest.raises(ValueError, match="more than the claim's 7000"):
        claim.accept(Resolution(kind=ResolutionKind.refund, amount_cents=7001), FILED, "d")
    with pytest.raises(ValueError, match="units: 3 is more"):
        claim.accept(
            Resolution(kind=ResolutionKind.redelivery, units=3, redelivery_date=FILED.date()),
            FILED,
            "d",
        )
    with pytest.raises(ValueError, match="redelivery names its units"):
        Resolution(kind=ResolutionKind.redelivery)
    with pytest.raises(ValueError, match="positive amount_cents"):
        Resolution(kind=ResolutionKind.credit)
    with pytest.raises(ValueError, match="say why"):
        claim.reject("  ", FILED + HOUR, "d", appeal_within=DAY)


def test_upheld_claims_are_remembered_after_closing() -> None:
    assert reach(ClaimState.closed).was_upheld
    assert reach(ClaimState.upheld).was_upheld
    assert not reach(ClaimState.dismissed).was_upheld
    assert not reach(ClaimState.rejected).was_upheld
