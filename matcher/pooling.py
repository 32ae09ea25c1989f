"""Pooled groups: serve compounds below an offer's minimum order by pooling them with neighbours.

A compound that alone wants fewer units of a category than every eligible offer's minimum
order (起送份数) is left unmet by the matcher with reason ``below_min_order``. Neighbouring
compounds in the same situation can reach the minimum together: the threshold counts
jointly, and delivery is split per compound (one stop each, the default) or goes to one
shared drop the leaders agree on. ``propose_pools`` proposes such pools after an
allocation; the leaders' pooled group (团) is opened from a ``Pool``.

Algorithm (greedy, deterministic; integer data throughout)
----------------------------------------------------------
Input: the allocation's ``below_min_order`` unmet rows (compound × category × units).

1. *Leads*: rows by priority units, then units (largest first), then ids. For each lead
   with units left, the offers of its category by unit price, then id; an offer is
   *usable* at a compound when it is eligible there (``check_eligibility``), its remaining
   capacity (capacity − allocated − pooled) reaches its minimum order, and the supplier
   rule holds: the supplier already delivers to the compound, or the compound receives
   fewer than ``max_suppliers_per_compound`` suppliers (and, with
   ``single_supplier_per_category``, no other supplier brings this category there).
   Neighbours are rows of the same category with units left where the offer is usable,
   within ``max_distance_m`` of the lead, nearest first; one joins only if it is within
   ``max_distance_m`` of *every* member (so any two members are that close, whichever of
   them hosts a shared drop), until the joint units reach the minimum order or the pool
   has ``max_compounds``. The first offer that reaches its minimum makes the pool; units
   are capped by the offer's remaining capacity (the last members may get part).
2. *Attach*: rows still left join an existing pool of their category whose offer is
   usable at them, has capacity left, has room for a member and is within reach of every
   member (cheapest offer, then nearest pool first). This serves compounds too small to
   lead a pool of their own.

Why greedy and not CP-SAT: the input is a few hundred small rows (the demo day: 820 rows,
9,721 units), pools are small and local, and every rule is a local check, so a greedy
pass takes milliseconds and is easy to explain to leaders ("the nearest neighbours that
want the same thing"). Its quality is measured against ``bound_units`` (every row that
could be in *some* pool at all: a usable offer whose minimum the row and every reachable
candidate row together reach): on the demo day at 1.5 km it pools 4,655 units, 81 % of
the bound, in 0.06 s; on a generated district 92 % (``benchmarks/pooling.py``).

Distances are metres on the sphere (great circle, ``data.geo``) or, with
``distance="road"``, great circle × a circuity factor (``routing.matrix.HaversineMatrix``,
Shanghai ≈ 1.4): an estimate of driving or walking distance that needs no road graph.
The supplier limit is applied at every member, also with a shared drop: the goods of
every member still pass that member's gate. Nothing is dropped: every unmet row of the
allocation appears in ``PoolingResult.unmet`` with what pooling could not serve and why.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from data.geo import haversine_matrix_m
from data.schemas import Identifier, Model, Offer
from matcher.eligibility import Bilingual, Eligibility, check_eligibility
from matcher.model import Params, Problem
from matcher.result import Allocation, Unmet, UnmetReason

DEFAULT_MAX_DISTANCE_M = 1_500
"""Default reach of a pool: about a 20-minute walk between compound gates."""


class PoolDrop(enum.StrEnum):
    """How a pool's goods are delivered."""

    per_compound = "per_compound"  # one stop at each member compound
    shared = "shared"  # one stop at a member compound the leaders agree on


class DistanceKind(enum.StrEnum):
    """How distances between compounds are measured."""

    sphere = "sphere"  # great-circle metres
    road = "road"  # great-circle metres × circuity (estimated walking / driving distance)


