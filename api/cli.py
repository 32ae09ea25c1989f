"""The `linli` command line: run the embedded demo day, import files, query demand, migrate."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from data.aggregate import aggregate_demand, compound_demand
from data.errors import DataError
from data.schemas import Datum
from data.store import Store
from matcher.candidates import CITY_CANDIDATES
from matcher.model import Params
from routing.model import Params as RouteParams

if TYPE_CHECKING:
    from api.demo_run import PrintScope

app = typer.Typer(
    name="linli",
    help="linli (邻里): feed a city's compounds when shops are closed.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

EXIT_DATA_ERROR = DataError.exit_code

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="database URL or SQLite file; default $DATABASE_URL or .linli/linli.db",
        show_default=False,
    ),
]


def _database_url(db: str | None) -> str | None:
    if db is None or "://" in db:
        return db
    path = Path(db).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _open_store(db: str | None) -> Store:
    store = Store.open(_database_url(db))
    store.migrate()
    return store


@contextmanager
def _reported_errors() -> Iterator[None]:
    """Print a DataError with every issue and exit with its code; nothing is imported."""
    try:
        yield
    except DataError as error:
        err_console.print("error:", style="bold red", end=" ")
        err_console.print(str(error), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_DATA_ERROR) from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


class ImportKind(enum.StrEnum):
    """What an imported file holds."""

    compounds = "compounds"
    buildings = "buildings"
    gates = "gates"
    lockdown = "lockdown"
    categories = "categories"
    supply = "supply"
    orders = "orders"
    jielong = "jielong"


@app.command("import")
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="what the file holds")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    db: DbOption = None,
    datum: Annotated[
        Datum, typer.Option(help="datum of the file's coordinates (Amap: gcj02, Baidu: bd09)")
    ] = Datum.wgs84,
    compound: Annotated[
        str | None, typer.Option(help="compound_id of a 接龙 paste (jielong only)")
    ] = None,
    date: Annotated[
        str | None, typer.Option(help="delivery date YYYY-MM-DD of a 接龙 paste (jielong only)")
    ] = None,
) -> None:
    """Validate a file and import it whole, or reject it whole with every problem listed."""
    from data import load
    from data.jielong import parse_jielong

    store = _open_store(db)
    source = str(path)
    with _reported_errors():
        if kind is ImportKind.compounds:
            store.import_compounds(load.load_compounds(path, datum=datum), source=source)
        elif kind is ImportKind.buildings:
            store.import_compounds((), load.load_buildings(path, datum=datum), source=source)
        elif kind is ImportKind.gates:
            store.import_compounds((), gates=load.load_gates(path, datum=datum), source=source)
        elif kind is ImportKind.lockdown:
            store.import_compounds((), lockdown=load.load_lockdown(path), source=source)
        elif kind is ImportKind.categories:
            store.import_categories(load.load_categories(path), source=source)
        elif kind is ImportKind.supply:
            store.import_supply(load.load_supply(path), source=source)
        elif kind is ImportKind.orders:
            result = store.import_orders(
                load.load_orders(path, reference=store.reference()), source=source
            )
            console.print(f"orders: {result}")
        else:
            if compound is None or date is None:
                err_console.print("error: a 接龙 import needs --compound and --date")
                raise typer.Exit(EXIT_DATA_ERROR)
            orders = parse_jielong(
                path.read_text("utf-8"),
                compound_id=compound,
                delivery_date=dt.date.fromisoformat(date),
                categories=store.categories(),
                buildings=store.buildings(compound),
                source=source,
            )
            console.print(f"orders: {store.import_orders(orders, source=source)}")
    console.print(f"[green]imported[/] {kind.value} from {path}")


class DemandLevel(enum.StrEnum):
    """Granularity of a demand table."""

    compound = "compound"
    building = "building"


@app.command()
def demand(
    db: DbOption = None,
    date: Annotated[str | None, typer.Option(help="delivery date YYYY-MM-DD")] = None,
    compound: Annotated[list[str] | None, typer.Option(help="compound_id (repeatable)")] = None,
    category: Annotated[list[str] | None, typer.Option(help="category_id (repeatable)")] = None,
    district: Annotated[str | None, typer.Option(help="district (区), e.g. 浦东新区")] = None,
    by: Annotated[DemandLevel, typer.Option(help="rows per compound or per building")] = (
        DemandLevel.compound
    ),
    limit: Annotated[int, typer.Option(help="rows to print (the CSV gets all)")] = 40,
    csv: Annotated[Path | None, typer.Option(help="also write the whole table as CSV")] = None,
) -> None:
    """Print aggregated demand from the store (never household data)."""
    store = _open_store(db)
    day = dt.date.fromisoformat(date) if date else None
    table = aggregate_demand(store.order_lines(day))
    if by is DemandLevel.compound:
        table = compound_demand(table)
    if compound:
        table = table.filter(pl.col("compound_id").is_in(compound))
    if category:
        table = table.filter(pl.col("category_id").is_in(category))
    if district:
        ids = [c.compound_id for c in store.compounds() if c.district == district]
        table = table.filter(pl.col("compound_id").is_in(ids))
    frame = table.collect()
    if csv is not None:
        frame.write_csv(csv)
        console.print(f"wrote {frame.height} rows to {csv}")
    _print_frame(
        frame.head(limit), f"demand ({frame.height} rows, showing {min(limit, frame.height)})"
    )


def _print_frame(frame: pl.DataFrame, title: str) -> None:
    table = Table(title=title)
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(f"{value:,}" if isinstance(value, int) else str(value) for value in row))
    console.print(table)


@app.command()
def demo(
    db: Annotated[
        Path, typer.Option(help="SQLite file for the demo day (recreated on every run)")
    ] = Path(".linli/demo.db"),
    seed: Annotated[int, typer.Option(help="seed of the synthetic orders and the matcher")] = (
        20220415
    ),
    time_limit: Annotated[float, typer.Option(help="matcher time limit, seconds")] = 30.0,
    route_time_limit: Annotated[float, typer.Option(help="router time limit, seconds")] = 30.0,
    out: Annotated[Path, typer.Option(help="folder for plan.json and the documents")] = Path(
        ".linli/demo-out"
    ),
    print_scope: Annotated[
        str,
        typer.Option(
            "--print",
            help="sorting lists and notices printed as PDF + HTML: focus (the focus "
            "compound's), all (every compound's, minutes) or none",
        ),
    ] = "focus",
) -> None:
    """Run the whole embedded Shanghai day: load → store → aggregate → match → route → print."""
    from api.demo_run import run_demo

    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    params = Params(time_limit_s=time_limit, seed=seed)
    with _reported_errors():
        run_demo(
            f"sqlite:///{db.resolve()}",
            seed=seed,
            console=console,
            progress=_progress(),
            match_params=params,
            route_params=RouteParams(time_limit_s=route_time_limit, seed=seed),
            out_dir=out,
            print_scope=_print_scope(print_scope),
        )


def _print_scope(value: str) -> PrintScope:
    """``--print`` checked: focus, all or none."""
    if value not in ("focus", "all", "none"):
        raise typer.BadParameter(f"--print must be focus, all or none, not {value!r}")
    return cast("PrintScope", value)


@app.command()
def migrate(db: DbOption = None) -> None:
    """Create or upgrade the database schema to the newest migration."""
    _open_store(db)
    console.print("[green]database is at the newest migration[/]")


class MatchSolver(enum.StrEnum):
    """Back-end of the matcher (``matcher.solve``): CP-SAT, or a MIP through pywraplp."""

    cp_sat = "cp-sat"
    highs = "highs"
    scip = "scip"
    cbc = "cbc"


@app.command()
def match(
    date: Annotated[str, typer.Option(help="delivery date YYYY-MM-DD")],
    db: DbOption = None,
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 30.0,
    seed: Annotated[int, typer.Option(help="solver seed (same input + seed, same answer)")] = 0,
    max_suppliers: Annotated[
        int, typer.Option(help="suppliers delivering to one compound per day")
    ] = 3,
    explain_compound: Annotated[
        str | None, typer.Option("--explain", help="print the explanations of one compound")
    ] = None,
    save: Annotated[
        Path | None, typer.Option(help="write the allocation as JSON here (for linli route)")
    ] = None,
    flow_start: Annotated[
        bool,
        typer.Option(
            help="also start from min-cost flow allocations (serves far more on short days)"
        ),
    ] = False,
    candidate_suppliers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="consider only each compound's nearest suppliers: this many, and the 2 "
            "nearest of each category (default: every eligible supplier)",
        ),
    ] = None,
    solver: Annotated[
        MatchSolver,
        typer.Option(
            help="cp-sat (reproducible, hints, proves fairness floors) or a MIP on one "
            "thread: highs is far faster when every compound can be served in full "
            "(facility location: benchmarks/cflp.py)"
        ),
    ] = MatchSolver.cp_sat,
) -> None:
    """Match the stored demand of a day to the stored supplier offers."""
    from api.matching import match_day, print_allocation

    store = _open_store(db)
    params = Params(
        time_limit_s=time_limit,
        seed=seed,
        max_suppliers_per_compound=max_suppliers,
        flow_start=flow_start,
        candidate_suppliers=candidate_suppliers,
    )
    with _reported_errors(), console.status("matching"):
        result = match_day(store, dt.date.fromisoformat(date), params, solver.value)
    print_allocation(console, result)
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(result.allocation.model_dump_json(indent=1), encoding="utf-8")
        console.print(f"allocation written to {save}")
    if explain_compound:
        for decision in result.decisions:
            if decision.compound_id == explain_compound:
                console.print(decision.text("zh"), highlight=False)
                console.print(decision.text("en"), highlight=False)


@app.command()
def plan(
    date: Annotated[str, typer.Option(help="delivery date YYYY-MM-DD")],
    db: DbOption = None,
    time_limit: Annotated[float, typer.Option(help="matcher and router limit, seconds")] = 30.0,
    seed: Annotated[int, typer.Option(help="seed of both solvers")] = 0,
    out: Annotated[Path, typer.Option(help="folder for plan.json and the documents")] = Path(
        ".linli/out"
    ),
) -> None:
    """Match the stored day, then route the deliveries; writes the plan as JSON."""
    from api.matching import match_day
    from api.planning import plan_day, print_plan, write_plan

    store = _open_store(db)
    day = dt.date.fromisoformat(date)
    with _reported_errors(), console.status("matching and routing"):
        match_result = match_day(store, day, Params(time_limit_s=time_limit, seed=seed))
        day_plan = plan_day(
            store, day, match_result.allocation, RouteParams(time_limit_s=time_limit, seed=seed)
        )
    print_plan(console, day_plan)
    console.print(f"plan written to {write_plan(day_plan, out)}")
    if day_plan.documents is not None:
        console.print(f"documents written to {out / 'index.json'}: {day_plan.documents.summary()}")


@app.command()
def route(
    date: Annotated[str, typer.Option(help="delivery date YYYY-MM-DD")],
    allocation: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="allocation JSON from linli match --save"),
    ],
    db: DbOption = None,
    time_limit: Annotated[float, typer.Option(help="router time limit, seconds")] = 30.0,
    seed: Annotated[int, typer.Option(help="router seed")] = 0,
    out: Annotated[Path, typer.Option(help="folder for plan.json and the documents")] = Path(
        ".linli/out"
    ),
) -> None:
    """Route a saved allocation with the stored fleet: plan, pickup points and documents."""
    from api.planning import plan_day, print_plan, write_plan
    from matcher.result import Allocation

    store = _open_store(db)
    day = dt.date.fromisoformat(date)
    try:
        chosen = Allocation.model_validate_json(allocation.read_text(encoding="utf-8"))
    except ValueError as error:
        err_console.print(f"error: {allocation}: not an allocation ({str(error).splitlines()[0]})")
        raise typer.Exit(EXIT_DATA_ERROR) from None
    if chosen.delivery_date != day:
        err_console.print(f"error: {allocation} is for {chosen.delivery_date}, not {day}")
        raise typer.Exit(EXIT_DATA_ERROR)
    with _reported_errors(), console.status("routing"):
        day_plan = plan_day(store, day, chosen, RouteParams(time_limit_s=time_limit, seed=seed))
    print_plan(console, day_plan)
    console.print(f"plan written to {write_plan(day_plan, out)}")
    if day_plan.documents is not None:
        console.print(f"documents written to {out / 'index.json'}: {day_plan.documents.summary()}")


@app.command("plan-city")
def plan_city_command(
    date: Annotated[str, typer.Option(help="delivery date YYYY-MM-DD")],
    db: DbOption = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="tcp://host:port of a running Dask scheduler; default: a LocalCluster"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="LocalCluster worker processes (default: one per core)")
    ] = None,
    in_process: Annotated[
        bool, typer.Option(help="no Dask: solve the pieces one after the other here")
    ] = False,
    time_limit: Annotated[
        float, typer.Option(help="matcher wall-clock safety net per district piece, seconds")
    ] = 60.0,
    deterministic_time: Annotated[
        float, typer.Option(help="matcher deterministic-time budget per district piece")
    ] = 0.9,
    route_time_limit: Annotated[
        float, typer.Option(help="router wall-clock safety net per supplier piece, seconds")
    ] = 120.0,
    route_iterations: Annotated[
        int, typer.Option(help="router iterations per supplier piece (reproducible budget)")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="seed of every piece")] = 0,
    candidate_suppliers: Annotated[
        int,
        typer.Option(
            min=1,
            help="the matcher considers each compound's nearest suppliers only: this many, and "
            "the 2 nearest of each category (matcher.candidates)",
        ),
    ] = CITY_CANDIDATES,
    retries: Annotated[int, typer.Option(help="retries of a piece that raises")] = 2,
    out: Annotated[Path, typer.Option(help="folder for allocation, plan and pieces JSON")] = Path(
        ".linli/city-out"
    ),
) -> None:
    """Plan a whole city's day in pieces on Dask: match per district, route per supplier.

    Solved pieces are kept in the store by the hash of their inputs, so running it again
    after a change (a district's lockdown, a supplier's capacity) re-solves only the
    pieces that change touches.
    """
    from contextlib import nullcontext

    from api.city.cache import StoreCache
    from api.city.day import city_day_from_store
    from api.city.execute import PieceFailedError, PieceRunner, dask_client, plan_city
    from api.city.progress import RichProgress
    from api.city.report import print_city_plan, write_city_plan

    store = _open_store(db)
    day = dt.date.fromisoformat(date)
    match_params = Params(
        time_limit_s=time_limit,
        deterministic_time=deterministic_time,
        seed=seed,
        candidate_suppliers=candidate_suppliers,
    )
    route_params = RouteParams(
        time_limit_s=route_time_limit, max_iterations=route_iterations, seed=seed
    )
    with _reported_errors():
        city_day = city_day_from_store(store, day)
        cluster = nullcontext(None) if in_process else dask_client(scheduler, workers)
        try:
            with cluster as client, RichProgress(console) as progress:
                runner = PieceRunner(
                    client=client, cache=StoreCache(store, day), progress=progress, retries=retries
                )
                city = plan_city(city_day, match_params, route_params, runner)
        except PieceFailedError as error:
            err_console.print(f"error: {error}; the solved pieces are kept, run it again")
            raise typer.Exit(1) from None
    print_city_plan(console, city)
    for path in write_city_plan(city, out):
        console.print(f"wrote {path}")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    job_workers: Annotated[int, typer.Option(help="worker processes for jobs")] = 1,
    workers: Annotated[
        int, typer.Option(min=1, help="HTTP worker processes (one per core serves most)")
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Start the HTTP API (uvicorn); SQLite by default, PostgreSQL with $DATABASE_URL."""
    import os

    import uvicorn

    from api.jobs import JobRunner
    from api.main import create_app
    from api.settings import Settings

    url = _database_url(db)
    base = Settings()
    settings = base.model_copy(
        update={"job_workers": job_workers, "database_url": url or base.database_url}
    )
    console.print(
        f"linli API on http://{host}:{port} (docs at /docs), database {settings.url()}, "
        f"{workers} HTTP worker(s)"
    )
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, access_log=access_log)
        return
    # Several processes: migrate, make the signing key and recover stuck jobs here, once;
    # each worker builds its app from the environment and skips the recovery.
    settings.secret()
    store = Store.open(settings.url())
    try:
        store.migrate()
        JobRunner(store, settings, workers=job_workers).recover()
    finally:
        store.close()
    os.environ.update(
        LINLI_DATABASE_URL=settings.url(),
        LINLI_JOB_WORKERS=str(job_workers),
        LINLI_RECOVER_JOBS="false",
    )
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
    )


