"""The HTTP API: ``create_app()`` wires settings, the store, jobs, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.demand_cache import DemandCache
from api.errors import ERROR_RESPONSES, install_handlers
from api.jobs import JobRunner
from api.routes import (
    audit,
    auth,
    claims,
    compounds,
    crews,
    demand,
    documents,
    groups,
    handout,
    jobs,
    offers,
    orders,
    payments,
    pickup_pins,
    pooling,
    receipts,
    reports,
    resident,
    route_sheets,
    schedule,
    signups,
    supplier_choice,
    suppliers,
)
from api.settings import Settings
from api.web import mount_web
from data.store import Store

DESCRIPTION = """\
linli (邻里) plans food for residential compounds under lockdown.

Sign in at `/auth/token` (OAuth2 password flow) and send `Authorization: Bearer <token>`.
Roles: **admin**; **leader** of one compound; **dispatcher** of one supplier; **driver**.
A leader sees and changes only their compound, a dispatcher only their supplier, a driver
only their own route sheet. Household-level fields (names, rooms, phones, priority flags)
appear only in the leader's responses for their own compound; everyone else gets totals.
Errors are JSON: `{"error": code, "detail": ..., "field": ...}`. An object outside your
scope answers 403 whether or not it exists, so ids cannot be probed.
"""


def create_app(settings: Settings | None = None, *, start_jobs: bool = True) -> FastAPI:
    """The API on ``settings`` (from the environment by default), schema migrated."""
    settings = settings or Settings()
    store = Store.open(settings.url())
    store.migrate()
    runner = JobRunner(store, settings, workers=settings.job_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.recover_jobs:
            runner.recover()
        if start_jobs:
            runner.start()
        try:
            yield
        finally:
            runner.stop()
            store.close()

    app = FastAPI(
        title="linli",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.jobs = runner
    app.state.demand = DemandCache(store)
    install_handlers(app)
    for module in (
        auth,
        compounds,
        orders,
        demand,
        suppliers,
        jobs,
        route_sheets,
        documents,
        groups,
        signups,
        payments,
        resident,
        audit,
        handout,
        pickup_pins,
        pooling,
        crews,
        schedule,
        receipts,
        claims,
        offers,
        supplier_choice,
        reports,
    ):
        app.include_router(module.router)
    mount_web(app)
    return app