class PoolingParams(Model):
    """How far pools may reach, how they are delivered, how large they may grow."""

    max_distance_m: int = Field(
        default=DEFAULT_MAX_DISTANCE_M,
        gt=0,
        description="largest distance between any two compounds of a pool, metres",
    )
    distance: DistanceKind = Field(
        default=DistanceKind.sphere,
        description="sphere: great circle; road: great circle × circuity",
    )
    circuity: float = Field(
        default=1.4, ge=1.0, le=3.0, description="road distance ÷ great circle (road only)"
    )
    drop: PoolDrop = PoolDrop.per_compound
    max_compounds: int = Field(default=6, ge=2, description="most compounds in one pool")


class Pool(Model):
    """A proposed pooled group: one offer, several neighbouring compounds, a joint threshold."""

    pool_id: Identifier
    offer_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    compound_ids: tuple[Identifier, ...] = Field(
        min_length=2, description="lead compound first, then by joining order"
    )
    units_by_compound: dict[Identifier, int] = Field(
        description="units each compound orders in the pool (its unmet demand, or part of it)"
    )
    priority_units_by_compound: dict[Identifier, int] = Field(
        default_factory=dict, description="of which priority households' units"
    )
    joint_units: int = Field(gt=0)
    min_order_units: int = Field(ge=1)
    max_distance_m: int = Field(ge=0, description="largest distance between two members")
    drop: PoolDrop = PoolDrop.per_compound
    drop_compound_id: Identifier | None = Field(
        default=None, description="the proposed shared drop (shared only)"
    )
    cost_cents: int = Field(ge=0, description="goods + delivery + new stops' fixed cost")
    explanation: Bilingual

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.compound_ids)) != len(self.compound_ids):
            raise ValueError(f"pool {self.pool_id}: compound_ids repeat a compound")
        if set(self.units_by_compound) != set(self.compound_ids):
            raise ValueError(
                f"pool {self.pool_id}: units_by_compound must name exactly compound_ids"
            )
        if any(units <= 0 for units in self.units_by_compound.values()):
            raise ValueError(f"pool {self.pool_id}: every member needs at least one unit")
        if sum(self.units_by_compound.values()) != self.joint_units:
            raise ValueError(f"pool {self.pool_id}: joint_units is not the sum of the members'")
        if self.joint_units < self.min_order_units:
            raise ValueError(
                f"pool {self.pool_id}: joint_units {self.joint_units} below the minimum "
                f"order {self.min_order_units}"
            )
        for compound_id, units in self.priority_units_by_compound.items():
            if units > self.units_by_compound.get(compound_id, 0):
                raise ValueError(f"pool {self.pool_id}: {compound_id} priority units > units")
        if (self.drop is PoolDrop.shared) != (self.drop_compound_id is not None):
            raise ValueError(
                f"pool {self.pool_id}: drop_compound_id is set exactly when drop is shared"
            )
        if self.drop_compound_id is not None and self.drop_compound_id not in self.compound_ids:
            raise ValueError(f"pool {self.pool_id}: the shared drop must be a member compound")
        return self

    @property
    def lead_compound_id(self) -> str:
        """The compound whose leader opens the pooled group."""
        return self.compound_ids[0]

    @property
    def priority_units(self) -> int:
        """Priority households' units served by the pool."""
        return sum(self.priority_units_by_compound.values())


class PoolUnmetReason(enum.StrEnum):
    """Why (part of) an unmet row is still unmet after pooling."""

    not_a_pooling_case = "not_a_pooling_case"  # the matcher's reason is not the minimum order
    supplier_limit = "supplier_limit"
    capacity_exhausted = "capacity_exhausted"
    no_neighbour_in_reach = "no_neighbour_in_reach"
    joint_below_min_order = "joint_below_min_order"


