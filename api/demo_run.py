"""The embedded demo day: load the Shanghai demo files, store them, add orders, aggregate, report.

Every stage runs for real on the embedded data: pickup points are planned for every routed
compound and named in the notices, and the documents are printed as PDF and HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.matching import DayMatch, match_day, print_allocation
from api.planning import plan_day, print_plan, write_plan
from api.render.pdf import Printed, write_printables
from data import load
from data.aggregate import aggregate_demand, compound_demand
from data.demo import DEMO_DATE, FOCUS_COMPOUND_ID, demo_files
from data.generate import generate_orders
from data.jielong import parse_jielong
from data.schemas import (
    BUILDING_SCHEMA,
    COMPOUND_SCHEMA,
    LOCKDOWN_LEVEL_ZH,
    SHANGHAI,
    Compound,
    LockdownStatus,
    models_frame,
)
from data.store import Store
from data.validate import Reference
from matcher.groups import GroupState, close_groups, open_groups
from matcher.ledger import Ledger, ledger_of
from matcher.model import Params
from routing.model import Params as RouteParams
from routing.sheets import Documents


@dataclass(frozen=True)
class DemoSummary:
    """What the demo day produced, for the printed report and for tests."""

    compounds: int
    households: int
    buildings: int
    orders_csv: int
    orders_jielong: int
    orders_synthetic: int
    order_lines: int
    demand: pl.DataFrame
    """Demand per category with offered capacity, for the delivery date."""
    focus: pl.DataFrame
    """Demand of the focus compound per building × category."""


PrintScope = Literal["focus", "all", "none"]
"""Which sorting lists and notices the demo prints: the focus compound's, all, or none."""

GROUP_OPENED = dt.time(12, 0)
"""When the focus compound's groups open, the day before delivery (Shanghai time)."""
GROUP_HOURS = 8
"""How long the groups stay open for residents to sign up."""


