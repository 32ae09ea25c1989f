"""Groups (团): an offer for a compound with a threshold and a deadline, and their life cycle.

A group is opened for each allocation line (offer × compound). Residents commit units
until the deadline; at the deadline a group with committed units at or above its threshold
is ``formed``, otherwise ``failed``. A failed group releases its share of the offer's
capacity and its committed units are re-matched to the next eligible offer with room
(cheapest, then nearest, then by id: deterministic), which opens a new group; the leader gets
a notice saying which and why. Every transition is recorded with its time and reason.

Offer-first groups are opened by a leader on an offer's package with the fee and commission
it declares, and may be pooled across neighbouring compounds (``compound_ids``, lead first;
the threshold counts jointly). Residents sign up for packages but the supplier ships whole
cases of ``case_size_units``, so a group closes with ``close_with_cases``:

- ``rounding="down"`` (default): the group orders the largest number of whole cases its
  sign-ups fill; lines are taken in sign-up order, a line is never split, a line that does
  not fit in the cases is ``waitlisted`` (not charged) and a later smaller line may still
  fit; if the kept lines leave a case part-filled, one case fewer is ordered and the lines
  are taken again. The leader is told how many more units, added to the waitlisted ones,
  would make whole cases again (``units_to_next_case``).
- ``rounding="up"``: every line is kept and the group orders the next whole case; the
  leader accepts (and pays for) the spare units.

A group forms when the units kept after rounding reach its threshold.

State machine::

    open ──► formed ──► matched ──► dispatched ──► delivered ──► settled
      └────► failed (terminal; its demand moves to a new group on another offer)
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from typing import Self

from pydantic import Field, model_validator

from data.schemas import AwareDatetime, Identifier, Model
from matcher.eligibility import Eligibility, Reason, check_eligibility, describe
from matcher.model import Problem
from matcher.result import Allocation


class GroupState(enum.StrEnum):
    """Where a group is in its life cycle."""

    open = "open"
    formed = "formed"
    failed = "failed"
    matched = "matched"
    dispatched = "dispatched"
    delivered = "delivered"
    settled = "settled"


ALLOWED: dict[GroupState, frozenset[GroupState]] = {
    GroupState.open: frozenset({GroupState.formed, GroupState.failed}),
    GroupState.formed: frozenset({GroupState.matched}),
    GroupState.failed: frozenset(),
    GroupState.matched: frozenset({GroupState.dispatched}),
    GroupState.dispatched: frozenset({GroupState.delivered}),
    GroupState.delivered: frozenset({GroupState.settled}),
    GroupState.settled: frozenset(),
}
"""The transitions a group may take; anything else is an ``InvalidTransitionError``."""

HOLDS_CAPACITY = frozenset(set(GroupState) - {GroupState.failed})
"""States in which a group keeps its share of the offer's capacity."""


class Rounding(enum.StrEnum):
    """How a group's sign-ups become whole cases at close (see the module docstring)."""

    down = "down"
    up = "up"


class Drop(enum.StrEnum):
    """Where a pooled group's truck unloads: one stop per compound, or one shared drop."""

    per_compound = "per_compound"
    shared = "shared"


class InvalidTransitionError(ValueError):
    """A group was asked to move to a state its current state does not lead to."""


class Transition(Model):
    """One recorded state change of a group, with when and why."""

    from_state: GroupState | None
    to_state: GroupState
    at: AwareDatetime
    note_zh: str
    note_en: str


