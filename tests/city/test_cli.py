"""`linli plan-city` on the stored demo day: pieces kept in the store, a second run reuses them."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

from api.cli import app
from api.demo_run import run_demo
from data.store import Store


def invoke(*args: str) -> tuple[int, str]:
    """Run `linli args...`; the output with whitespace runs collapsed."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_plan_city_stores_pieces_and_reuses_them(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    run_demo(
        f"sqlite:///{db}",
        seed=20220415,
        console=Console(quiet=True),
        progress=Progress(disable=True),
    )
    args = [
        "plan-city",
        "--date",
        "2022-04-15",
        "--db",
        str(db),
        "--in-process",
        "--deterministic-time",
        "0.05",
        "--route-iterations",
        "50",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "out"),
    ]
    code, first = invoke(*args)
    assert code == 0, first
    assert "match, round 1 " in first and "1/1 done 0 running 0 failed 0 reused" in first
    pieces = json.loads((tmp_path / "out" / "pieces.json").read_text(encoding="utf-8"))
    assert {p["status"] for p in pieces} == {"solved"}
    assert {p["scope"] for p in pieces if p["kind"] == "match"} == {"浦东新区"}
    with Store.open(f"sqlite:///{db}") as store:
        assert store.counts()["city_piece"] == len(pieces)

    code, second = invoke(*args)
    assert code == 0, second
    assert f"re-solved 0 of {len(pieces)} pieces ({len(pieces)} unchanged, reused)" in second
    assert (tmp_path / "out" / "plan.json").exists()