POOL_UNMET_TEXT: dict[PoolUnmetReason, tuple[str, str]] = {
    PoolUnmetReason.not_a_pooling_case: (
        "未满足的原因不是起送份数，拼团无法解决。",
        "the shortfall is not caused by a minimum order; pooling cannot help.",
    ),
    PoolUnmetReason.supplier_limit: (
        "本小区当天接收的供应商数量已达上限，无法再拼其他供应商的团。",
        "the compound already receives the most suppliers allowed per day.",
    ),
    PoolUnmetReason.capacity_exhausted: (
        "可拼团的报价剩余供应量不足起送份数。",
        "no usable offer has enough capacity left for its minimum order.",
    ),
    PoolUnmetReason.no_neighbour_in_reach: (
        "附近没有想要同一品类、可由同一报价配送的小区。",
        "no compound within reach wants the same category from an offer eligible for both.",
    ),
    PoolUnmetReason.joint_below_min_order: (
        "附近小区合计仍达不到起送份数。",
        "the compounds within reach together still stay below the minimum order.",
    ),
}


class PoolUnmet(Model):
    """Units of an allocation's unmet row that pooling does not serve, and why."""

    compound_id: Identifier
    category_id: Identifier
    quantity_units: int = Field(gt=0)
    priority_quantity_units: int = Field(ge=0)
    reason: PoolUnmetReason
    matcher_reason: UnmetReason


class PoolingResult(Model):
    """The proposed pools, what they serve that would otherwise fail, and what stays unmet."""

    pools: tuple[Pool, ...]
    unmet: tuple[PoolUnmet, ...]
    params: PoolingParams
    candidate_units: int = Field(ge=0, description="units unmet below every minimum order")
    candidate_priority_units: int = Field(ge=0)
    candidate_compounds: int = Field(ge=0)
    bound_units: int = Field(
        ge=0, description="upper bound: candidate units of rows that some pool could include"
    )
    compounds_lifted_from_zero: tuple[Identifier, ...] = Field(
        default=(), description="compounds the allocation left with nothing that pools serve"
    )
    time_s: float = Field(ge=0)

    @property
    def served_units(self) -> int:
        """Units the pools serve (all otherwise unmet)."""
        return sum(p.joint_units for p in self.pools)

    @property
    def served_priority_units(self) -> int:
        """Priority units the pools serve."""
        return sum(p.priority_units for p in self.pools)

    @property
    def compounds_served(self) -> int:
        """Compounds taking part in at least one pool."""
        return len({c for p in self.pools for c in p.compound_ids})

    def units_by_supplier(self) -> Counter[str]:
        """Pooled units per supplier."""
        out: Counter[str] = Counter()
        for pool in self.pools:
            out[pool.supplier_id] += pool.joint_units
        return out

    def pools_of(self, compound_id: str) -> tuple[Pool, ...]:
        """The pools a compound takes part in (for its leaders' page)."""
        return tuple(p for p in self.pools if compound_id in p.compound_ids)


# --- the greedy ------------------------------------------------------------------------------


@dataclass
class _Row:
    compound_id: str
    category_id: str
    left: int
    priority_left: int
    unmet: Unmet


@dataclass
class _Draft:
    offer: Offer
    members: list[_Row] = field(default_factory=list)
    units: dict[str, int] = field(default_factory=dict)
    priority: dict[str, int] = field(default_factory=dict)


