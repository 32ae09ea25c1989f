"""Candidate suppliers (``Params.candidate_suppliers``, ``matcher.candidates``): the model
holds each compound's nearest suppliers, the result and its bounds are the whole problem's."""

from __future__ import annotations

from matcher import candidates, flow
from matcher import solve as solve_module
from matcher.eligibility import check_eligibility
from matcher.explain import explain
from matcher.model import Params
from matcher.solve import solve
from tests.matcher.instances import World, random_world


def test_the_nearest_sellers_of_every_category_are_kept_however_far() -> None:
    distance = {"a": 1_000, "b": 2_000, "c": 3_000, "d": 9_000, "e": 12_000}
    veg, formula = {"a", "b", "c", "d"}, {"e"}
    assert candidates.choose(distance, [veg, formula], 3) == {"a", "b", "e"}
    assert candidates.choose(distance, [veg, formula], 4) == {"a", "b", "c", "e"}
    assert candidates.choose(distance, [veg, formula], 5) == set(distance)  # all fit
    # the per-category nearest may take a compound past the limit, never a row to nothing
    assert candidates.choose(distance, [{"d", "c"}, formula, {"a"}], 1) == {"c", "d", "e", "a"}


def _far_and_near() -> World:
    """One compound wants 40 veg and 20 pork: s-near sells 20 veg at 12 yuan 1 km away,
    s-mid 10 at 11 yuan 2 km away, s-far 40 at 8 yuan 9 km away; s-pork all the pork. With
    one candidate (and the 2 nearest sellers of each category) s-far is out of the model."""
    world = World()
    world.add_compound(1, {"veg": (40, 4), "pork": (20, 2)})
    world.add_supplier("s-near", at_km=1.0)
    world.add_supplier("s-mid", at_km=2.0)
    world.add_supplier("s-far", at_km=9.0)
    world.add_supplier("s-pork", at_km=5.0)
    world.add_offer("near-veg", "s-near", "veg", 20, price=1200)
    world.add_offer("mid-veg", "s-mid", "veg", 10, price=1100)
    world.add_offer("far-veg", "s-far", "veg", 40, price=800)
    world.add_offer("pork", "s-pork", "pork", 20, price=2000)
    return world


def test_solve_uses_only_candidates_and_reports_the_whole_problems_bounds() -> None:
    problem = _far_and_near().problem()
    whole = solve(problem, Params(time_limit_s=5.0))
    assert {line.offer_id for line in whole.lines} == {"far-veg", "pork"}
    assert whole.status.value == "optimal"

    params = Params(time_limit_s=5.0, candidate_suppliers=1, max_suppliers_per_compound=4)
    cut = solve(problem, params)
    # the 2 nearest sellers of each category
    assert candidates.of_problem(problem, params, check_eligibility(problem)) == {
        "c1": {"s-near", "s-mid", "s-pork"}
    }
    assert {line.offer_id: line.quantity_units for line in cut.lines} == {
        "near-veg": 20,
        "mid-veg": 10,
        "pork": 20,
    }
    assert "candidate_suppliers" in cut.message and "3 of 4" in cut.message
    # units short because of the cut: not proven optimal for the whole problem
    served = next(stage for stage in cut.stages if stage.name == "served")
    assert served.objective == 50 and served.bound == 60 and served.status == "feasible"
    assert cut.status.value == "feasible"
    assert sum(u.quantity_units for u in cut.unmet) == 10
    # the leader reads why the cheaper far supplier was not used
    veg = next(d for d in explain(problem, cut, params=params) if d.category_id == "veg")
    far = next(note for note in veg.suppliers if note.supplier_id == "s-far")
    assert "nearest candidate suppliers" in far.text.en and "候选供应商" in far.text.zh


def test_the_bounds_hold_for_the_whole_problem_on_generated_days() -> None:
    for seed in (1, 2, 3):
        problem = random_world(seed, compounds=24, suppliers=8).problem()
        params = Params(time_limit_s=10.0, candidate_suppliers=3, seed=1)
        allocation = solve(problem, params)
        flat = solve_module._flatten(problem, params, check_eligibility(problem))
        limits = flow.bounds(flat, solve_module._cover_bounds(flat, solve_module._limited(flat)))
        reports = {stage.name: stage for stage in allocation.stages}
        assert reports["priority"].bound == max(limits.priority_units,
                                                reports["priority"].objective or 0)  # fmt: skip
        assert reports["served"].bound == max(limits.served_units,
                                              reports["served"].objective or 0)  # fmt: skip
        # the whole problem solved exactly never beats the reported bounds
        exact = solve(problem, Params(time_limit_s=10.0, seed=1, num_workers=8,
                                      deterministic=False))  # fmt: skip
        assert exact.objectives.priority_served_units <= (reports["priority"].bound or 0)
        assert exact.objectives.served_units <= (reports["served"].bound or 0)
        chosen = candidates.of_problem(problem, params, check_eligibility(problem))
        assert chosen is not None
        assert all(line.supplier_id in chosen[line.compound_id] for line in allocation.lines)
