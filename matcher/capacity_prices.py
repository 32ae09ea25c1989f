"""Supplier sets chosen under capacity prices: a Lagrangian start for the supplier limit.

With at most ``max_suppliers_per_compound`` suppliers a compound, the hard part of a short
day is which suppliers each compound takes; the quantities then follow from a flow. The
greedy chooses compound by compound against what is left, so the compounds chosen first
take the large suppliers and later ones find them full while others stay idle; a flow that
ignores the limit does not tell a compound which 3 of its suppliers to keep. Here capacity
gets a price per unit instead (Lagrangian relaxation of the offer capacities): at given
prices each compound alone takes the ``N`` suppliers worth most to it (a priority unit is
worth ``PRIORITY_WEIGHT``, any other unit 1, less the offer's price; greedy choice, then
single swaps), and the prices follow the subgradient: up where more is taken than an offer
has, down where capacity is left. The sets held over the last steps are the start's
supplier sets; ``matcher.flow.flow_starts`` breaks the greedy's ties between supplier sets
by the flow over them (the greedy keeps serving priority units first, so no priority unit
is traded for others).

Measured on the generated district (2,500 compounds × 8 categories × 40 suppliers, seed 1,
``benchmarks/matcher_city.py``), the best start against the unrestricted flow's: served
1,475,630 → 1,608,100 units, priority 196,949 → 197,215 units (the flow bound: proven
optimal); 1.6 s for 70 steps (100 steps: 1,610,146 units, 2.5 s; 50: 1,605,255). The
priority weight: 4 and 10 both reach the priority bound (10 serves more), 20 and 40 do
not. Deterministic: no randomness, ties by index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matcher.solve import _Flat

STEPS = 70
"""Subgradient steps (each one pass of numpy over every compound's candidate sets)."""
PRIORITY_WEIGHT = 10.0
"""A priority unit's worth against any other unit's (1) in the compounds' choices."""
FIRST_STEP = 0.05
"""Length of the first price step, as a share of ``PRIORITY_WEIGHT`` (then × ``DECAY``)."""
DECAY = 0.96
UNION_OF_LAST = 10
"""The steps whose supplier sets ``priced_pairs`` returns together."""
SWAP_ROUNDS = 3
"""Rounds of single-supplier swaps after each compound's greedy choice of its set."""


@dataclass(frozen=True)
class _Compounds:
    """Every compound's candidates as padded arrays: compound × local supplier × local row."""

    offer: npt.NDArray[np.int64]  # offer index, -1 where the supplier does not sell the row
    pair: npt.NDArray[np.int64]  # the pair index in ``flat.pairs``, -1 as above
    priority: npt.NDArray[np.float64]  # compound × row: priority units
    rest: npt.NDArray[np.float64]  # compound × row: the other units
    limited: npt.NDArray[np.bool_]  # compound has more suppliers than the limit

    @property
    def valid(self) -> npt.NDArray[np.bool_]:
        return self.offer >= 0


def _compounds(flat: _Flat) -> _Compounds:
    """``flat``'s compounds as padded arrays (a supplier with two offers for one row keeps
    the cheaper, as the greedy would use first)."""
    n = flat.params.max_suppliers_per_compound
    compounds = sorted(flat.rows_of_compound)
    local: list[tuple[list[int], dict[str, int]]] = []
    for compound_id in compounds:
        rows = flat.rows_of_compound[compound_id]
        suppliers = sorted({flat.pairs[p].supplier for r in rows for p in flat.pairs_of_row[r]})
        local.append((rows, {s: k for k, s in enumerate(suppliers)}))
    width = max((len(s) for _, s in local), default=0)
    depth = max((len(rows) for rows, _ in local), default=0)
    shape = (len(compounds), width, depth)
    offer = np.full(shape, -1, dtype=np.int64)
    pair = np.full(shape, -1, dtype=np.int64)
    priority = np.zeros(shape[::2])
    rest = np.zeros(shape[::2])
    for c, (rows, index) in enumerate(local):
        for j, r in enumerate(rows):
            row = flat.rows[r]
            priority[c, j] = row.priority_quantity_units
            rest[c, j] = row.quantity_units - row.priority_quantity_units
            for p in sorted(flat.pairs_of_row[r], key=lambda p: -flat.pairs[p].unit_cost):
                k = index[flat.pairs[p].supplier]
                offer[c, k, j] = flat.pairs[p].offer
                pair[c, k, j] = p
    limited = np.array([len(index) > n for _, index in local], dtype=bool)
    return _Compounds(offer, pair, priority, rest, limited)


def _choose(
    worth: npt.NDArray[np.float64], limited: npt.NDArray[np.bool_], n: int, swaps: int
) -> npt.NDArray[np.bool_]:
    """Per compound, ``n`` suppliers with the most worth together (each row counts its best
    chosen supplier): greedy, then single swaps while one gains; all suppliers where the
    compound is not limited."""
    if not limited.any():
        return np.ones(worth.shape[:2], dtype=bool)
    everyone = np.arange(worth.shape[0])
    chosen = np.zeros(worth.shape[:2], dtype=bool)
    best = np.zeros((worth.shape[0], worth.shape[2]))
    picks = np.zeros((worth.shape[0], n), dtype=np.int64)
    for slot in range(n):
        gain = np.maximum(worth, best[:, None, :]).sum(axis=2)
        gain[chosen] = -1.0
        k = gain.argmax(axis=1)
        chosen[everyone, k] = True
        picks[:, slot] = k
        best = np.maximum(best, worth[everyone, k])
    for _ in range(swaps):
        swapped = False
        for slot in range(n):
            others = np.delete(picks, slot, axis=1)
            base = worth[everyone[:, None], others].max(axis=1, initial=0.0)
            now = np.maximum(base, worth[everyone, picks[:, slot]]).sum(axis=1)
            gain = np.maximum(base[:, None, :], worth).sum(axis=2)
            gain[chosen] = -1.0
            k = gain.argmax(axis=1)
            better = (gain[everyone, k] > now + 1e-9) & limited
            if better.any():
                swapped = True
                who = everyone[better]
                chosen[who, picks[better, slot]] = False
                chosen[who, k[better]] = True
                picks[better, slot] = k[better]
        if not swapped:
            break
    return chosen | ~limited[:, None]


def priced_pairs(flat: _Flat, steps: int = STEPS) -> npt.NDArray[np.bool_]:
    """The pairs of ``flat`` that the compounds' supplier sets held in any of the last
    ``UNION_OF_LAST`` of ``steps`` subgradient steps: every pair of a chosen supplier, or
    with the single-supplier rule each row's pair of its most valuable chosen supplier.

    The union, not the last step's sets: compounds alike choose alike, so at prices where
    two suppliers are worth the same to them they all swing from one to the other and no
    single step splits them; the flow over the union does."""
    allowed = np.zeros(len(flat.pairs), dtype=bool)
    if not flat.pairs:
        return allowed
    data = _compounds(flat)
    valid = data.valid
    at = np.maximum(data.offer, 0)
    capacity = np.array([o.capacity_units for o in flat.problem.offers], dtype=np.float64)
    n = flat.params.max_suppliers_per_compound
    everyone = np.arange(valid.shape[0])[:, None]
    rows = np.arange(valid.shape[2])[None, :]
    price = np.zeros(len(capacity))
    step = FIRST_STEP * PRIORITY_WEIGHT
    for k in range(steps):
        cost = np.where(valid, price[at], np.inf)
        worth = np.where(
            valid,
            np.clip(PRIORITY_WEIGHT - cost, 0.0, None) * data.priority[:, None, :]
            + np.clip(1.0 - cost, 0.0, None) * data.rest[:, None, :],
            0.0,
        )
        last = k >= steps - UNION_OF_LAST
        chosen = _choose(worth, data.limited, n, SWAP_ROUNDS if last else 1)
        winner = np.where(chosen[:, :, None], worth, -1.0).argmax(axis=1)
        got = worth[everyone, winner, rows] > 0
        paid = cost[everyone, winner, rows]
        taken = np.where(got & (paid < PRIORITY_WEIGHT), data.priority, 0.0)
        taken += np.where(got & (paid < 1.0), data.rest, 0.0)
        offers = data.offer[everyone, winner, rows]
        used = np.bincount(offers[got], weights=taken[got], minlength=len(capacity))
        slack = capacity - used
        norm = float(np.sqrt(slack @ slack))
        if last or norm == 0.0:
            if flat.params.single_supplier_per_category:
                pairs = data.pair[everyone, winner, rows]
            else:
                pairs = np.where(chosen[:, :, None], data.pair, -1)
            allowed[pairs[pairs >= 0]] = True
        if norm == 0.0:  # every offer exactly used: these sets are as good as prices get
            break
        price = np.maximum(0.0, price - step * slack / norm)
        step *= DECAY
    return allowed
