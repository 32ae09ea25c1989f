"""Supplier sets under capacity prices (``matcher.capacity_prices``)."""

from __future__ import annotations

import numpy as np

from matcher import capacity_prices, flow
from matcher import solve as solve_module
from matcher.eligibility import check_eligibility
from matcher.model import Params
from matcher.solve import greedy_quantities, lexicographic_key
from tests.matcher.instances import World


def test_choose_swaps_out_a_greedy_first_pick() -> None:
    # s0 is worth most alone (20), but s1 and s2 together cover every row better (24)
    worth = np.array([[[5, 5, 5, 5], [6, 6, 0, 0], [0, 0, 6, 6]]], dtype=np.float64)
    limited = np.array([True])
    greedy_only = capacity_prices._choose(worth, limited, 2, swaps=0)
    assert greedy_only[0].tolist() == [True, True, False]  # 5+5+5+5 then +1+1: 22
    swapped = capacity_prices._choose(worth, limited, 2, swaps=3)
    assert swapped[0].tolist() == [False, True, True]  # 24


def test_choose_keeps_every_supplier_of_a_compound_within_the_limit() -> None:
    worth = np.array([[[1, 0], [0, 1], [0, 0]], [[3, 3], [2, 0], [0, 2]]], dtype=np.float64)
    chosen = capacity_prices._choose(worth, np.array([False, True]), 1, swaps=3)
    assert chosen[0].tolist() == [True, True, True]
    assert chosen[1].tolist() == [True, False, False]


def _crossed() -> World:
    """c1 wants 10 veg (5 priority); c2 wants 10 veg (4 priority) and 10 pork. s1 sells
    10 veg and 10 pork, s2 10 veg; one supplier per compound. Both suppliers cover c1's
    priority units, and the greedy (c1 first: more priority) breaks the tie by capacity:
    s1 for c1, and s1 for c2 too (its only seller of pork), so s2 stays idle and 20 units
    are served where 30 can be."""
    world = World()
    world.add_compound(1, {"veg": (10, 5)})
    world.add_compound(2, {"veg": (10, 4), "pork": (10, 0)})
    world.add_supplier("s1")
    world.add_supplier("s2")
    world.add_offer("o1", "s1", "veg", 10, price=500)
    world.add_offer("o1p", "s1", "pork", 10, price=2000)
    world.add_offer("o2", "s2", "veg", 10, price=500)
    return world


def test_prices_send_each_compound_to_the_supplier_it_needs() -> None:
    problem = _crossed().problem()
    params = Params(max_suppliers_per_compound=1)
    flat = solve_module._flatten(problem, params, check_eligibility(problem))
    greedy = greedy_quantities(flat)
    priority, _, served, _ = lexicographic_key(flat, greedy)
    assert (priority, served) == (9, 20)

    allowed = capacity_prices.priced_pairs(flat)
    held = {
        (flat.rows[pair.row].compound_id, problem.offers[pair.offer].offer_id)
        for p, pair in enumerate(flat.pairs)
        if allowed[p]
    }
    assert held == {("c1", "o2"), ("c2", "o1"), ("c2", "o1p")}

    best = max(flow.flow_starts(flat, greedy), key=lambda q: lexicographic_key(flat, q))
    assert lexicographic_key(flat, best)[:3] == (9, 1000, 30)


def test_priced_pairs_of_no_pairs_is_empty() -> None:
    world = World()
    world.add_compound(1, {"veg": (10, 0)})
    problem = world.problem()
    flat = solve_module._flatten(problem, Params(), check_eligibility(problem))
    assert capacity_prices.priced_pairs(flat).shape == (0,)
