"""Pooled groups: how much demand below every minimum order pooling serves, and how fast.

Usage::

    .venv/bin/python benchmarks/pooling.py                                # demo + district
    .venv/bin/python benchmarks/pooling.py --instances demo --distances 500 1500 3000
    .venv/bin/python benchmarks/pooling.py --percent 10 --time-limit 30   # sparser district

Two days: the embedded demo day (``matcher.whatif.demo_problem``: the same problem
``linli demo`` matches) and one generated district (``data.generate`` city at ``--percent``
of Shanghai's compounds with that share of 300 suppliers, the district with the most
demand, as ``benchmarks/city.py`` picks it). Each day is matched once (``matcher.solve``,
deterministic, ``--time-limit``, ``--seed``); then ``matcher.pooling.propose_pools`` runs
for every ``--distances`` value on the sphere, once more at 1,500 m on estimated road
distance, and once with a shared drop. Prints a table and appends to
``benchmarks/results/pooling.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.csv_rows import append_rows  # noqa: E402
from data.aggregate import aggregate_demand, compound_demand  # noqa: E402
from data.demo import demo_files  # noqa: E402
from data.generate import (  # noqa: E402
    CITY_COMPOUNDS,
    DEFAULT_DELIVERY_DATE,
    generate_city,
    generate_orders,
    order_lines_of,
)
from data.generate_supply import generate_supply  # noqa: E402
from data.load import load_categories  # noqa: E402
from data.schemas import Compound  # noqa: E402
from matcher.model import Params, Problem  # noqa: E402
from matcher.pooling import (  # noqa: E402
    DistanceKind,
    PoolDrop,
    PoolingParams,
    PoolUnmetReason,
    propose_pools,
)
from matcher.result import Allocation  # noqa: E402
from matcher.solve import solve  # noqa: E402
from matcher.whatif import demo_problem  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "pooling.csv"
CITY_SUPPLIERS = 300


def district_problem(percent: float, seed: int) -> tuple[str, Problem]:
    """The generated city's district with the most demand, as one matcher problem."""
    n_compounds = max(10, round(CITY_COMPOUNDS * percent / 100))
    n_suppliers = max(3, round(CITY_SUPPLIERS * percent / 100))
    day = DEFAULT_DELIVERY_DATE
    city = generate_city(n_compounds, seed=seed)
    orders = generate_orders(city, delivery_date=day, seed=seed)
    supply = generate_supply(city.compounds, n_suppliers=n_suppliers, delivery_date=day, seed=seed)
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    district_of = dict(zip(city.compounds["compound_id"], city.compounds["district"], strict=True))
    totals = (
        demand.with_columns(pl.col("compound_id").replace_strict(district_of).alias("district"))
        .group_by("district")
        .agg(pl.col("quantity_units").sum())
        .sort(["quantity_units", "district"], descending=[True, False])
    )
    district = str(totals["district"][0])
    compounds = city.compounds.filter(pl.col("district") == district)
    problem = Problem.from_supply(
        day,
        demand.filter(pl.col("compound_id").is_in(compounds["compound_id"].to_list())),
        supply,
        categories=load_categories(demo_files().categories),
        compounds=[Compound(**r, synthetic=True) for r in compounds.iter_rows(named=True)],
    )
    return f"generated {percent:g} % {district} ({compounds.height} compounds)", problem


def variants(distances: list[int]) -> list[PoolingParams]:
    """Every distance on the sphere, then 1,500 m by road and 1,500 m with a shared drop."""
    out = [PoolingParams(max_distance_m=d) for d in distances]
    out.append(PoolingParams(max_distance_m=1500, distance=DistanceKind.road))
    out.append(PoolingParams(max_distance_m=1500, drop=PoolDrop.shared))
    return out