class Group(Model):
    """团: a compound's group on one offer, with its threshold, deadline and history."""

    group_id: Identifier
    offer_id: Identifier
    supplier_id: Identifier
    compound_id: Identifier
    category_id: Identifier
    threshold_units: int = Field(ge=1, description="成团门槛: units needed by the deadline")
    allocated_units: int = Field(ge=0, description="the offer's capacity held for this group")
    committed_units: int = Field(default=0, ge=0, description="units residents signed up for")
    deadline: AwareDatetime
    state: GroupState = GroupState.open
    history: tuple[Transition, ...] = Field(min_length=1)
    rematched_from: Identifier | None = None
    compound_ids: tuple[Identifier, ...] = Field(
        default=(), description="pooled: every compound served, lead first; () = compound_id"
    )
    drop: Drop = Drop.per_compound
    drop_compound_id: Identifier | None = Field(
        default=None, description="the compound of the shared drop the leaders agreed on"
    )
    threshold_cents: int | None = Field(
        default=None, ge=1, description="a threshold in amount; threshold_units is derived"
    )
    case_size_units: int = Field(default=1, ge=1, description="the supplier ships whole cases")
    rounding: Rounding = Rounding.down
    ordered_units: int | None = Field(
        default=None, ge=0, description="units ordered from the supplier after case rounding"
    )
    units_to_next_case: int = Field(
        default=0, ge=0, description="rounding down: units more that would fill the next case"
    )
    delivery_fee_cents: int = Field(default=0, ge=0, description="declared when opened")
    leader_commission_cents: int = Field(default=0, ge=0, description="declared when opened")

    @model_validator(mode="after")
    def _history_ends_in_state(self) -> Self:
        if self.history[-1].to_state is not self.state:
            raise ValueError(
                f"group {self.group_id}: state {self.state} differs from its last transition"
            )
        if self.compound_ids and self.compound_ids[0] != self.compound_id:
            raise ValueError(
                f"group {self.group_id}: the lead compound {self.compound_id} must come first "
                "in compound_ids"
            )
        if self.drop is Drop.shared and self.drop_compound_id not in self.served:
            raise ValueError(
                f"group {self.group_id}: a shared drop needs drop_compound_id, one of "
                f"{', '.join(self.served)}"
            )
        return self

    @property
    def served(self) -> tuple[str, ...]:
        """Every compound the group delivers to, lead first."""
        return self.compound_ids or (self.compound_id,)

    def advance(self, to: GroupState, at: dt.datetime, *, note_zh: str, note_en: str) -> Group:
        """This group moved to ``to`` at ``at``; raises InvalidTransitionError if not allowed."""
        if to not in ALLOWED[self.state]:
            allowed = ", ".join(sorted(ALLOWED[self.state])) or "none (final state)"
            raise InvalidTransitionError(
                f"group {self.group_id} is {self.state}; it cannot become {to} (allowed: {allowed})"
            )
        if at < self.history[-1].at:
            raise InvalidTransitionError(
                f"group {self.group_id}: transition at {at.isoformat()} is before the last "
                f"one at {self.history[-1].at.isoformat()}"
            )
        step = Transition(from_state=self.state, to_state=to, at=at, note_zh=note_zh,
                          note_en=note_en)  # fmt: skip
        return self.model_copy(update={"state": to, "history": (*self.history, step)})

    def commit(self, units: int, at: dt.datetime) -> Group:
        """Residents signed up for ``units`` more at ``at`` (only while open, by the deadline)."""
        if units <= 0:
            raise ValueError(f"committed units must be positive, got {units}")
        if self.state is not GroupState.open:
            raise InvalidTransitionError(f"group {self.group_id} is {self.state}, not open")
        if at > self.deadline:
            raise InvalidTransitionError(
                f"group {self.group_id} closed at {self.deadline.isoformat()}; "
                "sign up to the re-matched group instead"
            )
        return self.model_copy(update={"committed_units": self.committed_units + units})

    def withdraw(self, units: int, at: dt.datetime) -> Group:
        """A sign-up of ``units`` was cancelled at ``at`` (only while open, by the deadline)."""
        if units <= 0 or units > self.committed_units:
            raise ValueError(f"cannot withdraw {units} of {self.committed_units} committed units")
        if self.state is not GroupState.open or at > self.deadline:
            raise InvalidTransitionError(
                f"group {self.group_id} is {self.state} (deadline "
                f"{self.deadline.isoformat()}); sign-ups can no longer change"
            )
        return self.model_copy(update={"committed_units": self.committed_units - units})


class LeaderNotice(Model):
    """What the leader of a failed group is told: where the demand went, and why."""

    compound_id: Identifier
    category_id: Identifier
    failed_group_id: Identifier
    new_group_id: Identifier | None
    zh: str
    en: str


def _opened(at: dt.datetime, note_zh: str, note_en: str) -> Transition:
    return Transition(from_state=None, to_state=GroupState.open, at=at, note_zh=note_zh,
                      note_en=note_en)  # fmt: skip


