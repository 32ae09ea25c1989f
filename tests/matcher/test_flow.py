"""Min-cost flow bounds and starts of the allocation (``matcher.flow``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import flow
from matcher import solve as solve_module
from matcher.eligibility import check_eligibility
from matcher.model import Params, Problem
from matcher.solve import lexicographic_key, solve
from tests.matcher.instances import World, random_world


def _flat(problem: Problem, params: Params) -> solve_module._Flat:
    return solve_module._flatten(problem, params, check_eligibility(problem))


def _violations(flat: solve_module._Flat, quantities: Sequence[int]) -> list[str]:
    """Every rule an allocation breaks, named."""
    params = flat.params
    broken = []
    used: Counter[int] = Counter()
    served: Counter[int] = Counter()
    at: dict[str, set[str]] = defaultdict(set)
    in_row: dict[int, set[str]] = defaultdict(set)
    for p, amount in enumerate(quantities):
        if amount == 0:
            continue
        pair = flat.pairs[p]
        if not pair.min_order <= amount <= pair.ub:
            broken.append(f"pair {p}: {amount} outside [{pair.min_order}, {pair.ub}]")
        used[pair.offer] += amount
        served[pair.row] += amount
        at[flat.rows[pair.row].compound_id].add(pair.supplier)
        in_row[pair.row].add(pair.supplier)
    for i, amount in used.items():
        if amount > flat.problem.offers[i].capacity_units:
            broken.append(f"offer {i} over capacity")
    for r, amount in served.items():
        if amount > flat.rows[r].quantity_units:
            broken.append(f"row {r} over demand")
    for compound_id, suppliers in at.items():
        if len(suppliers) > params.max_suppliers_per_compound:
            broken.append(f"{compound_id}: {len(suppliers)} suppliers")
    if params.single_supplier_per_category:
        broken += [f"row {r}: {len(s)} suppliers" for r, s in in_row.items() if len(s) > 1]
    return broken


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    compounds=st.integers(1, 12),
    suppliers=st.integers(1, 5),
    ratio=st.sampled_from([0.3, 0.7, 1.5]),
    limit=st.integers(1, 3),
    single=st.booleans(),
)
def test_every_flow_start_is_a_valid_allocation(
    seed: int, compounds: int, suppliers: int, ratio: float, limit: int, single: bool
) -> None:
    problem = random_world(seed, compounds, suppliers, supply_ratio=ratio).problem()
    params = Params(max_suppliers_per_compound=limit, single_supplier_per_category=single)
    flat = _flat(problem, params)
    greedy = solve_module.greedy_quantities(flat)
    starts = flow.flow_starts(flat, greedy)
    assert starts[0] == greedy
    for start in starts:
        assert _violations(flat, start) == []
    # the bounds hold for every valid allocation
    limits = flow.bounds(flat, solve_module._cover_bounds(flat, solve_module._limited(flat)))
    for start in starts:
        priority, _, served, _ = lexicographic_key(flat, start)
        assert priority <= limits.priority_units and served <= limits.served_units


def _two_suppliers() -> World:
    """Two compounds want 50 veg each (5 priority); s1 sells 60 at 5 yuan, s2 50 at 9 yuan;
    one supplier per compound. Both suppliers cover each compound's priority units equally,
    so the greedy breaks the tie by capacity and sends both compounds to s1."""
    world = World()
    world.add_compound(1, {"veg": (50, 5)})
    world.add_compound(2, {"veg": (50, 5)})
    world.add_supplier("s1")
    world.add_supplier("s2")
    world.add_offer("o1", "s1", "veg", 60, price=500)
    world.add_offer("o2", "s2", "veg", 50, price=900)
    return world


def test_flow_breaks_the_greedys_supplier_ties_towards_spare_capacity() -> None:
    problem = _two_suppliers().problem()
    flat = _flat(problem, Params(max_suppliers_per_compound=1))
    greedy = solve_module.greedy_quantities(flat)
    assert lexicographic_key(flat, greedy)[:3] == (10, 200, 60)  # s2 left idle
    best = max(flow.flow_starts(flat, greedy), key=lambda q: lexicographic_key(flat, q))
    assert lexicographic_key(flat, best)[:3] == (10, 1000, 100)
    assert _violations(flat, best) == []
    offers = {problem.offers[flat.pairs[p].offer].offer_id: q for p, q in enumerate(best) if q}
    assert offers == {"o1": 50, "o2": 50}


def test_bounds_are_exact_without_supplier_limits_or_minimum_orders() -> None:
    # nothing but capacity and demand: the flow relaxation is the problem itself
    problem = random_world(7, compounds=10, suppliers=3, min_order=(1, 1)).problem()
    params = Params(time_limit_s=20.0, max_suppliers_per_compound=3, seed=1)
    flat = _flat(problem, params)
    limits = flow.bounds(flat, {})
    allocation = solve(problem, params)
    reports = {stage.name: stage for stage in allocation.stages}
    assert reports["priority"].objective == limits.priority_units
    assert reports["served"].objective == limits.served_units
    assert reports["served"].bound == limits.served_units
    assert reports["served"].status.startswith("optimal")
    cost = flow.cost_bound(flat, limits.served_units, {})
    assert cost is not None and cost <= allocation.objectives.cost_cents
    assert flow.allocation_cost_bound(problem, params, limits.served_units) == cost
    assert reports["cost"].status == "optimal" and reports["cost"].bound == cost
    assert flow.cost_bound(flat, limits.served_units + 1, {}) is None  # more than can flow


def test_bounds_hold_against_proven_optima_with_a_binding_limit() -> None:
    problem = random_world(3, compounds=8, suppliers=4).problem()
    params = Params(time_limit_s=20.0, max_suppliers_per_compound=1, seed=1, num_workers=8,
                    deterministic=False)  # fmt: skip
    flat = _flat(problem, params)
    cover = solve_module._cover_bounds(flat, solve_module._limited(flat))
    limits = flow.bounds(flat, cover)
    allocation = solve(problem, params)
    reports = {stage.name: stage for stage in allocation.stages}
    assert reports["priority"].status.startswith("optimal")
    assert reports["priority"].objective is not None
    assert reports["priority"].objective <= limits.priority_units
    assert reports["served"].objective is not None
    assert reports["served"].objective <= limits.served_units
    # the relaxation ignores which supplier a compound keeps: here it is not tight
    assert limits.served_units > reports["served"].objective


def test_solve_starts_from_the_better_start() -> None:
    problem = _two_suppliers().problem()
    params = Params(max_suppliers_per_compound=1, deterministic_time=0.001, time_limit_s=5.0,
                    flow_start=True)  # fmt: skip
    with_flow = solve(problem, params)
    assert with_flow.summary().served_pct == 100.0
    assert {line.offer_id for line in with_flow.lines} == {"o1", "o2"}
    served = next(stage for stage in with_flow.stages if stage.name == "served")
    # the start reached the flow bound: the stage is proven without a search
    assert served.status == "optimal (start reaches the bound)" and served.bound == 100
    assert served.deterministic_time == 0.0


def test_lexicographic_key_orders_by_the_stages() -> None:
    problem = _two_suppliers().problem()
    flat = _flat(problem, Params(max_suppliers_per_compound=1))
    by_offer = {problem.offers[pair.offer].offer_id + pair.row.__str__(): p
                for p, pair in enumerate(flat.pairs)}  # fmt: skip
    nothing = [0] * len(flat.pairs)
    some = list(nothing)
    some[by_offer["o10"]] = 5
    more = list(some)
    more[by_offer["o10"]] = 40
    assert lexicographic_key(flat, nothing) < lexicographic_key(flat, some)
    assert lexicographic_key(flat, some) < lexicographic_key(flat, more)
    assert lexicographic_key(flat, more)[3] == -40 * flat.pairs[by_offer["o10"]].unit_cost


def test_cover_bounds_equal_the_best_supplier_sets_by_enumeration() -> None:
    import itertools

    for seed, limit in ((1, 1), (2, 2), (3, 3), (4, 2)):
        problem = random_world(seed, compounds=12, suppliers=7).problem()
        flat = _flat(problem, Params(max_suppliers_per_compound=limit))
        limited = solve_module._limited(flat)
        cover = solve_module._cover_bounds(flat, limited)
        assert set(cover) == limited and limited
        for compound_id in limited:
            rows = flat.rows_of_compound[compound_id]
            sells = defaultdict(set)
            for r in rows:
                for p in flat.pairs_of_row[r]:
                    sells[flat.pairs[p].supplier].add(r)
            best = (0, 0)
            for chosen in itertools.combinations(sorted(sells), limit):
                covered = set().union(*(sells[s] for s in chosen))
                priority = sum(flat.rows[r].priority_quantity_units for r in covered)
                demand = sum(flat.rows[r].quantity_units for r in covered)
                best = (max(best[0], priority), max(best[1], demand))
            assert cover[compound_id] == best
