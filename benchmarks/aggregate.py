"""Benchmark demand aggregation on synthetic order lines: time and peak memory per size.

Usage: ``.venv/bin/python benchmarks/aggregate.py --sizes 1e6 1e7 5e7``. For each size the
order lines are written as parquet chunks into a temporary folder (not timed); then a fresh
subprocess times ``collect_demand(pl.scan_parquet(...), partitions=P)`` (streaming; the
default ``--partitions 4`` runs one pass per quarter of the compounds, ``--partitions 1`` is
exactly ``aggregate_demand(pl.scan_parquet(...)).collect(engine="streaming")``) and reports its
own peak resident memory (VmHWM), so sizes never share a heap.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "aggregate.csv"


@dataclass(frozen=True)
class Measurement:
    """One size: what was aggregated, how long it took and how much memory it needed."""

    lines: int
    partitions: int
    chunks: int
    generate_s: float
    seconds: float
    lines_per_s: float
    peak_mb: float
    demand_rows: int
    polars: str
    cpus: int


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (VmHWM, else ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def child(directory: Path, partitions: int) -> None:
    """Run in the subprocess: aggregate the parquet chunks in ``directory``, print JSON."""
    from data.aggregate import aggregate_demand, collect_demand

    paths = sorted(directory.glob("*.parquet"))
    start = time.perf_counter()
    if partitions == 1:
        demand = aggregate_demand(pl.scan_parquet(paths)).collect(engine="streaming")
    else:
        demand = collect_demand(pl.scan_parquet(paths), partitions=partitions)
    seconds = time.perf_counter() - start
    report = {"seconds": seconds, "demand_rows": demand.height, "peak_mb": _peak_rss_mb()}
    print(json.dumps(report))


def measure(
    lines: int, *, seed: int, chunk_lines: int, partitions: int, workdir: Path | None
) -> Measurement:
    """Generate ``lines`` order lines, then aggregate them in a fresh subprocess."""
    from data.generate import write_order_lines_parquet

    with tempfile.TemporaryDirectory(prefix="linli-agg-", dir=workdir) as tmp:
        start = time.perf_counter()
        paths = write_order_lines_parquet(lines, Path(tmp), seed=seed, chunk_lines=chunk_lines)
        generate_s = time.perf_counter() - start
        result = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                tmp,
                "--partitions",
                str(partitions),
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = float(report["seconds"])
    return Measurement(
        lines=lines,
        partitions=partitions,
        chunks=len(paths),
        generate_s=round(generate_s, 2),
        seconds=round(seconds, 2),
        lines_per_s=round(lines / seconds) if seconds > 0 else 0,
        peak_mb=round(float(report["peak_mb"]), 1),
        demand_rows=int(report["demand_rows"]),
        polars=pl.__version__,
        cpus=os.cpu_count() or 1,
    )


def print_table(rows: Sequence[Measurement], partitions: int) -> None:
    """The results as a rich table (plain text when rich is missing)."""
    header = ("lines", "seconds", "lines/s", "peak MB", "demand rows")
    cells = [
        (
            f"{m.lines:,}",
            f"{m.seconds:.2f}",
            f"{m.lines_per_s:,.0f}",
            f"{m.peak_mb:,.0f}",
            f"{m.demand_rows:,}",
        )
        for m in rows
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        for row in cells:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        return
    title = (
        f"demand aggregation, streaming engine, {partitions} partition(s) ({platform.machine()})"
    )
    table = Table(title=title)
    for name in header:
        table.add_column(name, justify="right")
    for row in cells:
        table.add_row(*row)
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7, 5e7])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-lines", type=int, default=5_000_000)
    parser.add_argument(
        "--partitions",
        type=int,
        default=4,
        help="compound partitions of collect_demand; 1 = plain aggregate_demand().collect()",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="CSV of the results")
    parser.add_argument("--workdir", type=Path, default=None, help="where the chunks go")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.partitions)
        return
    rows: list[Measurement] = []
    for size in args.sizes:
        lines = int(size)
        print(f"{lines:,} lines ...", file=sys.stderr, flush=True)
        rows.append(
            measure(
                lines,
                seed=args.seed,
                chunk_lines=args.chunk_lines,
                partitions=args.partitions,
                workdir=args.workdir,
            )
        )
    print_table(rows, args.partitions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame([asdict(m) for m in rows]).write_csv(args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