def open_groups(
    problem: Problem, allocation: Allocation, *, opened_at: dt.datetime, deadline: dt.datetime
) -> tuple[Group, ...]:
    """One open group per allocation line; the threshold is the offer's minimum order."""
    if deadline <= opened_at:
        raise ValueError(
            f"deadline {deadline.isoformat()} is not after opened_at {opened_at.isoformat()}"
        )
    offers = {offer.offer_id: offer for offer in problem.offers}
    groups = []
    for line in allocation.lines:
        offer = offers[line.offer_id]
        group_id = f"g-{line.offer_id}-{line.compound_id}"
        groups.append(
            Group(
                group_id=group_id,
                offer_id=line.offer_id,
                supplier_id=line.supplier_id,
                compound_id=line.compound_id,
                category_id=line.category_id,
                threshold_units=offer.min_order_units,
                allocated_units=line.quantity_units,
                deadline=deadline,
                history=(
                    _opened(
                        opened_at,
                        f"按匹配结果开团,{offer.min_order_units} 份成团,"
                        f"截止 {deadline:%m-%d %H:%M}。",
                        f"opened from the allocation: forms at {offer.min_order_units} units "
                        f"by {deadline:%m-%d %H:%M}.",
                    ),
                ),
            )
        )
    return tuple(groups)


def close_groups(groups: Iterable[Group], at: dt.datetime) -> tuple[Group, ...]:
    """Decide every open group whose deadline has passed: formed or failed."""
    closed = []
    for group in groups:
        if group.state is GroupState.open and group.deadline <= at:
            if group.committed_units >= group.threshold_units:
                group = group.advance(
                    GroupState.formed,
                    at,
                    note_zh=f"截止时已接龙 {group.committed_units} 份,"
                    f"达到 {group.threshold_units} 份,成团。",
                    note_en=f"{group.committed_units} units committed by the deadline, "
                    f"threshold {group.threshold_units}: formed.",
                )
            else:
                group = group.advance(
                    GroupState.failed,
                    at,
                    note_zh=f"截止时仅接龙 {group.committed_units} 份,"
                    f"未达 {group.threshold_units} 份,未成团,释放供应量。",
                    note_en=f"only {group.committed_units} of {group.threshold_units} units "
                    "committed by the deadline: failed; its capacity is released.",
                )
        closed.append(group)
    return tuple(closed)


class CaseRounding(Model):
    """Sign-up lines turned into whole cases: what is ordered, kept and waitlisted."""

    case_size_units: int
    rounding: Rounding
    ordered_units: int = Field(ge=0)
    kept: tuple[str, ...] = Field(description="line keys ordered, in sign-up order")
    waitlisted: tuple[str, ...] = Field(description="line keys not ordered, not charged")
    kept_units: int = Field(ge=0)
    spare_units: int = Field(ge=0, description="rounding up: units the leader accepts")
    units_to_next_case: int = Field(ge=0, description="rounding down: units to fill one more")


