"""Candidate suppliers: at city scale a compound's model holds only its nearest suppliers.

In the generated city a compound is reachable by about 94 of 300 suppliers (up to 170), so
the allocation model has 2.3 M (offer, row) pairs, the greedy cannot weigh supplier sets
(``C(94, 3)`` subsets) and the pairs grow as compounds × suppliers. With
``Params.candidate_suppliers = K`` each compound keeps, of its eligible suppliers, the
``CANDIDATES_PER_CATEGORY`` nearest that sell each category it demands (so no row loses
all its offers, however far the only sellers of a category are), then the nearest others
until it has ``K``. Only 3 of them deliver anyway (``max_suppliers_per_compound``), and a
truck from across the city is the one a dispatcher would not send. The solution is valid
for the whole problem; the stages' reported bounds stay those of the whole problem (the
flow bounds on every eligible pair), so the gap shown includes what the cut may cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.eligibility import Eligibility
    from matcher.model import Params, Problem
    from matcher.solve import _Flat

CANDIDATES_PER_CATEGORY = 2
"""Nearest sellers of each demanded category a compound always keeps."""
CITY_CANDIDATES = 24
"""``candidate_suppliers`` of ``linli plan-city`` and the city benchmarks: on the generated
district (at most 25 eligible suppliers a compound) it keeps 93,588 of 93,629 pairs, on the
generated city (94 on average) about one pair in five (``benchmarks/README.md``)."""


def choose(
    distance_m: dict[str, int], sellers_of_row: Iterable[Iterable[str]], limit: int
) -> set[str]:
    """The candidate suppliers of one compound: ``distance_m`` by eligible supplier (to its
    nearest depot), ``sellers_of_row`` the eligible suppliers of each demanded category."""
    if len(distance_m) <= limit:
        return set(distance_m)

    def near(supplier: str) -> tuple[int, str]:
        return distance_m[supplier], supplier

    kept: set[str] = set()
    for sellers in sellers_of_row:
        kept.update(sorted(sellers, key=near)[:CANDIDATES_PER_CATEGORY])
    for supplier in sorted(distance_m, key=near):
        if len(kept) >= limit:
            break
        kept.add(supplier)
    return kept


def by_compound(flat: _Flat, limit: int) -> dict[str, set[str]]:
    """``choose`` for every compound of ``flat`` (its eligible pairs)."""
    out: dict[str, set[str]] = {}
    for compound_id, rows in flat.rows_of_compound.items():
        distance: dict[str, int] = {}
        sellers: list[set[str]] = []
        for r in rows:
            here = set()
            for p in flat.pairs_of_row[r]:
                pair = flat.pairs[p]
                here.add(pair.supplier)
                known = distance.get(pair.supplier)
                if known is None or pair.distance_m < known:
                    distance[pair.supplier] = pair.distance_m
            sellers.append(here)
        out[compound_id] = choose(distance, sellers, limit)
    return out


def kept_pairs(flat: _Flat, limit: int) -> list[int] | None:
    """Indices of ``flat``'s pairs whose supplier is a candidate of the pair's compound, in
    order; ``None`` when no compound has more than ``limit`` eligible suppliers."""
    chosen = by_compound(flat, limit)
    kept = [
        p
        for p, pair in enumerate(flat.pairs)
        if pair.supplier in chosen[flat.rows[pair.row].compound_id]
    ]
    return None if len(kept) == len(flat.pairs) else kept


def of_problem(
    problem: Problem, params: Params, eligibility: Eligibility
) -> dict[str, set[str]] | None:
    """The candidate suppliers per compound that ``solve`` uses for ``problem`` under
    ``params`` (``None`` without ``Params.candidate_suppliers``): for explanations."""
    if params.candidate_suppliers is None:
        return None
    from matcher.solve import _flatten

    return by_compound(_flatten(problem, params, eligibility), params.candidate_suppliers)
