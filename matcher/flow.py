"""Network-flow views of the allocation: proven bounds for its stages and a start allocation.

Without the supplier limit, the single-supplier rule and the minimum orders, the allocation
is a transportation problem (source → offers, capacity; offer → demand row, one arc per
eligible pair; row → sink, its demand), which min-cost flow solves exactly in integers, in
a fraction of a second at district scale where CP-SAT's own bound proves nothing:

- ``bounds``: the most priority units and the most units any allocation can serve (each
  compound's row arcs pass through a node capped by its cover bound: what its best
  ``max_suppliers_per_compound`` suppliers could cover), and ``cost_bound`` the least cost of
  serving a given number of units. Each drops constraints of the model, so each is a valid
  bound for its stage (the cost stage's fixed delivery and opening costs are ≥ 0).
- ``flow_starts``: valid start allocations built from the flows. The flow of priority
  units (weighted first), then of all units, then cheapest, over the supplier sets that
  compounds take when capacity has a price (``matcher.capacity_prices``), breaks the
  greedy's ties between supplier sets (the greedy alone breaks them by capacity, and so
  sends every compound to the same few large suppliers); the flow is then solved again on
  the chosen sets, and pairs below their minimum order are raised to it or dropped. On a
  generated district (2,500 compounds) the units served rise from 0.99 M (greedy) to
  1.61 M with priority at its bound (``benchmarks/matcher_city.py``). The flow over every
  eligible pair, ignoring the supplier limit, broke the ties before (1.48 M): compounds
  alike all flowed to the same suppliers there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from matcher.capacity_prices import priced_pairs

if TYPE_CHECKING:
    from matcher.model import Params, Problem
    from matcher.solve import _Flat

_Ints = npt.NDArray[np.int64]

MAX_REPAIR_ROUNDS = 8
"""Rounds of raising or dropping pairs below their minimum order; after them, or as soon
as a round leaves no fewer short pairs than the one before, the pairs still short are
dropped."""


BOTH_FLOWS_UP_TO = 20_000
"""Pairs up to which ``flow_starts`` also breaks ties by the flow over every pair: on small
days (the demo, generated days of 120 and 300 compounds: under a second) it is sometimes
the better start (generated 300 compounds: fairness floor 93 ‰ against 87 ‰); on the
generated district it adds about 5 s and loses (1,475,640 units against 1,608,100)."""


PRIORITY_OVER_SERVED = 4096
"""A priority unit weighs this many units in the start flows (an exchange of one priority
unit for more units than this, through capacity shared along a chain of offers, is too
rare to matter; larger weights risk the flow solver's cost range)."""


@dataclass(frozen=True)
class FlowBounds:
    """Upper bounds on the priority and served stages' objectives (units)."""

    priority_units: int
    served_units: int


class _Network:
    """Source → offers → pairs → rows (→ compound nodes) → sink, built once per instance."""

    SOURCE, SINK = 0, 1

    def __init__(self, flat: _Flat) -> None:
        self.flat = flat
        self.offers = sorted(flat.pairs_of_offer)
        self.offer_node = {i: 2 + k for k, i in enumerate(self.offers)}
        self.rows = sorted(flat.pairs_of_row)
        first_row = 2 + len(self.offers)
        self.row_node = {r: first_row + k for k, r in enumerate(self.rows)}
        self.compounds = sorted(flat.rows_of_compound)
        first_compound = first_row + len(self.rows)
        self.compound_node = {c: first_compound + k for k, c in enumerate(self.compounds)}
        pairs = flat.pairs
        self.pair_tail = np.array([self.offer_node[p.offer] for p in pairs], dtype=np.int64)
        self.pair_head = np.array([self.row_node[p.row] for p in pairs], dtype=np.int64)
        self.pair_ub = np.array([p.ub for p in pairs], dtype=np.int64)
        self.pair_cost = np.array([p.unit_cost + p.penalty for p in pairs], dtype=np.int64)
        self.capacity = np.array(
            [flat.problem.offers[i].capacity_units for i in self.offers], dtype=np.int64
        )
        self.demand = np.array([flat.rows[r].quantity_units for r in self.rows], dtype=np.int64)
        self.priority = np.array(
            [flat.rows[r].priority_quantity_units for r in self.rows], dtype=np.int64
        )


def _solve(
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supply: int,
    max_flow: bool,
) -> tuple[npt.NDArray[np.int64], int]:
    """Flows of one min-cost flow (``max_flow``: the largest flow, then the cheapest) and its
    cost; raises on a status other than optimal (only a modelling error can cause one)."""
    flow = min_cost_flow.SimpleMinCostFlow()
    caps = np.maximum(caps, 0)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    if max_flow:
        supply = int(caps[tails == _Network.SOURCE].sum())
    flow.set_node_supply(_Network.SOURCE, supply)
    flow.set_node_supply(_Network.SINK, -supply)
    status = flow.solve_max_flow_with_min_cost() if max_flow else flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    return np.asarray(flow.flows(arcs), dtype=np.int64), int(flow.optimal_cost())


def _compound_caps(
    flat: _Flat, cover: dict[str, tuple[int, int]], priority: bool
) -> dict[str, int]:
    """Per compound, the cover bound where it has one, else its whole (priority) demand."""
    k = 0 if priority else 1
    return {
        c: cover[c][k]
        if c in cover
        else sum(
            flat.rows[r].priority_quantity_units if priority else flat.rows[r].quantity_units
            for r in rows
        )
        for c, rows in flat.rows_of_compound.items()
    }


def _capped_arcs(
    net: _Network, per_row: npt.NDArray[np.int64], per_compound: dict[str, int], priced: bool
) -> tuple[_Ints, _Ints, _Ints, _Ints]:
    """Source → offers → rows → compound nodes → sink with the given row and compound caps;
    the pair arcs cost their unit cost when ``priced``, nothing otherwise."""
    flat = net.flat
    n_offers, n_rows, n_compounds = len(net.offers), len(net.rows), len(net.compounds)
    tails = np.concatenate(
        [
            np.full(n_offers, _Network.SOURCE),
            net.pair_tail,
            np.array([net.row_node[r] for r in net.rows], dtype=np.int64),
            np.array([net.compound_node[c] for c in net.compounds], dtype=np.int64),
        ]
    )
    heads = np.concatenate(
        [
            np.array([net.offer_node[i] for i in net.offers], dtype=np.int64),
            net.pair_head,
            np.array(
                [net.compound_node[flat.rows[r].compound_id] for r in net.rows], dtype=np.int64
            ),
            np.full(n_compounds, _Network.SINK),
        ]
    )
    caps = np.concatenate(
        [
            net.capacity,
            net.pair_ub,
            per_row,
            np.array([per_compound[c] for c in net.compounds], dtype=np.int64),
        ]
    )
    pair_cost = net.pair_cost if priced else np.zeros_like(net.pair_cost)
    costs = np.concatenate(
        [np.zeros(n_offers, np.int64), pair_cost, np.zeros(n_rows + n_compounds, np.int64)]
    )
    return tails, heads, caps.astype(np.int64), costs


def bounds(flat: _Flat, cover: dict[str, tuple[int, int]]) -> FlowBounds:
    """The most priority units and the most units any allocation of ``flat`` can serve.

    ``cover`` is ``_cover_bounds``'s most priority and most demand per compound with a
    binding supplier limit; every other compound is capped by its own demand.
    """
    net = _Network(flat)
    if not net.rows:
        return FlowBounds(0, 0)
    most = []
    for per_row, priority in ((net.priority, True), (net.demand, False)):
        arcs = _capped_arcs(net, per_row, _compound_caps(flat, cover, priority), priced=False)
        flows, _ = _solve(*arcs, 0, max_flow=True)
        most.append(int(flows[: len(net.offers)].sum()))
    return FlowBounds(*most)


def cost_bound(flat: _Flat, units: int, cover: dict[str, tuple[int, int]]) -> int | None:
    """The least unit cost (with reliability penalties) of serving ``units`` units, a lower
    bound for the cost stage once ``units`` is fixed; ``None`` when no flow serves that many."""
    net = _Network(flat)
    if not net.rows:
        return 0 if units == 0 else None
    arcs = _capped_arcs(net, net.demand, _compound_caps(flat, cover, False), priced=True)
    try:
        _, cost = _solve(*arcs, units, max_flow=False)
    except RuntimeError:
        return None
    return cost


def allocation_cost_bound(problem: Problem, params: Params, units: int) -> int | None:
    """``cost_bound`` of ``problem`` under ``params`` (eligibility without a crew roster):
    the least unit cost any allocation serving ``units`` units can have."""
    from matcher.eligibility import check_eligibility
    from matcher.solve import _cover_bounds, _flatten, _limited

    flat = _flatten(problem, params, check_eligibility(problem))
    return cost_bound(flat, units, _cover_bounds(flat, _limited(flat)))


def flow_starts(flat: _Flat, greedy: Sequence[int]) -> list[list[int]]:
    """Candidate start allocations, all valid: ``greedy`` itself, the greedy again with its
    ties between supplier sets broken by the units a flow over the priced supplier sets
    (``capacity_prices.priced_pairs``) sends from each set, and the flow solved again on
    the sets so chosen (min orders repaired) and topped up. Up to ``BOTH_FLOWS_UP_TO``
    pairs, the same two again with the ties broken by a flow over every pair."""
    from matcher.solve import greedy_choice, greedy_quantities

    net = _Network(flat)
    if not net.rows:
        return [list(greedy)]
    nothing = np.zeros(len(flat.pairs), np.int64)
    weights = _weights(net)
    flows = [_weighted_flow(net, priced_pairs(flat), nothing, *weights)]
    if len(flat.pairs) <= BOTH_FLOWS_UP_TO:
        flows.append(_weighted_flow(net, np.ones(len(flat.pairs), bool), nothing, *weights))
    starts = [list(greedy)]
    for prefer in flows:
        preferred, chosen = greedy_choice(flat, prefer=[int(v) for v in prefer])
        allowed = _allowed_pairs(flat, net, chosen, preferred, prefer)
        restricted = _restricted_flow(net, allowed, keep=preferred)
        starts += [preferred, greedy_quantities(flat, restricted)]
    return starts


def _weights(net: _Network) -> tuple[int, int]:
    """Per-unit weights of served and of priority units against cost, large enough that
    short exchanges never trade a unit (or a priority unit) for cost."""
    max_cost = int(net.pair_cost.max(initial=0))
    served_weight = 16 * (max_cost + 1)
    return served_weight, PRIORITY_OVER_SERVED * (served_weight + max_cost + 1)


def _restricted_flow(
    net: _Network, allowed: npt.NDArray[np.bool_], keep: Sequence[int]
) -> list[int]:
    """The weighted flow on the ``allowed`` pairs (which must keep every compound within
    its supplier limit and every row within the single-supplier rule when it applies), with
    pairs below their minimum order raised to it or dropped: a valid allocation.

    Every delivery of ``keep`` (a valid allocation on allowed pairs) keeps at least its
    minimum order, so ``keep`` stays a solution of every round's flow and no round serves
    fewer priority units than it does. When the rounds stall, the last flow's pairs below
    their minimum order are dropped (a few, each under its minimum order: the caller tops
    the allocation up and keeps the better of it and ``keep``)."""
    flat = net.flat
    weights = _weights(net)
    allowed = allowed.copy()
    minimum = np.array([p.min_order for p in flat.pairs], dtype=np.int64)
    forced = np.where(np.asarray(keep, dtype=np.int64) > 0, minimum, 0)
    cost = net.pair_cost
    fewest = len(flat.pairs) + 1
    for _ in range(MAX_REPAIR_ROUNDS):
        total = _weighted_flow(net, allowed, forced, *weights, cost) + forced
        short = np.flatnonzero((total > 0) & (total < minimum))
        if short.size == 0:
            return [int(v) for v in total]
        if short.size >= fewest:
            break  # a drop moves flow onto another small pair as often as it settles one
        fewest = short.size
        _raise_or_drop(flat, net, short, total, allowed, forced, minimum)
        # among equally good flows, prefer the pairs that already carry their minimum order:
        # without this the next flow moves units onto other small pairs as often as not
        # (on a generated district 139 → 91 → 65 → 30 → 80 … short pairs; with it 139 → 32 → 2)
        cost = net.pair_cost - np.where(total >= minimum, weights[0] // 16, 0)
    total[(total > 0) & (total < minimum)] = 0
    return [int(v) for v in total]


def _weighted_flow(
    net: _Network,
    allowed: npt.NDArray[np.bool_],
    forced: npt.NDArray[np.int64],
    served_weight: int,
    priority_weight: int,
    pair_cost: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Flows on the pairs (on top of ``forced`` units) maximising priority units, then units,
    then minimising cost (``pair_cost``, default the unit costs, each within ± the largest
    unit cost), using only ``allowed`` pairs."""
    flat = net.flat
    used_offer: dict[int, int] = defaultdict(int)
    used_row: dict[int, int] = defaultdict(int)
    for p in np.flatnonzero(forced):
        used_offer[flat.pairs[p].offer] += int(forced[p])
        used_row[flat.pairs[p].row] += int(forced[p])
    capacity = net.capacity - np.array([used_offer[i] for i in net.offers], dtype=np.int64)
    got = np.array([used_row[r] for r in net.rows], dtype=np.int64)
    priority_left = np.maximum(net.priority - got, 0)
    rest_left = net.demand - net.priority - np.maximum(got - net.priority, 0)
    row_nodes = np.array([net.row_node[r] for r in net.rows], dtype=np.int64)
    n_offers, n_rows = len(net.offers), len(net.rows)
    supply = int(capacity.sum())
    source, sink = [_Network.SOURCE], [_Network.SINK]
    arcs = np.flatnonzero(allowed)  # only the allowed pairs' arcs: a smaller network
    pair_cost = net.pair_cost if pair_cost is None else pair_cost
    tails = np.concatenate(
        [np.full(n_offers, _Network.SOURCE), net.pair_tail[arcs], row_nodes, row_nodes, source]
    ).astype(np.int64)
    heads = np.concatenate(
        [np.array([net.offer_node[i] for i in net.offers], dtype=np.int64), net.pair_head[arcs],
         np.full(2 * n_rows, _Network.SINK), sink]
    ).astype(np.int64)  # fmt: skip
    caps = np.concatenate(
        [capacity, (net.pair_ub - forced)[arcs], priority_left, rest_left, [supply]]
    ).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(n_offers, np.int64), pair_cost[arcs], np.full(n_rows, -priority_weight),
         np.full(n_rows, -served_weight), [0]]
    ).astype(np.int64)  # fmt: skip
    flows, _ = _solve(tails, heads, caps, costs, supply, max_flow=False)
    out = np.zeros(len(flat.pairs), dtype=np.int64)
    out[arcs] = flows[n_offers : n_offers + arcs.size]
    return out


def _allowed_pairs(
    flat: _Flat,
    net: _Network,
    chosen: dict[str, set[str]],
    preferred: Sequence[int],
    flows: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """The pairs the restricted flow may use: a compound over its supplier limit keeps the
    suppliers the greedy delivered with, then those it had chosen, then those with the most
    unrestricted flow, up to the limit; with the single-supplier rule each row
    keeps one supplier (the greedy's, else the one with the most flow)."""
    n = flat.params.max_suppliers_per_compound
    allowed = np.ones(len(flat.pairs), bool)
    for compound_id in net.compounds:
        rows = flat.rows_of_compound[compound_id]
        members = [p for r in rows for p in flat.pairs_of_row[r]]
        suppliers = {flat.pairs[p].supplier for p in members}
        if len(suppliers) <= n:
            continue
        keep = {flat.pairs[p].supplier for p in members if preferred[p] > 0}
        flowing = _flow_by_supplier(flat, members, flows)
        chosen_here = chosen.get(compound_id, set())
        ranked = sorted(suppliers - keep, key=lambda s: (s not in chosen_here, -flowing[s], s))
        for supplier in ranked:
            if len(keep) >= n:
                break
            keep.add(supplier)
        for p in members:
            allowed[p] = flat.pairs[p].supplier in keep
    if flat.params.single_supplier_per_category:
        for r in net.rows:
            members = [p for p in flat.pairs_of_row[r] if allowed[p]]
            used = {flat.pairs[p].supplier for p in members if preferred[p] > 0}
            if used:
                best = min(used)
            else:
                flowing = _flow_by_supplier(flat, members, flows)
                best = min(flowing, key=lambda s: (-flowing[s], s), default="")
            for p in members:
                allowed[p] = flat.pairs[p].supplier == best
    return allowed


def _flow_by_supplier(
    flat: _Flat, members: Sequence[int], flows: npt.NDArray[np.int64]
) -> dict[str, int]:
    """Units ``flows`` sends on the pairs ``members``, per supplier."""
    flowing: dict[str, int] = defaultdict(int)
    for p in members:
        flowing[flat.pairs[p].supplier] += int(flows[p])
    return flowing


def _raise_or_drop(
    flat: _Flat,
    net: _Network,
    short: npt.NDArray[np.intp],
    total: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.bool_],
    forced: npt.NDArray[np.int64],
    minimum: npt.NDArray[np.int64],
) -> None:
    """Pairs below their minimum order, largest first: raised to it (forced) where the offer
    and the row have room for it, else dropped."""
    spare_offer = {i: flat.problem.offers[i].capacity_units for i in net.offers}
    spare_row = {r: flat.rows[r].quantity_units for r in net.rows}
    for p in np.flatnonzero(forced):
        spare_offer[flat.pairs[p].offer] -= int(forced[p])
        spare_row[flat.pairs[p].row] -= int(forced[p])
    for p in sorted(short.tolist(), key=lambda p: (-int(total[p]), p)):
        pair = flat.pairs[p]
        need = int(minimum[p] - forced[p])
        if spare_offer[pair.offer] >= need and spare_row[pair.row] >= need:
            forced[p] = minimum[p]
            spare_offer[pair.offer] -= need
            spare_row[pair.row] -= need
        else:
            allowed[p] = False
            if forced[p]:
                spare_offer[pair.offer] += int(forced[p])
                spare_row[pair.row] += int(forced[p])
                forced[p] = 0
