"""Schemathesis over the whole OpenAPI schema, signed in as each role: no 5xx, no response
that breaks the schema (status codes, content types, bodies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from api.main import create_app
from data.store import Store
from tests.api.conftest import PASSWORD, seed, settings_for

ROLES = ["admin", "leader", "dispatcher", "driver"]
EXCLUDED = [positive_data_acceptance]
"""Schema-valid is not business-valid: a CSV with a bad row or a 接龙 paste without a date
is answered 422 with the rows listed, by design. Every other default check runs: no 5xx,
status codes, content types, headers and bodies as the schema says."""


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on a seeded SQLite database, jobs not started (a submitted job stays queued)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    store = Store.open(url)
    store.migrate()
    seed(store)
    store.close()
    app = create_app(settings_for(url), start_jobs=False)
    with TestClient(app):
        yield app


@pytest.fixture(scope="module")
def bearer(fuzz_app: FastAPI) -> dict[str, dict[str, str]]:
    """Authorization headers per role."""
    client = TestClient(fuzz_app)
    headers = {}
    for role in ROLES:
        reply = client.post("/auth/token", data={"username": role, "password": PASSWORD})
        headers[role] = {"Authorization": f"Bearer {reply.json()['access_token']}"}
    return headers


def test_api_conforms_to_its_schema(fuzz_app: FastAPI, bearer: dict[str, dict[str, str]]) -> None:
    """Every operation, a few generated requests each, sent as every role.

    Runs on schemathesis's Python API with Hypothesis directly (its pytest plugin does not
    collect under this pytest), so a failure names the operation and the example.
    """
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself must be valid
        operations.append(result.ok())
    assert len(operations) >= 25  # every router is in the schema

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for role in ROLES:
                case.call_and_validate(headers=bearer[role], excluded_checks=EXCLUDED)

        run()
