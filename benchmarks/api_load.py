"""HTTP API under concurrent readers: the embedded demo day served by ``linli serve``.

For each backend a fresh database is made (SQLite: a file in a temporary folder;
PostgreSQL: a database ``linli_bench_<random>`` on 127.0.0.1:5432, dropped afterwards) and
loaded with the demo day exactly as ``linli demo`` loads it (``api.demo_run.run_demo``
without matching or routing) and a dispatcher of the first demo supplier is added. The real
server then runs as a subprocess (``python -m api.cli serve``; ``--server-workers`` uvicorn
processes, default one; access log on as shipped unless ``--no-access-log``); the dispatcher
matches and routes the day through the API (``POST
/match``, ``POST /plans``, ``--plan-seconds`` each) and a driver with a route in that plan
is added. For each client count, that many closed-loop clients (each its own
``httpx.AsyncClient`` and connection) repeat:

- ``GET /demand?delivery_date=2022-04-15`` as the dispatcher (their service area);
- ``GET /compounds/{id}`` as the dispatcher, cycling through the demo compounds;
- as the driver, ``GET /route-sheets/mine?delivery_date=2022-04-15`` (mix ``sheets``) or
  ``GET /jobs`` (mix ``jobs``, the driver's cheapest authenticated read); ``--driver-reads``
  picks the mixes, each measured separately on the same server.

Requests that start in the first ``--warmup`` seconds are not counted. Throughput is
counted requests over ``--seconds``; latencies are client-side (send to last byte read) over
answered 2xx requests; an error is a non-2xx answer or a transport failure. Server and client
CPU are read from /proc and ``time.process_time`` (client and server share the machine).
``--think-ms`` makes each client pause after every answer (uniform 50-150 % of it, seeded
per client), for a load of users rather than of back-to-back requests.

A run's requests still queued at its end are answered (or time out after 60 s) before the
next run, and the server is left to finish abandoned ones.

Run: ``.venv/bin/python benchmarks/api_load.py [--seconds 60] [--clients 50,200] [--think-ms 0]
[--backends sqlite,postgresql] [--driver-reads sheets,jobs]``; prints a table and writes
``benchmarks/results/api_load.csv``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import getpass
import io
import math
import multiprocessing
import multiprocessing.queues
import os
import random
import secrets
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from api import subprocess_server  # noqa: E402
from api.accounts import add_user  # noqa: E402
from api.demo_run import run_demo  # noqa: E402
from api.security import Role  # noqa: E402
from api.subprocess_server import Server, ServerStartError  # noqa: E402
from data import load  # noqa: E402
from data.demo import DEMO_DATE, DEMO_SEED, demo_files  # noqa: E402
from data.store import Store, database_url  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "api_load.csv"
PASSWORD = "bench-password-1"
START_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 60.0
SETTLE_TIMEOUT_S = 180.0
"""After a run, wait at most this long for the server to finish abandoned requests."""


@dataclass(frozen=True)
class Request:
    """One GET of a client's cycle: the endpoint's name, path, query and who asks."""

    name: str
    path: str
    params: dict[str, str] | None
    headers: dict[str, str]


@dataclass(frozen=True)
class Demo:
    """Who signs in and which compounds there are, from the demo files."""

    supplier_id: str
    driver_id: str
    compound_ids: tuple[str, ...]


def demo_day() -> Demo:
    """The first demo supplier, its first driver and every compound id."""
    files = demo_files()
    supply = load.load_supply(files.supply)
    supplier = supply.suppliers[0].supplier_id
    driver = next(d.driver_id for d in supply.drivers if d.supplier_id == supplier)
    compounds = tuple(c.compound_id for c in load.load_compounds(files.compounds))
    return Demo(supplier, driver, compounds)


def load_database(url: str, demo: Demo) -> None:
    """Import the demo day as ``linli demo`` does (no matching) and add the dispatcher."""
    quiet = Console(file=io.StringIO())
    run_demo(url, seed=DEMO_SEED, console=quiet, progress=Progress(console=quiet))
    add_account(url, "bench_dispatcher", Role.dispatcher, demo.supplier_id)


def add_account(url: str, username: str, role: Role, bound_to: str) -> None:
    """Create a user of the benchmark with ``PASSWORD``."""
    store = Store.open(url)
    try:
        add_user(store.engine, username, PASSWORD, role, bound_to=bound_to, by="benchmark")
    finally:
        store.close()


@contextmanager
def sqlite_database() -> Iterator[str]:
    """URL of a SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgres_database(admin_url: str | None) -> Iterator[str]:
    """URL of a fresh database ``linli_bench_<random>`` on the local server, dropped after."""
    candidates = (
        [make_url(database_url(admin_url))]
        if admin_url
        else [
            URL.create(
                "postgresql+psycopg", username=u, host="127.0.0.1", port=5432, database="test"
            )
            for u in dict.fromkeys(["postgres", getpass.getuser()])
        ]
    )
    for candidate in candidates:
        admin = create_engine(candidate, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text("SELECT 1"))
            break
        except OperationalError:
            admin.dispose()
    else:
        raise SystemExit(f"PostgreSQL is unreachable at {[str(c) for c in candidates]}")
    name = f"linli_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def serve(url: str, log: Path, options: Sequence[str] = ()) -> Iterator[Server]:
    """``linli serve`` on ``url``, stopped with SIGINT afterwards; a failed start ends the run."""
    env = {**os.environ, "LINLI_JWT_SECRET": secrets.token_hex(32)}
    try:
        with subprocess_server.serve(
            url,
            log,
            env=env,
            start_timeout_s=START_TIMEOUT_S,
            poll_s=0.2,
            graceful=True,
            options=options,
        ) as server:
            yield server
    except ServerStartError as error:
        raise SystemExit(str(error)) from None


