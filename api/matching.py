"""The matching stage on stored data: build the matcher's problem for a day and solve it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from rich.console import Console
from rich.table import Table

from api.crews import assignments
from api.supplier_record import reliability_records
from data.store import Store
from matcher.eligibility import CrewRoster, Eligibility, check_eligibility
from matcher.explain import Decision, explain
from matcher.model import Params, Problem
from matcher.result import Allocation
from matcher.solve import DEFAULT_SOLVER, SolverName, solve
from matcher.whatif import store_problem


@dataclass(frozen=True)
class DayMatch:
    """A day's matching problem, its allocation and the published explanations."""

    problem: Problem
    allocation: Allocation
    decisions: tuple[Decision, ...]
    eligibility: Eligibility | None = None
    """What the allocation was made under (with the day's crew roster), for later stages."""


def match_day(
    store: Store, day: dt.date, params: Params, solver: SolverName = DEFAULT_SOLVER
) -> DayMatch:
    """Aggregate the day's stored orders and allocate them to the stored offers on
    ``solver`` (``matcher.solve``); suppliers' reliability records (past deliveries, receipt
    checks, claims) enter the explanations and, with
    ``params.reliability_penalty_cents_per_unit``, the cost; the day's crew roster enters
    eligibility (every crew member's test and work ID)."""
    supply = store.supply()
    records = reliability_records(store.engine)
    scores = tuple(
        (supplier_id, record.score_permille)
        for supplier_id, record in sorted(records.items())
        if record.score_permille is not None
    )
    problem = store_problem(store, day)
    if scores:
        problem = problem.model_copy(update={"supplier_reliability_permille": scores})
    crew = CrewRoster(members=tuple(supply.crew), assignments=tuple(assignments(store, day)))
    eligibility = check_eligibility(problem, crew=crew)
    allocation = solve(problem, params, solver=solver, eligibility=eligibility)
    decisions = explain(problem, allocation, eligibility, params=params, reliability=records)
    return DayMatch(problem, allocation, decisions, eligibility)


def print_allocation(console: Console, match: DayMatch) -> None:
    """Served shares per category, unmet by reason and the solver's status."""
    allocation = match.allocation
    summary = allocation.summary()
    served = (
        pl.DataFrame(
            [(line.category_id, line.quantity_units) for line in allocation.lines],
            schema={"category_id": pl.String, "served": pl.Int64},
            orient="row",
        )
        .group_by("category_id")
        .agg(pl.col("served").sum())
    )
    wanted = (
        pl.DataFrame(
            [
                (d.category_id, d.quantity_units, d.priority_quantity_units)
                for d in allocation.demand
            ],
            schema={"category_id": pl.String, "demand": pl.Int64, "priority": pl.Int64},
            orient="row",
        )
        .group_by("category_id")
        .agg(pl.col("demand").sum(), pl.col("priority").sum())
    )
    table = Table(title=f"allocation on {match.problem.delivery_date:%Y-%m-%d} by category")
    for name in ("category", "demand", "served", "served %", "priority demand"):
        table.add_column(name, justify="left" if name == "category" else "right")
    rows = wanted.join(served, on="category_id", how="left").fill_null(0).sort("category_id")
    for row in rows.iter_rows(named=True):
        share = row["served"] / row["demand"] if row["demand"] else 1.0
        table.add_row(
            row["category_id"],
            f"{row['demand']:,}",
            f"{row['served']:,}",
            f"{share:.0%}",
            f"{row['priority']:,}",
        )
    console.print(table)
    console.print(summary.text(), highlight=False)
    console.print(
        f"solver {allocation.solver}, seed {allocation.seed}, "
        f"{allocation.solve_time_s:.1f} s; {len(match.decisions):,} published explanations"
    )