def measure(
    name: str, problem: Problem, allocation: Allocation, params: PoolingParams, rules: Params
) -> dict[str, object]:
    """One pooling run on a matched day, as a CSV row."""
    started = time.perf_counter()
    result = propose_pools(problem, allocation, params, rules=rules)
    elapsed = time.perf_counter() - started
    sizes = [len(p.compound_ids) for p in result.pools]
    spans = [p.max_distance_m for p in result.pools]
    left = Counter[str]()
    for unmet in result.unmet:
        if unmet.reason is not PoolUnmetReason.not_a_pooling_case:
            left[unmet.reason.value] += unmet.quantity_units
    summary = allocation.summary()
    return {
        "instance": name,
        "date": problem.delivery_date.isoformat(),
        "compounds": len(problem.compounds),
        "demand_rows": len(problem.demand),
        "demand_units": summary.demand_units,
        "matched_units": summary.served_units,
        "match_status": allocation.status.value,
        "match_s": round(allocation.solve_time_s, 2),
        "max_distance_m": params.max_distance_m,
        "distance": params.distance.value,
        "drop": params.drop.value,
        "below_min_units": result.candidate_units,
        "below_min_priority_units": result.candidate_priority_units,
        "below_min_compounds": result.candidate_compounds,
        "bound_units": result.bound_units,
        "pooled_units": result.served_units,
        "pooled_pct_of_below_min": round(
            100 * result.served_units / max(1, result.candidate_units), 1
        ),
        "pooled_pct_of_bound": round(100 * result.served_units / max(1, result.bound_units), 1),
        "pooled_priority_units": result.served_priority_units,
        "compounds_in_pools": result.compounds_served,
        "compounds_lifted_from_zero": len(result.compounds_lifted_from_zero),
        "pools": len(result.pools),
        "mean_pool_size": round(statistics.fmean(sizes), 2) if sizes else 0,
        "max_pool_size": max(sizes, default=0),
        "mean_pool_span_m": round(statistics.fmean(spans)) if spans else 0,
        "max_pool_span_m": max(spans, default=0),
        "still_unmet": " ".join(f"{k}:{v}" for k, v in sorted(left.items())),
        "pooling_s": round(elapsed, 3),
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> None:
    """Match each day once, pool it under every variant, print and record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--instances", nargs="+", choices=["demo", "district"], default=["demo", "district"]
    )
    parser.add_argument("--distances", nargs="+", type=int, default=[500, 1000, 1500, 3000])
    parser.add_argument("--percent", type=float, default=20.0, help="city share for the district")
    parser.add_argument("--time-limit", type=float, default=10.0, help="matcher limit, seconds")
    parser.add_argument("--seed", type=int, default=20220415)
    parser.add_argument("--no-csv", action="store_true", help="print only")
    args = parser.parse_args(argv)

    rules = Params(time_limit_s=args.time_limit, seed=args.seed)
    rows: list[dict[str, object]] = []
    for instance in args.instances:
        if instance == "demo":
            problem = demo_problem(args.seed)
            name = f"demo day ({len(problem.compounds)} compounds)"
        else:
            name, problem = district_problem(args.percent, args.seed)
        allocation = solve(problem, rules)
        for params in variants(args.distances):
            rows.append(measure(name, problem, allocation, params, rules))
    print_rows(rows)
    if not args.no_csv:
        write_rows(rows)
        Console().print(f"appended {len(rows)} rows to {RESULTS.relative_to(ROOT)}")


def print_rows(rows: list[dict[str, object]]) -> None:
    """The rich table of the runs."""
    table = Table(title="pooled groups: demand below every minimum order that pooling serves")
    columns = {
        "instance": "day",
        "max_distance_m": "reach m",
        "distance": "measure",
        "drop": "drop",
        "below_min_units": "below min (units / cmpd)",
        "bound_units": "bound",
        "pooled_units": "pooled units",
        "pooled_pct_of_below_min": "% of below min",
        "pooled_priority_units": "priority pooled / below",
        "compounds_lifted_from_zero": "cmpd off zero",
        "pools": "pools",
        "mean_pool_size": "size mean / max",
        "mean_pool_span_m": "span m mean / max",
        "pooling_s": "s",
    }
    for label in columns.values():
        table.add_column(label, justify="left" if label in ("day", "measure", "drop") else "right")
    for row in rows:
        table.add_row(
            str(row["instance"]),
            f"{row['max_distance_m']:,}",
            str(row["distance"]),
            str(row["drop"]),
            f"{row['below_min_units']:,} / {row['below_min_compounds']}",
            f"{row['bound_units']:,}",
            f"{row['pooled_units']:,}",
            f"{row['pooled_pct_of_below_min']}",
            f"{row['pooled_priority_units']:,} / {row['below_min_priority_units']:,}",
            f"{row['compounds_lifted_from_zero']}",
            f"{row['pools']}",
            f"{row['mean_pool_size']} / {row['max_pool_size']}",
            f"{row['mean_pool_span_m']:,} / {row['max_pool_span_m']:,}",
            f"{row['pooling_s']}",
        )
    Console(width=max(Console().width, 180)).print(table)


def write_rows(rows: list[dict[str, object]], path: Path = RESULTS) -> None:
    """Append ``rows`` to the CSV (``benchmarks.csv_rows.append_rows``)."""
    append_rows(path, rows)


if __name__ == "__main__":
    main()
