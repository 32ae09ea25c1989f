"""plan-city on a two-worker LocalCluster: a worker killed mid-run, the plan still complete."""

from __future__ import annotations

import functools
from pathlib import Path

from api.city.day import CityDay
from api.city.execute import PieceRunner, dask_client, plan_city
from tests.city.conftest import MATCH, ROUTE, Reference, routed, served
from tests.city.faults import kill_once

VICTIM = "浦东新区"
"""The largest district: its round-1 piece kills its worker on the first attempt."""


def test_killed_worker_piece_is_retried_and_plan_matches_single_process(
    city_day: CityDay, reference: Reference, tmp_path: Path
) -> None:
    marker = tmp_path / "killed.pid"
    fault = functools.partial(kill_once, str(marker), VICTIM)
    with dask_client(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        runner = PieceRunner(client=client, fault=fault, retries=2)
        city = plan_city(city_day, MATCH, ROUTE, runner)

    killed = marker.read_text(encoding="utf-8")
    victim = [r for r in city.runs if r.kind == "match" and r.scope == VICTIM and r.round == 1]
    assert len(victim) == 1
    assert victim[0].status == "solved"
    assert victim[0].worker.rsplit(":", 1)[1] != killed  # solved again by another process
    assert len({r.worker for r in city.runs}) >= 2  # pieces ran in worker processes

    ref = reference.city
    assert [(r.kind, r.scope, r.round) for r in city.runs] != []
    assert sorted((r.kind, r.scope, r.round, r.key) for r in city.runs) == sorted(
        (r.kind, r.scope, r.round, r.key) for r in ref.runs
    )
    assert served(city.allocation) == served(ref.allocation)
    assert city.allocation.lines == ref.allocation.lines
    assert routed(city.plan) == routed(ref.plan)
    assert city.plan.routes == ref.plan.routes
    assert city.plan.unassigned == ref.plan.unassigned
    assert sum(served(city.allocation).values()) == city.allocation.objectives.served_units
