"""Solomon VRPTW (56 instances) through linli's router, against PyVRP, OR-Tools and VROOM.

Objective and distances follow the DIMACS convention of ``bks_distance_only.csv`` in
``../shared/benchmarks/solomon/``: minimise total distance (no vehicle-count term), every
arc truncated to one decimal, travel time = distance. Everything is scaled ×10 to integers:
an arc is ``floor(10 d)`` (computed exactly as ``isqrt(100 d²)``), ready and due times and
service times are ×10. The fleet is the file's (25 vehicles), one trip each.

Each instance is solved, in the same run and with the same integer data, by:

- ``linli``: a ``routing.model.RoutingProblem`` (customer = delivery to its own gate, with
  its window as the window for the start of service and its service time; vehicle = one of
  25 at the depot, shift = the depot's window) solved by ``routing.solve.solve`` with
  ``max_trips=1`` and a ``TravelMatrix`` giving the DIMACS matrix (10 m per Solomon unit,
  10 s per time unit); the plan must pass ``routing.check.check_plan``;
- ``pyvrp``: PyVRP's default solver on a ``pyvrp.Model`` (one vehicle type of 25, all
  clients required);
- ``ortools``: OR-Tools routing, parallel cheapest insertion start (path cheapest arc
  finds no first solution on tight R1/RC1 windows), then guided local search;
- ``vroom``: VROOM (pyvroom), exploration level 5 (VROOM stops on its own, often earlier).

Every solver gets one thread and ``--time-limit`` seconds. All routes, linli's included,
are re-checked here from the instance alone (each customer once, capacity, windows on the
start of service, return to the depot by its due time, at most 25 routes); a solution that
fails is reported infeasible. Gap is relative to ``distance_dimacs`` (LKH-3's best tours,
mostly proven optima); C204 has no DIMACS value and is left out of mean gaps.

Run: ``.venv/bin/python benchmarks/solomon.py [--time-limit 10] [--instances c1* r101]
[--jobs 1]``; prints a table per family and writes ``benchmarks/results/solomon.csv``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import fnmatch
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.schemas import SHANGHAI  # noqa: E402
from routing.check import check_plan  # noqa: E402
from routing.matrix import FloatArray, IntMatrix, Matrix  # noqa: E402
from routing.model import Delivery, Params, RoutingProblem, RoutingVehicle  # noqa: E402
from routing.solve import solve  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "solomon"
RESULTS = ROOT / "benchmarks" / "results" / "solomon.csv"
SOLVERS = ("linli", "pyvrp", "ortools", "vroom")
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
ORTOOLS_FIRST_SOLUTION = "PARALLEL_CHEAPEST_INSERTION"
"""OR-Tools' first-solution strategy (a ``routing_enums_pb2.FirstSolutionStrategy`` name)."""
SCALE = 10
"""Distances, times and service times are tenths of a Solomon unit (DIMACS truncation)."""
CONVENTION = (
    "objective: total distance only (fleet ≤ 25, vehicles not minimised); DIMACS distances "
    "(each arc truncated to 0.1, time = distance); gap vs bks_distance_only.csv distance_dimacs"
)
DAY_START = dt.datetime(2022, 4, 12, tzinfo=SHANGHAI)
LON0, LAT0, DEGREES_PER_UNIT = 121.0, 31.0, 1e-3
"""Solomon (x, y) become placeholder WGS84 points only so linli's model accepts them; the
travel matrix never measures in degrees, it looks the points up and uses the plane."""

Routes = list[list[int]]
"""Customer numbers (1..100) in visiting order, one list per vehicle used."""