def sign_in(base_url: str, username: str) -> dict[str, str]:
    """Bearer header of ``username``."""
    reply = httpx.post(
        f"{base_url}/auth/token", data={"username": username, "password": PASSWORD}, timeout=30
    )
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def plan_day(base_url: str, dispatcher: dict[str, str], seconds: float) -> str | None:
    """Match and route the day through the API as the dispatcher; a driver with a route.

    None when a job fails or no route has a driver (the caller measures ``/jobs`` instead).
    """
    day = DEMO_DATE.isoformat()
    with httpx.Client(base_url=base_url, headers=dispatcher, timeout=REQUEST_TIMEOUT_S) as http:

        def finish(path: str, body: dict[str, object]) -> str | None:
            job = http.post(path, json=body).raise_for_status().json()
            deadline = time.monotonic() + 20 * seconds + 120
            while job["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
                time.sleep(0.5)
                job = http.get(f"/jobs/{job['job_id']}").raise_for_status().json()
            if job["status"] != "succeeded":
                print(f"{path} job {job['job_id']}: {job['status']} {job.get('error') or ''}")
                return None
            found: str = job["job_id"]
            return found

        matched = finish("/match", {"delivery_date": day, "time_limit_s": seconds})
        if matched is None:
            return None
        body = {"delivery_date": day, "time_limit_s": seconds, "match_job_id": matched}
        planned = finish("/plans", body)
        if planned is None:
            return None
        routes = http.get(f"/plans/{planned}").raise_for_status().json()["routes"]
    drivers = [r["driver_id"] for r in routes if r.get("driver_id") and r["stops"]]
    return drivers[0] if drivers else None


def cycle_of(
    demo: Demo, dispatcher: dict[str, str], driver: dict[str, str], sheets: bool, step: int
) -> tuple[Request, ...]:
    """A client's requests: demand and a compound as the dispatcher, then the driver's read."""
    day = {"delivery_date": DEMO_DATE.isoformat()}
    compound = demo.compound_ids[step % len(demo.compound_ids)]
    last = (
        Request("/route-sheets/mine", "/route-sheets/mine", day, driver)
        if sheets
        else Request("/jobs", "/jobs", None, driver)
    )
    return (
        Request("/demand", "/demand", day, dispatcher),
        Request("/compounds/{id}", f"/compounds/{compound}", None, dispatcher),
        last,
    )


def prime(base_url: str, requests: Sequence[Request]) -> str:
    """Each request once before any load (the first /demand builds the demand cache)."""
    timings = []
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as http:
        for request in requests:
            sent = time.perf_counter()
            reply = http.get(request.path, params=request.params, headers=request.headers)
            reply.raise_for_status()
            timings.append(f"{request.name} {1000 * (time.perf_counter() - sent):.0f} ms")
    return ", ".join(timings)


def settle(server: Server) -> float:
    """Wait until the server is idle (abandoned requests still run); seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < SETTLE_TIMEOUT_S:
        before = server.cpu_s()
        time.sleep(1.0)
        if server.cpu_s() - before < 0.1:
            break
    return time.monotonic() - began


@dataclass
class Samples:
    """Latencies (seconds) of answered 2xx requests and the error count of one endpoint."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def load_run(
    base_url: str,
    cycle: Callable[[int], tuple[Request, ...]],
    *,
    clients: int,
    seconds: float,
    warmup: float,
    think: float = 0.0,
    numbers: Sequence[int] | None = None,
    start_at: float | None = None,
) -> dict[str, Samples]:
    """``clients`` closed-loop clients for ``warmup + seconds``; samples per endpoint.

    ``numbers`` picks the clients this process runs (all by default) and ``start_at`` a
    common ``time.perf_counter`` start (system-wide monotonic), so that several client
    processes run one load together.
    """
    numbers = range(clients) if numbers is None else numbers
    samples = {r.name: Samples() for r in cycle(0)}
    # one connection per client (a shared pool's bookkeeping grows with its size) and one
    # TLS context for all: httpx builds one per client otherwise, ~0.1 s each
    tls = ssl.create_default_context()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    async with AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout, verify=tls)
            )
            for _ in numbers
        ]
        start = max(time.perf_counter(), start_at or 0.0)
        await asyncio.sleep(start - time.perf_counter())
        counted_from = start + warmup
        stop = counted_from + seconds

        async def client(number: int, http: httpx.AsyncClient) -> None:
            pauses = random.Random(number)
            step = number
            while time.perf_counter() < stop:
                requests = cycle(step)
                step += clients
                turn = number % len(requests)  # clients start at different endpoints
                for request in requests[turn:] + requests[:turn]:
                    sent = time.perf_counter()
                    if sent >= stop:
                        return
                    try:
                        reply = await http.get(
                            request.path, params=request.params, headers=request.headers
                        )
                        status = str(reply.status_code)
                        ok = reply.is_success
                    except httpx.HTTPError as error:
                        status, ok = type(error).__name__, False
                    if sent >= counted_from:
                        found = samples[request.name]
                        found.statuses[status] = found.statuses.get(status, 0) + 1
                        if ok:
                            found.latencies.append(time.perf_counter() - sent)
                        else:
                            found.errors += 1
                    if think:  # jittered, so that clients do not arrive in lockstep
                        await asyncio.sleep(think * pauses.uniform(0.5, 1.5))

        await asyncio.gather(*(client(n, http) for n, http in zip(numbers, https, strict=True)))
    return samples