@dataclass
class _State:
    problem: Problem
    eligibility: Eligibility
    rules: Params
    params: PoolingParams
    offer_row: dict[str, int]
    capacity_left: dict[str, int]
    suppliers_at: dict[str, set[str]]
    suppliers_row: dict[tuple[str, str], set[str]]
    position: dict[str, int]
    distance: npt.NDArray[np.int64]

    def dist(self, a: str, b: str) -> int:
        return int(self.distance[self.position[a], self.position[b]])

    def in_reach(self, row: _Row, members: Sequence[_Row]) -> bool:
        limit = self.params.max_distance_m
        return all(self.dist(row.compound_id, m.compound_id) <= limit for m in members)

    def usable(self, offer: Offer, row: _Row) -> bool:
        """Eligible at the row's compound and allowed by the supplier rules."""
        j = self.problem.compound_index[row.compound_id]
        if self.eligibility.reasons[self.offer_row[offer.offer_id], j] != 0:
            return False
        return self.supplier_allowed(offer, row)

    def supplier_allowed(self, offer: Offer, row: _Row) -> bool:
        here = self.suppliers_at[row.compound_id]
        if offer.supplier_id not in here and len(here) >= self.rules.max_suppliers_per_compound:
            return False
        serving = self.suppliers_row[row.compound_id, row.category_id]
        return not (
            self.rules.single_supplier_per_category and serving and offer.supplier_id not in serving
        )

    def take(self, draft: _Draft, row: _Row, units: int) -> None:
        """Put ``units`` of ``row`` into ``draft`` and book capacity and suppliers."""
        offer = draft.offer
        priority = min(row.priority_left, units)
        if row.compound_id not in draft.units:
            draft.members.append(row)
        draft.units[row.compound_id] = draft.units.get(row.compound_id, 0) + units
        draft.priority[row.compound_id] = draft.priority.get(row.compound_id, 0) + priority
        row.left -= units
        row.priority_left -= priority
        self.capacity_left[offer.offer_id] -= units
        self.suppliers_at[row.compound_id].add(offer.supplier_id)
        self.suppliers_row[row.compound_id, row.category_id].add(offer.supplier_id)


def propose_pools(
    problem: Problem,
    allocation: Allocation,
    params: PoolingParams | None = None,
    *,
    rules: Params | None = None,
    eligibility: Eligibility | None = None,
) -> PoolingResult:
    """Propose pooled groups for the allocation's demand below every minimum order.

    ``rules`` are the matcher's params the allocation was made with (supplier limit, single
    supplier per category, delivery costs; default ``Params()``); ``eligibility`` may be
    passed when already computed for ``problem``. See the module docstring.
    """
    started = time.perf_counter()
    params = params if params is not None else PoolingParams()
    rules = rules if rules is not None else Params()
    if allocation.delivery_date != problem.delivery_date:
        raise ValueError(
            f"allocation is for {allocation.delivery_date}, problem for "
            f"{problem.delivery_date}; pass the allocation solved for this problem"
        )
    eligibility = eligibility if eligibility is not None else check_eligibility(problem)
    used: Counter[str] = Counter()
    suppliers_at: dict[str, set[str]] = defaultdict(set)
    suppliers_row: dict[tuple[str, str], set[str]] = defaultdict(set)
    served_compound: Counter[str] = Counter()
    for line in allocation.lines:
        used[line.offer_id] += line.quantity_units
        suppliers_at[line.compound_id].add(line.supplier_id)
        suppliers_row[line.compound_id, line.category_id].add(line.supplier_id)
        served_compound[line.compound_id] += line.quantity_units

    rows = [
        _Row(u.compound_id, u.category_id, u.quantity_units, u.priority_quantity_units, u)
        for u in allocation.unmet
        if u.reason is UnmetReason.below_min_order
    ]
    ids = sorted({r.compound_id for r in rows})
    compounds = [problem.compounds[problem.compound_index[c]] for c in ids]
    metres = haversine_matrix_m(
        np.array([c.lon for c in compounds]),
        np.array([c.lat for c in compounds]),
        np.array([c.lon for c in compounds]),
        np.array([c.lat for c in compounds]),
    )
    if params.distance is DistanceKind.road:
        metres = metres * params.circuity
    state = _State(
        problem=problem,
        eligibility=eligibility,
        rules=rules,
        params=params,
        offer_row={o.offer_id: i for i, o in enumerate(problem.offers)},
        capacity_left={o.offer_id: o.capacity_units - used[o.offer_id] for o in problem.offers},
        suppliers_at=suppliers_at,
        suppliers_row=suppliers_row,
        position={c: k for k, c in enumerate(ids)},
        distance=np.rint(metres).astype(np.int64),
    )
    offers_of: dict[str, list[Offer]] = defaultdict(list)
    for offer in sorted(problem.offers, key=lambda o: (o.unit_price_cents, o.offer_id)):
        offers_of[offer.category_id].append(offer)
    rows_of: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        rows_of[row.category_id].append(row)
    bound = _bound_units(state, rows_of, offers_of)

    def order(row: _Row) -> tuple[int, int, str, str]:
        return (-row.priority_left, -row.left, row.compound_id, row.category_id)

    drafts: list[_Draft] = []
    for lead in sorted(rows, key=order):
        for offer in offers_of[lead.category_id]:
            if lead.left <= 0:
                break
            draft = _grow(state, lead, offer, rows_of[lead.category_id])
            if draft is not None:
                drafts.append(draft)
    for row in sorted(rows, key=order):
        _attach(state, row, drafts)

    pools = tuple(_pool(state, draft) for draft in drafts)
    unmet = _still_unmet(state, allocation, rows, rows_of, offers_of)
    lifted = sorted({c for pool in pools for c in pool.compound_ids if served_compound[c] == 0})
    result = PoolingResult(
        pools=pools,
        unmet=unmet,
        params=params,
        candidate_units=sum(r.unmet.quantity_units for r in rows),
        candidate_priority_units=sum(r.unmet.priority_quantity_units for r in rows),
        candidate_compounds=len(ids),
        bound_units=bound,
        compounds_lifted_from_zero=tuple(lifted),
        time_s=time.perf_counter() - started,
    )
    _check_conserved(allocation, result)
    return result