def focus_ledgers(match: DayMatch, compound_name: str) -> tuple[Ledger, ...]:
    """The focus compound's groups as its day ran: opened from the allocation the day before,
    the residents' orders committed, closed at the deadline, matched; their public ledgers."""
    opened = dt.datetime.combine(DEMO_DATE - dt.timedelta(days=1), GROUP_OPENED, SHANGHAI)
    deadline = opened + dt.timedelta(hours=GROUP_HOURS)
    lines = tuple(line for line in match.allocation.lines if line.compound_id == FOCUS_COMPOUND_ID)
    focus = match.allocation.model_copy(update={"lines": lines})
    groups = open_groups(match.problem, focus, opened_at=opened, deadline=deadline)
    signed = opened + dt.timedelta(hours=GROUP_HOURS // 2)
    closed = close_groups([g.commit(g.allocated_units, signed) for g in groups], deadline)
    offers = {offer.offer_id: offer for offer in match.problem.offers}
    suppliers = {supplier.supplier_id: supplier.name for supplier in match.problem.suppliers}
    ledgers = []
    for group in closed:
        if group.state is GroupState.formed:
            group = group.advance(
                GroupState.matched,
                deadline,
                note_zh="已成团，按匹配结果交由该供应商配送。",
                note_en="formed; handed to the matched supplier for delivery.",
            )
        ledgers.append(
            ledger_of(
                group,
                offers[group.offer_id],
                compound_name=compound_name,
                supplier_name=suppliers[group.supplier_id],
            )
        )
    return tuple(ledgers)


def print_documents(
    console: Console,
    documents: Documents,
    ledgers: tuple[Ledger, ...],
    folder: Path,
    scope: PrintScope,
) -> Printed | None:
    """Write the day's documents as PDF and HTML under ``folder``, with a progress bar."""
    if scope == "none":
        return None
    compounds = None if scope == "all" else {FOCUS_COMPOUND_ID}
    chosen = {FOCUS_COMPOUND_ID} if compounds else {s.compound_id for s in documents.sorting_lists}
    total = (
        len(documents.route_sheets)
        + len(ledgers)
        + sum(2 for s in documents.sorting_lists if s.compound_id in chosen)
        + sum(1 for n in documents.pickup_notices if n.compound_id in chosen)
    )
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("printing documents (PDF + HTML)", total=total)
        printed = write_printables(
            documents,
            folder,
            ledgers=ledgers,
            compounds=compounds,
            progress=lambda done: bar.update(task, completed=done),
        )
    which = "every compound's" if scope == "all" else f"the focus compound {FOCUS_COMPOUND_ID}'s"
    console.print(
        f"printed {len(printed.pdf)} PDF, {len(printed.html)} HTML and {len(printed.png)} PNG "
        f"files under {folder} (plan map and overview included): "
        f"all {len(documents.route_sheets)} route sheets, {len(ledgers)} group ledgers, and "
        f"{which} sorting lists and pickup notices (--print all for every compound)"
    )
    return printed


def run_demo(
    url: str,
    *,
    seed: int,
    console: Console,
    progress: Progress,
    match_params: Params | None = None,
    route_params: RouteParams | None = None,
    out_dir: Path | None = None,
    print_scope: PrintScope = "focus",
) -> DemoSummary:
    """Run the demo day into the database at ``url`` and print its summary.

    With ``match_params`` the day's demand is also matched to the offers and the
    allocation summary printed; with ``route_params`` too, the deliveries are routed, and
    with ``out_dir`` the plan and its documents (route sheets, sorting lists, pickup
    notices) are written there as JSON, and printed as PDF and HTML for ``print_scope``
    together with the focus compound's group ledgers.
    """
    files = demo_files()
    with progress:
        task = progress.add_task("loading", total=8)
        progress.update(task, description="load compounds, buildings, gates, lockdown")
        compounds = load.load_compounds(files.compounds)
        buildings = load.load_buildings(files.buildings)
        gates = load.load_gates(files.gates)
        lockdown = load.load_lockdown(files.lockdown)
        progress.advance(task)

        progress.update(task, description="load categories and suppliers")
        categories = load.load_categories(files.categories)
        supply = load.load_supply(files.supply)
        progress.advance(task)

        progress.update(task, description="create the store (Alembic migrations)")
        store = Store.open(url)
        store.migrate()
        progress.advance(task)

        progress.update(task, description="import reference data")
        store.import_compounds(compounds, buildings, gates, lockdown, source="demo")
        store.import_categories(categories, source="demo")
        store.import_supply(supply, source="demo")
        progress.advance(task)

        progress.update(task, description="import the focus compound's orders (CSV, 接龙)")
        reference = Reference.from_models(
            compounds=compounds, buildings=buildings, categories=categories
        )
        csv_orders = load.load_orders(files.orders, reference=reference)
        store.import_orders(csv_orders, source=str(files.orders.name))
        focus_buildings = [b for b in buildings if b.compound_id == FOCUS_COMPOUND_ID]
        jielong_orders = parse_jielong(
            files.jielong.read_text("utf-8"),
            compound_id=FOCUS_COMPOUND_ID,
            delivery_date=DEMO_DATE,
            categories=categories,
            buildings=focus_buildings,
            source=files.jielong.name,
        )
        store.import_orders(jielong_orders, source=files.jielong.name)
        progress.advance(task)

        progress.update(task, description="synthesise orders for the other compounds")
        others = [c for c in compounds if c.compound_id != FOCUS_COMPOUND_ID]
        other_ids = {c.compound_id for c in others}
        synthetic = generate_orders(
            models_frame(others, COMPOUND_SCHEMA),
            models_frame([b for b in buildings if b.compound_id in other_ids], BUILDING_SCHEMA),
            delivery_date=DEMO_DATE,
            seed=seed,
        )
        synthetic_orders = load.orders_from_rows(
            synthetic.iter_rows(named=True), source="synthetic orders", reference=reference
        )
        progress.advance(task)

        progress.update(task, description=f"store {len(synthetic_orders):,} synthetic orders")
        store.import_orders(synthetic_orders, source="synthetic orders")
        progress.advance(task)

        progress.update(task, description="aggregate demand")
        lines = store.order_lines(DEMO_DATE).collect()
        demand = aggregate_demand(lines.lazy()).collect()
        progress.advance(task)
        progress.update(task, description="done")

    per_category = _category_table(demand, categories_order=[c.category_id for c in categories])
    offered = (
        pl.DataFrame(
            [
                (o.category_id, o.capacity_units)
                for o in supply.offers
                if o.delivery_date == DEMO_DATE
            ],
            schema={"category_id": pl.String, "offered_units": pl.Int64},
            orient="row",
        )
        .group_by("category_id")
        .agg(pl.col("offered_units").sum())
    )
    per_category = per_category.join(offered, on="category_id", how="left").with_columns(
        pl.col("offered_units").fill_null(0)
    )
    focus = demand.filter(pl.col("compound_id") == FOCUS_COMPOUND_ID)
    summary = DemoSummary(
        compounds=len(compounds),
        households=sum(c.households for c in compounds),
        buildings=len(buildings),
        orders_csv=len(csv_orders),
        orders_jielong=len(jielong_orders),
        orders_synthetic=len(synthetic_orders),
        order_lines=lines.height,
        demand=per_category,
        focus=focus,
    )
    _print_summary(console, summary, compounds=compounds, lockdown=lockdown, supply=supply)
    if match_params is not None:
        with console.status(
            f"matching demand to offers (CP-SAT, limit {match_params.time_limit_s:.0f} s)"
        ):
            match = match_day(store, DEMO_DATE, match_params)
        print_allocation(console, match)
        focus_decisions = [d for d in match.decisions if d.compound_id == FOCUS_COMPOUND_ID]
        if focus_decisions:
            console.print("[bold]published explanation, focus compound, first category:[/]")
            console.print(focus_decisions[0].text("zh"), highlight=False)
        if route_params is not None:
            with console.status(
                f"routing the deliveries (PyVRP, limit {route_params.time_limit_s:.0f} s)"
            ):
                day_plan = plan_day(store, DEMO_DATE, match.allocation, route_params)
            print_plan(console, day_plan)
            if out_dir is not None:
                console.print(f"plan written to {write_plan(day_plan, out_dir)}")
                if day_plan.documents is not None:
                    console.print(
                        f"documents written to {out_dir / 'index.json'}: "
                        f"{day_plan.documents.summary()}"
                    )
                    focus_name = next(
                        (
                            c.name
                            for c in match.problem.compounds
                            if c.compound_id == FOCUS_COMPOUND_ID
                        ),
                        FOCUS_COMPOUND_ID,
                    )
                    print_documents(
                        console,
                        day_plan.documents,
                        focus_ledgers(match, focus_name),
                        out_dir,
                        print_scope,
                    )
    return summary


def _category_table(demand: pl.DataFrame, *, categories_order: list[str]) -> pl.DataFrame:
    order = pl.DataFrame({"category_id": categories_order, "rank": range(len(categories_order))})
    return (
        compound_demand(demand.lazy())
        .group_by("category_id")
        .agg(
            pl.col("quantity_units").sum(),
            pl.col("households").sum(),
            pl.col("priority_quantity_units").sum(),
            pl.col("priority_households").sum(),
            pl.col("compound_id").n_unique().alias("compounds"),
        )
        .collect()
        .join(order, on="category_id", how="left")
        .sort("rank", nulls_last=True)
        .drop("rank")
    )


def _print_summary(
    console: Console,
    summary: DemoSummary,
    *,
    compounds: Sequence[Compound],
    lockdown: Sequence[LockdownStatus],
    supply: load.SupplyBundle,
) -> None:
    statuses = [s for s in lockdown if s.covers(DEMO_DATE)]
    streets = sorted({c.street for c in compounds if c.street})
    districts = sorted({c.district for c in compounds})
    console.rule(f"[bold]linli demo day {DEMO_DATE:%Y-%m-%d}[/]")
    console.print(
        f"area: {'、'.join(districts)} — {len(streets)} streets ({'、'.join(streets[:6])}"
        f"{'…' if len(streets) > 6 else ''})\n"
        f"compounds: {summary.compounds:,}  households: {summary.households:,}  "
        f"buildings: {summary.buildings:,}"
    )
    levels: dict[str, int] = {}
    for status in statuses:
        name = f"{LOCKDOWN_LEVEL_ZH[status.level]} {status.level.value}"
        levels[name] = levels.get(name, 0) + 1
    console.print("lockdown: " + ", ".join(f"{k}: {v}" for k, v in sorted(levels.items())))
    refrigerated = sum(v.refrigerated for v in supply.vehicles)
    console.print(
        f"suppliers: {len(supply.suppliers)}  depots: {len(supply.depots)}  "
        f"vehicles: {len(supply.vehicles)} ({refrigerated} refrigerated)  "
        f"drivers: {len(supply.drivers)}  certificates: {len(supply.certificates)}  "
        f"offers: {len(supply.offers)}"
    )
    console.print(
        f"household orders: {summary.orders_csv:,} from the focus compound's CSV, "
        f"{summary.orders_jielong:,} from a pasted 接龙 list, "
        f"{summary.orders_synthetic:,} synthetic for the other compounds; "
        f"{summary.order_lines:,} order lines"
    )

    table = Table(
        title=f"demand on {DEMO_DATE:%Y-%m-%d} by category (all compounds)",
        caption="hh: households ordering; prio: households with priority flags; "
        "cmpd: compounds; cover: offered / demand",
    )
    for name in ("category", "units", "hh", "prio units", "prio hh", "cmpd", "offered", "cover"):
        table.add_column(name, justify="left" if name == "category" else "right")
    for row in summary.demand.iter_rows(named=True):
        units = row["quantity_units"]
        ratio = row["offered_units"] / units if units else 0.0
        style = "red" if ratio < 1 else ""
        table.add_row(
            row["category_id"],
            f"{units:,}",
            f"{row['households']:,}",
            f"{row['priority_quantity_units']:,}",
            f"{row['priority_households']:,}",
            f"{row['compounds']:,}",
            f"{row['offered_units']:,}",
            f"[{style}]{ratio:.0%}[/]" if style else f"{ratio:.0%}",
        )
    console.print(table)

    focus = (
        summary.focus.group_by("building_id")
        .agg(
            pl.col("quantity_units").sum().alias("units"),
            pl.col("households").max().alias("households (max per category)"),
            pl.col("priority_quantity_units").sum().alias("priority units"),
        )
        .sort("building_id")
    )
    console.print(
        f"focus compound {FOCUS_COMPOUND_ID}: {focus.height} buildings with orders, "
        f"{focus['units'].sum():,} units"
    )
