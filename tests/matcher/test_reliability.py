"""Reliability records, their line in explanations, and the optional penalty in the matcher."""

from __future__ import annotations

import datetime as dt

import pytest

from data.schemas import SHANGHAI
from matcher.explain import explain
from matcher.model import Params
from matcher.reliability import Arrival, penalty_cents_per_unit, reliability_of
from matcher.solve import solve
from tests.matcher.instances import World

WINDOW = dt.datetime(2022, 4, 15, 9, 0, tzinfo=SHANGHAI)


def arrival(minutes_late: int) -> Arrival:
    """A stop with a 09:00-10:00 window, reached ``minutes_late`` after 10:00 (negative:
    before)."""
    return Arrival(
        window_start=WINDOW,
        window_end=WINDOW + dt.timedelta(hours=1),
        arrived_at=WINDOW + dt.timedelta(minutes=60 + minutes_late),
    )


def test_no_data_no_score() -> None:
    record = reliability_of("s1")
    assert record.score_permille is None
    assert "暂无" in record.text().zh


def test_score_multiplies_the_good_shares() -> None:
    record = reliability_of(
        "s1",
        arrivals=[arrival(-30), arrival(-1), arrival(0), arrival(15)],  # 3 of 4 on time
        checks=[False, False, False, True],  # 1 of 4 short or spoiled
        claims_upheld=[True, False],  # 1 upheld of 4 delivered lines
    )
    assert record.on_time_permille == 750
    assert record.short_or_spoiled_permille == 250
    assert record.upheld_permille == 250
    assert record.score_permille == 750 * 750 // 1000 * 750 // 1000
    assert "on time 75.0% (3/4)" in record.text().en


def test_an_upheld_claim_lowers_the_score() -> None:
    before = reliability_of("s1", checks=[False, False], claims_upheld=[False])
    after = reliability_of("s1", checks=[False, False], claims_upheld=[True])
    assert before.score_permille == 1000
    assert after.score_permille is not None and after.score_permille < 1000


def test_early_arrival_is_not_within_the_window() -> None:
    assert not arrival(-61).on_time
    assert arrival(-60).on_time


@pytest.mark.parametrize(
    ("penalty", "score", "expected"), [(0, 0, 0), (1000, None, 0), (1000, 1000, 0), (200, 500, 100)]
)
def test_penalty_scales_with_the_missing_reliability(
    penalty: int, score: int | None, expected: int
) -> None:
    assert penalty_cents_per_unit(penalty, score) == expected


def tie() -> World:
    """c1 wants 50 veg; s1 and s2 sell at the same price from the same place, 100 each."""
    world = World()
    world.add_compound(1, {"veg": (50, 0)})
    world.add_supplier("s1")
    world.add_supplier("s2")
    world.add_offer("o1", "s1", "veg", 100, price=1000)
    world.add_offer("o2", "s2", "veg", 100, price=1000)
    return world


def served_by(world: World, params: Params, scores: tuple[tuple[str, int], ...]) -> dict[str, int]:
    problem = world.problem().model_copy(update={"supplier_reliability_permille": scores})
    allocation = solve(problem, params)
    out: dict[str, int] = {}
    for line in allocation.lines:
        out[line.supplier_id] = out.get(line.supplier_id, 0) + line.quantity_units
    return out


def test_penalty_moves_volume_away_from_an_unreliable_supplier_when_prices_tie() -> None:
    world = tie()
    params = Params(time_limit_s=5, seed=1)
    assert served_by(world, params, ()) == {"s1": 50}  # the tie goes to the first offer
    unreliable_s1 = (("s1", 400), ("s2", 950))
    assert served_by(world, params, unreliable_s1) == {"s1": 50}  # no penalty: no change
    penalised = params.model_copy(update={"reliability_penalty_cents_per_unit": 100})
    assert served_by(world, penalised, unreliable_s1) == {"s2": 50}


def test_penalty_is_not_charged_in_the_allocation_costs() -> None:
    world = tie()
    params = Params(time_limit_s=5, seed=1, reliability_penalty_cents_per_unit=100)
    problem = world.problem().model_copy(
        update={"supplier_reliability_permille": (("s1", 0), ("s2", 0))}
    )
    allocation = solve(problem, params)
    assert allocation.objectives.cost_cents == 50 * 1000
    assert all(line.delivery_cost_cents == 0 for line in allocation.lines)


def test_explanations_show_a_line_per_supplier_with_a_record() -> None:
    world = tie()
    problem = world.problem()
    allocation = solve(problem, Params(time_limit_s=5, seed=1))
    plain = explain(problem, allocation)
    assert all(note.reliability is None for d in plain for note in d.suppliers)
    record = reliability_of("s2", checks=[True, False])
    (decision,) = explain(problem, allocation, reliability={"s2": record})
    notes = {note.supplier_id: note for note in decision.suppliers}
    assert notes["s1"].reliability is None
    assert notes["s2"].reliability == record.text()
    assert "验货缺损50.0%（1/2）" in decision.text("zh")
    assert decision.text("en").count("reliability") == 1


def test_unknown_supplier_score_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown supplier_id 'nobody'"):
        type(tie().problem()).model_validate(
            tie().problem().model_dump() | {"supplier_reliability_permille": (("nobody", 5),)}
        )