def merge(parts: Sequence[dict[str, Samples]]) -> dict[str, Samples]:
    """The samples of several client processes as one."""
    merged: dict[str, Samples] = {}
    for part in parts:
        for name, found in part.items():
            into = merged.setdefault(name, Samples())
            into.latencies.extend(found.latencies)
            into.errors += found.errors
            for status, count in found.statuses.items():
                into.statuses[status] = into.statuses.get(status, 0) + count
    return merged


def load_in_processes(
    base_url: str,
    cycle: Callable[[int], tuple[Request, ...]],
    *,
    processes: int,
    clients: int,
    seconds: float,
    warmup: float,
    think: float,
) -> tuple[dict[str, Samples], float]:
    """``load_run`` split over forked client processes (client ``n`` in process ``n %
    processes``), started together; the merged samples and the processes' CPU seconds."""
    context = multiprocessing.get_context("fork")  # the cycle closure is inherited, not pickled
    queue: multiprocessing.queues.Queue[tuple[float, dict[str, Samples]]] = context.Queue()
    start_at = time.perf_counter() + 2.0 + clients / 200  # time to open the clients

    def work(numbers: Sequence[int]) -> None:
        cpu = time.process_time()
        found = asyncio.run(
            load_run(
                base_url,
                cycle,
                clients=clients,
                seconds=seconds,
                warmup=warmup,
                think=think,
                numbers=numbers,
                start_at=start_at,
            )
        )
        queue.put((time.process_time() - cpu, found))

    workers = [
        context.Process(target=work, args=(range(i, clients, processes),), daemon=True)
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=warmup + seconds + REQUEST_TIMEOUT_S + 120) for _ in workers]
    for worker in workers:
        worker.join()
    return merge([found for _, found in results]), sum(cpu for cpu, _ in results)


