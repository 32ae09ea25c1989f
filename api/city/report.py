"""What plan-city prints and writes: pieces solved or reused, served shares, routes, files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from api.city.execute import CityPlan


def print_city_plan(console: Console, city: CityPlan) -> None:
    """Pieces per stage (solved / reused, and which were re-solved), allocation, routes."""
    table = Table(title="pieces")
    for name in ("stage", "pieces", "solved", "reused", "solver s", "workers"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    stages = sorted({(r.kind, r.round) for r in city.runs})
    for kind, round_ in stages:
        runs = [r for r in city.runs if (r.kind, r.round) == (kind, round_)]
        solved = [r for r in runs if r.status == "solved"]
        table.add_row(
            f"{kind} round {round_}" if kind == "match" else kind,
            str(len(runs)),
            str(len(solved)),
            str(len(runs) - len(solved)),
            f"{sum(r.seconds for r in solved):.1f}",
            str(len({r.worker for r in solved})),
        )
    console.print(table)
    reused = [r for r in city.runs if r.status == "reused"]
    if reused:
        solved_scopes = [
            f"{r.kind}{'' if r.kind == 'route' else f' r{r.round}'} {r.scope}"
            for r in city.runs
            if r.status == "solved"
        ]
        console.print(
            f"re-solved {len(solved_scopes)} of {len(city.runs)} pieces "
            f"({len(reused)} unchanged, reused): {', '.join(solved_scopes) or 'none'}",
            highlight=False,
        )
    console.print(city.allocation.summary().text(), highlight=False)
    if city.second_round_kept:
        console.print(
            f"round 2 improved {len(city.second_round_kept)} district(s): "
            + ", ".join(city.second_round_kept),
            highlight=False,
        )
    plan = city.plan
    waiting: Counter[str] = Counter()
    for item in plan.unassigned:
        waiting[item.reason.value] += item.quantity_units
    console.print(
        f"routes: {len(plan.routes)} vehicles, {sum(r.trips for r in plan.routes)} trips, "
        f"{plan.distance_m / 1000:,.1f} km, {sum(r.load_units for r in plan.routes):,} units "
        f"routed; unassigned units: "
        f"{', '.join(f'{k} {v:,}' for k, v in sorted(waiting.items())) or 'none'}; "
        f"not routable: {len(city.infeasible)}",
        highlight=False,
    )
    console.print(
        f"time: match {city.timings['match']:.1f} s, route {city.timings['route']:.1f} s",
        highlight=False,
    )


def write_city_plan(city: CityPlan, folder: Path) -> list[Path]:
    """``allocation.json``, ``plan.json`` and ``pieces.json`` (how each piece was answered)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("allocation.json", city.allocation.model_dump_json(indent=1)),
        ("plan.json", city.plan.to_json()),
        (
            "pieces.json",
            json.dumps(
                [
                    {
                        "kind": r.kind,
                        "scope": r.scope,
                        "round": r.round,
                        "key": r.key,
                        "status": r.status,
                        "seconds": round(r.seconds, 3),
                        "worker": r.worker,
                    }
                    for r in city.runs
                ],
                ensure_ascii=False,
                indent=1,
            ),
        ),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