@app.command()
def whatif(
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            help="rules to try, e.g. 'fairness_cap_pct=30' or 'two: max_suppliers_per_compound=2'"
            " (repeatable; rules: fairness_cap_pct, max_suppliers_per_compound, "
            "single_supplier_per_category, require_verified_certificates, "
            "require_quarantine_report, pooling_distance_m, pooling_drop)"
        ),
    ] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="YAML or JSON file of named scenarios"),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="database URL or SQLite file (needs --date); default: the demo day"
        ),
    ] = None,
    date: Annotated[str | None, typer.Option(help="delivery date YYYY-MM-DD (with --db)")] = None,
    problem: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="a matcher Problem as JSON instead"),
    ] = None,
    time_limit: Annotated[float, typer.Option(help="solver time limit per scenario, s")] = 30.0,
    seed: Annotated[int, typer.Option(help="solver seed (and the demo's order seed)")] = 20220415,
    csv: Annotated[Path | None, typer.Option(help="also write the comparison as CSV")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON, not a table")] = False,
) -> None:
    """Compare the day's matching under alternative rules (baseline always first)."""
    from matcher.model import Problem
    from matcher.whatif import (
        Rules,
        comparison_table,
        demo_problem,
        load_scenarios,
        parse_scenario,
        run_whatif,
        store_problem,
    )

    base = Rules()
    try:
        chosen = load_scenarios(scenarios, base) if scenarios else []
        chosen += [parse_scenario(spec, base) for spec in scenario or []]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if db is not None and date is None:
        raise typer.BadParameter("--db needs --date YYYY-MM-DD: which day to compare")
    with _reported_errors():
        if problem is not None:
            try:
                day_problem = Problem.model_validate_json(problem.read_text(encoding="utf-8"))
            except ValueError as error:
                err_console.print(f"error: {problem}: not a problem ({str(error).splitlines()[0]})")
                raise typer.Exit(EXIT_DATA_ERROR) from None
        elif db is not None and date is not None:
            day_problem = store_problem(_open_store(db), dt.date.fromisoformat(date))
        else:
            day_problem = demo_problem(seed)
        try:
            result = run_whatif(day_problem, chosen, Params(time_limit_s=time_limit, seed=seed))
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        result.frame().write_csv(csv)
    if as_json:
        typer.echo(result.model_dump_json(indent=1))
        return
    console.print(comparison_table(result))
    if csv is not None:
        console.print(f"comparison written to {csv}")


