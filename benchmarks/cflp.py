"""OR-Library capacitated facility location (cap41–cap134) through the matcher's model.

Each instance is solved twice in the same run, splittable and single-source:

- ``matcher``: mapped onto a ``matcher.model.Problem`` (facility = supplier with one offer
  whose capacity is the facility's and whose opening cost is the fixed cost; customer =
  compound with demand in one category; assignment cost = a per-unit pair cost
  ``c_ij / d_j``; single source = ``single_supplier_per_category``) and solved by
  ``matcher.solve.solve`` with all its lexicographic stages;
- ``plain``: the textbook model written directly (same scaling, same parameters, on the
  same back-end: HiGHS through ``pywraplp`` or CP-SAT), so the overhead of the matcher's
  model is visible; where the single-source instance is infeasible (a customer larger than
  every facility), ``plain-lex`` asks the matcher's question of it written directly (the
  largest smallest served share, then the most units, then the least cost).

Each instance is solved in ``--orders`` orders of its facilities and customers (the file's
first), the same for both models, and the times are medians: a MIP's time depends on the
order of its rows and columns (cap94 single-source: 1.0–1.75 s for the plain model over ten
orders), which is noise, not overhead.

Costs are scaled by ``SCALE`` to integers; the objective reported is recomputed exactly
(floating point) from the solution. Gap is relative to the published optimum in
``optima.csv``. Prints a table and writes ``benchmarks/results/cflp.csv``.

Run: ``.venv/bin/python benchmarks/cflp.py [--solver highs cp-sat] [--orders 3]
[--time-limit 20] [cap41 cap71 ...]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.schemas import (  # noqa: E402
    SHANGHAI,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    HolderKind,
    Offer,
    ServiceArea,
    Supplier,
)
from matcher.model import DemandRow, Params, Problem  # noqa: E402
from matcher.result import Allocation  # noqa: E402
from matcher.solve import SolverName, solve  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "orlib-cap"
RESULTS = ROOT / "benchmarks" / "results" / "cflp.csv"
SCALE = 1000
"""Costs are multiplied by this and rounded to integers (per unit for assignments)."""
DAY = dt.date(2022, 4, 12)


@dataclass(frozen=True)
class Instance:
    """One OR-Library capinfo instance."""

    name: str
    capacity: tuple[int, ...]
    fixed: tuple[float, ...]
    demand: tuple[int, ...]
    cost: tuple[tuple[float, ...], ...]  # cost[j][i]: all of customer j at facility i


def read_instance(path: Path, capacity: int | None = None) -> Instance:
    """Parse a capinfo file (``capacity`` overrides the file's for cap131–134 style data)."""
    tokens = path.read_text().split()
    m, n = int(tokens[0]), int(tokens[1])
    k = 2
    caps, fixed = [], []
    for _ in range(m):
        caps.append(capacity if capacity is not None else int(float(tokens[k])))
        fixed.append(float(tokens[k + 1]))
        k += 2
    demand, cost = [], []
    for _ in range(n):
        demand.append(int(float(tokens[k])))
        k += 1
        cost.append(tuple(float(x) for x in tokens[k : k + m]))
        k += m
    return Instance(path.stem, tuple(caps), tuple(fixed), tuple(demand), tuple(cost))


def _unit_cost(inst: Instance, i: int, j: int) -> int:
    return round(inst.cost[j][i] * SCALE / inst.demand[j])


def to_problem(inst: Instance) -> Problem:
    """The instance as a matcher problem: one supplier and offer per facility."""
    start = dt.datetime.combine(DAY, dt.time(7), tzinfo=SHANGHAI)
    m, n = len(inst.capacity), len(inst.demand)
    category = Category(
        category_id="goods", name_zh="货物", name_en="goods", unit="单位", unit_weight_g=1
    )
    compounds = [
        Compound(
            compound_id=f"j{j}", name=f"客户{j}", district="d", lon=121.5, lat=31.2, households=1
        )
        for j in range(n)
    ]
    suppliers, depots, drivers, certificates, offers = [], [], [], [], []
    for i in range(m):
        sid = f"f{i}"
        suppliers.append(Supplier(supplier_id=sid, name=f"设施{i}"))
        depots.append(Depot(depot_id=f"{sid}-d", supplier_id=sid, name="d", lon=121.5, lat=31.2))
        drivers.append(
            Driver(driver_id=f"{sid}-drv", supplier_id=sid, name="d", test_taken_at=start)
        )
        certificates.append(
            Certificate(
                certificate_id=f"{sid}-permit",
                type=CertificateType.supply_permit,
                holder_kind=HolderKind.supplier,
                holder_id=sid,
                valid_from=start - dt.timedelta(days=1),
                valid_until=start + dt.timedelta(days=2),
            )
        )
        offers.append(
            Offer(
                offer_id=f"{sid}-o",
                supplier_id=sid,
                category_id="goods",
                delivery_date=DAY,
                capacity_units=inst.capacity[i],
                unit_price_cents=1,
                service_area=ServiceArea(districts=("d",)),
                depot_ids=(f"{sid}-d",),
            )
        )
    return Problem(
        delivery_date=DAY,
        window_start=start,
        window_end=start + dt.timedelta(hours=12),
        categories=(category,),
        compounds=tuple(compounds),
        demand=tuple(
            DemandRow(compound_id=f"j{j}", category_id="goods", quantity_units=inst.demand[j])
            for j in range(n)
        ),
        offers=tuple(offers),
        suppliers=tuple(suppliers),
        depots=tuple(depots),
        drivers=tuple(drivers),
        certificates=tuple(certificates),
        offer_fixed_cost_cents=tuple((f"f{i}-o", round(inst.fixed[i] * SCALE)) for i in range(m)),
        # unit price 1 is added to every unit: subtract it back in the pair cost
        pair_cost_cents_per_unit=tuple(
            (f"f{i}-o", f"j{j}", max(0, _unit_cost(inst, i, j) - 1))
            for i in range(m)
            for j in range(n)
        ),
    )


def true_cost(inst: Instance, x: dict[tuple[int, int], int]) -> float:
    """The unscaled objective of an assignment ``x[i, j]`` (units)."""
    opened = {i for (i, _), q in x.items() if q > 0}
    total = sum(inst.fixed[i] for i in opened)
    total += sum(inst.cost[j][i] * q / inst.demand[j] for (i, j), q in x.items())
    return total


@dataclass(frozen=True)
class Run:
    """One solve: status, exact objective, wall seconds (all of it), seconds and deterministic
    time inside CP-SAT (the model alone), and whether all demand was served."""

    status: str
    objective: float
    seconds: float
    solver_s: float
    dtime: float
    feasible: bool


def reordered(inst: Instance, seed: int) -> Instance:
    """``inst`` with its facilities and customers shuffled by ``seed`` (0: the file's order)."""
    m, n = len(inst.capacity), len(inst.demand)
    facilities, customers = list(range(m)), list(range(n))
    if seed:
        rng = random.Random(seed)
        rng.shuffle(facilities)
        rng.shuffle(customers)
    return Instance(
        inst.name,
        tuple(inst.capacity[i] for i in facilities),
        tuple(inst.fixed[i] for i in facilities),
        tuple(inst.demand[j] for j in customers),
        tuple(tuple(inst.cost[j][i] for i in facilities) for j in customers),
    )


def run_matcher(inst: Instance, single: bool, params: Params, solver: SolverName) -> Run:
    """``Run`` through ``matcher.solve`` on ``solver`` (solver time: its stages' together)."""
    problem = to_problem(inst)
    params = params.model_copy(
        update={
            "single_supplier_per_category": single,
            "max_suppliers_per_compound": len(inst.capacity),
        }
    )
    t0 = time.perf_counter()
    allocation: Allocation = solve(problem, params, solver=solver)
    seconds = time.perf_counter() - t0
    x = {
        (int(line.supplier_id[1:]), int(line.compound_id[1:])): line.quantity_units
        for line in allocation.lines
    }
    return Run(
        allocation.status.value,
        true_cost(inst, x),
        seconds,
        sum(stage.time_s or 0.0 for stage in allocation.stages),
        sum(stage.deterministic_time or 0.0 for stage in allocation.stages),
        not allocation.unmet,
    )


def run_plain(inst: Instance, single: bool, params: Params, solver: SolverName) -> Run:
    """``Run`` of the textbook model on ``solver`` (wall time includes building it)."""
    if solver != "cp-sat":
        return run_plain_mip(inst, single, params, solver)
    built = time.perf_counter()
    m, n = len(inst.capacity), len(inst.demand)
    model = cp_model.CpModel()
    y = [model.new_bool_var("") for _ in range(m)]
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for j in range(n):
        d = inst.demand[j]
        for i in range(m):
            x[i, j] = model.new_int_var(0, d, "")
            model.add(x[i, j] <= d * y[i])
        if single:
            b = [model.new_bool_var("") for _ in range(m)]
            for i in range(m):
                model.add(x[i, j] == d * b[i])
            model.add_exactly_one(b)
        model.add(sum(x[i, j] for i in range(m)) == d)
    for i in range(m):
        model.add(sum(x[i, j] for j in range(n)) <= inst.capacity[i] * y[i])
    model.minimize(
        sum(round(inst.fixed[i] * SCALE) * y[i] for i in range(m))
        + sum(_unit_cost(inst, i, j) * x[i, j] for i in range(m) for j in range(n))
    )
    cp = cp_model.CpSolver()
    p = cp.parameters
    p.max_time_in_seconds = params.time_limit_s
    p.max_deterministic_time = params.time_limit_s
    p.num_workers = params.num_workers
    p.random_seed = params.seed
    p.interleave_search = params.deterministic
    p.relative_gap_limit = 0.0
    t0 = time.perf_counter()
    status = cp.solve(model)
    solver_s = time.perf_counter() - t0
    seconds = time.perf_counter() - built
    dtime = cp.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = cp.status_name(status).lower()
        return Run(name, float("nan"), seconds, solver_s, dtime, False)
    values = {key: int(cp.value(var)) for key, var in x.items()}
    name = "optimal" if status == cp_model.OPTIMAL else "feasible"
    return Run(name, true_cost(inst, values), seconds, solver_s, dtime, True)


def run_plain_mip(
    inst: Instance, single: bool, params: Params, solver: SolverName, lexicographic: bool = False
) -> Run:
    """``Run`` of the textbook model as a MIP through ``pywraplp`` (one thread, gap 0, as the
    matcher's MIP back-end); wall time includes building the model, as the matcher's does.

    With ``lexicographic`` it asks the matcher's question of an instance that cannot be
    served in full, written directly: the largest smallest served share (‰), then the most
    units, then the least cost, each fixed before the next (solver time is all three).
    """
    t0 = time.perf_counter()
    m, n = len(inst.capacity), len(inst.demand)
    mip = pywraplp.Solver.CreateSolver(solver.upper())
    mip.SuppressOutput()
    y = [mip.BoolVar("") for _ in range(m)]
    x: dict[tuple[int, int], pywraplp.Variable] = {}
    t = mip.IntVar(0, 1000, "")
    for j in range(n):
        d = inst.demand[j]
        for i in range(m):
            x[i, j] = mip.IntVar(0, d, "")
            mip.Add(x[i, j] <= d * y[i])
        if single:
            b = [mip.BoolVar("") for _ in range(m)]
            for i in range(m):
                if lexicographic:
                    mip.Add(x[i, j] <= d * b[i])
                else:
                    mip.Add(x[i, j] == d * b[i])
            mip.Add(mip.Sum(b) <= 1 if lexicographic else mip.Sum(b) == 1)
        served = mip.Sum([x[i, j] for i in range(m)])
        if lexicographic:
            mip.Add(served <= d)
            mip.Add(1000 * served >= d * t)
        else:
            mip.Add(served == d)
    for i in range(m):
        mip.Add(mip.Sum([x[i, j] for j in range(n)]) <= inst.capacity[i] * y[i])
    cost = mip.Sum([round(inst.fixed[i] * SCALE) * y[i] for i in range(m)]) + mip.Sum(
        [_unit_cost(inst, i, j) * x[i, j] for i in range(m) for j in range(n)]
    )
    stages = [(t, True), (mip.Sum(list(x.values())), True)] if lexicographic else []
    stages.append((cost, False))
    mip.SetNumThreads(1)
    mp = pywraplp.MPSolverParameters()
    mp.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
    solver_s = 0.0
    proven = True
    for objective, maximize in stages:
        if maximize:
            mip.Maximize(objective)
        else:
            mip.Minimize(objective)
        left = params.time_limit_s - (time.perf_counter() - t0)
        mip.SetTimeLimit(max(10, int(left * 1000)))
        started = time.perf_counter()
        status = mip.Solve(mp)
        solver_s += time.perf_counter() - started
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            name = "infeasible" if status == pywraplp.Solver.INFEASIBLE else f"status {status}"
            seconds = time.perf_counter() - t0
            return Run(name, float("nan"), seconds, solver_s, 0.0, False)
        proven = proven and status == pywraplp.Solver.OPTIMAL
        values = {key: round(var.solution_value()) for key, var in x.items()}
        value = round(mip.Objective().Value())
        mip.Add(objective >= value if maximize else objective <= value)
    seconds = time.perf_counter() - t0
    everything = sum(values.values()) == sum(inst.demand)
    return Run(
        "optimal" if proven else "feasible",
        true_cost(inst, values),
        seconds,
        solver_s,
        0.0,
        everything,
    )


def optima() -> dict[str, tuple[float | None, float | None]]:
    """Published (splittable, single-source) optima by instance name."""
    out = {}
    with (DATA / "optima.csv").open() as f:
        for row in csv.DictReader(f):
            split = float(row["splittable_optimum"]) if row["splittable_optimum"] else None
            single = float(row["single_source_optimum"]) if row["single_source_optimum"] else None
            out[row["instance"]] = (split, single)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table and write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", help="names, default all cap*.txt")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per solve")
    parser.add_argument("--workers", type=int, default=8, help="CP-SAT workers")
    parser.add_argument(
        "--solver",
        nargs="+",
        choices=["highs", "cp-sat", "scip", "cbc"],
        default=["highs", "cp-sat"],
        help="back-ends, each runs both models (MIPs on one thread)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="solves per instance and model, alternating; times are the median",
    )
    parser.add_argument(
        "--orders",
        type=int,
        default=3,
        help="solve each instance in this many orders of its facilities and customers (the "
        "file's, then shuffled): a MIP's time depends on the order of rows and columns by "
        "up to 1.8x here, so both models' times are medians over the same orders",
    )
    parser.add_argument("--csv", type=Path, default=RESULTS, help="where to write the rows")
    args = parser.parse_args(argv)
    names = args.instances or sorted(
        (p.stem for p in DATA.glob("cap*.txt")), key=lambda s: int(s[3:])
    )
    known = optima()
    # the same deterministic-time budget as the plain model (the matcher's default budget is a
    # small share of the wall-clock limit, tuned for the demo day, not for proving optima)
    params = Params(
        time_limit_s=args.time_limit, num_workers=args.workers, deterministic_time=args.time_limit
    )
    rows = []
    header = f"{'instance':9} {'variant':7} {'solver':7} {'model':8} {'status':9} "
    header += f"{'objective':>14} {'optimum':>14} {'gap %':>8} {'time s':>7} {'solver s':>8} "
    header += f"{'dtime':>7}"
    print(header)
    for name in names:
        inst = read_instance(DATA / f"{name}.txt")
        for single in (False, True):
            best = known.get(name, (None, None))[1 if single else 0]
            for solver in args.solver:
                runs: dict[str, list[Run]] = {"matcher": [], "plain": []}
                for order in range(args.orders):
                    shuffled = reordered(inst, order)
                    for _ in range(args.repeat):  # alternating, so both see the same machine
                        runs["matcher"].append(run_matcher(shuffled, single, params, solver))
                        runs["plain"].append(run_plain(shuffled, single, params, solver))
                        if solver != "cp-sat" and not runs["plain"][-1].feasible:
                            # the matcher answers "serve the most, fairly, cheapest": so does
                            # this one
                            runs.setdefault("plain-lex", []).append(
                                run_plain_mip(shuffled, single, params, solver, lexicographic=True)
                            )
                for model_name, done in runs.items():
                    rows.append(
                        _row(name, single, solver, model_name, done, best, args.repeat, args.orders)
                    )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.csv}")