def measure(
    server: Server,
    cycle: Callable[[int], tuple[Request, ...]],
    clients: int,
    args: argparse.Namespace,
    labels: dict[str, str],
) -> list[dict[str, str]]:
    """One run of ``clients`` clients; a CSV row per endpoint and one for all of them."""
    names = [r.name for r in cycle(0)]
    server_cpu, client_cpu = server.cpu_s(), time.process_time()
    wall = time.perf_counter()
    if args.client_processes > 1:
        samples, child_cpu = load_in_processes(
            server.base_url,
            cycle,
            processes=args.client_processes,
            clients=clients,
            seconds=args.seconds,
            warmup=args.warmup,
            think=args.think_ms / 1000,
        )
    else:
        child_cpu = 0.0
        samples = asyncio.run(
            load_run(
                server.base_url,
                cycle,
                clients=clients,
                seconds=args.seconds,
                warmup=args.warmup,
                think=args.think_ms / 1000,
            )
        )
    wall = time.perf_counter() - wall
    server_pct = 100 * (server.cpu_s() - server_cpu) / wall
    client_pct = 100 * (time.process_time() - client_cpu + child_cpu) / wall
    rows = []
    for name in (*names, "all"):
        picked = [samples[n] for n in (names if name == "all" else (name,))]
        latencies = [x for s in picked for x in s.latencies]
        errors = sum(s.errors for s in picked)
        statuses: dict[str, int] = {}
        for s in picked:
            for status, count in s.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        requests = len(latencies) + errors
        rows.append(
            {
                **labels,
                "clients": str(clients),
                "endpoint": name,
                "seconds": f"{args.seconds:g}",
                "think_ms": f"{args.think_ms:g}",
                "requests": str(requests),
                "rps": f"{requests / args.seconds:.1f}",
                "p50_ms": f"{1000 * percentile(latencies, 0.50):.1f}",
                "p99_ms": f"{1000 * percentile(latencies, 0.99):.1f}",
                "max_ms": f"{1000 * max(latencies, default=math.nan):.1f}",
                "errors": str(errors),
                "statuses": " ".join(f"{k}:{v}" for k, v in sorted(statuses.items())),
                "server_cpu_pct": f"{server_pct:.0f}",
                "client_cpu_pct": f"{client_pct:.0f}",
            }
        )
    return rows


def run_backend(
    backend: str, url: str, demo: Demo, args: argparse.Namespace, folder: Path
) -> list[dict[str, str]]:
    """Load the demo into ``url``, serve it and run every mix × client count; CSV rows."""
    began = time.perf_counter()
    load_database(url, demo)
    print(f"{backend}: demo day loaded in {time.perf_counter() - began:.1f} s", flush=True)
    rows: list[dict[str, str]] = []
    options = ["--workers", str(args.server_workers)]
    options += [] if args.access_log else ["--no-access-log"]
    with serve(url, folder / f"server-{backend}.log", options) as server:
        dispatcher = sign_in(server.base_url, "bench_dispatcher")
        driver_id = None
        if "sheets" in args.driver_reads:
            began = time.perf_counter()
            driver_id = plan_day(server.base_url, dispatcher, args.plan_seconds)
            took = time.perf_counter() - began
            print(f"{backend}: day matched and routed in {took:.1f} s, driver {driver_id}")
        add_account(url, "bench_driver", Role.driver, driver_id or demo.driver_id)
        driver = sign_in(server.base_url, "bench_driver")
        for mix in args.driver_reads:
            if mix == "sheets" and driver_id is None:
                print(f"{backend}: no route sheet to read (planning failed); mix skipped")
                continue

            def cycle(step: int, sheets: bool = mix == "sheets") -> tuple[Request, ...]:
                return cycle_of(demo, dispatcher, driver, sheets, step)

            print(f"{backend}, {mix}: first requests {prime(server.base_url, cycle(0))}")
            for clients in args.clients:
                labels = {
                    "backend": backend,
                    "client_processes": str(args.client_processes),
                    "driver_reads": mix,
                    "server_workers": str(args.server_workers),
                    "access_log": "on" if args.access_log else "off",
                }
                found = measure(server, cycle, clients, args, labels)
                rows.extend(found)
                total = found[-1]
                print(
                    f"{backend}, {mix}, {clients} clients: {total['rps']} req/s, "
                    f"p99 {total['p99_ms']} ms, {total['errors']} errors, "
                    f"server CPU {total['server_cpu_pct']} %",
                    flush=True,
                )
                waited = settle(server)
                if waited > 2:
                    print(f"{backend}: server busy {waited:.0f} s more with abandoned requests")
    return rows


