"""Routing a generated district end to end: generate, aggregate, match, route, check.

Usage::

    .venv/bin/python benchmarks/routing_district.py                     # 2,500 × 40 × 320
    .venv/bin/python benchmarks/routing_district.py --compounds 300 --suppliers 8

A synthetic district (``data.generate``) with one gate per compound at its centre (7:00 to
19:00), suppliers with ``--vehicles`` vehicles each (one refrigerated), the day's demand
matched by the matcher under its time limit, then every delivery routed by
``routing.solve`` (PyVRP per supplier, reload trips) and checked by the independent
checker. Prints a table and appends to ``benchmarks/results/routing_district.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.csv_rows import append_rows  # noqa: E402
from benchmarks.matcher_city import city_compounds  # noqa: E402
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
from data.schemas import Gate  # noqa: E402
from matcher.model import Params, Problem  # noqa: E402
from matcher.solve import solve as match  # noqa: E402
from routing.check import check_plan  # noqa: E402
from routing.deliveries import build_routing_problem  # noqa: E402
from routing.model import Params as RouteParams  # noqa: E402
from routing.solve import solve as route  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "routing_district.csv"
DAY = dt.date(2022, 4, 15)


def main(argv: list[str] | None = None) -> None:
    """Run one district and record it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=2500)
    parser.add_argument("--categories", type=int, default=8)
    parser.add_argument("--suppliers", type=int, default=40)
    parser.add_argument("--vehicles", type=int, default=8, help="per supplier")
    parser.add_argument("--match-time-limit", type=float, default=60.0)
    parser.add_argument("--route-time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    kept = tuple(c.category_id for c in CATEGORY_MIX[: args.categories])
    timings: dict[str, float] = {}

    start = time.perf_counter()
    city = generate_city(args.compounds, seed=args.seed)
    orders = generate_orders(city, delivery_date=DAY, seed=args.seed)
    supply = generate_supply(
        city.compounds, n_suppliers=args.suppliers, delivery_date=DAY, seed=args.seed,
        categories=kept, vehicles_per_supplier=args.vehicles,
    )  # fmt: skip
    compounds = city_compounds(city.compounds)
    gates = [
        Gate(
            gate_id=f"{c.compound_id}-g",
            compound_id=c.compound_id,
            name="大门",
            lon=c.lon,
            lat=c.lat,
            synthetic=True,
        )
        for c in compounds
    ]
    categories = [c for c in load_categories(demo_files().categories) if c.category_id in kept]
    timings["generate"] = time.perf_counter() - start

    start = time.perf_counter()
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    demand = demand.filter(pl.col("category_id").is_in(kept))
    problem = Problem.from_supply(DAY, demand, supply, categories=categories, compounds=compounds)
    allocation = match(problem, Params(time_limit_s=args.match_time_limit, seed=args.seed))
    timings["match"] = time.perf_counter() - start

    start = time.perf_counter()
    routing, infeasible = build_routing_problem(
        DAY, allocation, compounds=compounds, gates=gates, categories=categories,
        depots=supply.depots, vehicles=supply.vehicles, drivers=supply.drivers,
        certificates=supply.certificates,
    )  # fmt: skip
    params = RouteParams(time_limit_s=args.route_time_limit, seed=args.seed)
    plan = route(routing, params)
    timings["route"] = time.perf_counter() - start
    start = time.perf_counter()
    violations = check_plan(routing, plan, params)
    timings["check"] = time.perf_counter() - start

    allocated = sum(line.quantity_units for line in allocation.lines)
    routed = sum(r.load_units for r in plan.routes)
    waiting = Counter[str]()
    for item in plan.unassigned:
        waiting[item.reason.value] += item.quantity_units
    row = {
        "compounds": args.compounds,
        "suppliers": args.suppliers,
        "vehicles": len(supply.vehicles),
        "deliveries": len(routing.deliveries),
        "match_status": allocation.status.value,
        **{f"{k}_s": round(v, 1) for k, v in timings.items()},
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "allocated_units": allocated,
        "routed_units": routed,
        "routed_pct": round(100 * routed / allocated, 2) if allocated else 100.0,
        "vehicles_used": len(plan.routes),
        "trips": sum(r.trips for r in plan.routes),
        "distance_km": round(plan.distance_m / 1000, 1),
        "unassigned_units": " ".join(f"{k}:{v}" for k, v in sorted(waiting.items())) or "0",
        "not_routable": len(infeasible),
        "violations": len(violations),
    }
    table = Table(title="routing a generated district")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in row.items():
        table.add_row(key, str(value))
    Console().print(table)
    append_rows(RESULTS, [row])


if __name__ == "__main__":
    main()
