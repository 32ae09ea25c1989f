"""The store: SQLite by default, PostgreSQL in production; transactional, idempotent imports.

``Store.open()`` connects (``DATABASE_URL`` or ``.linli/linli.db``), ``migrate()`` brings the
schema to the newest Alembic revision. Every ``import_*`` runs in ONE transaction and records
an ``import_batch`` (one per kind and content sha256): either all rows land or none do and a
``DataError`` names the source and the offending record. Re-importing the same content
writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

import polars as pl
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from data.errors import DataError, Issue
from data.schemas import (
    ORDER_LINE_SCHEMA,
    Building,
    Category,
    Certificate,
    Compound,
    CrewMember,
    Depot,
    Driver,
    Gate,
    Hours,
    HouseholdOrder,
    LockdownStatus,
    Offer,
    OrderItem,
    ServiceArea,
    Supplier,
    Vehicle,
)
from data.tables import (
    TABLES,
    Base,
    BuildingRow,
    CategoryRow,
    CertificateRow,
    CompoundRow,
    CrewMemberRow,
    DepotRow,
    DriverRow,
    GateRow,
    HouseholdOrderRow,
    ImportBatch,
    LockdownStatusRow,
    OfferRow,
    OrderItemRow,
    SupplierRow,
    VehicleRow,
)

if TYPE_CHECKING:
    from data.validate import Reference

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic script directory shipped inside the package."""

CHUNK = 5_000
"""Rows per executemany call and per ``IN (...)`` list."""

MAX_ISSUES = 50
"""Issues listed one by one in a rejected import; the rest are summarised."""

Row = dict[str, Any]
Record = Mapping[Any, Any]
T = TypeVar("T")


def _table(mapped: type[Base]) -> Table:
    table = mapped.__table__
    assert isinstance(table, Table)
    return table


_COMPOUND = _table(CompoundRow)
_BUILDING = _table(BuildingRow)
_GATE = _table(GateRow)
_LOCKDOWN = _table(LockdownStatusRow)
_CATEGORY = _table(CategoryRow)
_SUPPLIER = _table(SupplierRow)
_DEPOT = _table(DepotRow)
_VEHICLE = _table(VehicleRow)
_DRIVER = _table(DriverRow)
_CREW = _table(CrewMemberRow)
_CERTIFICATE = _table(CertificateRow)
_OFFER = _table(OfferRow)
_ORDER = _table(HouseholdOrderRow)
_ITEM = _table(OrderItemRow)
_BATCH = _table(ImportBatch)


class SupplyBundleLike(Protocol):
    """What ``import_supply`` reads: ``data.load.SupplyBundle`` or ``StoredSupply``."""

    @property
    def suppliers(self) -> Sequence[Supplier]: ...
    @property
    def depots(self) -> Sequence[Depot]: ...
    @property
    def vehicles(self) -> Sequence[Vehicle]: ...
    @property
    def drivers(self) -> Sequence[Driver]: ...
    @property
    def certificates(self) -> Sequence[Certificate]: ...
    @property
    def offers(self) -> Sequence[Offer]: ...


