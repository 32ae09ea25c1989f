"""A whole generated city planned in pieces on Dask: time per stage, memory, quality, scaling.

Usage::

    .venv/bin/python benchmarks/city.py --percent 10 30 100            # 2 workers (cores)
    .venv/bin/python benchmarks/city.py --percent 30 --workers 1 2     # the speed-up
    .venv/bin/python benchmarks/city.py --percent 3 --workers 2 --loss-sample

For each size (``--percent`` of the city's 9,500 compounds, with that share of its 300
suppliers) and each worker count (0 = no Dask, pieces one after the other in this
process): generate the day (``data.generate``, ``data.generate_supply``; not a plan stage),
aggregate the orders, match per district and route per supplier on a fresh LocalCluster
(``api.city.execute.plan_city``, nothing reused), check every route independently, and
build the documents (route sheets, sorting lists, pickup notices) in this process, the
household orders of ``--document-part`` compounds at a time
(``routing.sheets.build_documents_in_parts``). Peak
memory is this process's and the largest worker's resident peak, and the peak of all of
them together (sampled every 0.2 s). Prints a table, appends
to ``benchmarks/results/city.csv`` and plots time per stage against compounds in
``benchmarks/results/city.png``. With ``--loss-sample`` the two districts with the most
demand are also solved as one piece against apart (``api.city.execute.compare_joint``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import resource
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
import psutil  # noqa: E402
from distributed import Client  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from api.city.day import (  # noqa: E402
    CityDay,
    city_day,
    generated_compounds,
    generated_gates,
)
from api.city.execute import (  # noqa: E402
    PieceRunner,
    compare_joint,
    dask_client,
    plan_city,
)
from benchmarks.csv_rows import append_rows  # noqa: E402
from data.aggregate import aggregate_demand, compound_demand  # noqa: E402
from data.demo import demo_files  # noqa: E402
from data.generate import (  # noqa: E402
    CATEGORY_MIX,
    CITY_COMPOUNDS,
    DEFAULT_DELIVERY_DATE,
    generate_city,
    generate_orders,
    order_lines_of,
)
from data.generate_supply import generate_supply  # noqa: E402
from data.load import load_categories  # noqa: E402
from data.schemas import Building, HouseholdOrder, OrderItem, PriorityFlag  # noqa: E402
from matcher.candidates import CITY_CANDIDATES  # noqa: E402
from matcher.model import Params  # noqa: E402
from routing.check import check_plan  # noqa: E402
from routing.matrix import HaversineMatrix  # noqa: E402
from routing.model import Params as RouteParams  # noqa: E402
from routing.sheets import Documents, build_documents_in_parts  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "city.csv"
PLOT = ROOT / "benchmarks" / "results" / "city.png"
CITY_SUPPLIERS = 300
DAY = DEFAULT_DELIVERY_DATE
STAGES = ("aggregate", "match", "route", "check", "documents")


def rss_mb() -> float:
    """Resident memory of this process now, MB (Linux /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """Peak resident memory of the calling process, MB (Linux: ru_maxrss is in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def household_orders(orders: pl.DataFrame, compound_ids: set[str]) -> list[HouseholdOrder]:
    """HouseholdOrder models of the generated long-format orders of ``compound_ids``."""
    chosen = orders.filter(pl.col("compound_id").is_in(sorted(compound_ids)))
    grouped = chosen.group_by("order_id", maintain_order=True).agg(
        pl.first("compound_id", "building_id", "room", "delivery_date", "priority_flags"),
        pl.first("proxy"),
        pl.col("category_id", "quantity_units", "product"),
    )
    result = []
    for row in grouped.iter_rows(named=True):
        items = tuple(
            OrderItem(category_id=c, quantity_units=q, product=p)
            for c, q, p in zip(
                row["category_id"], row["quantity_units"], row["product"], strict=True
            )
        )
        flags = frozenset(PriorityFlag(f) for f in row["priority_flags"].split(";") if f)
        result.append(
            HouseholdOrder(
                order_id=row["order_id"],
                compound_id=row["compound_id"],
                building_id=row["building_id"],
                room=row["room"],
                delivery_date=row["delivery_date"],
                items=items,
                priority_flags=flags,
                proxy=row["proxy"],
            )
        )
    return result


class TotalMemory:
    """Samples the resident memory of this process and all its children (the cluster's
    workers and their nanny processes) together, every ``every_s``: the peak the machine
    must hold at once, which the per-process peaks only bound from above."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in (me, *me.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.every_s)

    def __enter__(self) -> TotalMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def worker_peak_mb(client: Client | None) -> float:
    """The largest resident peak among the cluster's workers, MB (0 without a cluster)."""
    if client is None:
        return 0.0
    peaks: dict[str, float] = client.run(peak_mb)
    return max(peaks.values(), default=0.0)


@contextlib.contextmanager
def cluster(workers: int) -> Iterator[Client | None]:
    """A fresh LocalCluster of ``workers`` processes, or none for 0."""
    if workers == 0:
        yield None
        return
    with dask_client(workers=workers) as client:
        yield client


def run(
    args: argparse.Namespace, percent: float, workers: int, console: Console
) -> dict[str, object]:
    """One size on one worker count: the row of the table."""
    n_compounds = max(1, round(CITY_COMPOUNDS * percent / 100))
    n_suppliers = args.suppliers or max(4, round(CITY_SUPPLIERS * percent / 100))
    kept = tuple(c.category_id for c in CATEGORY_MIX[: args.categories])
    timings: dict[str, float] = {}

    start = time.perf_counter()
    city = generate_city(n_compounds, seed=args.seed)
    orders = generate_orders(city, delivery_date=DAY, seed=args.seed, category_ids=kept)
    supply = generate_supply(
        city.compounds,
        n_suppliers=n_suppliers,
        delivery_date=DAY,
        seed=args.seed,
        categories=kept,
        vehicles_per_supplier=args.vehicles,
    )
    compounds = generated_compounds(city.compounds)
    categories = tuple(c for c in load_categories(demo_files().categories) if c.category_id in kept)
    timings["generate"] = time.perf_counter() - start
    memory = {"generate": rss_mb()}

    start = time.perf_counter()
    demand = compound_demand(aggregate_demand(order_lines_of(orders))).collect()
    timings["aggregate"] = time.perf_counter() - start
    memory["aggregate"] = rss_mb()
    day = city_day(
        DAY,
        categories=categories,
        compounds=compounds,
        gates=generated_gates(compounds),
        lockdown=(),
        demand=demand,
        supply=supply,
    )

    match_params = Params(
        time_limit_s=args.match_time_limit,
        deterministic_time=args.dtime,
        seed=args.seed,
        candidate_suppliers=args.candidate_suppliers or None,
    )
    route_params = RouteParams(
        time_limit_s=args.route_time_limit, max_iterations=args.route_iterations, seed=args.seed
    )
    with cluster(workers) as client:
        runner = PieceRunner(client=client)
        result = plan_city(day, match_params, route_params, runner)
        timings["match"] = result.timings["match"]
        timings["route"] = result.timings["route"]
        loss = (
            compare_joint(day, top_districts(day, 2), match_params, PieceRunner(client=client))
            if args.loss_sample
            else None
        )
        workers_mb = worker_peak_mb(client)
    memory["plan"] = rss_mb()

    start = time.perf_counter()
    matrix = HaversineMatrix(circuity=route_params.circuity, speed_kmh=route_params.speed_kmh)
    violations = check_plan(result.problem, result.plan, route_params, matrix)
    timings["check"] = time.perf_counter() - start

    documents = 0
    if args.documents:
        # a part of at most --document-part compounds at a time (district by district,
        # street by street): its household orders become models, its sorting lists and
        # notices are counted and dropped; only the route sheets stay to the end
        start = time.perf_counter()
        routed = {s.compound_id for r in result.plan.routes for s in r.stops}
        in_order = sorted(
            (c for c in compounds if c.compound_id in routed),
            key=lambda c: (c.district, c.street, c.compound_id),
        )
        chunks = [
            {c.compound_id for c in in_order[i : i + args.document_part]}
            for i in range(0, len(in_order), args.document_part)
        ]
        order_s = 0.0

        def parts() -> Iterator[tuple[set[str], list[HouseholdOrder]]]:
            nonlocal order_s
            for chunk in chunks:
                began = time.perf_counter()
                part = household_orders(orders, chunk)
                order_s += time.perf_counter() - began
                yield chunk, part

        def count(part: Documents) -> None:
            nonlocal documents
            documents += len(part.sorting_lists) + len(part.pickup_notices)

        whole = build_documents_in_parts(
            result.problem,
            result.plan,
            parts(),
            on_part=count,
            compounds=compounds,
            buildings=[b for b in _buildings(city.buildings) if b.compound_id in routed],
            gates=day.gates,
            categories=categories,
            vehicles=supply.vehicles,
            drivers=supply.drivers,
            depots=supply.depots,
            matrix=matrix,
        )
        documents += len(whole.route_sheets)
        timings["orders"] = order_s
        timings["documents"] = time.perf_counter() - start
        memory["documents"] = rss_mb()

    summary = result.allocation.summary()
    plan = result.plan
    row: dict[str, object] = {
        "percent": percent,
        "compounds": n_compounds,
        "households": int(city.compounds["households"].sum()),
        "suppliers": n_suppliers,
        "vehicles": len(supply.vehicles),
        "workers": workers,
        "match_pieces": len([r for r in result.runs if r.kind == "match"]),
        "route_pieces": len([r for r in result.runs if r.kind == "route"]),
        **{f"{k}_s": round(timings.get(k, 0.0), 2) for k in ("generate", *STAGES)},
        "documents_orders_s": round(timings.get("orders", 0.0), 2),
        "plan_s": round(sum(timings.get(k, 0.0) for k in STAGES), 2),
        "peak_mb": round(peak_mb()),
        "worker_peak_mb": round(workers_mb),
        **{f"rss_after_{k}_mb": round(v) for k, v in memory.items()},
        "served_pct": round(summary.served_pct, 2),
        "priority_served_pct": round(summary.priority_served_pct, 2),
        "round2_districts": len(result.second_round_kept),
        "vehicles_used": len(plan.routes),
        "trips": sum(r.trips for r in plan.routes),
        "distance_km": round(plan.distance_m / 1000, 1),
        "unassigned_units": sum(u.quantity_units for u in plan.unassigned),
        "violations": len(violations),
        "documents": documents,
        "match_dtime": args.dtime,
        "route_iterations": args.route_iterations,
        "candidate_suppliers": args.candidate_suppliers,
    }
    if loss is not None:
        row["loss_sample"] = "+".join(loss.districts)
        row["loss_served_units"] = loss.served_loss_units
        row["loss_priority_units"] = loss.priority_loss_units
        console.print(
            f"loss sample {' + '.join(loss.districts)}: apart served {loss.apart.served_units:,} "
            f"(priority {loss.apart.priority_served_units:,}), joint served "
            f"{loss.joint.served_units:,} (priority {loss.joint.priority_served_units:,})",
            highlight=False,
        )
    return row


def _buildings(frame: pl.DataFrame) -> list[Building]:
    """Building models of a generated BUILDING_SCHEMA frame."""
    return [Building(**r, synthetic=True) for r in frame.iter_rows(named=True)]


def top_districts(day: CityDay, n: int) -> list[str]:
    """The ``n`` districts with the most demanded units."""
    district = {c.compound_id: c.district for c in day.compounds}
    totals = (
        day.demand.with_columns(pl.col("compound_id").replace_strict(district).alias("d"))
        .group_by("d")
        .agg(pl.col("quantity_units").sum())
        .sort(["quantity_units", "d"], descending=[True, False])
    )
    return totals["d"].head(n).to_list()


def recorded_rows() -> list[dict[str, str]]:
    """The newest CSV row per (compounds, workers) of the newest configuration (candidate
    suppliers), so separate runs plot together."""
    if not RESULTS.exists():
        return []
    with RESULTS.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("compounds") and r.get("plan_s")]
    # the newest configuration only: rows run with the same candidate suppliers as the last
    latest = rows[-1].get("candidate_suppliers") if rows else None
    same = [r for r in rows if r.get("candidate_suppliers") == latest]
    newest = {(r["compounds"], r["workers"]): r for r in same}
    return list(newest.values())


