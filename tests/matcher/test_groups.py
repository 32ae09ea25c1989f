"""Groups: threshold and deadline decide formed or failed; failed demand is re-matched."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.groups import (
    Group,
    GroupState,
    InvalidTransitionError,
    close_groups,
    open_groups,
    remaining_capacity,
    rematch_failed,
)
from matcher.model import Params, Problem
from matcher.solve import solve
from tests.matcher.instances import WINDOW_START, World

OPENED = WINDOW_START - dt.timedelta(hours=20)
DEADLINE = WINDOW_START - dt.timedelta(hours=8)
NEW_DEADLINE = WINDOW_START - dt.timedelta(hours=4)


def two_suppliers() -> World:
    """c1 wants 30 veg; s1 (cheap, min order 20) and s2 (dearer, min order 5) can deliver."""
    world = World()
    world.add_compound(1, {"veg": (30, 0)})
    world.add_supplier("s1")
    world.add_supplier("s2", at_km=2)
    world.add_offer("o1", "s1", "veg", 100, price=800, min_order=20)
    world.add_offer("o2", "s2", "veg", 100, price=900, min_order=5)
    return world


def opened(world: World) -> tuple[Problem, tuple[Group, ...]]:
    """The world's problem and one open group per line of its allocation."""
    problem = world.problem()
    allocation = solve(problem, Params(time_limit_s=2, seed=1))
    return problem, open_groups(problem, allocation, opened_at=OPENED, deadline=DEADLINE)


def test_full_life_cycle_records_every_transition() -> None:
    _, groups = opened(two_suppliers())
    (group,) = groups
    assert (group.offer_id, group.threshold_units, group.allocated_units) == ("o1", 20, 30)
    group = group.commit(25, OPENED + dt.timedelta(hours=1))
    (group,) = close_groups([group], DEADLINE)
    assert group.state is GroupState.formed
    for step, state in enumerate(
        (GroupState.matched, GroupState.dispatched, GroupState.delivered, GroupState.settled)
    ):
        group = group.advance(
            state, DEADLINE + dt.timedelta(hours=step + 1), note_zh="记录", note_en="recorded"
        )
    assert [t.to_state for t in group.history] == [
        GroupState.open,
        GroupState.formed,
        GroupState.matched,
        GroupState.dispatched,
        GroupState.delivered,
        GroupState.settled,
    ]
    assert all(t.note_zh and t.note_en for t in group.history)
    assert "25" in group.history[1].note_en and "20" in group.history[1].note_en


def test_invalid_transitions_and_late_sign_ups_are_refused() -> None:
    _, (group,) = opened(two_suppliers())
    with pytest.raises(InvalidTransitionError, match="cannot become dispatched"):
        group.advance(GroupState.dispatched, DEADLINE, note_zh="x", note_en="x")
    with pytest.raises(InvalidTransitionError, match="closed at"):
        group.commit(5, DEADLINE + dt.timedelta(minutes=1))
    failed = close_groups([group], DEADLINE)[0]
    assert failed.state is GroupState.failed
    with pytest.raises(InvalidTransitionError, match="final state"):
        failed.advance(GroupState.formed, DEADLINE, note_zh="x", note_en="x")
    with pytest.raises(InvalidTransitionError, match="before the last"):
        formed = close_groups([group.commit(20, OPENED)], DEADLINE)[0]
        formed.advance(GroupState.matched, OPENED, note_zh="x", note_en="x")


def test_open_group_before_deadline_stays_open() -> None:
    _, (group,) = opened(two_suppliers())
    (still,) = close_groups([group], DEADLINE - dt.timedelta(minutes=1))
    assert still.state is GroupState.open


def test_failed_group_releases_capacity_and_is_rematched_to_next_offer() -> None:
    world = two_suppliers()
    problem, (group,) = opened(world)
    group = group.commit(12, OPENED + dt.timedelta(hours=2))  # below s1's minimum of 20
    groups = close_groups([group], DEADLINE)
    assert groups[0].state is GroupState.failed
    assert remaining_capacity(problem, groups)["o1"] == 100  # released
    groups, notices = rematch_failed(problem, groups, at=DEADLINE, deadline=NEW_DEADLINE)
    new = groups[-1]
    assert (new.offer_id, new.supplier_id, new.state) == ("o2", "s2", GroupState.open)
    assert new.committed_units == 12 and new.rematched_from == groups[0].group_id
    assert new.threshold_units == 5 and new.deadline == NEW_DEADLINE
    assert remaining_capacity(problem, groups)["o2"] == 100 - 12
    (notice,) = notices
    assert notice.new_group_id == new.group_id
    assert "s2" in notice.zh and "s2" in notice.en and "cheapest eligible" in notice.en
    # Re-running the re-match does not move the same demand twice.
    again, more = rematch_failed(problem, groups, at=DEADLINE, deadline=NEW_DEADLINE)
    assert len(again) == len(groups) and more == ()


def test_rematch_skips_ineligible_and_full_offers_and_says_why() -> None:
    world = two_suppliers()
    world.add_supplier("s3", licensed=False)  # no supply permit: ineligible
    world.add_offer("o3", "s3", "veg", 100, price=100, min_order=1)
    world.add_supplier("s4")
    world.add_offer("o4", "s4", "veg", 5, price=200, min_order=1)  # too small for 12
    world.offers = [o for o in world.offers if o.offer_id != "o2"]
    problem, groups = opened(world)
    # s4's small offer is cheaper, so it forms with its 5 units; o1's group gets 12 of 20.
    committed = {"o1": 12, "o4": 5}
    failed = [g.commit(committed[g.offer_id], OPENED) for g in groups]
    failed = list(close_groups(failed, DEADLINE))
    o1_group = next(g for g in failed if g.offer_id == "o1")
    assert o1_group.state is GroupState.failed
    _, notices = rematch_failed(problem, failed, at=DEADLINE, deadline=NEW_DEADLINE)
    notice = next(n for n in notices if n.failed_group_id == o1_group.group_id)
    assert notice.new_group_id is None
    assert "s3:" in notice.en and "s4: only" in notice.en
    assert "暂无" in notice.zh