user_app = typer.Typer(help="user accounts of the HTTP API", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[
        str, typer.Option(help="admin, leader, dispatcher, driver, committee or volunteer")
    ],
    bound_to: Annotated[
        str | None,
        typer.Option(
            help="compound_id (leader, volunteer), supplier_id (dispatcher) or driver_id (driver)"
        ),
    ] = None,
    building: Annotated[
        str | None, typer.Option(help="a volunteer's building_id (in the --bound-to compound)")
    ] = None,
    compound: Annotated[
        list[str] | None,
        typer.Option(help="a committee's compound_id; repeat for each compound it governs"),
    ] = None,
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
    db: DbOption = None,
) -> None:
    """Create a user bound to its compound, supplier or driver (a committee to its compounds,
    a volunteer to a building); the password is hashed with argon2."""
    from api.accounts import AccountError, add_user
    from api.security import Role

    try:
        chosen = Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        err_console.print(f"error: role {role!r}: use one of {names}")
        raise typer.Exit(EXIT_DATA_ERROR) from None
    store = _open_store(db)
    try:
        principal = add_user(
            store.engine,
            username,
            password,
            chosen,
            bound_to=bound_to,
            building_id=building,
            compound_ids=tuple(compound or ()),
        )
    except AccountError as error:
        err_console.print(f"error: {error}")
        raise typer.Exit(EXIT_DATA_ERROR) from None
    console.print(f"[green]user {principal.username} added[/] as {principal.role}")


