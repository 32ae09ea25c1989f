"""An API app per backend (SQLite file, PostgreSQL schema) seeded with the tiny API day.

Users: one per role and object, password ``PASSWORD``; ``tokens`` maps a user name to its
bearer header, and ``anonymous`` to no header.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from api.accounts import add_user
from api.main import create_app
from api.routes.orders import record_importer
from api.security import Role
from api.settings import Settings
from data import load
from data.store import Store

API = Path(__file__).resolve().parents[1] / "instances" / "api"
PASSWORD = "correct-horse-7"
USERS: dict[str, tuple[Role, str | None]] = {
    "admin": (Role.admin, None),
    "leader": (Role.leader, "c-huamu"),
    "leader_other": (Role.leader, "c-tangqiao"),
    "dispatcher": (Role.dispatcher, "sup-a"),
    "dispatcher_other": (Role.dispatcher, "sup-b"),
    "driver": (Role.driver, "drv-a1"),
    "driver_other": (Role.driver, "drv-b1"),
}
"""Who signs in: ``leader`` is c-huamu's, ``dispatcher`` sup-a's, ``driver`` drv-a1."""


def seed(store: Store) -> None:
    """Import the API day and create one user per role and object."""
    store.import_compounds(
        load.load_compounds(API / "compounds.csv"),
        load.load_buildings(API / "buildings.csv"),
        load.load_gates(API / "gates.csv"),
        source="seed",
    )
    store.import_categories(load.load_categories(API / "categories.yaml"), source="seed")
    store.import_supply(load.load_supply(API / "supply.yaml"), source="seed")
    orders = load.load_orders(API / "orders.csv", reference=store.reference())
    store.import_orders(orders, source="seed")
    leaders = {bound: name for name, (role, bound) in USERS.items() if role is Role.leader}
    for compound_id, leader in leaders.items():  # as if each leader had imported their own
        record_importer(store.engine, [o for o in orders if o.compound_id == compound_id], leader)
    for name, (role, bound) in USERS.items():
        add_user(store.engine, name, PASSWORD, role, bound_to=bound, by="seed")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def api_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A seeded database for one test module: SQLite file or fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
        cleanup = None
    else:
        database: URL = request.getfixturevalue("postgres_url")
        schema = f"api_{secrets.token_hex(6)}"
        admin = create_engine(database, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
        cleanup = (admin, schema)
    store = Store.open(url)
    store.migrate()
    seed(store)
    store.close()
    try:
        yield url
    finally:
        if cleanup is not None:
            admin, schema = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def settings_for(url: str) -> Settings:
    """Settings of a test server on ``url`` with short solver limits."""
    return Settings(
        database_url=url,
        jwt_secret="test-secret-" + "x" * 32,
        match_time_limit_s=5,
        route_time_limit_s=5,
    )


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[TestClient]:
    """A running app (lifespan started, job workers ready) on the module's database."""
    with TestClient(create_app(settings_for(api_url))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def tokens(client: TestClient) -> dict[str, dict[str, str]]:
    """Authorization headers by user name; ``anonymous`` has none."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for name in USERS:
        reply = client.post("/auth/token", data={"username": name, "password": PASSWORD})
        assert reply.status_code == 200, reply.text
        headers[name] = {"Authorization": f"Bearer {reply.json()['access_token']}"}
    return headers
