"""Matcher at district and city scale on a generated day: time per stage, memory, quality.

Usage::

    .venv/bin/python benchmarks/matcher_city.py --preset district   # 2,500 × 8 × 40
    .venv/bin/python benchmarks/matcher_city.py --preset city       # 9,500 × 10 × 300

Generates a city (``data.generate``), its orders and suppliers (``data.generate_supply``,
capacity 90 % of expected demand), aggregates demand, builds the matcher's problem and
solves it under the given time limit. Prints a table and appends to
``benchmarks/results/matcher_city.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from benchmarks.csv_rows import append_rows  # noqa: E402
from data.aggregate import aggregate_demand, compound_demand  # noqa: E402
from data.demo import demo_files  # noqa: E402
from data.generate import (  # noqa: E402
    CATEGORY_MIX,
    generate_city,
    generate_orders,
    order_lines_of,
)
from data.generate_supply import generate_supply  # noqa: E402
from data.load import load_categories  # noqa: E402
from data.schemas import Compound  # noqa: E402
from matcher import flow  # noqa: E402
from matcher.candidates import CITY_CANDIDATES  # noqa: E402
from matcher.model import Params, Problem  # noqa: E402
from matcher.result import StageReport  # noqa: E402
from matcher.solve import solve  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "matcher_city.csv"
PRESETS = {"district": (2500, 8, 40), "city": (9500, 10, 300), "small": (300, 8, 15)}
DAY = dt.date(2022, 4, 15)


def peak_mb() -> float:
    """Peak resident memory of this process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> None:
    """Run one preset (or explicit sizes) and record it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="district")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--deterministic-time",
        type=float,
        default=None,
        help="CP-SAT deterministic-time budget of all stages (default: from --time-limit)",
    )
    parser.add_argument(
        "--flow-start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start from the min-cost flow allocations too (matcher.flow)",
    )
    parser.add_argument(
        "--candidate-suppliers",
        type=int,
        default=0,
        help=f"nearest suppliers per compound in the model (0: all eligible; "
        f"linli plan-city uses {CITY_CANDIDATES})",
    )
    args = parser.parse_args(argv)
    n_compounds, n_categories, n_suppliers = PRESETS[args.preset]
    problem, timings = generated_problem(n_compounds, n_categories, n_suppliers, args.seed)

    start = time.perf_counter()
    params = Params(
        time_limit_s=args.time_limit,
        seed=args.seed,
        deterministic=args.deterministic,
        deterministic_time=args.deterministic_time,
        flow_start=args.flow_start,
        candidate_suppliers=args.candidate_suppliers or None,
    )
    allocation = solve(problem, params)
    timings["solve"] = time.perf_counter() - start
    summary = allocation.summary()
    stages = {stage.name: stage for stage in allocation.stages}
    start = time.perf_counter()
    # the least cost of the units served (min-cost flow, every rule but capacity and demand
    # dropped): a lower bound of the cost stage that CP-SAT's single worker does not give
    served_units = sum(line.quantity_units for line in allocation.lines)
    flow_bound = flow.allocation_cost_bound(problem, params, served_units)
    bound = max(allocation.cost_bound_cents or 0, flow_bound or 0)
    timings["cost bound"] = time.perf_counter() - start
    paid = allocation.objectives.cost_cents
    gap = (paid - bound) / paid * 100 if paid else None
    row = {
        "preset": args.preset,
        "compounds": n_compounds,
        "categories": n_categories,
        "suppliers": n_suppliers,
        "offers": len(problem.offers),
        "demand_rows": len(problem.demand),
        "time_limit_s": args.time_limit,
        "deterministic": args.deterministic,
        **{f"{k}_s": round(v, 2) for k, v in timings.items()},
        "peak_mb": round(peak_mb()),
        "status": allocation.status.value,
        "stages": " ".join(f"{name}:{status}" for name, status in allocation.stage_statuses),
        "served_pct": round(summary.served_pct, 2),
        "priority_served_pct": round(summary.priority_served_pct, 2),
        "priority_gap_pct": _gap(stages.get("priority")),
        "served_gap_pct": _gap(stages.get("served")),
        "cost_gap_pct": None if gap is None else round(gap, 3),
        "flow_start": args.flow_start,
        "candidate_suppliers": args.candidate_suppliers or None,
        "model_pairs": _model_pairs(allocation.message),
    }
    for key, value in row.items():
        print(f"{key:>22}: {value}")
    for stage in allocation.stages:
        print(f"{'stage':>22}: {stage.text()}")
    if allocation.message:
        print(f"{'message':>22}: {allocation.message}")
    append_rows(RESULTS, [row])


def generated_problem(
    n_compounds: int, n_categories: int, n_suppliers: int, seed: int
) -> tuple[Problem, dict[str, float]]:
    """The matcher's problem for a generated day, and the seconds of each step."""
    kept = tuple(c.category_id for c in CATEGORY_MIX[:n_categories])
    timings: dict[str, float] = {}
    start = time.perf_counter()
    city = generate_city(n_compounds, seed=seed)
    orders = generate_orders(city, delivery_date=DAY, seed=seed)
    supply = generate_supply(
        city.compounds, n_suppliers=n_suppliers, delivery_date=DAY, seed=seed, categories=kept
    )
    timings["generate"] = time.perf_counter() - start

    start = time.perf_counter()
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    demand = demand.filter(pl.col("category_id").is_in(kept))
    timings["aggregate"] = time.perf_counter() - start

    start = time.perf_counter()
    categories = [c for c in load_categories(demo_files().categories) if c.category_id in kept]
    problem = Problem.from_supply(
        DAY, demand, supply, categories=categories, compounds=city_compounds(city.compounds)
    )
    timings["build problem"] = time.perf_counter() - start
    return problem, timings


def _model_pairs(message: str) -> str | None:
    """ "kept of all" pairs from the allocation's message when candidates cut the model."""
    found = re.search(r"held ([\d,]+) of ([\d,]+) eligible", message)
    return f"{found[1]} of {found[2]}" if found else None


def _gap(stage: StageReport | None) -> float | None:
    """A stage's relative gap to its bound, % (None when it has no value)."""
    if stage is None or stage.gap is None:
        return None
    return round(stage.gap * 100, 3)


def city_compounds(frame: pl.DataFrame) -> list[Compound]:
    """Compound models from a generated COMPOUND_SCHEMA frame."""
    return [Compound(**row, synthetic=True) for row in frame.iter_rows(named=True)]


if __name__ == "__main__":
    main()