def round_to_cases(
    lines: Sequence[tuple[str, int]], case_size_units: int, rounding: Rounding
) -> CaseRounding:
    """Whole cases for sign-up ``lines`` (key, units) in sign-up order (module docstring)."""
    if case_size_units < 1:
        raise ValueError(f"case size must be at least 1, got {case_size_units}")
    bad = [key for key, units in lines if units < 1]
    if bad:
        raise ValueError(f"sign-up lines {', '.join(bad)} have no units")
    total = sum(units for _, units in lines)
    if rounding is Rounding.up:
        ordered = -(-total // case_size_units) * case_size_units
        return CaseRounding(
            case_size_units=case_size_units,
            rounding=rounding,
            ordered_units=ordered,
            kept=tuple(key for key, _ in lines),
            waitlisted=(),
            kept_units=total,
            spare_units=ordered - total,
            units_to_next_case=0,
        )
    target = total // case_size_units * case_size_units
    while True:
        kept: list[str] = []
        used = 0
        for key, units in lines:
            if used + units <= target:
                kept.append(key)
                used += units
        if used == target:
            break
        target = used // case_size_units * case_size_units
    chosen = set(kept)
    waiting = tuple(key for key, _ in lines if key not in chosen)
    return CaseRounding(
        case_size_units=case_size_units,
        rounding=rounding,
        ordered_units=target,
        kept=tuple(kept),
        waitlisted=waiting,
        kept_units=target,
        spare_units=0,
        units_to_next_case=-(total - target) % case_size_units if waiting else 0,
    )


def close_with_cases(
    group: Group, lines: Sequence[tuple[str, int]], at: dt.datetime
) -> tuple[Group, CaseRounding]:
    """Decide an open group past its deadline on its sign-up ``lines`` (key, units, in sign-up
    order; they must add up to its committed units): whole-case rounding, then formed if the
    kept units reach the threshold, else failed (nothing waitlisted, capacity released)."""
    if group.state is not GroupState.open or at < group.deadline:
        raise InvalidTransitionError(
            f"group {group.group_id} is {group.state} with deadline "
            f"{group.deadline.isoformat()}; it closes once, when open and past the deadline"
        )
    listed = sum(units for _, units in lines)
    if listed != group.committed_units:
        raise ValueError(
            f"group {group.group_id}: lines hold {listed} units, committed {group.committed_units}"
        )
    cases = round_to_cases(lines, group.case_size_units, group.rounding)
    if cases.kept_units >= group.threshold_units:
        more = f";另需 {cases.units_to_next_case} 份可再凑一箱" if cases.units_to_next_case else ""
        after = group.advance(
            GroupState.formed,
            at,
            note_zh=f"截止时接龙 {listed} 份,按整箱({group.case_size_units} 份/箱)订 "
            f"{cases.ordered_units} 份,{len(cases.waitlisted)} 条候补{more},成团。",
            note_en=f"{listed} units signed up; {cases.ordered_units} ordered in whole cases "
            f"of {group.case_size_units} ({group.rounding}), {len(cases.waitlisted)} lines "
            f"waitlisted, threshold {group.threshold_units}: formed.",
        )
        update = {
            "committed_units": cases.kept_units,
            "ordered_units": cases.ordered_units,
            "units_to_next_case": cases.units_to_next_case,
        }
        return after.model_copy(update=update), cases
    failed = group.advance(
        GroupState.failed,
        at,
        note_zh=f"截止时整箱后仅 {cases.kept_units} 份,未达 {group.threshold_units} 份,"
        "未成团,释放供应量。",
        note_en=f"only {cases.kept_units} of {group.threshold_units} units in whole cases by "
        "the deadline: failed; its capacity is released.",
    )
    unchanged = cases.model_copy(
        update={"kept": tuple(k for k, _ in lines), "waitlisted": (), "ordered_units": 0,
                "kept_units": listed, "spare_units": 0, "units_to_next_case": 0}
    )  # fmt: skip
    return failed.model_copy(update={"ordered_units": 0}), unchanged


def remaining_capacity(problem: Problem, groups: Iterable[Group]) -> dict[str, int]:
    """Capacity per offer not held by a group that has not failed."""
    left = {offer.offer_id: offer.capacity_units for offer in problem.offers}
    for group in groups:
        if group.state in HOLDS_CAPACITY:
            left[group.offer_id] -= group.allocated_units
    return left


def rematch_failed(
    problem: Problem,
    groups: Sequence[Group],
    *,
    at: dt.datetime,
    deadline: dt.datetime,
    max_suppliers_per_compound: int = 3,
    eligibility: Eligibility | None = None,
) -> tuple[tuple[Group, ...], tuple[LeaderNotice, ...]]:
    """Move each failed group's committed units to the next eligible offer with room.

    Candidates are offers of the same category, eligible for the compound, of a supplier
    that has not failed there for this category, with remaining capacity for the committed
    units and a minimum order they reach, and within the compound's supplier limit. The
    cheapest wins (then the nearest depot, then the offer id). Returns all groups (new ones
    appended, open until ``deadline``) and one notice per failed group.
    """
    eligibility = eligibility or check_eligibility(problem)
    left = remaining_capacity(problem, groups)
    result = list(groups)
    notices = []
    already = {g.rematched_from for g in groups if g.rematched_from}
    for failed in groups:
        if failed.state is not GroupState.failed or failed.group_id in already:
            continue
        if failed.committed_units == 0:
            notices.append(
                _notice(failed, None, "没有人接龙,无需改派。", "nobody committed; nothing to move.")
            )
            continue
        refused = {
            g.supplier_id
            for g in result
            if g.compound_id == failed.compound_id
            and g.category_id == failed.category_id
            and g.state is GroupState.failed
        }
        suppliers_here = {
            g.supplier_id
            for g in result
            if g.compound_id == failed.compound_id and g.state in HOLDS_CAPACITY
        }
        choice = None
        why_not: list[str] = []
        for offer in sorted(
            (o for o in problem.offers if o.category_id == failed.category_id),
            key=lambda o: (
                o.unit_price_cents,
                eligibility.distance(o.offer_id, failed.compound_id),
                o.offer_id,
            ),
        ):
            if offer.supplier_id in refused:
                continue
            reason = eligibility.reason(offer.offer_id, failed.compound_id)
            if reason is not Reason.eligible:
                text = describe(
                    problem,
                    eligibility,
                    reason,
                    supplier_id=offer.supplier_id,
                    compound_id=failed.compound_id,
                    category_id=failed.category_id,
                    offer_id=offer.offer_id,
                )
                why_not.append(f"{offer.supplier_id}: {text.en.rstrip('.')}")
            elif left[offer.offer_id] < failed.committed_units:
                why_not.append(f"{offer.supplier_id}: only {left[offer.offer_id]} units left")
            elif failed.committed_units < offer.min_order_units:
                why_not.append(f"{offer.supplier_id}: minimum order {offer.min_order_units} units")
            elif (
                offer.supplier_id not in suppliers_here
                and len(suppliers_here) >= max_suppliers_per_compound
            ):
                why_not.append(f"{offer.supplier_id}: compound already has the most suppliers")
            else:
                choice = offer
                break
        if choice is None:
            reasons = "; ".join(why_not) or "no other offer of this category"
            notices.append(
                _notice(
                    failed,
                    None,
                    f"{failed.committed_units} 份暂无其他符合条件的供应商可改派。",
                    f"{failed.committed_units} units could not be moved: {reasons}.",
                )
            )
            continue
        left[choice.offer_id] -= failed.committed_units
        group_id = f"g-{choice.offer_id}-{failed.compound_id}"
        suffix = sum(1 for g in result if g.group_id.startswith(group_id))
        if suffix:
            group_id = f"{group_id}-{suffix + 1}"
        price = f"{choice.unit_price_cents / 100:.2f}"
        new = Group(
            group_id=group_id,
            offer_id=choice.offer_id,
            supplier_id=choice.supplier_id,
            compound_id=failed.compound_id,
            category_id=failed.category_id,
            threshold_units=choice.min_order_units,
            allocated_units=failed.committed_units,
            committed_units=failed.committed_units,
            deadline=deadline,
            rematched_from=failed.group_id,
            history=(
                _opened(
                    at,
                    f"由未成团的 {failed.group_id} 改派,"
                    f"已接龙 {failed.committed_units} 份随之转入。",
                    f"re-matched from failed group {failed.group_id}; its "
                    f"{failed.committed_units} committed units moved here.",
                ),
            ),
        )
        result.append(new)
        notices.append(
            _notice(
                failed,
                group_id,
                f"原团未成团;{failed.committed_units} 份已改由 {choice.supplier_id} 供应"
                f"(单价 ¥{price},起送 {choice.min_order_units} 份),"
                f"请在 {deadline:%m-%d %H:%M} 前确认。",
                f"the group failed; {failed.committed_units} units moved to "
                f"{choice.supplier_id} (¥{price} per unit, minimum {choice.min_order_units}), "
                f"the cheapest eligible offer with room; confirm by {deadline:%m-%d %H:%M}.",
            )
        )
    return tuple(result), tuple(notices)


def _notice(failed: Group, new_group_id: str | None, zh: str, en: str) -> LeaderNotice:
    return LeaderNotice(
        compound_id=failed.compound_id,
        category_id=failed.category_id,
        failed_group_id=failed.group_id,
        new_group_id=new_group_id,
        zh=zh,
        en=en,
    )
