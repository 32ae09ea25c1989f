"""A Lagrangian bound on the served stage of a generated day, against the flow bound.

The flow bound (``matcher.flow.bounds``) keeps offer capacities exact but relaxes the
supplier limit to a cap per compound (what its best 3 suppliers could cover). This bound
does the opposite: it keeps each compound's choice of at most ``max_suppliers_per_compound``
suppliers exact (enumerated) and moves offer capacities into the objective with prices
``λ ≥ 0`` (a valid upper bound for every λ; minimum orders and the priority floor dropped,
as in the flow bound):

    L(λ) = Σ_o λ_o · cap_o + Σ_c max_{|S| ≤ N} Σ_{r ∈ c} d_r · max_{o of S for r} (1 − λ_o)⁺

minimised by subgradient steps (Polyak steps towards ``--target``, halved after 4 steps
without progress), starting from λ = ``--start`` on the offers whose eligible demand exceeds
their capacity. Its best value is the convexification of each compound's supplier choice:
if it is no tighter than the flow bound, the served stage's gap is not a weak-bound artefact
that a per-compound (Dantzig–Wolfe) reformulation would remove.

Run: ``.venv/bin/python benchmarks/served_bound.py --preset district``. Prints a table and
appends to ``benchmarks/results/served_bound.csv``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.csv_rows import append_rows  # noqa: E402
from benchmarks.matcher_city import PRESETS, generated_problem  # noqa: E402
from matcher import flow  # noqa: E402
from matcher.eligibility import check_eligibility  # noqa: E402
from matcher.model import Params  # noqa: E402
from matcher.solve import _cover_bounds, _Flat, _flatten, _limited  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "served_bound.csv"


@dataclass(frozen=True)
class _Compound:
    """One compound's rows and (supplier, row, offer) entries, suppliers numbered locally."""

    demand: npt.NDArray[np.float64]
    entries: npt.NDArray[np.int64]  # columns: local supplier, local row, offer index
    suppliers: int
    sets: npt.NDArray[np.int64] | None  # every choice of N suppliers; None: all of them


def compounds_of(flat: _Flat, limit: int) -> list[_Compound]:
    """The per-compound data of ``flat`` for the subproblems."""
    limited = _limited(flat)
    out = []
    for compound_id, rows in flat.rows_of_compound.items():
        local: dict[str, int] = {}
        entries = []
        for r_local, r in enumerate(rows):
            for p in flat.pairs_of_row[r]:
                pair = flat.pairs[p]
                entries.append((local.setdefault(pair.supplier, len(local)), r_local, pair.offer))
        choose = compound_id in limited and len(local) > limit
        sets = np.array(list(itertools.combinations(range(len(local)), limit))) if choose else None
        out.append(
            _Compound(
                demand=np.array([flat.rows[r].quantity_units for r in rows], dtype=np.float64),
                entries=np.array(entries, dtype=np.int64),
                suppliers=len(local),
                sets=sets,
            )
        )
    return out


def lagrangian(
    compounds: list[_Compound], capacity: npt.NDArray[np.float64], lam: npt.NDArray[np.float64]
) -> tuple[float, npt.NDArray[np.float64]]:
    """``L(λ)`` and the units each offer sends in the subproblems' solutions."""
    value = np.maximum(0.0, 1.0 - lam)
    total = float(lam @ capacity)
    used = np.zeros_like(capacity)
    for c in compounds:
        n_rows = len(c.demand)
        worth = value[c.entries[:, 2]]
        best = np.zeros((c.suppliers, n_rows))
        offer = np.full((c.suppliers, n_rows), -1, dtype=np.int64)
        order = np.argsort(worth, kind="stable")  # the most valuable offer written last
        best[c.entries[order, 0], c.entries[order, 1]] = worth[order]
        offer[c.entries[order, 0], c.entries[order, 1]] = c.entries[order, 2]
        units = best * c.demand
        if c.sets is None:
            chosen = np.arange(c.suppliers)
        else:
            chosen = c.sets[int(np.argmax(units[c.sets].max(axis=1).sum(axis=1)))]
        rows = np.arange(n_rows)
        winner = chosen[units[chosen].argmax(axis=0)]
        got = units[winner, rows]
        total += float(got.sum())
        served = got > 0
        np.add.at(used, offer[winner[served], rows[served]], c.demand[served])
    return total, used


def main(argv: list[str] | None = None) -> None:
    """Compute both bounds for a preset and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="district")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--start", type=float, default=1.0, help="λ on over-reached offers")
    parser.add_argument("--theta", type=float, default=0.25, help="first Polyak step factor")
    parser.add_argument(
        "--target",
        type=float,
        default=1_475_630,
        help="units of a known allocation (the district's served stage: 1,475,630)",
    )
    args = parser.parse_args(argv)
    problem, _ = generated_problem(*PRESETS[args.preset], args.seed)
    params = Params()
    flat = _flatten(problem, params, check_eligibility(problem))
    started = time.perf_counter()
    flow_bound = flow.bounds(flat, _cover_bounds(flat, _limited(flat))).served_units
    flow_s = time.perf_counter() - started

    started = time.perf_counter()
    compounds = compounds_of(flat, params.max_suppliers_per_compound)
    capacity = np.array([o.capacity_units for o in problem.offers], dtype=np.float64)
    reach = np.zeros_like(capacity)
    for pair in flat.pairs:
        reach[pair.offer] += pair.ub
    lam = np.where(reach > capacity, args.start, 0.0)
    best, theta, stalled = float("inf"), args.theta, 0
    for _ in range(args.steps):
        value, used = lagrangian(compounds, capacity, lam)
        if value < best - 1e-6:
            best, stalled = value, 0
        else:
            stalled += 1
            if stalled >= 4:
                theta, stalled = theta / 2, 0
        step = capacity - used
        norm = float(step @ step)
        if norm == 0.0:
            break
        lam = np.maximum(0.0, lam - theta * (value - args.target) / norm * step)
    lagrangian_s = time.perf_counter() - started

    demand = sum(flat.rows[r].quantity_units for r in flat.pairs_of_row)
    row: dict[str, object] = {
        "preset": args.preset,
        "seed": args.seed,
        "servable_demand": demand,
        "flow_bound": flow_bound,
        "flow_s": round(flow_s, 2),
        "lagrangian_bound": round(best),
        "lagrangian_steps": args.steps,
        "lagrangian_s": round(lagrangian_s, 1),
        "target": round(args.target),
        "gap_to_flow_pct": round(100 * (flow_bound - args.target) / flow_bound, 2),
        "gap_to_lagrangian_pct": round(100 * (best - args.target) / best, 2),
    }
    for key, value_ in row.items():
        print(f"{key:>22}: {value_}")
    append_rows(RESULTS, [row])


if __name__ == "__main__":
    main()