def _grow(state: _State, lead: _Row, offer: Offer, same_category: list[_Row]) -> _Draft | None:
    """A pool led by ``lead`` on ``offer`` reaching its minimum order, or ``None``."""
    need = offer.min_order_units
    capacity = state.capacity_left[offer.offer_id]
    if capacity < need or not state.usable(offer, lead):
        return None
    limit = state.params.max_distance_m
    neighbours = sorted(
        (
            r
            for r in same_category
            if r.left > 0
            and r.compound_id != lead.compound_id
            and state.dist(lead.compound_id, r.compound_id) <= limit
            and state.usable(offer, r)
        ),
        key=lambda r: (state.dist(lead.compound_id, r.compound_id), -r.left, r.compound_id),
    )
    members = [lead]
    joint = lead.left
    for row in neighbours:
        if joint >= need or len(members) >= state.params.max_compounds:
            break
        if state.in_reach(row, members):
            members.append(row)
            joint += row.left
    if joint < need or len(members) < 2:
        return None
    room = min(joint, capacity)
    plan: list[tuple[_Row, int]] = []
    for row in members:
        units = min(row.left, room)
        if units > 0:
            plan.append((row, units))
            room -= units
    if len(plan) < 2:  # the lead alone fills the offer's capacity: not a pool
        return None
    draft = _Draft(offer)
    for row, units in plan:
        state.take(draft, row, units)
    return draft


def _attach(state: _State, row: _Row, drafts: list[_Draft]) -> None:
    """Let a row still left join the cheapest, then nearest, pool that can take it."""
    while row.left > 0:
        options = [
            (
                draft.offer.unit_price_cents,
                max(state.dist(row.compound_id, m.compound_id) for m in draft.members),
                k,
            )
            for k, draft in enumerate(drafts)
            if draft.offer.category_id == row.category_id
            and row.compound_id not in draft.units
            and len(draft.members) < state.params.max_compounds
            and state.capacity_left[draft.offer.offer_id] > 0
            and state.in_reach(row, draft.members)
            and state.usable(draft.offer, row)
        ]
        if not options:
            return
        draft = drafts[min(options)[2]]
        state.take(draft, row, min(row.left, state.capacity_left[draft.offer.offer_id]))


