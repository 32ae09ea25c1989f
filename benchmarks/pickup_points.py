"""Pickup points on every compound of the embedded demo: exact capacitated p-median times.

For each of the demo's 334 compounds (its buildings, gates as extra candidates) and each k
in ``--k`` (capped by the buildings), solve with building entrances as candidates at the
day rule's capacity (fair share × 1.25) and report how many were proven optimal and the
time per compound. Prints a table and writes ``benchmarks/results/pickup_points.csv``.

Run: ``.venv/bin/python benchmarks/pickup_points.py [--k 1 2 3 5] [--time-limit 10]``.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.demo import DEMO_DIR  # noqa: E402
from data.load import load_buildings, load_compounds, load_gates  # noqa: E402
from data.schemas import Building, Gate  # noqa: E402
from routing.pickup_points import (  # noqa: E402
    PickupParams,
    PickupPlan,
    PickupStatus,
    building_entrances,
    plan_pickup_points,
)

RESULTS = ROOT / "benchmarks" / "results" / "pickup_points.csv"


def main() -> None:
    """Solve every demo compound at each k; print and write the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    compounds = load_compounds(DEMO_DIR / "compounds.csv")
    buildings = load_buildings(DEMO_DIR / "buildings.csv")
    gates = load_gates(DEMO_DIR / "gates.csv")
    by_compound: dict[str, list[Building]] = {}
    for b in buildings:
        by_compound.setdefault(b.compound_id, []).append(b)
    gates_of: dict[str, list[Gate]] = {}
    for g in gates:
        gates_of.setdefault(g.compound_id, []).append(g)
    params = PickupParams(time_limit_s=args.time_limit)
    rows = []
    for k in args.k:
        times: list[float] = []
        optimal = solved = 0
        household_m = 0
        for compound in compounds:
            own = by_compound.get(compound.compound_id, [])
            if not own:
                continue
            kk = min(k, len(own))
            households = sum(b.households for b in own)
            capacity = math.ceil(households / kk * 1.25) if households else None
            start = time.perf_counter()
            result = plan_pickup_points(
                compound,
                own,
                gates_of.get(compound.compound_id, []),
                k=kk,
                candidates=building_entrances(own, capacity_households=capacity),
                params=params,
            )
            times.append(time.perf_counter() - start)
            if isinstance(result, PickupPlan):
                solved += 1
                optimal += result.status is PickupStatus.optimal
                household_m += result.objective_household_m
        rows.append(
            {
                "k": k,
                "compounds": len(times),
                "solved": solved,
                "optimal": optimal,
                "mean_s": round(statistics.mean(times), 3),
                "max_s": round(max(times), 3),
                "total_s": round(sum(times), 1),
                "household_km": round(household_m / 1000, 1),
            }
        )
    table = Table(title="pickup points on the demo's compounds (exact p-median, CP-SAT)")
    for name in rows[0]:
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
