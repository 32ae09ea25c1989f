"""Household orders of a compound: import (CSV, XLSX or 接龙 text) and read, leader only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import BaseModel

from api import audit, idempotency
from api.deps import StoreDep, User, require_compound
from api.errors import ApiError, not_found
from api.security import Principal
from api.uploads import load_upload, upload_name
from data.errors import DataError, Issue
from data.jielong import parse_jielong
from data.load import load_orders
from data.schemas import HouseholdOrder

router = APIRouter(prefix="/compounds/{compound_id}/orders", tags=["orders"])

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
    return parse_jielong(
        text,
        compound_id=compound_id,
        delivery_date=delivery_date,
        categories=store.categories(),
        buildings=store.buildings(compound_id),
        source="接龙",
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
    """Household orders with names, rooms, phones and priority flags: this leader only."""
    require_compound(user, compound_id, leader_only=True)
    return store.orders(compound_id, delivery_date)