def _bound_units(
    state: _State, rows_of: dict[str, list[_Row]], offers_of: dict[str, list[Offer]]
) -> int:
    """Units of rows that some pool could include, before any pool is made (an upper bound
    on what pooling serves: a row counts if, for some usable offer, it and every candidate
    row within reach where that offer is usable reach the offer's minimum order)."""
    total = 0
    limit = state.params.max_distance_m
    for category_id, rows in rows_of.items():
        for row in rows:
            for offer in offers_of[category_id]:
                if state.capacity_left[offer.offer_id] < offer.min_order_units:
                    continue
                if not state.usable(offer, row):
                    continue
                reach = sum(
                    r.left
                    for r in rows
                    if state.dist(row.compound_id, r.compound_id) <= limit
                    and state.usable(offer, r)
                )
                if reach >= offer.min_order_units and reach > row.left:
                    total += row.left
                    break
    return total


def _still_unmet(
    state: _State,
    allocation: Allocation,
    rows: list[_Row],
    rows_of: dict[str, list[_Row]],
    offers_of: dict[str, list[Offer]],
) -> tuple[PoolUnmet, ...]:
    """Every unmet row of the allocation, less what the pools serve, with a reason."""
    left = {(r.compound_id, r.category_id): r for r in rows}
    out: list[PoolUnmet] = []
    for unmet in allocation.unmet:
        row = left.get((unmet.compound_id, unmet.category_id))
        if unmet.reason is not UnmetReason.below_min_order or row is None:
            out.append(
                PoolUnmet(
                    compound_id=unmet.compound_id,
                    category_id=unmet.category_id,
                    quantity_units=unmet.quantity_units,
                    priority_quantity_units=unmet.priority_quantity_units,
                    reason=PoolUnmetReason.not_a_pooling_case,
                    matcher_reason=unmet.reason,
                )
            )
            continue
        if row.left <= 0:
            continue
        out.append(
            PoolUnmet(
                compound_id=row.compound_id,
                category_id=row.category_id,
                quantity_units=row.left,
                priority_quantity_units=row.priority_left,
                reason=_why(state, row, rows_of[row.category_id], offers_of[row.category_id]),
                matcher_reason=unmet.reason,
            )
        )
    return tuple(out)


def _why(state: _State, row: _Row, rows: list[_Row], offers: list[Offer]) -> PoolUnmetReason:
    """The first pooling rule that keeps ``row`` out of every pool, in the final state."""
    j = state.problem.compound_index[row.compound_id]
    eligible = [o for o in offers if state.eligibility.reasons[state.offer_row[o.offer_id], j] == 0]
    allowed = [o for o in eligible if state.supplier_allowed(o, row)]
    if not allowed:
        return PoolUnmetReason.supplier_limit
    open_offers = [o for o in allowed if state.capacity_left[o.offer_id] > 0]
    if not open_offers:
        return PoolUnmetReason.capacity_exhausted
    limit = state.params.max_distance_m
    for offer in open_offers:
        if any(
            r is not row
            and state.dist(row.compound_id, r.compound_id) <= limit
            and state.usable(offer, r)
            for r in rows
        ):
            return PoolUnmetReason.joint_below_min_order
    return PoolUnmetReason.no_neighbour_in_reach


