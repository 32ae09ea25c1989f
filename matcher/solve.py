"""Allocation: integer quantities from offers to compound demand, one entry point ``solve``.

Model (all data integer)
------------------------
For every eligible (offer, compound) pair whose compound demands the offer's category and
whose upper bound ``min(capacity, demand)`` reaches the minimum order: ``q`` units
(integer) and a delivery flag ``y`` with ``min_order·y ≤ q ≤ ub·y`` (起送份数: nothing or
at least the minimum). ``z[supplier, compound] ≥ y`` marks a truck at the gate; at most
``max_suppliers_per_compound`` of them per compound; optionally at most one supplier per
compound × category. Offer capacity and demand bound the sums.

Objective: lexicographic, by sequential solves
----------------------------------------------
1. ``priority``: maximise Σ min(served, priority demand) per compound × category: goods
   reaching a compound go to its priority households first, so this is the priority
   demand served.
2. ``fairness``: maximise Σ over categories of ``t_k``, the smallest served share (‰) over
   the compounds that some eligible offer could serve (``1000·served ≥ t_k·demand``):
   max-min fairness, so no compound sits at zero while another is fully served when the
   supply allows otherwise.
3. ``served``: maximise total units served.
4. ``fairness_cap`` (only with ``fairness_cap_pct``): minimise the units by which a
   supplier exceeds X % of a district's served volume of a category. Service is already
   fixed, so the cap only moves volume to other suppliers *while they have capacity*.
5. ``cost``: minimise unit price + delivery (per unit-km from the nearest depot) + fixed
   cost per supplier–compound delivery (+ offer opening costs, used by the benchmarks),
   + an optional reliability penalty per unit of a less reliable supplier
   (``Params.reliability_penalty_cents_per_unit``, default 0): it steers volume but is not
   charged, so lines and ``cost_cents`` exclude it while the cost stage's value and bound
   include it.

Each stage is solved to a relative gap of 0 and its objective is then fixed (``≥`` the
value found, ``≤`` for minimisations) before the next. Sequential solves are used rather
than weights because the weights that provably dominate (cost ≤ 10⁹ cents against units)
overflow solver tolerances in a MIP and slow CP-SAT's LP bound (a served-units tie-break
weighted into the priority and fairness stages was measured too: no more units served on
the demo day or a generated 120-compound day, and a weaker fairness stage). A stage stopped
by its budget still has its found value fixed; the result is then ``feasible``, not
``optimal``. After every maximisation the solution is topped up by the greedy's second pass
(never worse for it) and the topped-up value is the one fixed, so a later stage that finds
nothing (or is cut) still leaves every unit the rules allow served. Stages share the budget
by ``STAGE_SHARE`` (the cost stage takes what is left), and ``Allocation.stages`` reports
per stage the value fixed, the solver's proven bound, the gap, the time, the deterministic
time and what stopped it. When the greedy allocation already serves every servable compound ×
category in full, stages 1–3 are at their upper bounds and are replaced by
``served == demand`` rows (only the cost stage is solved). Delivery flags ``y`` exist only
where a rule needs them (min order > 1, a fixed delivery cost, a binding supplier limit,
single supplier), which keeps the model as small as a plain facility-location model.

Hints, cover cuts, greedy (measured on the demo day: 334 compounds, 5,700 eligible
pairs, 15 suppliers, at most 3 per compound; 30 s, seed 1, 2 shared cores)
--------------------------------------------------------------------------------------
The supplier limit is what makes such a day hard: no 3 suppliers sell all 10 categories,
and the LP relaxation spreads the 3 trucks over all 9–10 eligible suppliers, so its bound
is "all servable priority" (23,677 units) and proves nothing.

- *Cover cuts*: for a compound with a binding limit, Σ served ≤ the most demand, and Σ
  priority served ≤ the most priority demand, that any N of its suppliers could cover
  (enumerated, ≤ ``MAX_SUBSETS_PER_COMPOUND`` subsets; capacity ignored). Valid for every
  integer solution; priority bound 23,677 → 20,904, served bound → 150,812.
- *Greedy* chooses, compound by compound (largest priority demand first), the N suppliers
  whose remaining capacity covers the most priority (then total) demand, serves priority
  units, then tops rows up. Priority 15,244 → 20,707 units (1 % from the bound), 0.2 s.
- *Complete hints*: every variable (y, z, priority, floors, excess) is hinted, derived from
  q; CP-SAT had been repairing a q-only hint and returned *less* than the greedy (15,078
  against 15,244). Between stages the stage's solution is topped up by the greedy's second
  pass (never worse for the earlier stages) before it becomes the next hint.
- Before → after, default ``Params`` (CP-SAT deterministic): priority 57.4 % → 78.9 %
  (gap to the cover bound 0.8 %), served 50.1 % → about 35 % (see below).

The served share *falls* because it is now ranked behind a near-maximal priority stage:
the supplier sets that serve priority best (pharmacy, infant formula) are not those that
serve most volume, and the served stage (bound 150,812, found 75–100k) cannot move them
without losing priority. The fairness stage on such a day only proves nothing (bound
≈ 7,900 ‰, found 0–400 ‰) and its floor, when > 0, forces one category into every compound.
``linearization_level=2`` and more time for the served stage measured no better.

Flow starts and flow bounds (``matcher.flow``)
----------------------------------------------
When the greedy leaves demand unserved, the supplier limit aside the allocation is a
transportation problem, which min-cost flow solves exactly in integers in a fraction of a
second. Two uses:

- *Bounds*: the most priority units and the most units any allocation can serve (flows
  through per-compound nodes capped by the cover bounds). A maximisation stage's reported
  bound is the tighter of CP-SAT's and the flow's, and a stage whose value reaches it is
  proven optimal. At district scale CP-SAT's one sequential worker never computes an LP
  bound (the served bound it reported was 11.7 M units for 2.4 M demanded); the flow's is
  1.75 M.
- *Starts*: the greedy breaks ties between supplier sets that cover a compound's priority
  units equally by capacity, so every compound picks the same few large suppliers and their
  capacity runs out while others stay idle. The supplier sets compounds take when capacity
  has a price (``matcher.capacity_prices``, a Lagrangian relaxation of the capacities)
  break those ties instead: the greedy prefers the sets a flow over the priced sets uses,
  and the flow solved again on the chosen sets (minimum orders repaired) gives the
  quantities; the lexicographically best of greedy and flow starts (``lexicographic_key``)
  is the hint and the fallback. Opt-in (``Params.flow_start``): the router, given half as
  many deliveries again within the seconds the API's tests allow, found no feasible plan at
  all for some suppliers' fleets; it now keeps the routes of such a search that are
  feasible on their own, but within 5 s it still dropped committed group deliveries of the
  larger day, so the start stays off by default. Generated district (2,500 compounds ×
  8 categories × 40 suppliers, seed 1): served 990,658 → 1,608,100 units (41.7 → 67.7 %),
  priority 196,426 → 197,215 units (the flow bound: proven, so the priority stage is not
  searched), about 7 s more; the unrestricted flow that broke the ties before reached
  1,475,630 and 196,949. Demo day (``linli match --flow-start``): served 33.7 → 53.1 %,
  priority 78.8 → 79.0 %.
- *Stages proven by the start*: a maximisation stage whose start (or the previous stage's
  solution) already reaches its bound (the flow's or the trivial one) is fixed without a
  search and reported ``optimal (start reaches the bound)``; its budget goes to the later
  stages.

Candidate suppliers (``Params.candidate_suppliers``, ``matcher.candidates``)
--------------------------------------------------------------------------
In the generated city a compound reaches 94 suppliers on average (up to 170): 2.3 M pairs,
a 20 GB model of which CP-SAT finished only the priority stage in 5 minutes, and a greedy
that cannot weigh ``C(94, 3)`` supplier sets. With ``candidate_suppliers = K`` the model
holds each compound's K nearest suppliers and the 2 nearest sellers of each category it
demands; the greedy, the starts and CP-SAT work on those pairs, while the stages' reported
bounds are the whole problem's (flow bounds on every eligible pair; CP-SAT's own bound and
proof are dropped, as they hold for the cut model only) and unmet demand is explained over
every eligible offer. Off by default (a day of one district keeps every supplier);
``linli plan-city`` uses ``CITY_CANDIDATES`` = 24. Figures in ``benchmarks/README.md``.

Solver choice (measured, 2-core shared machine, OR-Tools 9.15)
---------------------------------------------------------------
The same model code runs on CP-SAT or on a MIP solver through ``pywraplp`` (``solver=``
``"cp-sat"``, ``"scip"``, ``"highs"``, ``"cbc"``); the default is CP-SAT. Measurements:

- OR-Library CFLP, all 37 instances splittable and 24 single-source, through the matcher's
  model (``benchmarks/cflp.py``): HiGHS proves every published optimum in 0.04–11 s
  (median well under a second), at most 1.34× the time of a textbook HiGHS model; CP-SAT
  (8 workers) proves them too, a median 25× slower through the matcher (the textbook
  CP-SAT model 11–17× slower than the textbook HiGHS one; 0.7–274× over the instances).
  When every compound can be served in full (only the cost stage is left: a facility-
  location MIP whose LP relaxation is strong), HiGHS is the better back-end.
- Matcher model on ``tests.matcher.instances.random_world`` (60 compounds × 8 suppliers ×
  2 categories, supply 70 % of demand, min orders 5–20, 20 s total): all four solvers
  prove the priority and served stages; the max-min fairness stage is the hard one.
  Floors reached (pork/veg ‰, seeds 1 and 2): CP-SAT parallel 691/694 (proven optimal)
  and 629/523; CP-SAT deterministic (interleaved) 615/412 and 527/546; SCIP 686/687 and
  692/652; CBC 666/666 and 657/613, CBC found no cost-stage solution on seed 2; HiGHS
  found no solution to the fairness stage at all, and ``pywraplp``'s HiGHS crashes on
  solution hints (so it runs without them).
- CP-SAT is the default because it is the only back-end that proved a fairness stage
  optimal, it is integer-exact (no big-M tolerances on the min-order indicator rows), it
  takes the previous stage's solution as a hint reliably, and it can run in parallel *and*
  reproducibly (``interleave_search``). SCIP, single-threaded, is the better choice when
  fairness floors on hard shortage days matter more than reproducible parallel search;
  ``Params.deterministic=False`` gives CP-SAT's stronger parallel portfolio; HiGHS
  (``linli match --solver highs``) for days of ample supply, whose cost stage it solves
  an order of magnitude faster (a HiGHS stage cut by its time limit is not reproducible,
  as any wall-clock stage).

Determinism
-----------
With ``Params.deterministic`` (the default) the same input, seed and params give the same
allocation on any machine load: CP-SAT gets a *deterministic-time* budget (its own count of
work, ``deterministic_budget``: ``deterministic_time``, or ``time_limit_s`` ×
``DTIME_PER_SECOND``), split between the stages in advance by ``STAGE_SHARE``, with what a
stage leaves unused passed on (a stage's deterministic time is itself reproducible). The
wall clock (``time_limit_s``, all stages) stays as a safety net only: a stage it ends is
reported with ``stopped_by="wall_clock"`` and the allocation's ``message`` says it may
differ between runs. ``num_workers=1`` (default) runs one sequential search with presolve
off (the complete hint is then a solution at once, and presolve's seconds, which CP-SAT
does not count as deterministic time, are saved); ``num_workers > 1`` interleaves CP-SAT's
subsolvers in batches of 3 × ``num_workers`` tasks (``interleave_search``), which is
reproducible whatever the threads' timing but checks the budget only between batches
(measured on the demo day at 3 dtime: 28–34 s wall, 34.1 % served, and the served and
cost stages spent their budget in presolve without a solution).
``Params.deterministic=False`` runs the parallel portfolio on wall-clock budgets,
reproducible only when every stage is proven optimal. Variables are created in sorted
input order. SCIP / HiGHS / CBC run single-threaded on the wall clock.

Measured on the demo day (334 compounds, 5,700 pairs; 2 shared cores, load 2–4, seed
20220415; ``.venv/bin/python`` runs of ``solve`` on ``api.matching``'s problem):

- before (interleaved, 8 workers, dtime = 0.25 × each stage's wall budget): the wall clock
  ended the stages, a stage cut before its first solution left the earlier stage's
  un-topped solution (30 s: 21.9 % served, 78.8 % priority), runs differed under load.
- one worker, presolve on, 2.5 dtime: 53 s wall (presolve ≈ 4 s a stage at 0 dtime; the
  cost stage ended with no solution); presolve off: 28 s, same quality.
- interleaved, batch 1 (CP-SAT's whole portfolio on one thread), 7.5 dtime: 60 s wall and
  cut by the wall clock: each full-problem subsolver spends seconds loading the model.
- default (one worker, ``DTIME_PER_SECOND`` = 0.03: 0.9 dtime at 30 s): 13 s to solve at
  load 2–3 and 20 s beside a busy process, the same allocation and explanations each time:
  33.7 % served, 78.8 % priority (the greedy's supplier choice: one worker improves
  neither within 3 dtime). The parallel portfolio at 30 s: 35.4 / 37.3 / 44.2 % served and
  78.8–78.9 % priority over three runs, each different, its cost stage often unsolved.
- generated 120-compound day (``tests.matcher.instances.generated_day``): deterministic
  0.9 / 1.5 / 3 dtime: 50.8 / 56.3 / 57.5 % served (71.6 % priority, optimal); parallel at
  30 s: 55.1 %. There the budget buys quality: raise ``deterministic_time`` for it.

No solution in time → ``greedy_allocation`` (by priority share, then cheapest eligible
offer, respecting every hard rule), with ``status = fallback_greedy``.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from matcher import candidates, flow
from matcher.eligibility import REASONS, Eligibility, Reason, check_eligibility
from matcher.model import DemandRow, Params, Problem
from matcher.reliability import penalty_cents_per_unit
from matcher.result import (
    Allocation,
    AllocationLine,
    Objectives,
    SolveStatus,
    StageReport,
    SupplierReason,
    Unmet,
    UnmetReason,
)

SolverName = Literal["cp-sat", "scip", "highs", "cbc"]
DEFAULT_SOLVER: SolverName = "cp-sat"

PERMILLE = 1000
STAGE_SHARE = {"priority": 1.0, "fairness": 1.0, "served": 1.0, "fairness_cap": 1.0}
"""Relative time shares of the stages; the cost stage gets whatever is left."""
MIN_STAGE_DTIME = 0.05
"""Deterministic time every stage gets even when earlier ones spent the budget: enough to
load the hint as a first solution, so each stage reports a value and a bound."""
DTIME_PER_SECOND = 0.03
"""Default deterministic-time budget per second of ``time_limit_s`` (deterministic mode);
low enough that the demo day ends on it, not on the wall clock (see the module docstring)."""


# --- the instance, flattened to integer arrays ---------------------------------------------


@dataclass
class _Pair:
    offer: int
    row: int
    supplier: str
    ub: int
    min_order: int
    unit_cost: int
    distance_m: int
    depot_id: str
    penalty: int = 0
    """Reliability penalty per unit: in the cost objective only, never charged."""


@dataclass
class _Flat:
    problem: Problem
    params: Params
    eligibility: Eligibility
    rows: tuple[DemandRow, ...]
    pairs: list[_Pair]
    pairs_of_row: dict[int, list[int]] = field(default_factory=dict)
    pairs_of_offer: dict[int, list[int]] = field(default_factory=dict)
    rows_of_compound: dict[str, list[int]] = field(default_factory=dict)


def _flatten(problem: Problem, params: Params, eligibility: Eligibility) -> _Flat:
    rows = problem.demand
    offers_by_category = _offers_by_category(problem)
    pairs: list[_Pair] = []
    extra = problem.pair_cost_by_key
    offers = problem.offers
    reliability = problem.reliability_by_supplier
    penalty = {
        s.supplier_id: penalty_cents_per_unit(
            params.reliability_penalty_cents_per_unit, reliability.get(s.supplier_id)
        )
        for s in problem.suppliers
    }
    per_km = params.delivery_cost_cents_per_km
    for r, row in enumerate(rows):
        if row.quantity_units <= 0:
            continue
        j = problem.compound_index[row.compound_id]
        of_category = offers_by_category.get(row.category_id, _NO_OFFERS)
        eligible = of_category[eligibility.reasons[of_category, j] == 0]
        distances = eligibility.distance_m[eligible, j].tolist()
        depots = eligibility.nearest_depot[eligible, j].tolist()
        for i, dist, depot in zip(eligible.tolist(), distances, depots, strict=True):
            offer = offers[i]
            ub = min(offer.capacity_units, row.quantity_units)
            if ub < offer.min_order_units:
                continue
            pairs.append(
                _Pair(
                    offer=i,
                    row=r,
                    supplier=offer.supplier_id,
                    ub=ub,
                    min_order=offer.min_order_units,
                    unit_cost=offer.unit_price_cents
                    + (per_km * int(dist) + 500) // 1000
                    + (extra.get((offer.offer_id, row.compound_id), 0) if extra else 0),
                    distance_m=int(dist),
                    depot_id=offer.depot_ids[depot],
                    penalty=penalty.get(offer.supplier_id, 0),
                )
            )
    return _indexed(_Flat(problem, params, eligibility, rows, pairs))


_NO_OFFERS: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)


def _offers_by_category(problem: Problem) -> dict[str, npt.NDArray[np.int64]]:
    """Offer indices by category, in problem order (to index eligibility's matrices)."""
    index: dict[str, list[int]] = defaultdict(list)
    for i, offer in enumerate(problem.offers):
        index[offer.category_id].append(i)
    return {category: np.array(offers, dtype=np.int64) for category, offers in index.items()}


def _indexed(flat: _Flat) -> _Flat:
    """``flat`` with its pairs indexed by row and offer, and its rows by compound."""
    for p, pair in enumerate(flat.pairs):
        flat.pairs_of_row.setdefault(pair.row, []).append(p)
        flat.pairs_of_offer.setdefault(pair.offer, []).append(p)
    for r in sorted(flat.pairs_of_row):
        flat.rows_of_compound.setdefault(flat.rows[r].compound_id, []).append(r)
    return flat


def _restricted(flat: _Flat, kept: Sequence[int]) -> _Flat:
    """``flat`` with only the pairs ``kept`` (indices, in order)."""
    pairs = [flat.pairs[p] for p in kept]
    return _indexed(_Flat(flat.problem, flat.params, flat.eligibility, flat.rows, pairs))


# --- solver back-ends: one model code, CP-SAT or a MIP through pywraplp --------------------


@dataclass
class _StageOutcome:
    found: bool
    optimal: bool
    objective: int
    bound: int
    dtime: float = 0.0
    stopped_by: str | None = None


class _Backend:
    """The few operations the model needs, on CP-SAT or on pywraplp."""

    name: str

    def int_var(self, ub: int) -> Any:
        raise NotImplementedError

    def bool_var(self) -> Any:
        raise NotImplementedError

    def add(self, constraint: Any) -> None:
        raise NotImplementedError

    def total(self, terms: Sequence[Any]) -> Any:
        raise NotImplementedError

    def solve(
        self,
        objective: Any,
        maximize: bool,
        time_limit_s: float,
        dtime_limit: float | None,
        hint: dict[Any, int],
    ) -> _StageOutcome:
        """Optimise ``objective`` within ``time_limit_s`` seconds and, where the back-end
        supports it, ``dtime_limit`` units of deterministic time."""
        raise NotImplementedError

    def value(self, var: Any) -> int:
        raise NotImplementedError


class _CpSat(_Backend):
    name = "cp-sat"

    def __init__(self, params: Params) -> None:
        self.model = cp_model.CpModel()
        self.solver = cp_model.CpSolver()
        self.params = params

    def int_var(self, ub: int) -> Any:
        return self.model.new_int_var(0, ub, "")

    def bool_var(self) -> Any:
        return self.model.new_bool_var("")

    def add(self, constraint: Any) -> None:
        self.model.add(constraint)

    def total(self, terms: Sequence[Any]) -> Any:
        return cp_model.LinearExpr.sum(list(terms))

    def solve(
        self,
        objective: Any,
        maximize: bool,
        time_limit_s: float,
        dtime_limit: float | None,
        hint: dict[Any, int],
    ) -> _StageOutcome:
        if maximize:
            self.model.maximize(objective)
        else:
            self.model.minimize(objective)
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        # straight into the proto: add_hint per variable costs seconds at district scale
        self.model.proto.solution_hint.vars.extend(var.index for var in hint)
        self.model.proto.solution_hint.values.extend(hint.values())
        p = self.solver.parameters
        p.max_time_in_seconds = max(0.01, time_limit_s)
        if dtime_limit is not None:
            p.max_deterministic_time = max(0.001, dtime_limit)
        p.random_seed = self.params.seed
        p.num_workers = self.params.num_workers
        # interleaved batches (3 tasks per worker) do not depend on the threads' timing
        p.interleave_search = dtime_limit is not None and self.params.num_workers > 1
        # one sequential worker skips presolve: the hint is then a solution at once, so a
        # stage never ends empty-handed, and presolve's seconds are not in its budget
        p.cp_model_presolve = not (dtime_limit is not None and self.params.num_workers == 1)
        p.relative_gap_limit = 0.0
        p.absolute_gap_limit = 0.0
        status = self.solver.solve(self.model)
        found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        dtime = self.solver.deterministic_time
        stopped_by = None
        if status != cp_model.OPTIMAL:
            reached = dtime_limit is not None and dtime >= p.max_deterministic_time
            stopped_by = "deterministic_limit" if reached else "wall_clock"
        return _StageOutcome(
            found=found,
            optimal=status == cp_model.OPTIMAL,
            objective=round(self.solver.objective_value) if found else 0,
            bound=round(self.solver.best_objective_bound) if found else 0,
            dtime=dtime,
            stopped_by=stopped_by,
        )

    def value(self, var: Any) -> int:
        return int(self.solver.value(var))


class _Mip(_Backend):
    _IDS: ClassVar[dict[str, str]] = {"scip": "SCIP", "highs": "HIGHS", "cbc": "CBC"}

    def __init__(self, params: Params, name: str) -> None:
        solver = pywraplp.Solver.CreateSolver(self._IDS[name])
        if solver is None:
            raise ValueError(f"solver {name!r} is not available in this OR-Tools build")
        solver.SuppressOutput()
        self.solver = solver
        self.name = name
        self.params = params
        self.vars: list[Any] = []

    def int_var(self, ub: int) -> Any:
        var = self.solver.IntVar(0, ub, "")
        self.vars.append(var)
        return var

    def bool_var(self) -> Any:
        var = self.solver.BoolVar("")
        self.vars.append(var)
        return var

    def add(self, constraint: Any) -> None:
        self.solver.Add(constraint)

    def total(self, terms: Sequence[Any]) -> Any:
        return self.solver.Sum(list(terms))

    def solve(
        self,
        objective: Any,
        maximize: bool,
        time_limit_s: float,
        dtime_limit: float | None,
        hint: dict[Any, int],
    ) -> _StageOutcome:
        if maximize:
            self.solver.Maximize(objective)
        else:
            self.solver.Minimize(objective)
        if hint and self.name != "highs":  # pywraplp's HiGHS interface crashes on hints
            self.solver.SetHint(list(hint), [float(v) for v in hint.values()])
        self.solver.SetTimeLimit(max(10, int(time_limit_s * 1000)))
        self.solver.SetNumThreads(1)
        mp = pywraplp.MPSolverParameters()
        mp.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
        status = self.solver.Solve(mp)
        found = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
        return _StageOutcome(
            found=found,
            optimal=status == pywraplp.Solver.OPTIMAL,
            objective=round(self.solver.Objective().Value()) if found else 0,
            bound=round(self.solver.Objective().BestBound()) if found else 0,
            stopped_by=None if status == pywraplp.Solver.OPTIMAL else "wall_clock",
        )

    def value(self, var: Any) -> int:
        return round(float(var.solution_value()))


def _backend(params: Params, solver: SolverName) -> _Backend:
    return _CpSat(params) if solver == "cp-sat" else _Mip(params, solver)


# --- the model -----------------------------------------------------------------------------


@dataclass
class _Stage:
    name: str
    objective: Any
    maximize: bool
    share: float
    """Share of the remaining time this stage may use (the last stage takes all of it)."""
    value: Callable[[Sequence[int]], int] | None = None
    """The objective's value at given quantities ``q`` (every stage but the last)."""
    trivial_bound: int = 0
    """A bound that holds whatever pairs the model holds (all demand served; no cost)."""


@dataclass
class _Built:
    stages: list[_Stage]
    q: list[Any]
    every: list[Any]
    derived: list[tuple[Any, Callable[[Sequence[int]], int]]]
    """Every variable but ``q`` with its value as a function of the quantities ``q``."""

    def hint(self, quantities: Sequence[int]) -> dict[Any, int]:
        """A complete solution hint from quantities (CP-SAT repairs partial hints poorly)."""
        hint = dict(zip(self.q, quantities, strict=True))
        for var, value in self.derived:
            hint[var] = value(quantities)
        return hint


def _any(members: Sequence[int]) -> Callable[[Sequence[int]], int]:
    return lambda x: int(any(x[p] > 0 for p in members))


def _build(
    flat: _Flat,
    be: _Backend,
    full_service: bool,
    limited: set[str],
    cover: dict[str, tuple[int, int]],
) -> _Built:
    """Variables, constraints and the stage objectives.

    With ``full_service`` (a known solution serves every servable row in full) stages 1–3
    are at their upper bounds, so they are replaced by ``served == demand`` rows.
    ``limited`` is ``_limited(flat)``, ``cover`` its ``_cover_bounds`` (empty when not needed).
    """
    problem, params = flat.problem, flat.params
    # opening flags first, as in a textbook facility-location model (CP-SAT's fixed search
    # follows creation order; measured on eleven cap instances: 3.5 % less deterministic
    # time together, no better on every one)
    opening = problem.fixed_cost_by_offer
    opened = {
        i: be.bool_var()
        for i in sorted(flat.pairs_of_offer)
        if opening.get(problem.offers[i].offer_id, 0)
    }
    q = [be.int_var(pair.ub) for pair in flat.pairs]
    every: list[Any] = [*opened.values(), *q]
    derived: list[tuple[Any, Callable[[Sequence[int]], int]]] = [
        (u, _any(flat.pairs_of_offer[i])) for i, u in opened.items()
    ]

    # delivery flags y only where a rule needs them (min order, fixed cost, supplier limit,
    # single supplier): fewer binaries for the solver, the same feasible set
    by_supplier_compound: dict[tuple[str, str], list[int]] = defaultdict(list)
    for p, pair in enumerate(flat.pairs):
        compound_id = flat.rows[pair.row].compound_id
        by_supplier_compound[pair.supplier, compound_id].append(p)
    per_delivery = params.fixed_cost_cents_per_delivery > 0
    # with full service and one supplier per row, a supplier's only pair to a row gets
    # q = demand · y below, which implies both indicator rows (demand ≥ ub ≥ min order)
    whole_row = _whole_row_pairs(flat) if full_service else set()
    y: list[Any] = [None] * len(flat.pairs)
    for p, pair in enumerate(flat.pairs):
        compound_id = flat.rows[pair.row].compound_id
        if (
            pair.min_order > 1
            or per_delivery
            or params.single_supplier_per_category
            or compound_id in limited
        ):
            y[p] = be.bool_var()
            every.append(y[p])
            derived.append((y[p], _any([p])))
            if p not in whole_row:
                be.add(q[p] >= pair.min_order * y[p])
                be.add(q[p] <= pair.ub * y[p])

    # supplier–compound deliveries and the per-compound supplier limit
    z: dict[tuple[str, str], Any] = {}
    for key in sorted(by_supplier_compound):
        if not (per_delivery or key[1] in limited):
            continue
        members = by_supplier_compound[key]
        if len(members) == 1:
            z[key] = y[members[0]]
        else:
            z[key] = be.bool_var()
            every.append(z[key])
            derived.append((z[key], _any(members)))
            for p in members:
                be.add(y[p] <= z[key])
    suppliers_of_compound: dict[str, list[Any]] = defaultdict(list)
    for (_, compound_id), var in sorted(z.items()):
        suppliers_of_compound[compound_id].append(var)
    for compound_id in sorted(suppliers_of_compound):
        delivered = suppliers_of_compound[compound_id]
        if len(delivered) > params.max_suppliers_per_compound:
            be.add(be.total(delivered) <= params.max_suppliers_per_compound)

    if params.single_supplier_per_category:
        for r in sorted(flat.pairs_of_row):
            by_supplier = _row_pairs_by_supplier(flat, r)
            if len(by_supplier) <= 1:
                continue
            flags = []
            for supplier_id in sorted(by_supplier):
                members = by_supplier[supplier_id]
                if len(members) == 1:
                    flags.append(y[members[0]])
                else:
                    w = be.bool_var()
                    every.append(w)
                    derived.append((w, _any(members)))
                    for p in members:
                        be.add(y[p] <= w)
                    flags.append(w)
                if full_service:
                    # the row is served in full by one supplier: all of it or nothing from
                    # each (as x = d·b in a single-source facility-location model; the LP
                    # relaxation is then as tight as that model's)
                    demand = flat.rows[r].quantity_units
                    be.add(be.total([q[p] for p in members]) == demand * flags[-1])
            if full_service:
                be.add(be.total(flags) == 1)
            else:
                be.add(be.total(flags) <= 1)

    # offer capacity (an offer with an opening cost gets Σ q ≤ capacity · u below), demand
    for i in sorted(flat.pairs_of_offer):
        members = flat.pairs_of_offer[i]
        if i in opened:
            continue
        if sum(flat.pairs[p].ub for p in members) > problem.offers[i].capacity_units:
            be.add(be.total([q[p] for p in members]) <= problem.offers[i].capacity_units)
    served: dict[int, Any] = {}
    served_of: dict[int, Callable[[Sequence[int]], int]] = {}
    for r in sorted(flat.pairs_of_row):
        members = flat.pairs_of_row[r]
        served[r] = be.total([q[p] for p in members])
        served_of[r] = _sum(members)
        if full_service:
            be.add(served[r] == flat.rows[r].quantity_units)
        elif sum(flat.pairs[p].ub for p in members) > flat.rows[r].quantity_units:
            be.add(served[r] <= flat.rows[r].quantity_units)

    # with full service stages 1-3 are at their bounds: no priority or floor variables
    stages: list[_Stage] = []
    # 1. priority demand served
    priority_terms = []
    priority_of_row: dict[int, Any] = {}
    for r in sorted(served) if not full_service else ():
        cap = flat.rows[r].priority_quantity_units
        if cap > 0:
            v = be.int_var(cap)
            every.append(v)
            derived.append((v, _min_of(cap, served_of[r])))
            be.add(v <= served[r])
            priority_terms.append(v)
            priority_of_row[r] = v
    if priority_terms and not full_service:
        caps = [(flat.rows[r].priority_quantity_units, served_of[r]) for r in priority_of_row]
        stages.append(
            _Stage(
                "priority",
                be.total(priority_terms),
                True,
                STAGE_SHARE["priority"],
                lambda x: sum(min(cap, got(x)) for cap, got in caps),
                sum(cap for cap, _ in caps),
            )
        )

    # 2. max-min served share per category, over servable compounds
    floors = []
    floor_values: list[Callable[[Sequence[int]], int]] = []
    rows_of_category: dict[str, list[int]] = defaultdict(list)
    for r in sorted(served) if not full_service else ():
        rows_of_category[flat.rows[r].category_id].append(r)
    for category_id in sorted(rows_of_category):
        members = rows_of_category[category_id]
        if len(members) < 2:
            continue
        t = be.int_var(PERMILLE)
        every.append(t)
        floor_values.append(
            _floor_of([(flat.rows[r].quantity_units, served_of[r]) for r in members])
        )
        derived.append((t, floor_values[-1]))
        for r in members:
            be.add(PERMILLE * served[r] >= flat.rows[r].quantity_units * t)
        floors.append(t)
    if floors and not full_service:
        stages.append(
            _Stage(
                "fairness",
                be.total(floors),
                True,
                STAGE_SHARE["fairness"],
                lambda x: sum(floor(x) for floor in floor_values),
                PERMILLE * len(floors),
            )
        )

    # 3. total served
    if not full_service:
        total_served = be.total([served[r] for r in sorted(served)])
        most = sum(flat.rows[r].quantity_units for r in served)
        stages.append(_Stage("served", total_served, True, STAGE_SHARE["served"], sum, most))

    # valid cuts for a binding supplier limit: what a compound can receive is at most what
    # its best N suppliers can cover (all of the covered rows, capacity ignored); the LP
    # relaxation alone spreads the N trucks over every supplier and bounds nothing
    if not full_service:
        for compound_id, (cap_priority, cap_demand) in sorted(cover.items()):
            rows = flat.rows_of_compound[compound_id]
            be.add(be.total([served[r] for r in rows]) <= cap_demand)
            terms = [priority_of_row[r] for r in rows if r in priority_of_row]
            if terms:
                be.add(be.total(terms) <= cap_priority)

    # 4. fairness cap: excess over X % of a district's volume of a category
    if params.fairness_cap_pct is not None:
        district_of = {c.compound_id: c.district for c in problem.compounds}
        groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for p, pair in enumerate(flat.pairs):
            row = flat.rows[pair.row]
            groups[district_of[row.compound_id], row.category_id][pair.supplier].append(p)
        excess = []
        excess_values: list[Callable[[Sequence[int]], int]] = []
        for key in sorted(groups):
            by_supplier = groups[key]
            if len(by_supplier) < 2:
                continue
            volume = be.total([q[p] for members in by_supplier.values() for p in members])
            bound = 100 * sum(flat.pairs[p].ub for m in by_supplier.values() for p in m)
            for supplier_id in sorted(by_supplier):
                e = be.int_var(bound)
                every.append(e)
                excess_values.append(
                    _excess_of(
                        _sum(by_supplier[supplier_id]),
                        _sum([p for m in by_supplier.values() for p in m]),
                        params.fairness_cap_pct,
                    )
                )
                derived.append((e, excess_values[-1]))
                mine = be.total([q[p] for p in by_supplier[supplier_id]])
                be.add(e >= 100 * mine - params.fairness_cap_pct * volume)
                excess.append(e)
        if excess:
            stages.append(
                _Stage(
                    "fairness_cap",
                    be.total(excess),
                    False,
                    STAGE_SHARE["fairness_cap"],
                    lambda x: sum(value(x) for value in excess_values),
                )
            )

    # 5. cost
    cost_terms = [(pair.unit_cost + pair.penalty) * q[p] for p, pair in enumerate(flat.pairs)]
    if params.fixed_cost_cents_per_delivery:
        cost_terms += [params.fixed_cost_cents_per_delivery * z[key] for key in sorted(z)]
    for i, u in opened.items():  # only offers with an opening cost have a flag
        members = flat.pairs_of_offer[i]
        for p in members:
            if y[p] is not None:
                be.add(y[p] <= u)
            else:
                be.add(q[p] <= flat.pairs[p].ub * u)
        capacity = problem.offers[i].capacity_units
        be.add(be.total([q[p] for p in members]) <= capacity * u)
        cost_terms.append(opening[problem.offers[i].offer_id] * u)
    stages.append(_Stage("cost", be.total(cost_terms), False, 1.0))
    return _Built(stages, q, every, derived)


def _whole_row_pairs(flat: _Flat) -> set[int]:
    """With one supplier per compound × category and every row served in full: the pairs
    that are their supplier's only pair to a row of two or more suppliers (each gets
    ``q = demand · y`` in ``_build``)."""
    if not flat.params.single_supplier_per_category:
        return set()
    out: set[int] = set()
    for r in flat.pairs_of_row:
        by_supplier = _row_pairs_by_supplier(flat, r)
        if len(by_supplier) > 1:
            out.update(ps[0] for ps in by_supplier.values() if len(ps) == 1)
    return out


def _row_pairs_by_supplier(flat: _Flat, r: int) -> dict[str, list[int]]:
    """The pairs of row ``r`` by supplier (a supplier may have several offers for it)."""
    out: dict[str, list[int]] = defaultdict(list)
    for p in flat.pairs_of_row[r]:
        out[flat.pairs[p].supplier].append(p)
    return out


def _sum(members: Sequence[int]) -> Callable[[Sequence[int]], int]:
    return lambda x: sum(x[p] for p in members)


def _min_of(cap: int, served: Callable[[Sequence[int]], int]) -> Callable[[Sequence[int]], int]:
    return lambda x: min(cap, served(x))


def _floor_of(
    rows: Sequence[tuple[int, Callable[[Sequence[int]], int]]],
) -> Callable[[Sequence[int]], int]:
    return lambda x: min(PERMILLE, *(PERMILLE * served(x) // demand for demand, served in rows))


def _excess_of(
    mine: Callable[[Sequence[int]], int], volume: Callable[[Sequence[int]], int], pct: int
) -> Callable[[Sequence[int]], int]:
    return lambda x: max(0, 100 * mine(x) - pct * volume(x))


MAX_SUBSETS_PER_COMPOUND = 5000
"""The greedy weighs a compound's supplier subsets only up to this many."""
MAX_COVER_WORK = 4_000_000
"""Cover bounds give up on a compound whose union table would take more steps than this."""


def _cover_bounds(flat: _Flat, limited: set[str]) -> dict[str, tuple[int, int]]:
    """Per compound with a binding supplier limit: the most priority and the most demand
    that any ``max_suppliers_per_compound`` of its eligible suppliers could cover.

    A supplier is the set of the compound's rows it sells (a bit mask); the masks that
    ``n`` suppliers can cover together are the unions of ``n`` masks, built one supplier at
    a time over the distinct masks (at most 2^rows of them, 1,024 for 10 categories), so
    a compound reached by 170 suppliers costs no more than one reached by 10."""
    n = flat.params.max_suppliers_per_compound
    out: dict[str, tuple[int, int]] = {}
    for compound_id in sorted(limited):
        rows = flat.rows_of_compound[compound_id]
        if len(rows) > 62:
            continue
        mask_of: dict[str, int] = defaultdict(int)
        for c, r in enumerate(rows):
            for p in flat.pairs_of_row[r]:
                mask_of[flat.pairs[p].supplier] |= 1 << c
        masks = np.unique(np.fromiter(mask_of.values(), dtype=np.int64))
        # a supplier selling a subset of another's rows never covers more in its place
        inside = (masks[:, None] & masks[None, :]) == masks[:, None]
        masks = masks[inside.sum(axis=1) == 1]
        covered = np.zeros(1, dtype=np.int64)
        for _ in range(n):
            if covered.size * masks.size > MAX_COVER_WORK:
                break
            covered = np.unique((covered[:, None] | masks[None, :]).ravel())
        else:
            bits = (covered[:, None] >> np.arange(len(rows), dtype=np.int64)) & 1
            priority = bits @ np.array([flat.rows[r].priority_quantity_units for r in rows])
            demand = bits @ np.array([flat.rows[r].quantity_units for r in rows])
            out[compound_id] = (int(priority.max(initial=0)), int(demand.max(initial=0)))
    return out


@functools.lru_cache(maxsize=64)
def _combinations(m: int, n: int) -> npt.NDArray[np.int64]:
    """Every ``n``-subset of ``range(m)`` as a row, in ``itertools.combinations`` order."""
    return np.array(list(itertools.combinations(range(m), n)), dtype=np.int64).reshape(-1, n)


# --- entry point -----------------------------------------------------------------------


def solve(
    problem: Problem,
    params: Params | None = None,
    *,
    solver: SolverName = DEFAULT_SOLVER,
    eligibility: Eligibility | None = None,
) -> Allocation:
    """Allocate offers to compound demand for ``problem``'s date; see the module docstring.

    Parameters
    ----------
    problem
        The frozen input for one delivery date.
    params
        Limits, seed and rules; defaults to ``Params()``.
    solver
        ``"cp-sat"`` (default, see the module docstring for why) or a MIP through
        ``pywraplp``: ``"scip"``, ``"highs"``, ``"cbc"``.
    eligibility
        ``check_eligibility`` of ``problem`` when the caller has it (e.g. with the day's
        crew roster); computed without crew otherwise.

    Returns
    -------
    Allocation
        Always an allocation: ``optimal``, ``feasible`` (a stage hit the time limit) or
        ``fallback_greedy`` (no solution in time); unmet demand is listed with reasons.
    """
    params = params or Params()
    started = time.monotonic()
    eligibility = eligibility or check_eligibility(problem)
    whole = _flatten(problem, params, eligibility)
    if not whole.pairs:
        return _allocation(whole, [], SolveStatus.optimal, (), None, started, solver)
    # the model holds each compound's candidate suppliers only (matcher.candidates); bounds
    # and the result are the whole problem's
    kept = None
    if params.candidate_suppliers is not None:
        kept = candidates.kept_pairs(whole, params.candidate_suppliers)
    flat = whole if kept is None else _restricted(whole, kept)
    greedy = greedy_quantities(flat)

    full = _serves_all(flat, greedy)
    limited = _limited(flat)
    limits: flow.FlowBounds | None = None
    cover: dict[str, tuple[int, int]] = {}
    whole_cover: dict[str, tuple[int, int]] = {}
    if not full:
        cover = _cover_bounds(flat, limited)
        whole_cover = cover if kept is None else _cover_bounds(whole, _limited(whole))
        limits = flow.bounds(whole, whole_cover)
        if params.flow_start:
            greedy = max(flow.flow_starts(flat, greedy), key=lambda q: lexicographic_key(flat, q))
    be = _backend(params, solver)
    built = _build(flat, be, full, limited, cover)
    stages = built.stages
    deadline = started + params.time_limit_s
    dtime_left = deterministic_budget(params) if params.deterministic else None
    if solver != "cp-sat":
        dtime_left = None  # single-threaded MIP back-ends: only the wall clock
    hint = built.hint(greedy)
    solution: list[int] | None = None
    reports: list[StageReport] = (
        [StageReport(name="priority+fairness+served", status="optimal (greedy serves all)")]
        if full
        else []
    )
    bound: int | None = None
    floors: dict[str, int] = {}  # each finished stage's value, fixed for the later stages
    for k, stage in enumerate(stages):
        left = deadline - time.monotonic()
        if left <= 0:
            reports.append(StageReport(name=stage.name, status="skipped", stopped_by="wall_clock"))
            break
        start = greedy if solution is None else solution
        proven = _proven_by_start(stage, start, limits)
        if proven is not None:
            # the start already reaches the stage's bound: nothing to search; its budget
            # goes to the later stages
            reports.append(
                StageReport(
                    name=stage.name,
                    status="optimal (start reaches the bound)",
                    objective=proven,
                    bound=proven,
                    maximize=True,
                )
            )
            be.add(stage.objective >= proven)
            floors[stage.name] = proven
            continue
        later = sum(s.share for s in stages[k + 1 :])
        fraction = 1.0 if k == len(stages) - 1 else stage.share / (stage.share + later)
        if dtime_left is None:
            outcome = be.solve(stage.objective, stage.maximize, left * fraction, None, hint)
        else:  # the deterministic budget ends the stage; the wall clock is a safety net
            stage_dtime = max(MIN_STAGE_DTIME, dtime_left * fraction)
            outcome = be.solve(stage.objective, stage.maximize, left, stage_dtime, hint)
            dtime_left = max(0.0, dtime_left - outcome.dtime)
        elapsed = time.monotonic() - deadline + left
        if not outcome.found:
            reports.append(
                StageReport(
                    name=stage.name,
                    status="no_solution",
                    time_s=elapsed,
                    deterministic_time=outcome.dtime,
                    stopped_by=outcome.stopped_by,
                )
            )
            if solution is None or stage.value is None:
                break
            # keep the earlier stage's (topped-up) solution: its value is this stage's floor
            value = stage.value(solution)
            be.add(stage.objective >= value if stage.maximize else stage.objective <= value)
            floors[stage.name] = value
            continue
        solution = [be.value(v) for v in built.q]
        fixed = outcome.objective
        if stage.maximize and stage.value is not None:
            # the stage ignored later objectives: top its solution up (never worse for it)
            solution = greedy_quantities(flat, solution)
            fixed = max(fixed, stage.value(solution))
            hint = built.hint(solution)
        else:
            hint = {v: be.value(v) for v in built.every}
        # CP-SAT's bound and proof hold for the model's pairs: the whole problem's only
        # when the model holds every eligible pair
        own = outcome.bound if kept is None else stage.trivial_bound
        stage_bound = own
        if outcome.optimal and kept is None:
            stage_bound = fixed
        elif stage.maximize:
            stage_bound = max(min(own, _flow_bound(limits, stage.name)), fixed)
        elif stage.name == "cost" and (limits is not None or kept is not None):
            # the least unit cost of serving the units the served stage fixed (min-cost flow)
            everything = sum(flat.rows[r].quantity_units for r in flat.pairs_of_row)
            units = floors.get("served", everything)
            cheapest = flow.cost_bound(whole, units, whole_cover)
            stage_bound = min(max(own, cheapest or 0), fixed)
        optimal = (outcome.optimal and kept is None) or stage_bound == fixed
        reports.append(
            StageReport(
                name=stage.name,
                status="optimal" if optimal else "feasible",
                objective=fixed,
                bound=stage_bound,
                maximize=stage.maximize,
                time_s=elapsed,
                deterministic_time=outcome.dtime,
                stopped_by=outcome.stopped_by,
            )
        )
        if stage.maximize:
            be.add(stage.objective >= fixed)
        else:
            be.add(stage.objective <= fixed)
        floors[stage.name] = fixed
        if stage.name == "cost":
            bound = stage_bound
    cut = [r.name for r in reports if r.stopped_by == "wall_clock"]
    message = ""
    if cut and dtime_left is not None:
        message = (
            f"the wall-clock limit ({params.time_limit_s:g} s) ended stage(s) "
            f"{', '.join(cut)} before their deterministic budget: this allocation may differ "
            "between runs; raise time_limit_s or lower deterministic_time"
        )
    if kept is not None:
        note = (
            f"the model held {len(kept):,} of {len(whole.pairs):,} eligible offer–demand pairs: "
            f"each compound's {params.candidate_suppliers} nearest suppliers and the "
            f"{candidates.CANDIDATES_PER_CATEGORY} nearest of each category "
            "(Params.candidate_suppliers); the bounds are the whole problem's"
        )
        message = "; ".join(m for m in (message, note) if m)
        greedy = _expanded(greedy, kept, len(whole.pairs))
        solution = None if solution is None else _expanded(solution, kept, len(whole.pairs))
    if solution is None:
        return _allocation(
            whole,
            greedy,  # the better of the greedy and the flow start
            SolveStatus.fallback_greedy,
            tuple(reports),
            None,
            started,
            solver,
            message="; ".join(
                m for m in ("no solution within the time limit; greedy allocation", message) if m
            ),
        )
    finished = len(reports) == len(stages) + int(full)
    proven = all(r.status.startswith("optimal") for r in reports)  # no "no_solution" either
    status = SolveStatus.optimal if proven and finished else SolveStatus.feasible
    return _allocation(
        whole, solution, status, tuple(reports), bound, started, solver, message=message
    )


def _proven_by_start(
    stage: _Stage, start: Sequence[int], limits: flow.FlowBounds | None
) -> int | None:
    """The value of ``start`` for a maximisation stage when it reaches the stage's proven
    bound (its trivial bound or the flow's), else ``None``."""
    if not stage.maximize or stage.value is None:
        return None
    value = stage.value(start)
    bound = min(stage.trivial_bound, _flow_bound(limits, stage.name))
    return value if value >= bound else None


def _expanded(quantities: Sequence[int], kept: Sequence[int], n_pairs: int) -> list[int]:
    """Quantities on ``kept`` pairs (a restricted model's) as quantities on all ``n_pairs``."""
    out = [0] * n_pairs
    for p, amount in zip(kept, quantities, strict=True):
        out[p] = amount
    return out


def _limited(flat: _Flat) -> set[str]:
    """Compounds with more eligible suppliers than ``max_suppliers_per_compound``."""
    n = flat.params.max_suppliers_per_compound
    return {
        compound_id
        for compound_id, rows in flat.rows_of_compound.items()
        if len({flat.pairs[p].supplier for r in rows for p in flat.pairs_of_row[r]}) > n
    }


def _flow_bound(limits: flow.FlowBounds | None, stage: str) -> int:
    """The flow relaxation's bound on a maximisation stage (none known: unbounded)."""
    if limits is not None and stage == "priority":
        return limits.priority_units
    if limits is not None and stage == "served":
        return limits.served_units
    return 2**62


def lexicographic_key(flat: _Flat, quantities: Sequence[int]) -> tuple[int, int, int, int]:
    """Stage values of an allocation in the stages' order (priority units, sum of the
    categories' fairness floors in ‰, units, minus unit cost): the larger key is better."""
    served: dict[int, int] = defaultdict(int)
    cost = 0
    for p, amount in enumerate(quantities):
        if amount:
            pair = flat.pairs[p]
            served[pair.row] += amount
            cost += (pair.unit_cost + pair.penalty) * amount
    priority = sum(min(flat.rows[r].priority_quantity_units, got) for r, got in served.items())
    floors: dict[str, list[int]] = defaultdict(list)
    for r in flat.pairs_of_row:
        row = flat.rows[r]
        floors[row.category_id].append(min(PERMILLE, PERMILLE * served[r] // row.quantity_units))
    fairness = sum(min(shares) for shares in floors.values() if len(shares) > 1)
    return priority, fairness, sum(served.values()), -cost


def deterministic_budget(params: Params) -> float:
    """The deterministic time all CP-SAT stages may use together (see ``DTIME_PER_SECOND``)."""
    if params.deterministic_time is not None:
        return params.deterministic_time
    return params.time_limit_s * DTIME_PER_SECOND


def _serves_all(flat: _Flat, quantities: Sequence[int]) -> bool:
    """Whether ``quantities`` serve every row that has a usable pair in full."""
    got: dict[int, int] = defaultdict(int)
    for p, amount in enumerate(quantities):
        got[flat.pairs[p].row] += amount
    return all(got[r] == flat.rows[r].quantity_units for r in flat.pairs_of_row)


# --- greedy fallback -------------------------------------------------------------------------


def greedy_quantities(flat: _Flat, start: Sequence[int] | None = None) -> list[int]:
    """``greedy_choice``'s quantities."""
    return greedy_choice(flat, start)[0]


def greedy_choice(
    flat: _Flat, start: Sequence[int] | None = None, prefer: Sequence[int] | None = None
) -> tuple[list[int], dict[str, set[str]]]:
    """A valid allocation by rule of thumb, in two passes, cheapest offer first.

    1. Compounds by priority demand: where the supplier limit binds, choose the
       ``max_suppliers_per_compound`` suppliers whose remaining capacity covers the most
       priority demand (then demand); serve the priority part of each row.
    2. Rows by priority share: top up to the full demand, from the suppliers already at the
       gate first, new ones while the limit allows.

    Respects capacity, minimum orders, the supplier limit and the single-supplier rule;
    used when the solver finds nothing in time and as the solver's first hint.

    With ``start`` (a valid allocation, e.g. a stage's solution), only tops it up (pass 2):
    no row loses units, so no earlier stage's objective gets worse.

    Returns the quantities and the suppliers chosen in pass 1 per compound over its limit.
    """
    params = flat.params
    n = params.max_suppliers_per_compound
    quantities = list(start) if start is not None else [0] * len(flat.pairs)
    left = {i: flat.problem.offers[i].capacity_units for i in flat.pairs_of_offer}
    suppliers_at: dict[str, set[str]] = defaultdict(set)
    chosen: dict[str, set[str]] = {}
    used_in_row: dict[int, set[str]] = defaultdict(set)
    for p, amount in enumerate(quantities):
        if amount > 0:
            pair = flat.pairs[p]
            left[pair.offer] -= amount
            suppliers_at[flat.rows[pair.row].compound_id].add(pair.supplier)
            used_in_row[pair.row].add(pair.supplier)
    by_cost = {
        r: sorted(members, key=lambda p: (flat.pairs[p].unit_cost + flat.pairs[p].penalty, p))
        for r, members in flat.pairs_of_row.items()
    }

    def give(r: int, target: int, allowed: set[str] | None) -> None:
        """Raise row ``r``'s served units towards ``target`` (never past its demand)."""
        row = flat.rows[r]
        need = target - sum(quantities[p] for p in flat.pairs_of_row[r])
        here = suppliers_at[row.compound_id]
        for p in by_cost[r]:
            if need <= 0:
                return
            pair = flat.pairs[p]
            if allowed is not None and pair.supplier not in allowed:
                continue
            if (
                params.single_supplier_per_category
                and used_in_row[r]
                and pair.supplier not in used_in_row[r]
            ):
                continue
            if pair.supplier not in here and len(here) >= n:
                continue
            room = min(left[pair.offer], pair.ub - quantities[p])
            if quantities[p] > 0:
                amount = min(need, room)
            else:  # a new delivery: at least the minimum order, within the row's demand
                amount = min(max(need, pair.min_order), room, row.quantity_units - target + need)
                if amount < pair.min_order:
                    continue
            if amount <= 0:
                continue
            quantities[p] += amount
            left[pair.offer] -= amount
            need -= amount
            here.add(pair.supplier)
            used_in_row[r].add(pair.supplier)

    def best_subset(rows: Sequence[int], suppliers: Sequence[str]) -> set[str]:
        """The first ``n`` suppliers (in combination order) whose remaining capacity covers
        the most priority demand, then the most demand, of ``rows`` (numpy over subsets)."""
        col = {supplier: k for k, supplier in enumerate(suppliers)}
        avail = np.zeros((len(suppliers), len(rows)), dtype=np.int64)
        for c, r in enumerate(rows):
            for p in flat.pairs_of_row[r]:
                pair = flat.pairs[p]
                avail[col[pair.supplier], c] += min(left[pair.offer], pair.ub)
        combos = _combinations(len(suppliers), n)
        got = avail[combos].sum(axis=1)
        priority = np.minimum(got, [flat.rows[r].priority_quantity_units for r in rows]).sum(1)
        if prefer is not None:  # ties broken by the units a flow sends from the subset
            flowing = np.zeros_like(avail)
            for c, r in enumerate(rows):
                for p in flat.pairs_of_row[r]:
                    flowing[col[flat.pairs[p].supplier], c] += prefer[p]
            got = flowing[combos].sum(axis=1)
        demand = np.minimum(got, [flat.rows[r].quantity_units for r in rows]).sum(1)
        tied = np.flatnonzero(priority == priority.max())
        return {suppliers[k] for k in combos[tied[np.argmax(demand[tied])]]}

    def weight(compound_id: str) -> tuple[int, str]:
        rows = flat.rows_of_compound[compound_id]
        return (-sum(flat.rows[r].priority_quantity_units for r in rows), compound_id)

    for compound_id in sorted(flat.rows_of_compound, key=weight) if start is None else ():
        rows = flat.rows_of_compound[compound_id]
        suppliers = sorted({flat.pairs[p].supplier for r in rows for p in flat.pairs_of_row[r]})
        if len(suppliers) > n and math.comb(len(suppliers), n) <= MAX_SUBSETS_PER_COMPOUND:
            chosen[compound_id] = best_subset(rows, suppliers)
        for r in rows:
            give(r, flat.rows[r].priority_quantity_units, chosen.get(compound_id))

    def order(r: int) -> tuple[float, str, str]:
        row = flat.rows[r]
        return (-row.priority_quantity_units / row.quantity_units, row.compound_id, row.category_id)

    for r in sorted(flat.pairs_of_row, key=order):
        give(r, flat.rows[r].quantity_units, chosen.get(flat.rows[r].compound_id))
    for r in sorted(flat.pairs_of_row, key=order):
        give(r, flat.rows[r].quantity_units, None)
    return quantities, chosen


# --- result ----------------------------------------------------------------------------------


def _allocation(
    flat: _Flat,
    quantities: Sequence[int],
    status: SolveStatus,
    reports: tuple[StageReport, ...],
    bound: int | None,
    started: float,
    solver: str,
    *,
    message: str = "",
) -> Allocation:
    problem, params = flat.problem, flat.params
    lines: list[AllocationLine] = []
    served_row: dict[int, int] = defaultdict(int)
    fixed_charged: set[tuple[str, str]] = set()
    opened: set[int] = set()
    opening = problem.fixed_cost_by_offer
    for p, amount in enumerate(quantities):
        if amount <= 0:
            continue
        pair = flat.pairs[p]
        row = flat.rows[pair.row]
        offer = problem.offers[pair.offer]
        fixed = 0
        if (pair.supplier, row.compound_id) not in fixed_charged:
            fixed_charged.add((pair.supplier, row.compound_id))
            fixed += params.fixed_cost_cents_per_delivery
        if pair.offer not in opened:
            opened.add(pair.offer)
            fixed += opening.get(offer.offer_id, 0)
        served_row[pair.row] += amount
        lines.append(
            AllocationLine(
                offer_id=offer.offer_id,
                supplier_id=pair.supplier,
                compound_id=row.compound_id,
                category_id=row.category_id,
                depot_id=pair.depot_id,
                distance_m=pair.distance_m,
                quantity_units=amount,
                goods_cost_cents=offer.unit_price_cents * amount,
                delivery_cost_cents=(pair.unit_cost - offer.unit_price_cents) * amount,
                fixed_cost_cents=fixed,
            )
        )
    lines.sort(key=lambda line: (line.compound_id, line.category_id, line.offer_id))
    unmet = _unmet(flat, quantities, served_row)
    priority_served = sum(
        min(row.priority_quantity_units, served_row.get(r, 0)) for r, row in enumerate(flat.rows)
    )
    floors: dict[str, int] = {}
    for r in flat.pairs_of_row:
        row = flat.rows[r]
        share = PERMILLE * served_row.get(r, 0) // row.quantity_units
        floors[row.category_id] = min(floors.get(row.category_id, PERMILLE), share)
    objectives = Objectives(
        priority_served_units=priority_served,
        min_served_permille=tuple(sorted(floors.items())),
        served_units=sum(served_row.values()),
        cap_excess_units=_cap_excess(flat, quantities),
        cost_cents=sum(line.total_cost_cents for line in lines),
    )
    return Allocation(
        delivery_date=problem.delivery_date,
        status=status,
        lines=tuple(lines),
        unmet=unmet,
        demand=flat.rows,
        objectives=objectives,
        cost_bound_cents=bound,
        stage_statuses=tuple((r.name, r.status) for r in reports),
        stages=reports,
        solve_time_s=time.monotonic() - started,
        solver=solver,
        seed=params.seed,
        message=message,
    )


def _cap_excess(flat: _Flat, quantities: Sequence[int]) -> int:
    pct = flat.params.fairness_cap_pct
    if pct is None:
        return 0
    district_of = {c.compound_id: c.district for c in flat.problem.compounds}
    volume: dict[tuple[str, str], int] = defaultdict(int)
    mine: dict[tuple[str, str, str], int] = defaultdict(int)
    for p, amount in enumerate(quantities):
        pair = flat.pairs[p]
        row = flat.rows[pair.row]
        key = (district_of[row.compound_id], row.category_id)
        volume[key] += amount
        mine[(*key, pair.supplier)] += amount
    excess = 0
    for (district, category, _), amount in mine.items():
        over = 100 * amount - pct * volume[district, category]
        if over > 0:
            excess += math.ceil(over / 100)
    return excess


def _unmet(flat: _Flat, quantities: Sequence[int], served_row: dict[int, int]) -> tuple[Unmet, ...]:
    problem, params = flat.problem, flat.params
    left = {i: o.capacity_units for i, o in enumerate(problem.offers)}
    for p, amount in enumerate(quantities):
        left[flat.pairs[p].offer] -= amount
    suppliers_at: dict[str, set[str]] = defaultdict(set)
    suppliers_row: dict[int, set[str]] = defaultdict(set)
    for p, amount in enumerate(quantities):
        if amount > 0:
            pair = flat.pairs[p]
            suppliers_at[flat.rows[pair.row].compound_id].add(pair.supplier)
            suppliers_row[pair.row].add(pair.supplier)
    offers_of_category = _offers_by_category(problem)
    offers_of = offer_index(problem)

    result = []
    for r, row in enumerate(flat.rows):
        missing = row.quantity_units - served_row.get(r, 0)
        if missing <= 0:
            continue
        j = problem.compound_index[row.compound_id]
        of_category = offers_of_category.get(row.category_id, _NO_OFFERS)
        eligible = of_category[flat.eligibility.reasons[of_category, j] == 0].tolist()
        priority_missing = max(0, row.priority_quantity_units - served_row.get(r, 0))
        reasons: tuple[SupplierReason, ...] = ()
        if not eligible:
            reason = UnmetReason.no_eligible_supplier
            reasons = supplier_reasons(
                problem, flat.eligibility, row.compound_id, row.category_id, offers_of
            )
        elif all(problem.offers[i].min_order_units > row.quantity_units for i in eligible):
            reason = UnmetReason.below_min_order
        else:
            limit = below = False
            for i in eligible:
                offer = problem.offers[i]
                if left[i] <= 0:
                    continue
                serving = offer.supplier_id in suppliers_row[r]
                new_supplier = offer.supplier_id not in suppliers_at[row.compound_id]
                if (
                    new_supplier
                    and len(suppliers_at[row.compound_id]) >= params.max_suppliers_per_compound
                ) or (params.single_supplier_per_category and suppliers_row[r] and not serving):
                    limit = True
                elif offer.min_order_units > min(missing, left[i]) and not serving:
                    below = True
            reason = (
                UnmetReason.supplier_limit
                if limit
                else UnmetReason.below_min_order
                if below
                else UnmetReason.capacity_exhausted
            )
        result.append(
            Unmet(
                compound_id=row.compound_id,
                category_id=row.category_id,
                quantity_units=missing,
                priority_quantity_units=priority_missing,
                reason=reason,
                supplier_reasons=reasons,
            )
        )
    return tuple(result)


def supplier_reasons(
    problem: Problem,
    eligibility: Eligibility,
    compound_id: str,
    category_id: str,
    offers_of: dict[tuple[str, str], list[int]] | None = None,
) -> tuple[SupplierReason, ...]:
    """Per supplier, its offers' reasons for one compound × category (``category_not_offered``
    for a supplier with no offer of the category); ``offers_of`` is ``offer_index(problem)``."""
    offers_of = offers_of if offers_of is not None else offer_index(problem)
    j = problem.compound_index[compound_id]
    out: list[SupplierReason] = []
    for supplier in sorted(problem.suppliers, key=lambda s: s.supplier_id):
        members = offers_of.get((supplier.supplier_id, category_id), [])
        if not members:
            out.append(
                SupplierReason(supplier_id=supplier.supplier_id, reason=Reason.category_not_offered)
            )
        for i in members:
            out.append(
                SupplierReason(
                    supplier_id=supplier.supplier_id,
                    offer_id=problem.offers[i].offer_id,
                    reason=REASONS[int(eligibility.reasons[i, j])],
                )
            )
    return tuple(out)


def offer_index(problem: Problem) -> dict[tuple[str, str], list[int]]:
    """Offer indices by (supplier_id, category_id), in problem order."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, offer in enumerate(problem.offers):
        index[offer.supplier_id, offer.category_id].append(i)
    return index