@dataclass(frozen=True)
class Instance:
    """One Solomon instance; index 0 is the depot. Times are in Solomon units."""

    name: str
    vehicles: int
    capacity: int
    x: tuple[int, ...]
    y: tuple[int, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def family(self) -> str:
        """``C1`` … ``RC2``."""
        return family_of(self.name)


def family_of(name: str) -> str:
    """The family of an instance name: ``rc104`` → ``RC1``."""
    name = name.lower()
    return name.rstrip("0123456789").upper() + name.lstrip("cr")[0]


def read_instance(path: Path) -> Instance:
    """Parse a Solomon text file (name line, VEHICLE block, CUSTOMER block, depot first)."""
    lines = [line.split() for line in path.read_text().splitlines()]
    rows = [line for line in lines if line and all(t.isdigit() for t in line)]
    vehicles, capacity = (int(t) for t in rows[0])
    customers = [tuple(int(t) for t in row) for row in rows[1:]]
    if [c[0] for c in customers] != list(range(len(customers))) or len(customers[0]) != 7:
        raise ValueError(f"{path}: customer rows are not numbered 0.. with 7 columns")
    columns = list(zip(*customers, strict=True))
    return Instance(
        name=path.stem.lower(),
        vehicles=vehicles,
        capacity=capacity,
        x=columns[1],
        y=columns[2],
        demand=columns[3],
        ready=columns[4],
        due=columns[5],
        service=columns[6],
    )


def dimacs_matrix(inst: Instance) -> IntMatrix:
    """``floor(10 · euclidean)`` between all points, exact in integers."""
    size = len(inst.x)
    out = np.zeros((size, size), dtype=np.int64)
    for i in range(size):
        for j in range(size):
            squared = (inst.x[i] - inst.x[j]) ** 2 + (inst.y[i] - inst.y[j]) ** 2
            out[i, j] = math.isqrt(SCALE * SCALE * squared)
    return out


def verify(inst: Instance, matrix: IntMatrix, routes: Routes) -> tuple[list[str], int]:
    """Violations of the Solomon rules by ``routes`` and their total scaled distance."""
    found: list[str] = []
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        found.append(f"{len(used)} routes, fleet is {inst.vehicles}")
    seen = [c for r in used for c in r]
    missing = set(range(1, len(inst.x))) - set(seen)
    if missing:
        found.append(f"{len(missing)} customers not served, e.g. {min(missing)}")
    if len(seen) != len(set(seen)):
        found.append("a customer is served twice")
    distance = 0
    for k, route in enumerate(used):
        load = sum(inst.demand[c] for c in route)
        if load > inst.capacity:
            found.append(f"route {k} carries {load} > capacity {inst.capacity}")
        clock, here = SCALE * inst.ready[0], 0
        for c in route:
            distance += int(matrix[here, c])
            clock = max(clock + int(matrix[here, c]), SCALE * inst.ready[c])
            if clock > SCALE * inst.due[c]:
                found.append(f"route {k}: customer {c} served at {clock / SCALE} > due")
            clock += SCALE * inst.service[c]
            here = c
        distance += int(matrix[here, 0])
        if clock + int(matrix[here, 0]) > SCALE * inst.due[0]:
            found.append(f"route {k} returns after the depot closes")
    return found, distance


@dataclass(frozen=True)
class LookupMatrix:
    """linli ``TravelMatrix`` over the instance's points: the DIMACS matrix, 10 m = 10 s."""

    points: dict[tuple[float, float], int]
    scaled: IntMatrix

    def matrix(self, lons: FloatArray, lats: FloatArray) -> Matrix:
        """The submatrix between the given points (each must be an instance point)."""
        rows = np.array(
            [self.points[float(a), float(b)] for a, b in zip(lons, lats, strict=True)],
            dtype=np.int64,
        )
        sub: IntMatrix = self.scaled[np.ix_(rows, rows)]
        return Matrix(sub.copy(), sub.copy())


def _point(inst: Instance, i: int) -> tuple[float, float]:
    return LON0 + inst.x[i] * DEGREES_PER_UNIT, LAT0 + inst.y[i] * DEGREES_PER_UNIT


def _at(units: int) -> dt.datetime:
    return DAY_START + dt.timedelta(seconds=SCALE * units)


def to_problem(inst: Instance, matrix: IntMatrix) -> tuple[RoutingProblem, LookupMatrix]:
    """The instance as linli's routing problem and the travel matrix to solve it with.

    Solomon's due date is the latest start of service, as linli's ``window_end``; the
    depot's window is every vehicle's shift and the longest route.
    """
    depot_lon, depot_lat = _point(inst, 0)
    deliveries = tuple(
        Delivery(
            delivery_id=f"n{i}",
            supplier_id="solomon",
            compound_id=f"c{i}",
            gate_id=f"c{i}-g",
            lon=_point(inst, i)[0],
            lat=_point(inst, i)[1],
            category_id="goods",
            quantity_units=inst.demand[i],
            weight_kg=inst.demand[i],
            window_start=_at(inst.ready[i]),
            window_end=_at(inst.due[i]),
            service_s=SCALE * inst.service[i],
        )
        for i in range(1, len(inst.x))
    )
    vehicles = tuple(
        RoutingVehicle(
            vehicle_id=f"v{k}",
            supplier_id="solomon",
            depot_id="depot",
            depot_lon=depot_lon,
            depot_lat=depot_lat,
            capacity_kg=inst.capacity,
            capacity_units=inst.capacity,
            shift_start=_at(inst.ready[0]),
            shift_end=_at(inst.due[0]),
        )
        for k in range(inst.vehicles)
    )
    problem = RoutingProblem(
        day_start=DAY_START,
        deliveries=deliveries,
        vehicles=vehicles,
        max_route_duration_s=SCALE * (inst.due[0] - inst.ready[0]),
    )
    points = {_point(inst, i): i for i in range(len(inst.x))}
    return problem, LookupMatrix(points, matrix)


@dataclass(frozen=True)
class Solved:
    """A solver's routes, its wall time and anything it reported wrong itself."""

    routes: Routes
    seconds: float
    notes: tuple[str, ...] = ()


def run_linli(inst: Instance, matrix: IntMatrix, limit: float, seed: int) -> Solved:
    """``routing.solve.solve`` on the instance, its plan checked by ``check_plan``."""
    problem, source = to_problem(inst, matrix)
    params = Params(time_limit_s=limit, seed=seed, max_trips=1, stagger_gates=False)
    began = time.perf_counter()
    plan = solve(problem, params, matrix=source)
    seconds = time.perf_counter() - began
    notes = [f"check_plan: {p}" for p in check_plan(problem, plan, params, source)]
    notes += [f"linli left {u.delivery_id} unassigned ({u.reason})" for u in plan.unassigned]
    routes = [[int(s.delivery_id[1:]) for s in r.stops] for r in plan.routes]
    _, distance = verify(inst, matrix, routes)
    if distance != plan.distance_m:
        notes.append(f"linli says {plan.distance_m}, its routes measure {distance}")
    return Solved(routes, seconds, tuple(notes))


def run_pyvrp(inst: Instance, matrix: IntMatrix, limit: float, seed: int) -> Solved:
    """PyVRP's default solver on a ``pyvrp.Model`` of the instance."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    began = time.perf_counter()
    model = Model()
    where = [model.add_location(float(x), float(y)) for x, y in zip(inst.x, inst.y, strict=True)]
    open_, close = SCALE * inst.ready[0], SCALE * inst.due[0]
    depot = model.add_depot(where[0], tw_early=open_, tw_late=close)
    model.add_vehicle_type(
        inst.vehicles,
        capacity=inst.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=open_,
        tw_late=close,
    )
    for i in range(1, len(where)):
        model.add_client(
            where[i],
            delivery=inst.demand[i],
            service_duration=SCALE * inst.service[i],
            tw_early=SCALE * inst.ready[i],
            tw_late=SCALE * inst.due[i],
        )
    for i, a in enumerate(where):
        for j, b in enumerate(where):
            model.add_edge(a, b, distance=int(matrix[i, j]), duration=int(matrix[i, j]))
    result = model.solve(MaxRuntime(limit), seed=seed, display=False, collect_stats=False)
    routes = [[a.idx + 1 for a in r.schedule() if a.is_client()] for r in result.best.routes()]
    seconds = time.perf_counter() - began
    notes = () if result.best.is_feasible() else ("pyvrp's best solution is infeasible",)
    return Solved(routes, seconds, notes)


def run_ortools(inst: Instance, matrix: IntMatrix, limit: float, seed: int) -> Solved:
    """OR-Tools routing: parallel cheapest insertion, then guided local search to the limit."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed  # OR-Tools' routing search is deterministic
    began = time.perf_counter()
    size = len(inst.x)
    manager = pywrapcp.RoutingIndexManager(size, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    # Matrices registered natively: no Python callback in the search loop.
    arcs = routing.RegisterTransitMatrix(matrix.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arcs)
    service = np.array(inst.service, dtype=np.int64) * SCALE
    travel = routing.RegisterTransitMatrix((matrix + service[:, None]).tolist())
    horizon = SCALE * inst.due[0]
    routing.AddDimension(travel, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for i in range(1, size):
        clock.CumulVar(manager.NodeToIndex(i)).SetRange(SCALE * inst.ready[i], SCALE * inst.due[i])
    for v in range(inst.vehicles):
        for index in (routing.Start(v), routing.End(v)):
            clock.CumulVar(index).SetRange(SCALE * inst.ready[0], horizon)
    loads = routing.RegisterUnaryTransitVector(list(inst.demand))
    routing.AddDimensionWithVehicleCapacity(loads, 0, [inst.capacity] * inst.vehicles, True, "load")
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, ORTOOLS_FIRST_SOLUTION
    )
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    search.time_limit.FromMilliseconds(round(1000 * limit))
    assignment = routing.SolveWithParameters(search)
    routes: Routes = []
    if assignment is not None:
        for v in range(inst.vehicles):
            index, route = assignment.Value(routing.NextVar(routing.Start(v))), []
            while not routing.IsEnd(index):
                route.append(manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))
            routes.append(route)
    seconds = time.perf_counter() - began
    return Solved(routes, seconds, () if assignment is not None else ("ortools found none",))


def run_vroom(inst: Instance, matrix: IntMatrix, limit: float, seed: int) -> Solved:
    """VROOM at exploration level 5 on one thread, stopped at the limit if still going."""
    import vroom  # type: ignore[import-untyped]

    del seed  # VROOM's heuristics are deterministic
    began = time.perf_counter()
    problem = vroom.Input()
    problem.set_durations_matrix("car", matrix.astype(np.uint32))
    window = vroom.TimeWindow(SCALE * inst.ready[0], SCALE * inst.due[0])
    for v in range(inst.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(v, start=0, end=0, capacity=[inst.capacity], time_window=window)
        )
    for i in range(1, len(inst.x)):
        problem.add_job(
            vroom.Job(
                i,
                location=i,
                default_service=SCALE * inst.service[i],
                delivery=[inst.demand[i]],
                time_windows=[vroom.TimeWindow(SCALE * inst.ready[i], SCALE * inst.due[i])],
            )
        )
    solution = problem.solve(exploration_level=5, nb_threads=1, timeout=dt.timedelta(seconds=limit))
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = [
        [int(j) for j in jobs[jobs["vehicle_id"] == v]["id"]] for v in jobs["vehicle_id"].unique()
    ]
    seconds = time.perf_counter() - began
    return Solved(routes, seconds)


RUNNERS: dict[str, Callable[[Instance, IntMatrix, float, int], Solved]] = {
    "linli": run_linli,
    "pyvrp": run_pyvrp,
    "ortools": run_ortools,
    "vroom": run_vroom,
}


@dataclass(frozen=True)
class Row:
    """One solver on one instance, as written to the CSV."""

    instance: str
    family: str
    solver: str
    feasible: bool
    served: int
    vehicles: int
    distance: float
    bks_vehicles: int | None
    bks_distance: float | None
    gap_pct: float | None
    time_s: float
    time_limit_s: float
    seed: int
    problems: str


def best_known() -> dict[str, tuple[int, float]]:
    """DIMACS distance-only best known (vehicles, distance) by instance; C204 has none."""
    out: dict[str, tuple[int, float]] = {}
    with (DATA / "bks_distance_only.csv").open() as f:
        for row in csv.DictReader(f):
            if row["distance_dimacs"]:
                out[row["instance"]] = (int(row["vehicles_dimacs"]), float(row["distance_dimacs"]))
    return out


def run_task(path: Path, solver: str, limit: float, seed: int) -> Row:
    """Solve one instance with one solver and verify the routes independently."""
    inst = read_instance(path)
    matrix = dimacs_matrix(inst)
    solved = RUNNERS[solver](inst, matrix, limit, seed)
    found, scaled = verify(inst, matrix, solved.routes)
    problems = [*solved.notes, *found]
    feasible = not problems
    distance = scaled / SCALE
    bks = best_known().get(inst.name)
    gap = 100.0 * (distance - bks[1]) / bks[1] if bks and feasible else None
    return Row(
        instance=inst.name,
        family=inst.family,
        solver=solver,
        feasible=feasible,
        served=len({c for r in solved.routes for c in r}),
        vehicles=sum(1 for r in solved.routes if r),
        distance=round(distance, 1),
        bks_vehicles=bks[0] if bks else None,
        bks_distance=bks[1] if bks else None,
        gap_pct=None if gap is None else round(gap, 3),
        time_s=round(solved.seconds, 2),
        time_limit_s=limit,
        seed=seed,
        problems="; ".join(problems[:3]) + (f"; +{len(problems) - 3} more" if problems[3:] else ""),
    )


def select(patterns: Sequence[str]) -> list[Path]:
    """Instance files matching any pattern (``c101``, ``rc2*``), in family order."""
    paths = sorted(DATA.glob("*.txt"), key=lambda p: (FAMILIES.index(family_of(p.stem)), p.stem))
    if not patterns:
        return paths
    chosen = [p for p in paths if any(fnmatch.fnmatch(p.stem, q.lower()) for q in patterns)]
    if not chosen:
        raise SystemExit(f"no instance in {DATA} matches {' '.join(patterns)}")
    return chosen


@dataclass(frozen=True)
class Summary:
    """One solver over a set of instances."""

    solver: str
    runs: int
    feasible: int
    mean_gap: float | None
    max_gap: float | None
    gaps: int
    mean_vehicles: float | None
    mean_time: float


def summarise(rows: Iterable[Row], solver: str) -> Summary:
    """Means over the solver's feasible runs (gaps only where a best known exists)."""
    mine = [r for r in rows if r.solver == solver]
    good = [r for r in mine if r.feasible]
    gaps = [r.gap_pct for r in good if r.gap_pct is not None]
    return Summary(
        solver=solver,
        runs=len(mine),
        feasible=len(good),
        mean_gap=statistics.fmean(gaps) if gaps else None,
        max_gap=max(gaps) if gaps else None,
        gaps=len(gaps),
        mean_vehicles=statistics.fmean(r.vehicles for r in good) if good else None,
        mean_time=statistics.fmean(r.time_s for r in mine) if mine else 0.0,
    )


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_tables(rows: Sequence[Row], solvers: Sequence[str], limit: float) -> None:
    """A rich table per family and one over all instances."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(CONVENTION)
    groups = [(f, [r for r in rows if r.family == f]) for f in FAMILIES]
    groups = [g for g in groups if g[1]] + [("all", list(rows))]
    for family, group in groups:
        names = sorted({r.instance for r in group})
        known = [r for r in group if r.solver == solvers[0] and r.bks_vehicles is not None]
        bks_vehicles = statistics.fmean(r.bks_vehicles or 0 for r in known) if known else None
        table = Table(
            title=f"Solomon {family}: {len(names)} instances, {limit:g} s each, one thread",
            caption=f"best known mean vehicles {_num(bks_vehicles, 2)}; gap over feasible runs"
            + ("; c204 has no DIMACS best known" if "c204" in names else ""),
        )
        for column in ("solver", "feasible", "mean gap %", "max gap %", "vehicles", "time s"):
            table.add_column(column, justify="left" if column == "solver" else "right")
        for solver in solvers:
            s = summarise(group, solver)
            table.add_row(
                s.solver,
                f"{s.feasible}/{s.runs}",
                _num(s.mean_gap, 2),
                _num(s.max_gap, 2),
                _num(s.mean_vehicles, 2),
                f"{s.mean_time:.1f}",
            )
        console.print(table)


def print_markdown(rows: Sequence[Row], solvers: Sequence[str]) -> None:
    """Mean gap % (feasible/runs) per family and solver, as a markdown table."""
    families = [f for f in FAMILIES if any(r.family == f for r in rows)] + ["all"]
    print("| family | " + " | ".join(solvers) + " |")
    print("|---|" + "---:|" * len(solvers))
    for family in families:
        group = [r for r in rows if family in ("all", r.family)]
        cells = []
        for solver in solvers:
            s = summarise(group, solver)
            vehicles = _num(s.mean_vehicles, 1)
            cells.append(f"{_num(s.mean_gap, 2)} % ({s.feasible}/{s.runs}, {vehicles} veh)")
        print(f"| {family} | " + " | ".join(cells) + " |")


def read_rows(path: Path) -> list[Row]:
    """Rows of a CSV written by this script."""

    def opt(value: str, kind: Callable[[str], float]) -> float | None:
        return kind(value) if value else None

    with path.open() as f:
        return [
            Row(
                instance=r["instance"],
                family=r["family"],
                solver=r["solver"],
                feasible=r["feasible"] == "True",
                served=int(r["served"]),
                vehicles=int(r["vehicles"]),
                distance=float(r["distance"]),
                bks_vehicles=int(r["bks_vehicles"]) if r["bks_vehicles"] else None,
                bks_distance=opt(r["bks_distance"], float),
                gap_pct=opt(r["gap_pct"], float),
                time_s=float(r["time_s"]),
                time_limit_s=float(r["time_limit_s"]),
                seed=int(r["seed"]),
                problems=r["problems"],
            )
            for r in csv.DictReader(f)
        ]


def write_rows(path: Path, rows: Iterable[Row]) -> None:
    """All rows to ``path`` (header first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(Row.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(vars(r) for r in rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the tables and write the CSV."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--instances", nargs="*", default=[], help="names or patterns: c1* r101")
    parser.add_argument("--solvers", nargs="*", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="solves run in parallel processes")
    parser.add_argument("--out", type=Path, default=RESULTS, help="CSV of the results")
    parser.add_argument(
        "--from-csv", type=Path, default=None, help="print the tables of an earlier run only"
    )
    parser.add_argument("--markdown", action="store_true", help="also print a markdown summary")
    args = parser.parse_args(argv)
    if args.from_csv is not None:
        rows = read_rows(args.from_csv)
        solvers = [s for s in SOLVERS if any(r.solver == s for r in rows)]
        print_tables(rows, solvers, rows[0].time_limit_s if rows else args.time_limit)
        if args.markdown:
            print_markdown(rows, solvers)
        return
    tasks = [(p, s) for p in select(args.instances) for s in args.solvers]
    rows = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:  # row by row, so a long run leaves a trail
        writer = csv.DictWriter(f, fieldnames=list(Row.__dataclass_fields__))
        writer.writeheader()

        def record(row: Row) -> None:
            rows.append(row)
            writer.writerow(vars(row))
            f.flush()
            state = "ok" if row.feasible else f"INFEASIBLE: {row.problems}"
            print(
                f"{row.instance:6} {row.solver:8} {row.distance:9.1f} {row.vehicles:3d} veh "
                f"gap {_num(row.gap_pct, 2):>6} % {row.time_s:6.1f} s {state}",
                file=sys.stderr,
                flush=True,
            )

        if args.jobs <= 1:
            for path, solver in tasks:
                record(run_task(path, solver, args.time_limit, args.seed))
        else:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                futures = [
                    pool.submit(run_task, path, solver, args.time_limit, args.seed)
                    for path, solver in tasks
                ]
                for future in as_completed(futures):
                    record(future.result())
    order = {p.stem: k for k, p in enumerate(select([]))}
    rows.sort(key=lambda r: (order[r.instance], SOLVERS.index(r.solver)))
    write_rows(args.out, rows)
    print_tables(rows, args.solvers, args.time_limit)
    if args.markdown:
        print_markdown(rows, args.solvers)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
