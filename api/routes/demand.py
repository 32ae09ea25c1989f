"""Demand queries: totals per compound or building and category, never per household.

A dispatcher sees the compounds in their supplier's service area, a leader their own
compound, an admin every compound. Building rows hide priority counts from everyone but
the compound's leader when fewer than ``SMALL_COUNT`` households stand behind them, so
a total cannot point at one family's illness or pregnancy.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from api.demand_cache import DemandCache, Version
from api.deps import StoreDep, User, require
from api.security import Principal, Role
from data.aggregate import compound_demand
from data.store import Store

router = APIRouter(tags=["demand"])

SMALL_COUNT = 3
"""Building priority totals behind fewer households than this are withheld from non-leaders."""


class Level(enum.StrEnum):
    """Rows per compound × category or per building × category."""

    compound = "compound"
    building = "building"


class DemandLine(BaseModel):
    """Units and households wanting one category on one date, in one compound or building."""

    compound_id: str
    compound_name: str
    district: str
    building_id: str | None = None
    category_id: str
    delivery_date: dt.date
    quantity_units: int
    households: int
    priority_quantity_units: int | None = None
    priority_households: int | None = None


class DemandPage(BaseModel):
    """One page of demand lines and the totals over all pages."""

    total_lines: int
    total_units: int
    offset: int
    items: list[DemandLine]


def _scope(cache: DemandCache, user: Principal, day: dt.date, version: Version) -> set[str] | None:
    """Compound ids the user may query (None: all)."""
    if user.role is Role.admin:
        return None
    if user.role is Role.leader:
        return {user.compound_id} if user.compound_id else set()
    return set(cache.served(user.supplier_id or "", day, version))


def demand_frame(
    request: Request,
    store: Store,
    user: Principal,
    day: dt.date,
    level: Level,
    category_id: str | None,
    district: str | None,
    compound_id: str | None,
    version: Version | None = None,
) -> pl.DataFrame:
    """Filtered demand lines with compound name and district, sorted by keys."""
    cache: DemandCache = request.app.state.demand
    version = version or cache.version()
    frame = cache.building_demand(day, version)
    scope = _scope(cache, user, day, version)
    if scope is not None:
        frame = frame.filter(pl.col("compound_id").is_in(sorted(scope)))
    if compound_id:
        frame = frame.filter(pl.col("compound_id") == compound_id)
    if category_id:
        frame = frame.filter(pl.col("category_id") == category_id)
    if level is Level.compound:
        frame = compound_demand(frame.lazy()).collect().drop("buildings")
    elif user.role is not Role.leader:
        small = pl.col("priority_households").is_between(1, SMALL_COUNT - 1)
        frame = frame.with_columns(
            pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("priority_quantity_units", "priority_households")
        )
    names = cache.memo(
        "compound_names",
        lambda: pl.DataFrame(
            [(c.compound_id, c.name, c.district) for c in cache.compounds(version)],
            schema={"compound_id": pl.String, "compound_name": pl.String, "district": pl.String},
            orient="row",
        ),
        version,
    )
    frame = frame.join(names, on="compound_id", how="left")
    if district:
        frame = frame.filter(pl.col("district") == district)
    keys = ["compound_id", "building_id"] if level is Level.building else ["compound_id"]
    return frame.sort([*keys, "category_id"])


@router.get(
    "/demand",
    response_model=DemandPage,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
async def query_demand(
    request: Request,
    store: StoreDep,
    user: User,
    delivery_date: dt.date,
    level: Level = Level.compound,
    category_id: str | None = None,
    district: str | None = None,
    compound_id: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> DemandPage | Response:
    """Aggregated demand in the caller's scope, filtered and paginated (CSV: every line)."""
    require(user, Role.admin, Role.dispatcher, Role.leader)
    cache: DemandCache = request.app.state.demand
    version = await run_in_threadpool(cache.version)
    # the answer depends on the caller's scope (role and binding) and the query only
    who = (user.role, user.supplier_id, user.compound_id)
    query = (delivery_date, level, category_id, district, compound_id, offset, limit, format)

    def answer() -> bytes:
        frame = demand_frame(
            request, store, user, delivery_date, level, category_id, district, compound_id,
            version,
        )  # fmt: skip
        if format == "csv":
            return frame.write_csv().encode("utf-8")
        page = frame.slice(offset, limit)
        return (
            DemandPage(
                total_lines=frame.height,
                total_units=int(frame["quantity_units"].sum() or 0),
                offset=offset,
                items=[DemandLine.model_validate(row) for row in page.iter_rows(named=True)],
            )
            .model_dump_json()
            .encode("utf-8")
        )

    key = ("demand_answer", who, query)
    body = cache.peek(key, version)
    if body is None:  # built once per data version, off the event loop
        body = await run_in_threadpool(cache.memo, key, answer, version)
    if format == "csv":
        filename = f"demand-{delivery_date:%Y%m%d}-{level}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(body, media_type="application/json")
