"""Property: any allocation respects capacities, minimum orders and supplier limits, and
conserves quantities (allocated + unmet == demand)."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.model import Params
from matcher.solve import solve
from tests.matcher.instances import random_world


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    compounds=st.integers(1, 6),
    suppliers=st.integers(1, 3),
    ratio=st.sampled_from([0.3, 0.7, 1.5]),
    limit=st.integers(1, 3),
    single=st.booleans(),
    candidates=st.sampled_from([None, 1, 2]),
)
def test_allocation_is_valid(
    seed: int,
    compounds: int,
    suppliers: int,
    ratio: float,
    limit: int,
    single: bool,
    candidates: int | None,
) -> None:
    problem = random_world(seed, compounds, suppliers, supply_ratio=ratio).problem()
    params = Params(
        time_limit_s=1.0,
        num_workers=2,
        max_suppliers_per_compound=limit,
        single_supplier_per_category=single,
        candidate_suppliers=candidates,
    )
    allocation = solve(problem, params)
    used = Counter[str]()
    suppliers_at: dict[str, set[str]] = {}
    per_row: dict[tuple[str, str], set[str]] = {}
    for line in allocation.lines:
        offer = problem.offer_by_id[line.offer_id]
        assert line.quantity_units >= offer.min_order_units
        used[line.offer_id] += line.quantity_units
        suppliers_at.setdefault(line.compound_id, set()).add(line.supplier_id)
        per_row.setdefault((line.compound_id, line.category_id), set()).add(line.supplier_id)
    for offer_id, units in used.items():
        assert units <= problem.offer_by_id[offer_id].capacity_units
    assert all(len(s) <= limit for s in suppliers_at.values())
    if single:
        assert all(len(s) == 1 for s in per_row.values())
    served = Counter[tuple[str, str]]()
    for line in allocation.lines:
        served[line.compound_id, line.category_id] += line.quantity_units
    missing = {(u.compound_id, u.category_id): u.quantity_units for u in allocation.unmet}
    for row in problem.demand:
        key = (row.compound_id, row.category_id)
        assert served[key] + missing.get(key, 0) == row.quantity_units
