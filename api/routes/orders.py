"""Household orders of a compound: import (CSV, XLSX or 接龙 text) and read, leader only.

Each order remembers the leader who last imported it (``order_importer``); only that
leader reads its household fields, other leaders of the compound get aggregates through
``/demand``. A 接龙 paste is checked against the building roster (``data.roster``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import Engine, delete, insert, select, tuple_

from api import audit, idempotency
from api.deps import StoreDep, User, require_compound
from api.errors import ApiError, not_found
from api.security import Principal
from api.uploads import load_upload, upload_name
from data.errors import DataError, Issue
from data.jielong import parse_jielong
from data.load import load_orders
from data.roster import room_issue
from data.schemas import HouseholdOrder
from data.tables import OrderImporterRow, table_of

router = APIRouter(prefix="/compounds/{compound_id}/orders", tags=["orders"])

_IMPORTERS = table_of(OrderImporterRow)
UPLOAD_SUFFIXES = (".csv", ".xlsx")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportSummary(BaseModel):
    """What an order import did, by orders (households), never by name."""

    compound_id: str
    orders: int
    inserted: int
    updated: int
    unchanged: int
    import_id: int | None


def _parse(
    compound_id: str,
    file: UploadFile | None,
    content: bytes,
    text: str | None,
    delivery_date: dt.date | None,
    store: StoreDep,
) -> list[HouseholdOrder]:
    """Orders from the upload or the pasted text; every row must be this compound's."""
    if file is not None:
        name = upload_name(file, "orders.csv", UPLOAD_SUFFIXES, "a .csv or .xlsx file")
        reference = store.reference()
        orders = load_upload(name, content, lambda path: load_orders(path, reference=reference))
        strangers = [
            Issue(
                name,
                None,
                "compound_id",
                f"order {o.order_id} is for {o.compound_id}",
                f"upload only compound {compound_id}'s orders here",
                o.compound_id,
            )
            for o in orders
            if o.compound_id != compound_id
        ]
        if strangers:
            raise DataError(strangers)
        return orders
    if not text:
        raise ApiError(422, "invalid_request", "send a file (CSV/XLSX) or 接龙 text", "file")
    if delivery_date is None:
        raise ApiError(422, "invalid_request", "a 接龙 paste needs delivery_date", "delivery_date")
    buildings = store.buildings(compound_id)
    orders = parse_jielong(
        text,
        compound_id=compound_id,
        delivery_date=delivery_date,
        categories=store.categories(),
        buildings=buildings,
        source="接龙",
    )
    by_id = {b.building_id: b for b in buildings}
    issues = [
        Issue("接龙", int(o.order_id.rsplit("-", 1)[-1]), "room", problem, "", o.room)
        for o in orders
        if (problem := room_issue(by_id[o.building_id], o.room)) is not None
    ]
    if issues:
        raise DataError(issues)
    return orders


def record_importer(engine: Engine, orders: Sequence[HouseholdOrder], username: str) -> None:
    """Remember ``username`` as the leader who imported ``orders`` (replacing the last one)."""
    keys = [(o.compound_id, o.delivery_date, o.order_id) for o in orders]
    columns = (_IMPORTERS.c.compound_id, _IMPORTERS.c.delivery_date, _IMPORTERS.c.order_id)
    with engine.begin() as conn:
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            conn.execute(delete(_IMPORTERS).where(tuple_(*columns).in_(part)))
            conn.execute(
                insert(_IMPORTERS),
                [
                    {"compound_id": c, "delivery_date": d, "order_id": o, "username": username}
                    for c, d, o in dict.fromkeys(part)
                ],
            )


@router.post("", response_model=ImportSummary, status_code=201)
def import_orders(
    compound_id: str,
    store: StoreDep,
    user: User,
    response: Response,
    file: Annotated[UploadFile | None, File(description="orders as CSV or XLSX")] = None,
    text: Annotated[str | None, Form(description="a pasted 接龙 list")] = None,
    delivery_date: Annotated[dt.date | None, Form(description="date of a 接龙 paste")] = None,
    idempotency_key: Annotated[
        str | None, Header(max_length=128, description="retry-safe key for this upload")
    ] = None,
) -> ImportSummary:
    """Import orders all or nothing (every bad row listed); a retried key changes nothing."""
    require_compound(user, compound_id, leader_only=True)
    content = file.file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", "orders upload over 20 MB; split it by date", "file")
    request_sha = idempotency.fingerprint(
        "orders", compound_id, content, text or "", str(delivery_date)
    )
    if not idempotency_key:
        return _import(store, user, compound_id, file, content, text, delivery_date)
    with idempotency.exclusive(store.engine, user.username, idempotency_key):
        stored = idempotency.replay(store.engine, user.username, idempotency_key, request_sha)
        if stored is not None:
            response.headers["Idempotent-Replayed"] = "true"
            return ImportSummary.model_validate(stored)
        summary = _import(store, user, compound_id, file, content, text, delivery_date)
        idempotency.remember(
            store.engine, user.username, idempotency_key, request_sha, 201, summary.model_dump()
        )
    return summary


def _import(
    store: StoreDep,
    user: Principal,
    compound_id: str,
    file: UploadFile | None,
    content: bytes,
    text: str | None,
    delivery_date: dt.date | None,
) -> ImportSummary:
    """Parse, import all or nothing, and audit one upload."""
    if store.compound(compound_id) is None:
        raise not_found("compound", compound_id)
    orders = _parse(compound_id, file, content, text, delivery_date, store)
    if not orders:
        raise ApiError(422, "invalid_request", "no orders found in the upload", "file")
    result = store.import_orders(orders, source=f"api:{user.username}:{compound_id}")
    record_importer(store.engine, orders, user.username)
    summary = ImportSummary(
        compound_id=compound_id,
        orders=len(orders),
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        import_id=result.import_id,
    )
    audit.record(
        store.engine, user, "orders.import", f"compound {compound_id}", after=summary.model_dump()
    )
    return summary


@router.get("", response_model=list[HouseholdOrder])
def list_orders(
    compound_id: str, store: StoreDep, user: User, delivery_date: dt.date | None = None
) -> list[HouseholdOrder]:
    """Household orders with names, rooms, phones and priority flags: the orders this leader
    imported only (other leaders of the compound read aggregates at ``/demand``)."""
    require_compound(user, compound_id, leader_only=True)
    query = select(_IMPORTERS.c.delivery_date, _IMPORTERS.c.order_id).where(
        _IMPORTERS.c.compound_id == compound_id, _IMPORTERS.c.username == user.username
    )
    with store.engine.connect() as conn:
        mine = {(day, order_id) for day, order_id in conn.execute(query)}
    return [
        o for o in store.orders(compound_id, delivery_date) if (o.delivery_date, o.order_id) in mine
    ]
