"""Pooled groups: compounds below the minimum order served only together, within reach."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from matcher.eligibility import Bilingual
from matcher.model import Params, Problem
from matcher.pooling import (
    DistanceKind,
    Pool,
    PoolDrop,
    PoolingParams,
    PoolingResult,
    PoolUnmetReason,
    propose_pools,
)
from matcher.result import Allocation, UnmetReason
from matcher.solve import solve
from tests.matcher.instances import random_world
from tests.matcher.pooling_instances import place, three_in_a_row, two_small_neighbours

FAST = Params(time_limit_s=2.0)


def pooled(problem: Problem, params: PoolingParams | None = None) -> PoolingResult:
    """Solve, then propose pools with ``params``."""
    return propose_pools(problem, solve(problem, FAST), params)


def test_two_compounds_below_the_minimum_are_served_only_together() -> None:
    problem = two_small_neighbours().problem()
    allocation = solve(problem, FAST)
    assert allocation.lines == ()
    assert {(u.compound_id, u.reason) for u in allocation.unmet} == {
        ("c1", UnmetReason.below_min_order),
        ("c2", UnmetReason.below_min_order),
    }
    result = propose_pools(problem, allocation)
    [pool] = result.pools
    assert pool.offer_id == "o1"
    assert pool.supplier_id == "s1"
    assert pool.category_id == "veg"
    assert pool.compound_ids == ("c1", "c2")  # c1 leads: more priority units
    assert pool.units_by_compound == {"c1": 6, "c2": 6}
    assert pool.priority_units_by_compound == {"c1": 2, "c2": 1}
    assert pool.joint_units == 12
    assert pool.min_order_units == 10
    assert 990 <= pool.max_distance_m <= 1010  # 1 km on the sphere
    assert pool.drop is PoolDrop.per_compound
    assert pool.drop_compound_id is None
    assert pool.cost_cents == 12 * 1000
    assert "起送份数10份" in pool.explanation.zh
    assert "minimum order of 10" in pool.explanation.en
    assert result.unmet == ()
    assert (result.served_units, result.served_priority_units) == (12, 3)
    assert result.compounds_lifted_from_zero == ("c1", "c2")
    assert (result.candidate_units, result.candidate_compounds, result.bound_units) == (12, 2, 12)


def test_no_pool_when_the_neighbour_is_farther_than_the_limit() -> None:
    problem = two_small_neighbours(gap_km=2).problem()  # c1 and c3, 2 km apart
    result = pooled(problem, PoolingParams(max_distance_m=1500))
    assert result.pools == ()
    assert {(u.compound_id, u.quantity_units, u.reason) for u in result.unmet} == {
        ("c1", 6, PoolUnmetReason.no_neighbour_in_reach),
        ("c3", 6, PoolUnmetReason.no_neighbour_in_reach),
    }
    assert all(u.matcher_reason is UnmetReason.below_min_order for u in result.unmet)
    assert result.bound_units == 0
    wider = pooled(problem, PoolingParams(max_distance_m=2500))
    assert [p.compound_ids for p in wider.pools] == [("c1", "c3")]


def test_road_distance_is_the_great_circle_times_circuity() -> None:
    world = two_small_neighbours()
    place(world, "c2", 1000 + 1200)  # 1.2 km from c1: within 1.5 km, not × 1.4
    problem = world.problem()
    assert len(pooled(problem, PoolingParams(max_distance_m=1500)).pools) == 1
    road = pooled(problem, PoolingParams(max_distance_m=1500, distance=DistanceKind.road))
    assert road.pools == ()


def test_capacity_is_respected_and_the_rest_keeps_a_reason() -> None:
    problem = two_small_neighbours(capacity=11).problem()
    result = pooled(problem)
    [pool] = result.pools
    assert pool.units_by_compound == {"c1": 6, "c2": 5}
    assert pool.joint_units == 11 <= problem.offers[0].capacity_units
    [left] = result.unmet
    assert (left.compound_id, left.quantity_units) == ("c2", 1)
    assert left.priority_quantity_units == 0  # c2's priority unit went first
    assert left.reason is PoolUnmetReason.capacity_exhausted


def test_pooling_counts_what_the_allocation_already_took_from_the_offer() -> None:
    world = two_small_neighbours(capacity=25)
    world.add_compound(9, {"veg": (15, 0)})  # served alone by o1: 15 units
    problem = world.problem()
    allocation = solve(problem, FAST)
    assert allocation.served_units("c9", "veg") == 15
    result = propose_pools(problem, allocation)
    [pool] = result.pools
    assert pool.joint_units == 10  # 25 − 15 left
    total = Counter[str]()
    for line in allocation.lines:
        total[line.offer_id] += line.quantity_units
    assert total["o1"] + pool.joint_units <= 25


def test_a_compound_at_its_supplier_limit_is_not_pooled_with_a_new_supplier() -> None:
    world = two_small_neighbours()
    world.demand.append(
        world.demand[0].model_copy(update={"category_id": "pork", "quantity_units": 5})
    )  # c1 also wants 5 pork, from s2
    world.add_supplier("s2")
    world.add_offer("o2", "s2", "pork", 100)
    problem = world.problem()
    rules = Params(time_limit_s=2.0, max_suppliers_per_compound=1)
    allocation = solve(problem, rules)
    assert allocation.served_units("c1", "pork") == 5  # s2 is c1's one supplier
    result = propose_pools(problem, allocation, rules=rules)
    assert result.pools == ()
    reasons = {(u.compound_id, u.category_id): u.reason for u in result.unmet}
    assert reasons["c1", "veg"] is PoolUnmetReason.supplier_limit
    assert reasons["c2", "veg"] is PoolUnmetReason.no_neighbour_in_reach
    # under the default limit (3) the same allocation pools
    assert len(propose_pools(problem, allocation).pools) == 1


def test_a_compound_left_over_joins_a_pool_within_reach() -> None:
    problem = three_in_a_row().problem()
    result = pooled(problem)
    [pool] = result.pools
    # c1 leads; c3 (0.5 km) is nearest and 7 + 3 reach 10; c2, left alone, then joins
    assert pool.compound_ids == ("c1", "c3", "c2")
    assert pool.units_by_compound == {"c1": 7, "c3": 3, "c2": 6}
    assert pool.max_distance_m == pytest.approx(1000, abs=10)
    assert result.unmet == ()


def test_a_shared_drop_is_the_member_with_least_unit_metres() -> None:
    result = pooled(three_in_a_row().problem(), PoolingParams(drop=PoolDrop.shared))
    [pool] = result.pools
    # c3 sits between c1 (0.5 km, 7 units) and c2 (0.5 km, 6 units): 6,500 unit-m against
    # c1's 6,000 + 1,500 = 7,500 and c2's 7,000 + 1,500 = 8,500.
    assert pool.drop is PoolDrop.shared
    assert pool.drop_compound_id == "c3"
    assert "小区3" in pool.explanation.zh
    assert "shared drop" in pool.explanation.en


def test_other_unmet_reasons_pass_through_unchanged() -> None:
    world = two_small_neighbours()
    world.add_compound(20, {"pork": (4, 1)})  # no pork offer at all
    problem = world.problem()
    allocation = solve(problem, FAST)
    result = propose_pools(problem, allocation)
    [kept] = [u for u in result.unmet if u.compound_id == "c20"]
    assert kept.reason is PoolUnmetReason.not_a_pooling_case
    assert kept.matcher_reason is UnmetReason.no_eligible_supplier
    assert (kept.quantity_units, kept.priority_quantity_units) == (4, 1)


def test_units_are_conserved_and_output_is_deterministic_on_a_random_day() -> None:
    world = random_world(1, compounds=40, suppliers=4, supply_ratio=1.5, min_order=(60, 120))
    problem = world.problem()
    allocation = solve(problem, FAST)
    first = propose_pools(problem, allocation)
    second = propose_pools(problem, allocation)
    assert first.pools == second.pools
    assert first.unmet == second.unmet
    assert first.pools  # the instance has pools to find
    unmet = Counter[tuple[str, str]]()
    for u in allocation.unmet:
        unmet[u.compound_id, u.category_id] += u.quantity_units
    after = Counter[tuple[str, str]]()
    for pool in first.pools:
        assert pool.joint_units >= pool.min_order_units
        assert pool.max_distance_m <= first.params.max_distance_m
        assert len(pool.compound_ids) <= first.params.max_compounds
        for compound_id, units in pool.units_by_compound.items():
            after[compound_id, pool.category_id] += units
    for left in first.unmet:
        after[left.compound_id, left.category_id] += left.quantity_units
    assert after == unmet
    used = Counter[str]()
    for line in allocation.lines:
        used[line.offer_id] += line.quantity_units
    for pool in first.pools:
        used[pool.offer_id] += pool.joint_units
    capacity = {o.offer_id: o.capacity_units for o in problem.offers}
    assert all(used[o] <= capacity[o] for o in used)
    assert first.served_units <= first.bound_units <= first.candidate_units


def test_pool_checks_its_own_numbers() -> None:
    text = Bilingual(zh="拼团", en="pool")
    fields = {
        "pool_id": "p1",
        "offer_id": "o1",
        "supplier_id": "s1",
        "category_id": "veg",
        "compound_ids": ("c1", "c2"),
        "units_by_compound": {"c1": 6, "c2": 6},
        "joint_units": 12,
        "min_order_units": 10,
        "max_distance_m": 1000,
        "cost_cents": 0,
        "explanation": text,
    }
    assert Pool.model_validate(fields).lead_compound_id == "c1"
    with pytest.raises(ValidationError, match="below the minimum order"):
        Pool.model_validate({**fields, "min_order_units": 13})
    with pytest.raises(ValidationError, match="sum of the members"):
        Pool.model_validate({**fields, "joint_units": 11})
    with pytest.raises(ValidationError, match="drop_compound_id"):
        Pool.model_validate({**fields, "drop": "shared"})


def test_an_allocation_of_another_day_is_refused() -> None:
    problem = two_small_neighbours().problem()
    allocation = solve(problem, FAST)
    other = Allocation.model_validate(
        {**allocation.model_dump(), "delivery_date": allocation.delivery_date.replace(day=1)}
    )
    with pytest.raises(ValueError, match="allocation is for 2022-04-01"):
        propose_pools(problem, other)