def _pool(state: _State, draft: _Draft) -> Pool:
    """The frozen pool of a draft: distances, drop, cost and the leaders' explanation."""
    problem, rules, offer = state.problem, state.rules, draft.offer
    ids = [m.compound_id for m in draft.members]
    widest = max(state.dist(a, b) for a in ids for b in ids)
    drop: str | None = None
    if state.params.drop is PoolDrop.shared:  # the 1-median: least unit-metres carried
        drop = min(ids, key=lambda d: (sum(draft.units[c] * state.dist(c, d) for c in ids), d))
    stops = [drop] if drop is not None else ids
    i = state.offer_row[offer.offer_id]
    cost = 0
    for compound_id in ids:
        at = drop if drop is not None else compound_id
        metres = int(state.eligibility.distance_m[i, problem.compound_index[at]])
        per_unit = (
            offer.unit_price_cents + (rules.delivery_cost_cents_per_km * metres + 500) // 1000
        )
        per_unit += problem.pair_cost_by_key.get((offer.offer_id, at), 0)
        cost += per_unit * draft.units[compound_id]
    cost += rules.fixed_cost_cents_per_delivery * len(stops)
    digest = hashlib.sha1(f"{offer.offer_id}|{'|'.join(ids)}".encode()).hexdigest()[:12]
    pool_id = f"pool-{digest}"
    return Pool(
        pool_id=pool_id,
        offer_id=offer.offer_id,
        supplier_id=offer.supplier_id,
        category_id=offer.category_id,
        compound_ids=tuple(ids),
        units_by_compound=dict(draft.units),
        priority_units_by_compound={c: u for c, u in draft.priority.items() if u > 0},
        joint_units=sum(draft.units.values()),
        min_order_units=offer.min_order_units,
        max_distance_m=widest,
        drop=state.params.drop,
        drop_compound_id=drop,
        cost_cents=cost,
        explanation=_explain(state, draft, widest, drop),
    )


def _explain(state: _State, draft: _Draft, widest: int, drop: str | None) -> Bilingual:
    """What the leaders read: who pools with whom, why, and where the truck stops."""
    problem, offer = state.problem, draft.offer
    name = {c.compound_id: c.name for c in problem.compounds}
    category = problem.category_by_id[offer.category_id]
    supplier = problem.supplier_by_id[offer.supplier_id].name
    lead, *others = [m.compound_id for m in draft.members]
    joint = sum(draft.units.values())
    zh_parts = "、".join(f"{name[c]}{draft.units[c]}份" for c in [lead, *others])
    en_parts = ", ".join(f"{name[c]} {draft.units[c]}" for c in [lead, *others])
    kind = "直线" if state.params.distance is DistanceKind.sphere else "道路"
    kind_en = "straight-line" if state.params.distance is DistanceKind.sphere else "road"
    if drop is None:
        drop_zh = "送货时各小区各停一站，分别交接。"
        drop_en = "The truck stops at each compound's gate."
    else:
        drop_zh = f"建议统一送到{name[drop]}，由各小区团长到该处领取。"
        drop_en = f"Proposed shared drop: {name[drop]}; each compound's leader collects there."
    return Bilingual(
        zh=(
            f"{name[lead]}单独订{category.name_zh}{draft.units[lead]}份，达不到{supplier}的起送份数"
            f"{offer.min_order_units}份。与{'、'.join(name[c] for c in others)}拼团（{zh_parts}，"
            f"合计{joint}份，成员间{kind}距离最远{widest}米），达到起送份数，"
            f"单价{offer.unit_price_cents / 100:.2f}元。{drop_zh}"
        ),
        en=(
            f"{name[lead]} alone orders {draft.units[lead]} {category.name_en}, below "
            f"{supplier}'s minimum order of {offer.min_order_units}. Pooled with "
            f"{', '.join(name[c] for c in others)} ({en_parts}; {joint} together, members at "
            f"most {widest} m apart, {kind_en}) it reaches the minimum, at "
            f"{offer.unit_price_cents / 100:.2f} yuan a unit. {drop_en}"
        ),
    )


def _check_conserved(allocation: Allocation, result: PoolingResult) -> None:
    """Pooled + still unmet == the allocation's unmet, per compound × category."""
    before: Counter[tuple[str, str]] = Counter()
    for unmet in allocation.unmet:
        before[unmet.compound_id, unmet.category_id] += unmet.quantity_units
    after: Counter[tuple[str, str]] = Counter()
    for pool in result.pools:
        for compound_id, units in pool.units_by_compound.items():
            after[compound_id, pool.category_id] += units
    for left in result.unmet:
        after[left.compound_id, left.category_id] += left.quantity_units
    if before != after:
        wrong = sorted(k for k in set(before) | set(after) if before[k] != after[k])
        raise RuntimeError(f"pooling lost or invented units at {wrong[:5]}: a bug, report it")