def _row(
    name: str,
    single: bool,
    solver: str,
    model_name: str,
    done: list[Run],
    best: float | None,
    repeats: int,
    orders: int,
) -> dict[str, object]:
    """One CSV row (times are the medians of ``done``; the status is every run's, or the
    distinct ones joined by "/"), printed as a table line."""
    run = done[0]
    objective, feasible = run.objective, run.feasible
    status = "/".join(sorted({r.status for r in done}))
    seconds = statistics.median(r.seconds for r in done)
    solver_s = statistics.median(r.solver_s for r in done)
    dtime = statistics.median(r.dtime for r in done)
    if not feasible:  # the matcher reports unmet demand instead of failing
        status = "infeasible" if model_name == "plain" else f"{status}, unmet"
    gap = 100.0 * (objective - best) / best if best is not None and feasible else float("nan")
    variant = "single" if single else "split"
    obj_text = f"{objective:14.3f}" if objective == objective else f"{'-':>14}"
    best_text = f"{best:14.3f}" if best is not None else f"{'-':>14}"
    gap_text = f"{gap:8.4f}" if gap == gap else f"{'-':>8}"
    print(
        f"{name:9} {variant:7} {solver:7} {model_name:8} {status:9} {obj_text} {best_text} "
        f"{gap_text} {seconds:7.2f} {solver_s:8.3f} {dtime:7.2f}",
        flush=True,
    )
    return {
        "instance": name,
        "variant": variant,
        "solver": solver,
        "model": model_name,
        "status": status,
        "objective": f"{objective:.3f}" if objective == objective else "",
        "optimum": "" if best is None else f"{best:.3f}",
        "gap_pct": "" if gap != gap else f"{gap:.5f}",
        "time_s": f"{seconds:.3f}",
        "solver_s": f"{solver_s:.4f}",
        "dtime": f"{dtime:.3f}",
        "repeats": repeats,
        "orders": orders,
        "objectives_agree": all(
            r.objective != r.objective or abs(r.objective - run.objective) <= 1e-6 * run.objective
            for r in done
        ),
    }


if __name__ == "__main__":
    main()
