"""Shared fixtures: a migrated ``Store`` on SQLite (a tmp file) and on PostgreSQL.

PostgreSQL tests run against the server at 127.0.0.1:5432 (trust auth, database ``test``,
user ``postgres`` or the OS user; ``LINLI_TEST_POSTGRES_URL`` overrides). Each test session
creates its own database ``linli_test_<random>`` and drops it at the end; each test gets a
fresh schema in it (``search_path``), so tests never see each other's rows. When the server
is unreachable the PostgreSQL tests fail with ``CI=true`` and are skipped otherwise.
"""

from __future__ import annotations

import getpass
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from data.store import Store

# rich sizes the CLI's console when `api.cli` is imported; a wide one keeps long paths and
# identifiers in asserted messages from being folded mid-word.
os.environ.setdefault("COLUMNS", "200")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _admin_urls() -> list[URL]:
    """Where to look for the PostgreSQL server, most specific first."""
    given = os.environ.get("LINLI_TEST_POSTGRES_URL")
    if given:
        return [make_url(given.replace("postgresql://", "postgresql+psycopg://", 1))]
    users = dict.fromkeys(["postgres", getpass.getuser()])
    return [
        URL.create(
            "postgresql+psycopg", username=user, host="127.0.0.1", port=5432, database="test"
        )
        for user in users
    ]


def _admin_engine() -> tuple[Engine | None, str]:
    """An AUTOCOMMIT engine on the ``test`` database, or None and why not."""
    errors = []
    for url in _admin_urls():
        engine = create_engine(
            url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as error:
            engine.dispose()
            first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            errors.append(f"{url.render_as_string()}: {first}")
            continue
        return engine, ""
    return None, "; ".join(errors)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL]:
    """URL of a database created for this test session, dropped afterwards."""
    admin, why = _admin_engine()
    if admin is None:
        message = (
            f"PostgreSQL is unreachable ({why}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect 15 main start` "
            "or point LINLI_TEST_POSTGRES_URL at a server."
        )
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"CI=true and the PostgreSQL store tests cannot run: {message}")
        pytest.skip(message)
    name = f"linli_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a tmp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'linli.db'}"
        return
    database: URL = request.getfixturevalue("postgres_url")
    schema = f"t_{secrets.token_hex(6)}"
    engine = create_engine(database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    opened = Store.open(store_url)
    try:
        opened.migrate()
        yield opened
    finally:
        opened.close()