def print_table(rows: Sequence[dict[str, str]], args: argparse.Namespace) -> None:
    """One rich table: backend × driver's read × clients × endpoint."""
    table = Table(
        title=f"linli API under load: demo day {DEMO_DATE}, {args.seconds:g} s per run "
        f"after {args.warmup:g} s warm-up, think time {args.think_ms:g} ms, "
        f"{args.server_workers} HTTP worker(s), {args.client_processes} client process(es), "
        f"access log {'on' if args.access_log else 'off'}",
        caption="driver reads: sheets = /route-sheets/mine, jobs = /jobs; latency client-side "
        "over 2xx answers; CPU: % of one core over the run (client and server share the machine)",
    )
    columns = ("backend", "driver reads", "clients", "endpoint", "requests", "req/s", "p50 ms")
    for column in (*columns, "p99 ms", "max ms", "errors", "server CPU", "client CPU"):
        left = column in ("backend", "driver reads", "endpoint")
        table.add_column(column, justify="left" if left else "right")
    for row in rows:
        style = "bold" if row["endpoint"] == "all" else ""
        table.add_row(
            row["backend"],
            row["driver_reads"],
            row["clients"],
            row["endpoint"],
            f"{int(row['requests']):,}",
            row["rps"],
            row["p50_ms"],
            row["p99_ms"],
            row["max_ms"],
            row["errors"],
            f"{row['server_cpu_pct']} %",
            f"{row['client_cpu_pct']} %",
            style=style,
            end_section=row["endpoint"] == "all",
        )
    Console(width=None if sys.stdout.isatty() else 140).print(table)


def main(argv: list[str] | None = None) -> None:
    """Run every backend × client count, print the table and write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds first")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of a client after each answer (uniform ±50 %%)",
    )
    parser.add_argument(
        "--clients",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[50, 200],
        help="concurrent clients per run, comma-separated",
    )
    parser.add_argument(
        "--backends",
        type=lambda s: s.split(","),
        default=["sqlite", "postgresql"],
        help="sqlite and/or postgresql, comma-separated",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("LINLI_TEST_POSTGRES_URL"),
        help="admin URL of the PostgreSQL server (default postgres@127.0.0.1:5432/test)",
    )
    parser.add_argument(
        "--plan-seconds", type=float, default=10.0, help="matcher and router limits, seconds"
    )
    parser.add_argument(
        "--driver-reads",
        type=lambda s: s.split(","),
        default=["sheets", "jobs"],
        help="the driver's request: sheets (/route-sheets/mine, plans the day first) and/or "
        "jobs (/jobs), comma-separated; each is a separate set of runs",
    )
    parser.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="HTTP worker processes (linli serve --workers)",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the server logs every request (as shipped) or not",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="processes the clients are spread over (one asyncio loop each), so that the "
        "load generator is not the bottleneck",
    )
    parser.add_argument("--csv", type=Path, default=RESULTS, help="where to write the rows")
    args = parser.parse_args(argv)
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}: use sqlite, postgresql")
    if set(args.driver_reads) - {"sheets", "jobs"}:
        parser.error("--driver-reads: use sheets and/or jobs")
    demo = demo_day()
    rows: list[dict[str, str]] = []
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="linli-bench-logs-") as logs:
        for backend in args.backends:
            database = (
                sqlite_database() if backend == "sqlite" else postgres_database(args.postgres)
            )
            with database as url:
                rows.extend(run_backend(backend, url, demo, args, Path(logs)))
    print_table(rows, args)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with args.csv.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.csv} (run started {started:%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