audit_app = typer.Typer(help="the hash-chained audit log", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Check every event's hash against its content and its predecessor."""
    from api.audit import verify

    verdict = verify(_open_store(db).engine)
    if verdict.ok:
        console.print(f"[green]audit chain intact[/]: {verdict.checked} events")
        return
    err_console.print(f"audit chain broken at event {verdict.broken_at}: {verdict.reason}")
    raise typer.Exit(1)


claims_app = typer.Typer(help="after-sales claims", no_args_is_help=True)
app.add_typer(claims_app, name="claims")


@claims_app.command("escalate")
def claims_escalate(
    db: DbOption = None,
    now: Annotated[
        str | None, typer.Option(help="evaluate deadlines at this ISO time (default now)")
    ] = None,
) -> None:
    """Escalate claims the supplier did not answer by their deadline to the committee, and
    close rejections not appealed by theirs (also done whenever claims are read)."""
    import datetime as dt

    from api.aftersales import sweep

    try:
        at = dt.datetime.now(dt.UTC) if now is None else dt.datetime.fromisoformat(now)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        err_console.print("error: --now needs an offset, e.g. 2022-04-16T12:00:00+08:00")
        raise typer.Exit(EXIT_DATA_ERROR)
    moved = sweep(_open_store(db).engine, at)
    console.print(f"{moved} claim(s) moved on at {at.isoformat()}")


def main() -> None:
    """Entry point for `python -m api.cli`."""
    app(sys.argv[1:])


if __name__ == "__main__":
    main()
