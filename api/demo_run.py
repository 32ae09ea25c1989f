"""The embedded demo day: load the Shanghai demo files, store them, add orders, aggregate, report.

Every stage runs for real on the embedded data: pickup points are planned for every routed
compound and named in the notices, and the documents are printed as PDF and HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.demo_groups import GroupScene, run_group_scene
from api.matching import match_day, print_allocation
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
    Compound,
    LockdownStatus,
    models_frame,
)
from data.store import Store
from data.validate import Reference
from matcher.groups import Group
from matcher.ledger import Ledger
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


def print_group_scene(console: Console, scene: GroupScene) -> None:
    """One short section per step of the group-buy scene (``api.demo_groups``)."""
    console.rule("[bold]group-buy day 团购: groups, pooling, re-match, claims, daily report[/]")
    pooled, offer_pool = scene.pooled, scene.pools
    members = ", ".join(
        f"{c}{' (lead)' if i == 0 else ''} {scene.pool_lines[c]} lines"
        for i, c in enumerate(pooled.served)
    )
    console.print(
        f"[bold]pooled group 拼团[/] {pooled.group_id} ({pooled.supplier_id}, "
        f"{pooled.category_id}): {len(offer_pool.pools)} pools proposed serve "
        f"{offer_pool.served_units:,} units below every minimum order; this one spans "
        f"{members} (synthetic residents, rooms on the roster), one leader per compound",
        highlight=False,
    )
    console.print(
        f"  {pooled.deadline:%m-%d %H:%M} formed, now {pooled.state}: {_note(pooled, 'formed')}",
        highlight=False,
    )
    failed, notice, successor = scene.failed, scene.notice, scene.successor
    console.print(
        f"[bold]failed group, re-matched 改派[/] {failed.group_id}: {_note(failed, 'failed')}",
        highlight=False,
    )
    console.print(f"  leader's notice: {notice.zh}\n  {notice.en}", highlight=False)
    if successor is not None:
        console.print(
            f"  successor {successor.group_id} ({successor.supplier_id}): {successor.state}, "
            f"{successor.committed_units} units moved with their sign-up lines",
            highlight=False,
        )
    claim, check, balance = scene.claim, scene.check, scene.claim_balance
    console.print(
        f"[bold]receipt check and claim 验货与售后[/] {scene.claim_group.group_id} at the gate "
        f"{check['at']:%m-%d %H:%M}: expected {check['expected_units']} "
        f"({check['expected_from']}), received {check['received_units']} of which "
        f"{claim.units} {claim.kind}",
        highlight=False,
    )
    refund = claim.resolution.amount_cents if claim.resolution else 0
    console.print(
        f"  claim {claim.claim_id}: {' → '.join(step.to_state for step in claim.history)}; "
        f"refund ¥{refund / 100:,.2f} recorded by {claim.supplier_id}\n"
        f"  ledger: paid ¥{balance.paid_cents / 100:,.2f} − refunded "
        f"¥{balance.refunded_cents / 100:,.2f} = expected ¥{balance.expected_cents / 100:,.2f}"
        f" ({'balanced' if balance.balanced else 'off'}); group {scene.claim_group.state}",
        highlight=False,
    )
    focus, *others = scene.reports
    console.print("[bold]daily report 日报[/] of the focus compound, then of the others:")
    console.print(f"{focus.text_zh}\n{focus.text_en}", highlight=False)
    for report in others:
        console.print(report.text_zh, highlight=False)
    if scene.report_html is not None:
        console.print(f"daily reports written to {scene.report_html}")


def _note(group: Group, state: str) -> str:
    """The note of the group's transition into ``state`` (Chinese), empty if none."""
    return next((t.note_zh for t in group.history if t.to_state == state), "")


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
                # the focus compound's lines become its leader's formed groups (the group
                # scene below): committed goods, routed before ordinary deliveries
                focus_lines = {
                    (line.offer_id, line.compound_id)
                    for line in match.allocation.lines
                    if line.compound_id == FOCUS_COMPOUND_ID
                }
                day_plan = plan_day(
                    store, DEMO_DATE, match.allocation, route_params, committed=focus_lines
                )
            print_plan(console, day_plan)
            if out_dir is not None:
                console.print(f"plan written to {write_plan(day_plan, out_dir)}")
                if day_plan.documents is not None:
                    console.print(
                        f"documents written to {out_dir / 'index.json'}: "
                        f"{day_plan.documents.summary()}"
                    )
            scene = run_group_scene(
                store,
                match,
                day_plan,
                rules=match_params,
                seed=seed,
                out_dir=None if out_dir is None or print_scope == "none" else out_dir,
            )
            print_group_scene(console, scene)
            if out_dir is not None and day_plan.documents is not None:
                print_documents(console, day_plan.documents, scene.ledgers, out_dir, print_scope)
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
