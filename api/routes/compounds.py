"""Compounds, their buildings, gates and lockdown status (admin sets the status)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel

from api import audit
from api.deps import StoreDep, User, require, require_compound, require_governs
from api.errors import ApiError, not_found
from api.security import Principal, Role
from api.uploads import load_upload, upload_name
from data.load import load_buildings, load_compounds, load_gates
from data.schemas import Building, Compound, Datum, Gate, LockdownLevel, LockdownStatus
from data.store import Store

router = APIRouter(prefix="/compounds", tags=["compounds"])


class CompoundPage(BaseModel):
    """One page of compounds."""

    total: int
    offset: int
    items: list[Compound]


class LockdownChange(BaseModel):
    """A new lockdown status for a compound from a date (until a date, or open-ended)."""

    level: LockdownLevel
    valid_from: dt.date
    valid_until: dt.date | None = None

    model_config = {
        "json_schema_extra": {"examples": [{"level": "sealed", "valid_from": "2022-04-15"}]}
    }


def visible_compound(store: Store, user: Principal, compound_id: str) -> Compound:
    """The compound if ``user`` may see it: admin and dispatchers any, a leader their own."""
    if user.role is Role.driver:
        raise ApiError(403, "forbidden", "drivers read compounds on their route sheet")
    if user.role is Role.leader:
        require_compound(user, compound_id)
    found = store.compound(compound_id)
    if found is None:
        raise not_found("compound", compound_id)
    return found


@router.get("", response_model=CompoundPage)
def list_compounds(
    store: StoreDep,
    user: User,
    district: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CompoundPage:
    """Compounds by id (a leader gets only their own), filtered by district, paginated."""
    require(user, Role.admin, Role.dispatcher, Role.leader)
    items = store.compounds()
    if user.role is Role.leader:
        items = [c for c in items if c.compound_id == user.compound_id]
    if district:
        items = [c for c in items if c.district == district]
    return CompoundPage(total=len(items), offset=offset, items=items[offset : offset + limit])


class GeoKind(enum.StrEnum):
    """What an admin's geodata upload holds."""

    compounds = "compounds"
    buildings = "buildings"
    gates = "gates"


class GeoImport(BaseModel):
    """What a geodata upload did."""

    kind: GeoKind
    inserted: int
    updated: int
    unchanged: int


@router.post("/import", response_model=GeoImport, status_code=201)
def import_geodata(
    store: StoreDep,
    user: User,
    file: Annotated[UploadFile, File(description="CSV, XLSX or GeoJSON")],
    kind: GeoKind = GeoKind.compounds,
    datum: Datum = Datum.wgs84,
) -> GeoImport:
    """Upsert compounds, buildings or gates (admin), all or nothing, every bad row listed."""
    require(user, Role.admin)
    name = upload_name(file, "upload.csv", (".csv", ".xlsx", ".geojson", ".json"),
                       "CSV, XLSX or GeoJSON")  # fmt: skip
    content = file.file.read(50 * 1024 * 1024)
    if kind is GeoKind.compounds:
        compounds = load_upload(name, content, lambda path: load_compounds(path, datum=datum))
        result = store.import_compounds(compounds, source=name)
    elif kind is GeoKind.buildings:
        reference = store.reference()
        buildings = load_upload(
            name, content, lambda path: load_buildings(path, datum=datum, reference=reference)
        )
        result = store.import_compounds((), buildings, source=name)
    else:
        reference = store.reference()
        gates = load_upload(
            name, content, lambda path: load_gates(path, datum=datum, reference=reference)
        )
        result = store.import_compounds((), gates=gates, source=name)
    summary = GeoImport(
        kind=kind, inserted=result.inserted, updated=result.updated, unchanged=result.unchanged
    )
    audit.record(store.engine, user, f"{kind}.import", name, after=summary.model_dump())
    return summary


@router.get("/{compound_id}", response_model=Compound)
def get_compound(compound_id: str, store: StoreDep, user: User) -> Compound:
    """One compound."""
    return visible_compound(store, user, compound_id)


@router.get("/{compound_id}/buildings", response_model=list[Building])
def list_buildings(compound_id: str, store: StoreDep, user: User) -> list[Building]:
    """The compound's buildings (households as counts only)."""
    visible_compound(store, user, compound_id)
    return store.buildings(compound_id)


@router.get("/{compound_id}/gates", response_model=list[Gate])
def list_gates(compound_id: str, store: StoreDep, user: User) -> list[Gate]:
    """The compound's gates with receiving hours and truck limits."""
    visible_compound(store, user, compound_id)
    return store.gates(compound_id)


@router.get("/{compound_id}/lockdown", response_model=list[LockdownStatus])
def list_lockdown(compound_id: str, store: StoreDep, user: User) -> list[LockdownStatus]:
    """The compound's lockdown statuses by start date."""
    visible_compound(store, user, compound_id)
    return store.lockdown(compound_id)


@router.put("/{compound_id}/lockdown", response_model=LockdownStatus)
def set_lockdown(
    compound_id: str, change: LockdownChange, store: StoreDep, user: User
) -> LockdownStatus:
    """Set the compound's lockdown level from a date (admin or the compound's committee);
    audited with before/after."""
    require_governs(user, compound_id)
    if store.compound(compound_id) is None:
        raise not_found("compound", compound_id)
    try:
        status = LockdownStatus(compound_id=compound_id, **change.model_dump())
    except ValueError as error:
        raise ApiError(422, "invalid_request", str(error), "valid_until") from error
    before = [s for s in store.lockdown(compound_id) if s.valid_from == status.valid_from]
    store.import_compounds((), lockdown=[status], source=f"api:{user.username}")
    audit.record(
        store.engine,
        user,
        "lockdown.set",
        f"compound {compound_id}",
        **audit.changed(before[0] if before else None, status),
    )
    return status
