"""The store on SQLite and PostgreSQL: migrations, round trips, all-or-nothing imports."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from data.errors import DataError
from data.schemas import (
    ORDER_LINE_SCHEMA,
    SHANGHAI,
    Building,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    Gate,
    HolderKind,
    Hours,
    HouseholdOrder,
    LockdownLevel,
    LockdownStatus,
    Offer,
    OrderItem,
    PriorityFlag,
    ServiceArea,
    Supplier,
    Vehicle,
)
from data.store import ImportResult, Store, StoredSupply, database_url
from data.tables import Base

DAY = dt.date(2022, 4, 15)
NEXT_DAY = dt.date(2022, 4, 16)
UTC_PLUS_9 = dt.timezone(dt.timedelta(hours=9))


# --- tiny inputs ------------------------------------------------------------------------------


def compounds() -> list[Compound]:
    return [
        Compound(
            compound_id="c1",
            name="金桥新村",
            district="浦东新区",
            street="金桥镇",
            lon=121.58,
            lat=31.26,
            households=240,
            receiving_hours=Hours(opens_at=dt.time(8, 0), closes_at=dt.time(17, 30)),
        ),
        Compound(
            compound_id="c2",
            name="长宁花园",
            district="长宁区",
            lon=121.42,
            lat=31.22,
            households=120,
            synthetic=True,
        ),
    ]


def buildings() -> list[Building]:
    return [
        Building(
            building_id="b1",
            compound_id="c1",
            name="1号楼",
            lon=121.581,
            lat=31.261,
            households=120,
            floors=18,
        ),
        Building(
            building_id="b2",
            compound_id="c1",
            name="2号楼",
            lon=121.582,
            lat=31.262,
            households=120,
        ),
        Building(
            building_id="b1",
            compound_id="c2",
            name="1号楼",
            lon=121.421,
            lat=31.221,
            households=120,
        ),
    ]


def gates() -> list[Gate]:
    return [
        Gate(gate_id="north", compound_id="c1", name="北门", lon=121.58, lat=31.262, max_trucks=2),
        Gate(gate_id="main", compound_id="c2", name="正门", lon=121.42, lat=31.22),
    ]


def lockdown() -> list[LockdownStatus]:
    return [
        LockdownStatus(
            compound_id="c1",
            level=LockdownLevel.sealed,
            valid_from=DAY,
            valid_until=dt.date(2022, 4, 28),
        ),
        LockdownStatus(compound_id="c2", level=LockdownLevel.controlled, valid_from=DAY),
    ]


def categories() -> list[Category]:
    return [
        Category(
            category_id="meat",
            name_zh="肉类",
            name_en="meat",
            unit="份",
            unit_weight_g=2000,
            cold_chain=True,
            required_certificates=(CertificateType.quarantine_report,),
            aliases=("猪肉", "肉套餐"),
        ),
        Category(
            category_id="veg",
            name_zh="蔬菜",
            name_en="vegetables",
            unit="份",
            unit_weight_g=5000,
            aliases=("蔬菜套餐",),
        ),
    ]


@dataclass(frozen=True)
class Bundle:
    """Stands in for data.load.SupplyBundle."""

    suppliers: tuple[Supplier, ...]
    depots: tuple[Depot, ...]
    vehicles: tuple[Vehicle, ...]
    drivers: tuple[Driver, ...]
    certificates: tuple[Certificate, ...]
    offers: tuple[Offer, ...]


def supply() -> Bundle:
    start = dt.datetime(2022, 4, 10, 8, 0, tzinfo=SHANGHAI)
    return Bundle(
        suppliers=(
            Supplier(
                supplier_id="s1",
                name="叮咚保供",
                contact_phone="021-1234",
                lockdown_levels_served=frozenset({LockdownLevel.sealed, LockdownLevel.controlled}),
            ),
        ),
        depots=(
            Depot(
                depot_id="d1",
                supplier_id="s1",
                name="浦东仓",
                lon=121.6,
                lat=31.2,
                hours=Hours(opens_at=dt.time(4, 0), closes_at=dt.time(23, 0)),
            ),
        ),
        vehicles=(
            Vehicle(
                vehicle_id="v1",
                supplier_id="s1",
                depot_id="d1",
                plate="沪A12345",
                capacity_kg=2000,
                capacity_units=400,
                refrigerated=True,
                fixed_cost_cents=15000,
            ),
        ),
        drivers=(
            Driver(
                driver_id="dr1",
                supplier_id="s1",
                name="王师傅",
                test_taken_at=dt.datetime(2022, 4, 14, 7, 30, tzinfo=SHANGHAI),
            ),
            Driver(driver_id="dr2", supplier_id="s1", name="李师傅"),
        ),
        certificates=(
            Certificate(
                certificate_id="cert1",
                type=CertificateType.supply_permit,
                holder_kind=HolderKind.supplier,
                holder_id="s1",
                valid_from=start,
                valid_until=start + dt.timedelta(days=30),
                verified=True,
            ),
            Certificate(
                certificate_id="cert2",
                type=CertificateType.driver_test,
                holder_kind=HolderKind.driver,
                holder_id="dr1",
                valid_from=dt.datetime(2022, 4, 14, 8, 30, tzinfo=UTC_PLUS_9),
                valid_until=dt.datetime(2022, 4, 16, 8, 30, tzinfo=dt.UTC),
            ),
        ),
        offers=(
            Offer(
                offer_id="o-veg",
                supplier_id="s1",
                category_id="veg",
                delivery_date=DAY,
                capacity_units=300,
                unit_price_cents=3500,
                list_price_cents=3900,
                min_order_units=50,
                case_size_units=10,
                package_name="蔬菜套餐 5kg",
                service_area=ServiceArea(districts=("浦东新区", "长宁区")),
                depot_ids=("d1",),
            ),
            Offer(
                offer_id="o-meat",
                supplier_id="s1",
                category_id="meat",
                delivery_date=DAY,
                capacity_units=100,
                unit_price_cents=8800,
                service_area=ServiceArea(max_distance_m=15_000),
                depot_ids=("d1",),
            ),
        ),
    )


def order(
    order_id: str,
    compound_id: str = "c1",
    building_id: str = "b1",
    room: str = "101",
    day: dt.date = DAY,
    items: tuple[tuple[str, int], ...] = (("veg", 2), ("meat", 1)),
    **fields: object,
) -> HouseholdOrder:
    return HouseholdOrder.model_validate(
        {
            "order_id": order_id,
            "compound_id": compound_id,
            "building_id": building_id,
            "room": room,
            "delivery_date": day,
            "items": [
                {"category_id": c, "quantity_units": q, "product": f"{c}套餐"} for c, q in items
            ],
            **fields,
        }
    )


def orders() -> list[HouseholdOrder]:
    return [
        order(
            "1",
            priority_flags=frozenset({PriorityFlag.elderly, PriorityFlag.infant}),
            household_name="张阿姨",
            phone="13800000001",
            proxy=True,
        ),
        order("2", room="102", items=(("veg", 3),)),
        order("3", building_id="b2", room="301", items=(("veg", 1), ("meat", 2))),
        order("1", compound_id="c2", room="501", items=(("meat", 4),)),
        order("1", day=NEXT_DAY, items=(("veg", 5),)),
    ]


def loaded(store: Store) -> Store:
    """``store`` with every kind of reference data and the orders imported."""
    store.import_compounds(compounds(), buildings(), gates(), lockdown(), source="compounds.csv")
    store.import_categories(categories(), source="categories.yaml")
    store.import_supply(supply(), source="supply.yaml")
    store.import_orders(orders(), source="orders.csv")
    return store


# --- schema -----------------------------------------------------------------------------------


def test_migrate_empty_database(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.revision() is None
        store.migrate()
        assert store.revision() == "0006"
        counts = store.counts()
        assert set(counts) == {table.name for table in Base.metadata.sorted_tables}
        assert all(count == 0 for count in counts.values())
        store.migrate()  # already at head: nothing to do
        assert store.revision() == "0006"


def test_migrated_schema_matches_orm_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'fk.db'}") as store, store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_database_url_defaults_and_driver(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / '.linli' / 'linli.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/linli")
    assert database_url() == "postgresql+psycopg://u@db:5432/linli"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.delenv("DATABASE_URL")
    with Store.open() as store:
        store.migrate()
        assert (tmp_path / ".linli" / "linli.db").is_file()


# --- round trips ------------------------------------------------------------------------------


def test_import_and_read_back_equals_input(store: Store) -> None:
    loaded(store)
    assert store.compounds() == compounds()
    assert store.buildings() == sorted(buildings(), key=lambda b: (b.compound_id, b.building_id))
    assert store.buildings("c2") == [b for b in buildings() if b.compound_id == "c2"]
    assert store.gates() == gates()
    assert store.gates("c1") == [gates()[0]]
    assert store.lockdown() == lockdown()
    assert store.categories() == sorted(categories(), key=lambda c: c.category_id)
    bundle = supply()
    assert store.supply() == StoredSupply(
        suppliers=bundle.suppliers,
        depots=bundle.depots,
        vehicles=bundle.vehicles,
        drivers=bundle.drivers,
        certificates=bundle.certificates,
        offers=tuple(sorted(bundle.offers, key=lambda o: o.offer_id)),
    )
    c1 = [o for o in orders() if o.compound_id == "c1"]
    assert store.orders("c1") == c1
    assert store.orders("c1", NEXT_DAY) == [o for o in c1 if o.delivery_date == NEXT_DAY]
    assert store.orders("c2") == [orders()[3]]
    assert store.orders("nowhere") == []


def test_datetimes_stay_timezone_aware(store: Store) -> None:
    loaded(store)
    stored = store.supply()
    taken = stored.drivers[0].test_taken_at
    assert taken is not None and taken.utcoffset() == dt.timedelta(hours=8)
    assert taken == dt.datetime(2022, 4, 14, 7, 30, tzinfo=SHANGHAI)
    cert = stored.certificates[1]
    assert cert.valid_from == dt.datetime(2022, 4, 14, 7, 30, tzinfo=SHANGHAI)  # same instant
    assert cert.valid_until == dt.datetime(2022, 4, 16, 16, 30, tzinfo=SHANGHAI)
    assert all(c.valid_from.tzinfo is not None for c in stored.certificates)


# --- idempotence and replacement --------------------------------------------------------------


def test_reimporting_identical_data_is_a_no_op(store: Store) -> None:
    loaded(store)
    before = store.counts()
    result = store.import_orders(orders(), source="orders-again.csv")
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, len(orders()))
    assert "5 unchanged" in str(result) and "orders-again.csv" in str(result)
    again = store.import_compounds(
        compounds(), buildings(), gates(), lockdown(), source="compounds.csv"
    )
    assert again.inserted == again.updated == 0
    assert again.unchanged == 9
    assert store.import_supply(supply(), source="supply.yaml").unchanged == 9
    assert store.import_categories(categories(), source="x").unchanged == 2
    assert store.counts() == before


def test_reimport_in_another_order_or_process_adds_no_batch(store: Store) -> None:
    loaded(store)
    before = store.counts()
    result = store.import_orders(list(reversed(orders())), source="orders-shuffled.csv")
    assert result.unchanged == len(orders())
    assert store.counts() == before
    # Set fields (lockdown levels served) hash the same in a process with another hash seed.
    script = (
        "import sys; sys.path.insert(0, '.'); from tests.data.test_store import supply; "
        "from data.store import _canonical; "
        "print([_canonical(s) for s in supply().suppliers])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_first_import_counts(store: Store) -> None:
    store.import_compounds(compounds(), buildings(), source="compounds.csv")
    store.import_categories(categories(), source="categories.yaml")
    result = store.import_orders(orders(), source="orders.csv")
    assert result == ImportResult("orders", "orders.csv", 5, 0, 0, result.import_id)
    assert result.total == 5
    counts = store.counts()
    assert counts["household_order"] == 5
    assert counts["order_item"] == sum(len(o.items) for o in orders())
    assert counts["import_batch"] == 3


def test_changed_order_replaces_its_items(store: Store) -> None:
    loaded(store)
    before = store.counts()
    changed = [*orders()]
    changed[0] = changed[0].model_copy(
        update={"items": (OrderItem(category_id="meat", quantity_units=7),), "room": "101A"}
    )
    result = store.import_orders(changed, source="orders-v2.csv")
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 4)
    after = store.counts()
    assert after["household_order"] == before["household_order"]
    assert after["order_item"] == before["order_item"] - 1
    assert after["import_batch"] == before["import_batch"] + 1
    assert store.orders("c1", DAY)[0] == changed[0]
    assert store.orders("c1", DAY)[1:] == orders()[1:3]


def test_changed_reference_data_is_updated(store: Store) -> None:
    loaded(store)
    moved = compounds()[0].model_copy(update={"households": 260})
    result = store.import_compounds([moved], source="fix.csv")
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 0)
    assert store.compounds()[0].households == 260


# --- all or nothing ---------------------------------------------------------------------------


def test_unknown_compound_rejects_the_whole_import(store: Store) -> None:
    loaded(store)
    before = store.counts()
    bad = [order("new-ok", room="999"), order("ghost", compound_id="c9")]
    with pytest.raises(DataError) as caught:
        store.import_orders(bad, source="bad-orders.csv")
    message = str(caught.value)
    assert "bad-orders.csv" in message and "'ghost'" in message and "compound_id" in message
    assert "c9" in message
    assert [issue.field for issue in caught.value.issues] == ["compound_id"]
    assert store.counts() == before
    assert "new-ok" not in {o.order_id for o in store.orders("c1")}


def test_unknown_building_and_category_are_named(store: Store) -> None:
    loaded(store)
    bad = [order("x", building_id="b9"), order("y", items=(("milk", 1),))]
    with pytest.raises(DataError) as caught:
        store.import_orders(bad, source="bad.csv")
    fields = sorted(str(issue.field) for issue in caught.value.issues)
    assert fields == ["building_id", "category_id"]


def test_repeated_order_in_one_import_is_rejected(store: Store) -> None:
    loaded(store)
    before = store.counts()
    with pytest.raises(DataError, match="appears twice"):
        store.import_orders([order("9"), order("9", room="202")], source="dup.csv")
    assert store.counts() == before


def test_database_constraint_violation_rolls_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded(store)
    before = store.counts()
    monkeypatch.setattr(Store, "_check_orders", lambda self, conn, orders, source: [])
    bad = [order("fine", room="888"), order("ghost", compound_id="c1", building_id="b9")]
    with pytest.raises(DataError, match="refused the import") as caught:
        store.import_orders(bad, source="unchecked.csv")
    assert "unchecked.csv" in str(caught.value)
    assert store.counts() == before


def test_supply_with_unknown_references_is_rejected(store: Store) -> None:
    loaded(store)
    before = store.counts()
    bundle = supply()
    bad = Bundle(
        suppliers=(),
        depots=(),
        vehicles=(bundle.vehicles[0].model_copy(update={"vehicle_id": "v2", "depot_id": "d9"}),),
        drivers=(bundle.drivers[0].model_copy(update={"driver_id": "dr9", "supplier_id": "s9"}),),
        certificates=(),
        offers=(bundle.offers[0].model_copy(update={"offer_id": "o9", "category_id": "fish"}),),
    )
    with pytest.raises(DataError) as caught:
        store.import_supply(bad, source="bad-supply.yaml")
    fields = sorted(str(issue.field) for issue in caught.value.issues)
    assert fields == ["category_id", "depot_id", "supplier_id"]
    assert store.counts() == before


def test_building_of_unknown_compound_is_rejected(store: Store) -> None:
    with pytest.raises(DataError, match="unknown compound"):
        store.import_compounds(compounds()[:1], buildings(), source="b.csv")
    assert all(count == 0 for count in store.counts().values())


# --- order lines ------------------------------------------------------------------------------


def test_order_lines_schema_and_totals(store: Store) -> None:
    empty = store.order_lines().collect()
    assert empty.schema == ORDER_LINE_SCHEMA and empty.height == 0
    loaded(store)
    lines = store.order_lines().collect()
    assert lines.schema == ORDER_LINE_SCHEMA
    assert lines.height == sum(len(o.items) for o in orders())
    totals = dict(lines.group_by("category_id").agg(pl.col("quantity_units").sum()).iter_rows())
    assert totals == {"veg": 2 + 3 + 1 + 5, "meat": 1 + 2 + 4}
    day = store.order_lines(DAY).collect()
    assert set(day["delivery_date"]) == {DAY}
    assert day["quantity_units"].sum() == 2 + 1 + 3 + 1 + 2 + 4
    priority = day.filter(pl.col("priority"))
    assert priority["order_id"].unique().to_list() == ["1"]
    assert priority["compound_id"].unique().to_list() == ["c1"]
    # one household key per (compound, building, room); opaque, no room number inside
    keys = lines.select("compound_id", "building_id", "household_key").unique()
    assert keys.height == lines["household_key"].n_unique() == 5 - 1
    assert not any("101" in key for key in lines["household_key"])
