"""Solomon benchmark plumbing: the parser agrees with vrplib's, linli's plan on two
instances at 1 s passes both checkers, and the independent checker catches violations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vrplib  # type: ignore[import-untyped]

import benchmarks.solomon
from benchmarks.solomon import dimacs_matrix, read_instance, run_task, verify

DATA = Path(__file__).resolve().parents[1] / "instances" / "solomon"
"""Three instances and their best-known rows, shipped so the test needs no shared folder."""


@pytest.fixture(autouse=True)
def _shipped_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(benchmarks.solomon, "DATA", DATA)


@pytest.mark.parametrize("name", ["c101", "rc208"])
def test_parse_agrees_with_vrplib(name: str) -> None:
    inst = read_instance(DATA / f"{name}.txt")
    theirs = vrplib.read_instance(DATA / f"{name}.txt", instance_format="solomon")
    assert (inst.vehicles, inst.capacity) == (theirs["vehicles"], theirs["capacity"])
    assert np.array_equal(np.column_stack([inst.x, inst.y]), theirs["node_coord"])
    assert np.array_equal(inst.demand, theirs["demand"])
    assert np.array_equal(np.column_stack([inst.ready, inst.due]), theirs["time_window"])
    assert np.array_equal(inst.service, theirs["service_time"])
    assert np.array_equal(dimacs_matrix(inst), np.floor(10 * theirs["edge_weight"]))


@pytest.mark.parametrize("name", ["c101", "r201"])
def test_linli_plan_is_feasible(name: str) -> None:
    row = run_task(DATA / f"{name}.txt", "linli", limit=1.0, seed=1)
    assert row.problems == ""  # check_plan and the benchmark's own check both pass
    assert row.feasible and row.served == 100
    assert row.bks_distance is not None and row.distance >= row.bks_distance


def test_verify_catches_violations() -> None:
    inst = read_instance(DATA / "c101.txt")
    matrix = dimacs_matrix(inst)
    everyone = list(range(1, 101))
    found, _ = verify(inst, matrix, [everyone])  # one truck: over capacity and late
    assert any("capacity" in p for p in found)
    assert any("due" in p for p in found)
    found, _ = verify(inst, matrix, [[c] for c in everyone[:-1]])
    assert any("100 routes" not in p and "not served" in p for p in found)
    assert any("routes, fleet is 25" in p for p in found)