def plot(console: Console) -> None:
    """Time per stage against compounds, one line per stage and worker count, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print("matplotlib is not installed: no plot (pip install matplotlib)")
        return
    rows = recorded_rows()
    figure, axis = plt.subplots(figsize=(7, 4.5))
    colour = {stage: f"C{k}" for k, stage in enumerate(("plan", *STAGES))}
    line = {0: ":", 1: "--", 2: "-"}
    for workers in sorted({int(r["workers"]) for r in rows}):
        mine = sorted(
            (r for r in rows if int(r["workers"]) == workers), key=lambda r: int(r["compounds"])
        )
        x = [int(r["compounds"]) for r in mine]
        for stage in ("plan", *STAGES):
            y = [float(r.get(f"{stage}_s") or 0.0) for r in mine]
            if not any(y):
                continue
            axis.plot(x, y, line.get(workers, "-."), color=colour[stage], marker="o",
                      label=f"{stage} ({workers} workers)")  # fmt: skip
        if mine:  # linear growth through the largest run, for reference
            last = mine[-1]
            slope = float(last["plan_s"]) / int(last["compounds"])
            axis.plot(
                [0, x[-1]],
                [0, slope * x[-1]],
                color="grey",
                linewidth=0.8,
                linestyle=line.get(workers, "-."),
                label=f"linear ({workers} workers)",
            )
    axis.set_xlabel("compounds")
    axis.set_ylabel("seconds")
    axis.set_title("linli plan-city: time against size (benchmarks/results/city.csv)")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(PLOT, dpi=120)
    console.print(f"plot written to {PLOT}")


def main(argv: list[str] | None = None) -> None:
    """Run every size on every worker count, print, record and plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--percent", type=float, nargs="+", default=[2.0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="0: no Dask")
    parser.add_argument("--suppliers", type=int, default=None, help="default: the same %% of 300")
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--vehicles", type=int, default=6, help="per supplier")
    parser.add_argument("--dtime", type=float, default=0.9, help="matcher dtime per piece")
    parser.add_argument("--match-time-limit", type=float, default=120.0)
    parser.add_argument(
        "--candidate-suppliers",
        type=int,
        default=CITY_CANDIDATES,
        help="nearest suppliers per compound in the matcher's model (0: all eligible)",
    )
    parser.add_argument("--route-iterations", type=int, default=500)
    parser.add_argument("--route-time-limit", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--documents", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--loss-sample", action="store_true")
    parser.add_argument(
        "--document-part",
        type=int,
        default=250,
        help="compounds whose orders and documents are in memory at once",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=RESULTS,
        help="CSV the rows are appended to (the plot is drawn only from the default one)",
    )
    args = parser.parse_args(argv)
    console = Console()
    rows = []
    for percent in args.percent:
        for workers in args.workers:
            with TotalMemory() as total:
                row = run(args, percent, workers, console)
            row["total_peak_mb"] = round(total.peak_mb)
            append_rows(args.csv, [row])  # each size kept as soon as it is measured
            rows.append(row)
    table = Table(title="plan-city on a generated city")
    table.add_column("measure")
    for row in rows:
        table.add_column(f"{row['percent']} % / {row['workers']} w", justify="right")
    for key in dict.fromkeys(k for row in rows for k in row):
        table.add_row(key, *(str(row.get(key, "")) for row in rows))
    console.print(table)
    if args.csv == RESULTS:
        plot(console)


if __name__ == "__main__":
    main()
