"""The routing stage on stored data: deliveries from the allocation, routes, plan and documents
as JSON (route sheets, sorting lists, pickup notices)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from api.crews import assignments, crews_on_board
from api.places import pinned_points, sealed_compounds
from data.store import Store
from matcher.result import Allocation
from routing.check import check_plan
from routing.deliveries import build_routing_problem
from routing.matrix import HaversineMatrix
from routing.model import Params, RoutingProblem
from routing.pickup_day import pickup_lookup, plan_day_pickups
from routing.pickup_points import PickupInfeasible, PickupPlan
from routing.result import Plan
from routing.sheets import Documents, build_documents, write_documents
from routing.solve import solve
from routing.windows import Infeasible


@dataclass(frozen=True)
class DayPlan:
    """The day's routing problem, what could not enter it, the plan, its check, its documents."""

    problem: RoutingProblem
    infeasible: tuple[Infeasible, ...]
    plan: Plan
    violations: tuple[str, ...]
    documents: Documents | None = None
    pickups: dict[str, PickupPlan | PickupInfeasible] = field(default_factory=dict)


def plan_day(
    store: Store,
    day: dt.date,
    allocation: Allocation,
    params: Params,
    *,
    documents: bool = True,
    committed: Collection[tuple[str, str]] = (),
) -> DayPlan:
    """Route the allocation's deliveries with the stored fleet; check the plan independently.

    With ``documents`` the route sheets, sorting lists and pickup notices are built too,
    reading the household orders of the routed compounds only. ``committed``: (offer,
    compound) pairs carrying formed groups' goods, routed before ordinary deliveries.
    """
    supply = store.supply()
    compounds, gates, categories = store.compounds(), store.gates(), store.categories()
    problem, infeasible = build_routing_problem(
        day,
        allocation,
        compounds=compounds,
        gates=gates,
        categories=categories,
        depots=supply.depots,
        vehicles=supply.vehicles,
        drivers=supply.drivers,
        certificates=supply.certificates,
        committed=committed,
    )
    plan = solve(problem, params)
    crews = crews_on_board(supply, plan, assignments(store, day))
    violations = tuple(check_plan(problem, plan, params, crews=crews))
    if not documents:
        return DayPlan(problem, infeasible, plan, violations)
    routed = sorted({stop.compound_id for route in plan.routes for stop in route.stops})
    pickups = pickups_for(store, day, plan, set(routed))
    docs = build_documents(
        problem,
        plan,
        compounds=compounds,
        buildings=store.buildings(),
        gates=gates,
        categories=categories,
        vehicles=supply.vehicles,
        drivers=supply.drivers,
        orders=[order for compound_id in routed for order in store.orders(compound_id, day)],
        depots=supply.depots,
        pickup_points=pickup_lookup(pickups),
        matrix=HaversineMatrix(circuity=params.circuity, speed_kmh=params.speed_kmh),
        pinned=pinned_points(store, day, routed),
        sealed=sealed_compounds(store, day, routed),
    )
    return DayPlan(problem, infeasible, plan, violations, docs, pickups)


def pickups_for(
    store: Store, day: dt.date, plan: Plan, wanted: set[str]
) -> dict[str, PickupPlan | PickupInfeasible]:
    """Pickup points of the ``wanted`` compounds: their lockdown level on ``day``, and the
    gate their first routed stop uses as the drop of a sealed compound."""
    levels = {
        s.compound_id: s.level
        for s in sorted(store.lockdown(), key=lambda s: s.valid_from)
        if s.compound_id in wanted and s.covers(day)
    }
    first_gate: dict[str, str] = {}
    for route in plan.routes:
        for stop in route.stops:
            first_gate.setdefault(stop.compound_id, stop.gate_id)
    return plan_day_pickups(
        [c for c in store.compounds() if c.compound_id in wanted],
        [b for b in store.buildings() if b.compound_id in wanted],
        [g for g in store.gates() if g.compound_id in wanted],
        levels=levels,
        delivery_gates=first_gate,
    )


def write_plan(day_plan: DayPlan, folder: Path) -> Path:
    """Write the plan as JSON into ``folder``, and its documents if built; returns plan.json.

    Documents go to route_sheets/, sorting_lists/, sorting_lists_leader/ (household data:
    leaders only), notices/ and index.json (``routing.sheets.write_documents``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "plan.json"
    path.write_text(day_plan.plan.to_json(), encoding="utf-8")
    if day_plan.documents is not None:
        write_documents(day_plan.documents, folder)
    if day_plan.pickups:
        pickups = {key: value.model_dump(mode="json") for key, value in day_plan.pickups.items()}
        text = json.dumps(pickups, ensure_ascii=False, indent=1)
        (folder / "pickup_points.json").write_text(text, encoding="utf-8")
    return path


def print_plan(console: Console, day_plan: DayPlan) -> None:
    """Per vehicle: trips, stops, distance, duration, load; then unassigned by reason."""
    plan = day_plan.plan
    table = Table(title=f"routes ({len(plan.routes)} vehicles used)")
    for name in ("vehicle", "supplier", "trips", "stops", "km", "hours", "units", "kg"):
        table.add_column(name, justify="left" if name in ("vehicle", "supplier") else "right")
    for route in plan.routes:
        hours = (route.end - route.start).total_seconds() / 3600
        table.add_row(
            route.vehicle_id,
            route.supplier_id,
            str(route.trips),
            str(len(route.stops)),
            f"{route.distance_m / 1000:.1f}",
            f"{hours:.1f}",
            f"{route.load_units:,}",
            f"{route.load_kg:,}",
        )
    console.print(table)
    routed = sum(r.load_units for r in plan.routes)
    waiting = Counter[str]()
    for item in plan.unassigned:
        waiting[item.reason.value] += item.quantity_units
    console.print(
        f"routed {routed:,} units, {plan.distance_m / 1000:,.1f} km; unassigned units by "
        f"reason: {', '.join(f'{k} {v:,}' for k, v in sorted(waiting.items())) or 'none'}"
    )
    for blocked in day_plan.infeasible:
        console.print(f"not routable: {blocked.subject}: {blocked.reason.value}: {blocked.detail}")
    if day_plan.pickups:
        found = Counter(
            p.status.value if isinstance(p, PickupPlan) else f"no plan: {p.reason}"
            for p in day_plan.pickups.values()
        )
        console.print(
            f"pickup points for {len(day_plan.pickups)} compounds: "
            + ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
        )
    if day_plan.violations:
        console.print(f"[red]checker found {len(day_plan.violations)} violations[/]")
    else:
        console.print("independent checker: every route feasible")
