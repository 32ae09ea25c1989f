"""OR-Library capacitated facility location (cap41–cap134) through the matcher's model.

Each instance is solved twice in the same run, splittable and single-source:

- ``matcher``: mapped onto a ``matcher.model.Problem`` (facility = supplier with one offer
  whose capacity is the facility's and whose opening cost is the fixed cost; customer =
  compound with demand in one category; assignment cost = a per-unit pair cost
  ``c_ij / d_j``; single source = ``single_supplier_per_category``) and solved by
  ``matcher.solve.solve`` with all its lexicographic stages;
- ``plain``: the textbook CP-SAT model written directly (same scaling, same parameters),
  so the overhead of the matcher's model is visible.

Costs are scaled by ``SCALE`` to integers; the objective reported is recomputed exactly
(floating point) from the solution. Gap is relative to the published optimum in
``optima.csv``. Prints a table and writes ``benchmarks/results/cflp.csv``.

Run: ``.venv/bin/python benchmarks/cflp.py [--time-limit 20] [cap41 cap71 ...]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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
from matcher.solve import solve  # noqa: E402

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


def run_matcher(inst: Instance, single: bool, params: Params) -> Run:
    """``Run`` through ``matcher.solve`` (solver time: its stages' together)."""
    problem = to_problem(inst)
    params = params.model_copy(
        update={
            "single_supplier_per_category": single,
            "max_suppliers_per_compound": len(inst.capacity),
        }
    )
    t0 = time.perf_counter()
    allocation: Allocation = solve(problem, params)
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


def run_plain(inst: Instance, single: bool, params: Params) -> Run:
    """``Run`` of the textbook CP-SAT model."""
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
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = params.time_limit_s
    p.max_deterministic_time = params.time_limit_s
    p.num_workers = params.num_workers
    p.random_seed = params.seed
    p.interleave_search = params.deterministic
    p.relative_gap_limit = 0.0
    t0 = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - t0
    dtime = solver.deterministic_time
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Run(solver.status_name(status).lower(), float("nan"), seconds, seconds, dtime, False)
    values = {key: int(solver.value(var)) for key, var in x.items()}
    name = "optimal" if status == cp_model.OPTIMAL else "feasible"
    return Run(name, true_cost(inst, values), seconds, seconds, dtime, True)


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
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="solves per instance and model, alternating; times are the median",
    )
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
    header = f"{'instance':9} {'variant':7} {'model':8} {'status':9} {'objective':>14} "
    header += f"{'optimum':>14} {'gap %':>8} {'time s':>7} {'solver s':>8} {'dtime':>7}"
    print(header)
    for name in names:
        inst = read_instance(DATA / f"{name}.txt")
        for single in (False, True):
            best = known.get(name, (None, None))[1 if single else 0]
            runs: dict[str, list[Run]] = {"matcher": [], "plain": []}
            for _ in range(args.repeat):  # alternating, so both see the same machine
                runs["matcher"].append(run_matcher(inst, single, params))
                runs["plain"].append(run_plain(inst, single, params))
            for model_name, done in runs.items():
                run = done[0]
                status, objective, feasible = run.status, run.objective, run.feasible
                seconds = statistics.median(r.seconds for r in done)
                solver_s = statistics.median(r.solver_s for r in done)
                dtime = statistics.median(r.dtime for r in done)
                if not feasible:  # the matcher reports unmet demand instead of failing
                    status = "infeasible" if model_name == "plain" else f"{status}, unmet"
                gap = (
                    100.0 * (objective - best) / best
                    if best is not None and feasible
                    else float("nan")
                )
                variant = "single" if single else "split"
                rows.append(
                    {
                        "instance": name,
                        "variant": variant,
                        "model": model_name,
                        "status": status,
                        "objective": f"{objective:.3f}" if feasible else "",
                        "optimum": "" if best is None else f"{best:.3f}",
                        "gap_pct": "" if gap != gap else f"{gap:.5f}",
                        "time_s": f"{seconds:.3f}",
                        "solver_s": f"{solver_s:.3f}",
                        "dtime": f"{dtime:.3f}",
                        "repeats": args.repeat,
                    }
                )
                obj_text = f"{objective:14.3f}" if feasible else f"{'-':>14}"
                best_text = f"{best:14.3f}" if best is not None else f"{'-':>14}"
                gap_text = f"{gap:8.4f}" if gap == gap else f"{'-':>8}"
                print(
                    f"{name:9} {variant:7} {model_name:8} {status:9} {obj_text} {best_text} "
                    f"{gap_text} {seconds:7.2f} {solver_s:8.2f} {dtime:7.2f}",
                    flush=True,
                )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