@dataclass(frozen=True, slots=True)
class StoredSupply:
    """Suppliers and everything they bring, as read back from the store."""

    suppliers: tuple[Supplier, ...] = ()
    depots: tuple[Depot, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    drivers: tuple[Driver, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    offers: tuple[Offer, ...] = ()
    crew: tuple[CrewMember, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did: rows inserted, updated (replaced) and left unchanged."""

    kind: str
    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    import_id: int | None = None

    @property
    def total(self) -> int:
        """Rows in the input."""
        return self.inserted + self.updated + self.unchanged

    def __str__(self) -> str:
        return (
            f"{self.kind} from {self.source}: {self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )


# --- helpers -------------------------------------------------------------------------------


def database_url(url: str | None = None) -> str:
    """``url``, else ``$DATABASE_URL``, else ``sqlite:///<cwd>/.linli/linli.db``; psycopg 3."""
    url = url or os.environ.get("DATABASE_URL") or ""
    if not url:
        url = f"sqlite:///{Path.cwd() / '.linli' / 'linli.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


def household_key(compound_id: str, building_id: str, room: str) -> str:
    """Opaque key of a household: sha1 of ``compound|building|room``."""
    return hashlib.sha1(f"{compound_id}|{building_id}|{room}".encode()).hexdigest()


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _canonical(model: BaseModel) -> str:
    """JSON of a model that is the same in every process: keys and set fields sorted."""
    data = model.model_dump(mode="json")
    for name, value in model:
        if isinstance(value, frozenset):
            data[name] = sorted(data[name])
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(parts: Iterable[str]) -> str:
    """sha256 of a set of parts: independent of their order."""
    hasher = hashlib.sha256()
    for part in sorted(parts):
        hasher.update(part.encode())
        hasher.update(b"\n")
    return hasher.hexdigest()


def _capped(issues: list[Issue], source: str) -> list[Issue]:
    if len(issues) <= MAX_ISSUES:
        return issues
    more = len(issues) - MAX_ISSUES
    return [*issues[:MAX_ISSUES], Issue(source, None, None, f"... and {more} more problems")]


def _duplicates(source: str, kind: str, field: str, keys: Iterable[Any]) -> list[Issue]:
    """One issue per key repeated within the same import."""
    seen: set[Any] = set()
    issues = []
    for key in keys:
        if key in seen:
            name = "/".join(key) if isinstance(key, tuple) else key
            issues.append(
                Issue(
                    source,
                    None,
                    field,
                    f"{kind} {name!r} appears more than once",
                    "keep one record per id",
                )
            )
        seen.add(key)
    return issues


def _unknown(source: str, kind: str, name: str, field: str, value: str, what: str) -> Issue:
    return Issue(
        source,
        None,
        field,
        f"{kind} {name!r} refers to an unknown {what}",
        f"import the {what} first or fix the {field}",
        value,
    )


# --- model <-> row ---------------------------------------------------------------------------


def _compound_row(c: Compound) -> Row:
    row = c.model_dump(exclude={"receiving_hours"})
    row["receiving_opens_at"] = c.receiving_hours.opens_at
    row["receiving_closes_at"] = c.receiving_hours.closes_at
    return row


def _with_hours(r: Record, opens: str, closes: str, field: str) -> Row:
    row = {k: v for k, v in r.items() if k not in (opens, closes)}
    row[field] = Hours(opens_at=r[opens], closes_at=r[closes])
    return row


def _compound(r: Record) -> Compound:
    row = _with_hours(r, "receiving_opens_at", "receiving_closes_at", "receiving_hours")
    return Compound.model_validate(row)


def _building(r: Record) -> Building:
    return Building.model_validate(dict(r))


def _gate_row(g: Gate) -> Row:
    row = g.model_dump(exclude={"receiving_hours"})
    row["receiving_opens_at"] = g.receiving_hours.opens_at
    row["receiving_closes_at"] = g.receiving_hours.closes_at
    return row


def _gate(r: Record) -> Gate:
    row = _with_hours(r, "receiving_opens_at", "receiving_closes_at", "receiving_hours")
    return Gate.model_validate(row)


def _lockdown_row(s: LockdownStatus) -> Row:
    return s.model_dump() | {"level": s.level.value}


def _lockdown(r: Record) -> LockdownStatus:
    return LockdownStatus.model_validate({k: v for k, v in r.items() if k != "id"})


def _category_row(c: Category) -> Row:
    return c.model_dump() | {
        "required_certificates": [t.value for t in c.required_certificates],
        "aliases": list(c.aliases),
    }


def _category(r: Record) -> Category:
    return Category.model_validate(dict(r))


def _supplier_row(s: Supplier) -> Row:
    levels = sorted(level.value for level in s.lockdown_levels_served)
    return s.model_dump() | {"lockdown_levels_served": levels}


def _supplier(r: Record) -> Supplier:
    return Supplier.model_validate(dict(r))


def _depot_row(d: Depot) -> Row:
    row = d.model_dump(exclude={"hours"})
    row["opens_at"] = d.hours.opens_at
    row["closes_at"] = d.hours.closes_at
    return row


def _depot(r: Record) -> Depot:
    return Depot.model_validate(_with_hours(r, "opens_at", "closes_at", "hours"))


def _plain_row(model: Building | Vehicle | Driver | CrewMember) -> Row:
    return model.model_dump()


def _vehicle(r: Record) -> Vehicle:
    return Vehicle.model_validate(dict(r))


def _driver(r: Record) -> Driver:
    return Driver.model_validate(dict(r))


def _crew(r: Record) -> CrewMember:
    return CrewMember.model_validate(dict(r))


def _crew_of(bundle: SupplyBundleLike) -> Sequence[CrewMember]:
    """The bundle's crew members; a bundle made before crews existed has none."""
    crew: Sequence[CrewMember] = getattr(bundle, "crew", ())
    return crew


def _certificate_row(c: Certificate) -> Row:
    return c.model_dump() | {"type": c.type.value, "holder_kind": c.holder_kind.value}


def _certificate(r: Record) -> Certificate:
    return Certificate.model_validate(dict(r))


def _offer_row(o: Offer) -> Row:
    row = o.model_dump(exclude={"service_area"})
    row["service_districts"] = list(o.service_area.districts)
    row["service_max_distance_m"] = o.service_area.max_distance_m
    row["depot_ids"] = list(o.depot_ids)
    return row


def _offer(r: Record) -> Offer:
    row = {k: v for k, v in r.items() if not k.startswith("service_")}
    row["service_area"] = ServiceArea(
        districts=tuple(r["service_districts"]), max_distance_m=r["service_max_distance_m"]
    )
    return Offer.model_validate(row)


OrderKey = tuple[str, dt.date, str]
"""(compound_id, delivery_date, order_id): the natural key of a household order."""


def _order_row(o: HouseholdOrder, import_id: int = 0) -> Row:
    """The household_order row of ``o`` with its content fingerprint."""
    flags = sorted(flag.value for flag in o.priority_flags)
    items = [[i.category_id, i.quantity_units, i.product] for i in o.items]
    canonical = [o.building_id, o.room, flags, o.proxy, o.household_name, o.phone, items]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return {
        "order_id": o.order_id,
        "compound_id": o.compound_id,
        "building_id": o.building_id,
        "room": o.room,
        "delivery_date": o.delivery_date,
        "priority_flags": flags,
        "priority": bool(flags),
        "proxy": o.proxy,
        "household_name": o.household_name,
        "phone": o.phone,
        "household_key": household_key(o.compound_id, o.building_id, o.room),
        "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
        "import_id": import_id,
    }


def _item_rows(order_pk: int, o: HouseholdOrder) -> list[Row]:
    return [
        {
            "order_pk": order_pk,
            "position": position,
            "category_id": item.category_id,
            "quantity_units": item.quantity_units,
            "product": item.product,
        }
        for position, item in enumerate(o.items)
    ]


# --- the store -------------------------------------------------------------------------------


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys on, and real transactions (BEGIN before the first statement, DDL too)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # a writer takes the write lock up front: waiting on busy_timeout there is safe,
        # while upgrading a read lock later fails at once with "database is locked"
        write = connection.get_execution_options().get("linli_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def write_transaction(engine: Engine) -> AbstractContextManager[Connection]:
    """``engine.begin()`` for a transaction that writes (SQLite: BEGIN IMMEDIATE)."""
    return engine.execution_options(linli_write=True).begin()


class Store:
    """linli's database: open, migrate, import (all or nothing), read back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, echo: bool = False) -> Store:
        """Connect to ``url``, ``$DATABASE_URL`` or ``.linli/linli.db``; ``migrate()`` next."""
        parsed = make_url(database_url(url))
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, echo=echo)
            _sqlite_setup(engine)
        else:
            engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------------

    def alembic_config(self) -> Config:
        """An Alembic config for the package's migrations (no alembic.ini needed)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        url = self.engine.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
        return config

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` (the newest by default) in one transaction."""
        config = self.alembic_config()
        with self.engine.connect() as conn:
            sqlite = self.dialect == "sqlite"
            raw: Any = conn.connection.driver_connection
            if sqlite:  # batch migrations copy tables; keys are checked again afterwards
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    config.attributes["connection"] = conn
                    command.upgrade(config, revision)
            finally:
                if sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")

    def revision(self) -> str | None:
        """The schema's current Alembic revision; None for an empty database."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def counts(self) -> dict[str, int]:
        """Rows per table, by table name."""
        with self.engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for table in TABLES
            }

    # --- imports ------------------------------------------------------------------------------

    def _run_import(self, source: str, work: Callable[[Connection], ImportResult]) -> ImportResult:
        """Run ``work`` in one transaction; a constraint violation becomes a DataError."""
        try:
            with write_transaction(self.engine) as conn:
                return work(conn)
        except IntegrityError as error:
            detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            issue = Issue(
                source,
                None,
                None,
                f"the database refused the import, nothing was written ({detail})",
                "check that every referenced compound, building, category, supplier and "
                "depot exists",
            )
            raise DataError([issue]) from error

    @staticmethod
    def _batch(conn: Connection, kind: str, source: str, digest: str, rows: int) -> int:
        """The id of this content's import batch, recorded now unless imported before."""
        found = conn.execute(
            select(_BATCH.c.id).where(_BATCH.c.kind == kind, _BATCH.c.sha256 == digest)
        ).scalar_one_or_none()
        if found is not None:  # imported before: touched, so readers see the data may differ
            touched = {"created_at": dt.datetime.now(dt.UTC)}
            conn.execute(update(_BATCH).where(_BATCH.c.id == found).values(**touched))
            return int(found)
        statement = insert(_BATCH).returning(_BATCH.c.id)
        params = {
            "kind": kind,
            "source": source[:1024],
            "sha256": digest,
            "row_count": rows,
            "created_at": dt.datetime.now(dt.UTC),
        }
        return int(conn.execute(statement, params).scalar_one())

    @staticmethod
    def _ids(conn: Connection, *columns: Any) -> set[Any]:
        """Stored values of one column, or tuples of several."""
        result = conn.execute(select(*columns))
        if len(columns) == 1:
            return {row[0] for row in result}
        return {tuple(row) for row in result}

    @staticmethod
    def _upsert(conn: Connection, table: Table, keys: Sequence[str], rows: list[Row]) -> list[int]:
        """Insert new rows, update changed ones by ``keys``; [inserted, updated, unchanged]."""
        if not rows:
            return [0, 0, 0]
        columns = list(rows[0])
        existing = {
            tuple(r[k] for k in keys): r
            for r in conn.execute(select(*(table.c[c] for c in columns))).mappings()
        }
        new: list[Row] = []
        changed: list[Row] = []
        for row in rows:
            old = existing.get(tuple(row[k] for k in keys))
            if old is None:
                new.append(row)
            elif any(old[c] != row[c] for c in columns):
                changed.append(row)
        for part in _chunks(new):
            conn.execute(insert(table), list(part))
        if changed:
            values = [c for c in columns if c not in keys]
            statement = (
                update(table)
                .where(and_(*(table.c[k] == bindparam(f"k_{k}") for k in keys)))
                .values({c: bindparam(f"v_{c}") for c in values})
            )
            params = [
                {**{f"k_{k}": r[k] for k in keys}, **{f"v_{c}": r[c] for c in values}}
                for r in changed
            ]
            for part in _chunks(params):
                conn.execute(statement, list(part))
        return [len(new), len(changed), len(rows) - len(new) - len(changed)]

    @staticmethod
    def _result(kind: str, source: str, parts: Iterable[list[int]], import_id: int) -> ImportResult:
        total = [0, 0, 0]
        for part in parts:
            total = [a + b for a, b in zip(total, part, strict=True)]
        return ImportResult(kind, source, total[0], total[1], total[2], import_id)

    def import_compounds(
        self,
        compounds: Sequence[Compound],
        buildings: Sequence[Building] = (),
        gates: Sequence[Gate] = (),
        lockdown: Sequence[LockdownStatus] = (),
        *,
        source: str,
    ) -> ImportResult:
        """Upsert compounds, buildings, gates (by id) and lockdown statuses (by compound, start)."""
        models: list[Any] = [*compounds, *buildings, *gates, *lockdown]
        digest = _digest(f"{type(m).__name__}:{_canonical(m)}" for m in models)

        def work(conn: Connection) -> ImportResult:
            issues = [
                *_duplicates(source, "compound", "compound_id", (c.compound_id for c in compounds)),
                *_duplicates(
                    source,
                    "building",
                    "building_id",
                    ((b.compound_id, b.building_id) for b in buildings),
                ),
                *_duplicates(
                    source, "gate", "gate_id", ((g.compound_id, g.gate_id) for g in gates)
                ),
                *_duplicates(
                    source,
                    "lockdown status",
                    "valid_from",
                    ((s.compound_id, s.valid_from.isoformat()) for s in lockdown),
                ),
            ]
            known = self._ids(conn, _COMPOUND.c.compound_id) | {c.compound_id for c in compounds}
            children: list[tuple[str, str, str]] = [
                *(("building", b.building_id, b.compound_id) for b in buildings),
                *(("gate", g.gate_id, g.compound_id) for g in gates),
                *(("lockdown status", s.compound_id, s.compound_id) for s in lockdown),
            ]
            for kind, name, compound_id in children:
                if compound_id not in known:
                    issues.append(
                        _unknown(source, kind, name, "compound_id", compound_id, "compound")
                    )
            if issues:
                raise DataError(_capped(issues, source))
            import_id = self._batch(conn, "compounds", source, digest, len(models))
            parts = [
                self._upsert(
                    conn, _COMPOUND, ["compound_id"], [_compound_row(c) for c in compounds]
                ),
                self._upsert(
                    conn,
                    _BUILDING,
                    ["compound_id", "building_id"],
                    [_plain_row(b) for b in buildings],
                ),
                self._upsert(
                    conn, _GATE, ["compound_id", "gate_id"], [_gate_row(g) for g in gates]
                ),
                self._upsert(
                    conn,
                    _LOCKDOWN,
                    ["compound_id", "valid_from"],
                    [_lockdown_row(s) for s in lockdown],
                ),
            ]
            return self._result("compounds", source, parts, import_id)

        return self._run_import(source, work)

    def import_categories(self, categories: Sequence[Category], *, source: str) -> ImportResult:
        """Upsert categories by ``category_id``."""
        digest = _digest(_canonical(c) for c in categories)

        def work(conn: Connection) -> ImportResult:
            ids = (c.category_id for c in categories)
            issues = _duplicates(source, "category", "category_id", ids)
            if issues:
                raise DataError(_capped(issues, source))
            import_id = self._batch(conn, "categories", source, digest, len(categories))
            rows = [_category_row(c) for c in categories]
            parts = [self._upsert(conn, _CATEGORY, ["category_id"], rows)]
            return self._result("categories", source, parts, import_id)

        return self._run_import(source, work)

    def import_supply(self, bundle: SupplyBundleLike, *, source: str) -> ImportResult:
        """Upsert suppliers, depots, vehicles, drivers, certificates, offers and crew by id."""
        kinds: list[Sequence[Any]] = [
            bundle.suppliers,
            bundle.depots,
            bundle.vehicles,
            bundle.drivers,
            bundle.certificates,
            bundle.offers,
            _crew_of(bundle),
        ]
        digest = _digest(f"{type(m).__name__}:{_canonical(m)}" for k in kinds for m in k)

        def work(conn: Connection) -> ImportResult:
            issues = self._check_supply(conn, bundle, source)
            if issues:
                raise DataError(_capped(issues, source))
            import_id = self._batch(conn, "supply", source, digest, sum(map(len, kinds)))
            parts = [
                self._upsert(
                    conn, _SUPPLIER, ["supplier_id"], [_supplier_row(s) for s in bundle.suppliers]
                ),
                self._upsert(conn, _DEPOT, ["depot_id"], [_depot_row(d) for d in bundle.depots]),
                self._upsert(
                    conn, _VEHICLE, ["vehicle_id"], [_plain_row(v) for v in bundle.vehicles]
                ),
                self._upsert(conn, _DRIVER, ["driver_id"], [_plain_row(d) for d in bundle.drivers]),
                self._upsert(conn, _CREW, ["crew_id"], [_plain_row(c) for c in _crew_of(bundle)]),
                self._upsert(
                    conn,
                    _CERTIFICATE,
                    ["certificate_id"],
                    [_certificate_row(c) for c in bundle.certificates],
                ),
                self._upsert(conn, _OFFER, ["offer_id"], [_offer_row(o) for o in bundle.offers]),
            ]
            return self._result("supply", source, parts, import_id)

        return self._run_import(source, work)

    def _check_supply(self, conn: Connection, bundle: SupplyBundleLike, source: str) -> list[Issue]:
        """Repeated ids, and references to unknown suppliers, depots, categories, holders."""
        issues = [
            *_duplicates(
                source, "supplier", "supplier_id", (s.supplier_id for s in bundle.suppliers)
            ),
            *_duplicates(source, "depot", "depot_id", (d.depot_id for d in bundle.depots)),
            *_duplicates(source, "vehicle", "vehicle_id", (v.vehicle_id for v in bundle.vehicles)),
            *_duplicates(source, "driver", "driver_id", (d.driver_id for d in bundle.drivers)),
            *_duplicates(source, "crew member", "crew_id", (c.crew_id for c in _crew_of(bundle))),
            *_duplicates(
                source,
                "certificate",
                "certificate_id",
                (c.certificate_id for c in bundle.certificates),
            ),
            *_duplicates(source, "offer", "offer_id", (o.offer_id for o in bundle.offers)),
        ]
        suppliers = self._ids(conn, _SUPPLIER.c.supplier_id)
        suppliers |= {s.supplier_id for s in bundle.suppliers}
        depot_owner: dict[str, str] = {
            depot_id: supplier_id
            for depot_id, supplier_id in conn.execute(
                select(_DEPOT.c.depot_id, _DEPOT.c.supplier_id)
            )
        }
        depot_owner.update({d.depot_id: d.supplier_id for d in bundle.depots})
        categories = self._ids(conn, _CATEGORY.c.category_id)
        holders = {
            "supplier": suppliers,
            "vehicle": self._ids(conn, _VEHICLE.c.vehicle_id)
            | {v.vehicle_id for v in bundle.vehicles},
            "driver": self._ids(conn, _DRIVER.c.driver_id) | {d.driver_id for d in bundle.drivers},
            "crew": self._ids(conn, _CREW.c.crew_id) | {c.crew_id for c in _crew_of(bundle)},
        }
        owned: list[tuple[str, str, str]] = [
            *(("depot", d.depot_id, d.supplier_id) for d in bundle.depots),
            *(("vehicle", v.vehicle_id, v.supplier_id) for v in bundle.vehicles),
            *(("driver", d.driver_id, d.supplier_id) for d in bundle.drivers),
            *(("crew member", c.crew_id, c.supplier_id) for c in _crew_of(bundle)),
            *(("offer", o.offer_id, o.supplier_id) for o in bundle.offers),
        ]
        for kind, name, supplier_id in owned:
            if supplier_id not in suppliers:
                issues.append(_unknown(source, kind, name, "supplier_id", supplier_id, "supplier"))
        for v in bundle.vehicles:
            owner = depot_owner.get(v.depot_id)
            if owner is None:
                issues.append(
                    _unknown(source, "vehicle", v.vehicle_id, "depot_id", v.depot_id, "depot")
                )
            elif owner != v.supplier_id:
                issues.append(
                    Issue(
                        source,
                        None,
                        "depot_id",
                        f"vehicle {v.vehicle_id!r} loads at depot {v.depot_id!r} of another "
                        f"supplier {owner!r}",
                        "use a depot of the vehicle's own supplier",
                        v.depot_id,
                    )
                )
        for o in bundle.offers:
            if o.category_id not in categories:
                issues.append(
                    _unknown(source, "offer", o.offer_id, "category_id", o.category_id, "category")
                )
            for depot_id in o.depot_ids:
                if depot_id not in depot_owner:
                    issues.append(
                        _unknown(source, "offer", o.offer_id, "depot_ids", depot_id, "depot")
                    )
        for c in bundle.certificates:
            kind = c.holder_kind.value
            if c.holder_id not in holders[kind]:
                issues.append(
                    _unknown(
                        source, "certificate", c.certificate_id, "holder_id", c.holder_id, kind
                    )
                )
        return issues

    def import_orders(self, orders: Sequence[HouseholdOrder], *, source: str) -> ImportResult:
        """Upsert household orders by (compound_id, delivery_date, order_id), all or nothing.

        A changed order replaces its row and all its items; an identical one is counted as
        unchanged and not written.
        """
        rows = [_order_row(o) for o in orders]
        digest = _digest(
            f"{r['compound_id']}|{r['delivery_date']}|{r['order_id']}|{r['fingerprint']}"
            for r in rows
        )

        def work(conn: Connection) -> ImportResult:
            issues = self._check_orders(conn, orders, source)
            if issues:
                raise DataError(_capped(issues, source))
            import_id = self._batch(conn, "orders", source, digest, len(orders))
            existing = self._existing_orders(conn, orders)
            new: list[int] = []
            changed: list[tuple[int, int]] = []
            for index, order in enumerate(orders):
                rows[index]["import_id"] = import_id
                found = existing.get((order.compound_id, order.delivery_date, order.order_id))
                if found is None:
                    new.append(index)
                elif found[1] != rows[index]["fingerprint"]:
                    changed.append((index, found[0]))
            items: list[Row] = []
            for part in _chunks(new):
                conn.execute(insert(_ORDER), [rows[i] for i in part])
            if new:
                created = self._existing_orders(conn, [orders[i] for i in new])
                for i in new:
                    o = orders[i]
                    pk = created[(o.compound_id, o.delivery_date, o.order_id)][0]
                    items.extend(_item_rows(pk, o))
            if changed:
                values = [c.name for c in _ORDER.columns if c.name != "id"]
                replace = (
                    update(_ORDER)
                    .where(_ORDER.c.id == bindparam("k_id"))
                    .values({c: bindparam(f"v_{c}") for c in values})
                )
                for part_changed in _chunks(changed):
                    pks = [pk for _, pk in part_changed]
                    conn.execute(delete(_ITEM).where(_ITEM.c.order_pk.in_(pks)))
                    params = [
                        {"k_id": pk, **{f"v_{c}": rows[i][c] for c in values}}
                        for i, pk in part_changed
                    ]
                    conn.execute(replace, params)
                    for i, pk in part_changed:
                        items.extend(_item_rows(pk, orders[i]))
            for part_items in _chunks(items, 4 * CHUNK):
                conn.execute(insert(_ITEM), list(part_items))
            unchanged = len(orders) - len(new) - len(changed)
            return ImportResult("orders", source, len(new), len(changed), unchanged, import_id)

        return self._run_import(source, work)

    def _check_orders(
        self, conn: Connection, orders: Sequence[HouseholdOrder], source: str
    ) -> list[Issue]:
        """Orders repeated in the input, or naming an unknown compound, building or category."""
        compounds = self._ids(conn, _COMPOUND.c.compound_id)
        buildings = self._ids(conn, _BUILDING.c.compound_id, _BUILDING.c.building_id)
        categories = self._ids(conn, _CATEGORY.c.category_id)
        seen: set[OrderKey] = set()
        issues: list[Issue] = []
        for o in orders:
            key = (o.compound_id, o.delivery_date, o.order_id)
            what = f"order {o.order_id!r}"
            if key in seen:
                issues.append(
                    Issue(
                        source,
                        None,
                        "order_id",
                        f"{what} appears twice for {o.compound_id} on {o.delivery_date}",
                        "merge the two orders or give one a new order_id",
                        o.order_id,
                    )
                )
            seen.add(key)
            if o.compound_id not in compounds:
                issues.append(
                    Issue(
                        source,
                        None,
                        "compound_id",
                        f"{what} refers to an unknown compound",
                        "import the compound first or fix the compound_id",
                        o.compound_id,
                    )
                )
            elif (o.compound_id, o.building_id) not in buildings:
                issues.append(
                    Issue(
                        source,
                        None,
                        "building_id",
                        f"{what} refers to a building that {o.compound_id} does not have",
                        "import the building first or fix the building_id",
                        o.building_id,
                    )
                )
            for item in o.items:
                if item.category_id not in categories:
                    issues.append(
                        Issue(
                            source,
                            None,
                            "category_id",
                            f"{what} orders an unknown category",
                            "import the categories first or fix the category_id",
                            item.category_id,
                        )
                    )
        return issues

    @staticmethod
    def _existing_orders(
        conn: Connection, orders: Sequence[HouseholdOrder]
    ) -> dict[OrderKey, tuple[int, str]]:
        """(id, fingerprint) of stored orders by key, for the compounds and dates of ``orders``."""
        dates = sorted({o.delivery_date for o in orders})
        compounds = {o.compound_id for o in orders}
        found: dict[OrderKey, tuple[int, str]] = {}
        for part in _chunks(dates, 500):
            query = select(
                _ORDER.c.compound_id,
                _ORDER.c.delivery_date,
                _ORDER.c.order_id,
                _ORDER.c.id,
                _ORDER.c.fingerprint,
            ).where(_ORDER.c.delivery_date.in_(part))
            for compound_id, day, order_id, pk, fingerprint in conn.execute(query):
                if compound_id in compounds:
                    found[(compound_id, day, order_id)] = (pk, fingerprint)
        return found

    # --- reading ------------------------------------------------------------------------------

    def _read(
        self,
        table: Table,
        build: Callable[[Record], T],
        *order: str,
        compound_id: str | None = None,
    ) -> list[T]:
        query = select(table).order_by(*(table.c[name] for name in order))
        if compound_id is not None:
            query = query.where(table.c.compound_id == compound_id)
        with self.engine.connect() as conn:
            return [build(row) for row in conn.execute(query).mappings()]

    def compounds(self) -> list[Compound]:
        """Every compound, by id."""
        return self._read(_COMPOUND, _compound, "compound_id")

    def compound(self, compound_id: str) -> Compound | None:
        """One compound, or None if there is no such id."""
        query = select(_COMPOUND).where(_COMPOUND.c.compound_id == compound_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _compound(row)

    def buildings(self, compound_id: str | None = None) -> list[Building]:
        """Buildings of one compound (or all), by compound and building id."""
        return self._read(
            _BUILDING, _building, "compound_id", "building_id", compound_id=compound_id
        )

    def gates(self, compound_id: str | None = None) -> list[Gate]:
        """Gates of one compound (or all), by compound and gate id."""
        return self._read(_GATE, _gate, "compound_id", "gate_id", compound_id=compound_id)

    def lockdown(self, compound_id: str | None = None) -> list[LockdownStatus]:
        """Lockdown statuses of one compound (or all), by compound and start date."""
        return self._read(
            _LOCKDOWN, _lockdown, "compound_id", "valid_from", compound_id=compound_id
        )

    def categories(self) -> list[Category]:
        """Every category, by id."""
        return self._read(_CATEGORY, _category, "category_id")

    def supply(self) -> StoredSupply:
        """Every supplier with its depots, vehicles, drivers, certificates and offers, by id."""
        return StoredSupply(
            suppliers=tuple(self._read(_SUPPLIER, _supplier, "supplier_id")),
            depots=tuple(self._read(_DEPOT, _depot, "depot_id")),
            vehicles=tuple(self._read(_VEHICLE, _vehicle, "vehicle_id")),
            drivers=tuple(self._read(_DRIVER, _driver, "driver_id")),
            certificates=tuple(self._read(_CERTIFICATE, _certificate, "certificate_id")),
            offers=tuple(self._read(_OFFER, _offer, "offer_id")),
            crew=tuple(self._read(_CREW, _crew, "crew_id")),
        )

    def reference(self) -> Reference:
        """Stored compounds, buildings and categories as the order loader's ``Reference``."""
        from data.validate import Reference

        return Reference.from_models(
            compounds=self.compounds(), buildings=self.buildings(), categories=self.categories()
        )

    def orders(
        self, compound_id: str, delivery_date: dt.date | None = None
    ) -> list[HouseholdOrder]:
        """Household orders of one compound (optionally one date), by date and order_id.

        Household-level data (names, phones, rooms, priority flags): for the leader of the
        household's group only; dispatchers and drivers get aggregates of ``order_lines``.
        """
        where = [_ORDER.c.compound_id == compound_id]
        if delivery_date is not None:
            where.append(_ORDER.c.delivery_date == delivery_date)
        query = (
            select(_ORDER, _ITEM.c.category_id, _ITEM.c.quantity_units, _ITEM.c.product)
            .join(_ITEM, _ITEM.c.order_pk == _ORDER.c.id)
            .where(*where)
            .order_by(_ORDER.c.delivery_date, _ORDER.c.order_id, _ITEM.c.position)
        )
        grouped: dict[int, tuple[Record, list[OrderItem]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query).mappings():
                entry = grouped.setdefault(r["id"], (r, []))
                item = OrderItem(
                    category_id=r["category_id"],
                    quantity_units=r["quantity_units"],
                    product=r["product"],
                )
                entry[1].append(item)
        return [
            HouseholdOrder(
                order_id=r["order_id"],
                compound_id=r["compound_id"],
                building_id=r["building_id"],
                room=r["room"],
                delivery_date=r["delivery_date"],
                items=tuple(items),
                priority_flags=frozenset(r["priority_flags"]),
                proxy=r["proxy"],
                household_name=r["household_name"],
                phone=r["phone"],
            )
            for r, items in grouped.values()
        ]

    def order_lines(self, delivery_date: dt.date | None = None) -> pl.LazyFrame:
        """One row per order item with exactly ``ORDER_LINE_SCHEMA``: what aggregation reads."""
        query = (
            select(
                _ORDER.c.order_id,
                _ORDER.c.compound_id,
                _ORDER.c.building_id,
                _ORDER.c.household_key,
                _ORDER.c.delivery_date,
                _ITEM.c.category_id,
                _ITEM.c.quantity_units,
                _ORDER.c.priority,
            )
            .join(_ORDER, _ITEM.c.order_pk == _ORDER.c.id)
            .order_by(_ORDER.c.delivery_date, _ORDER.c.compound_id, _ORDER.c.order_id)
            .order_by(_ITEM.c.position)
        )
        if delivery_date is not None:
            query = query.where(_ORDER.c.delivery_date == delivery_date)
        names = ORDER_LINE_SCHEMA.names()
        columns: dict[str, list[Any]] = {name: [] for name in names}
        with self.engine.connect() as conn:
            result = conn.execute(query)
            while batch := result.fetchmany(50_000):
                for name, values in zip(names, zip(*batch, strict=True), strict=True):
                    columns[name].extend(values)
        return pl.DataFrame(columns, schema=ORDER_LINE_SCHEMA).lazy()
