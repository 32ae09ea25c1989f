"""Suppliers with their depots, vehicles, drivers, certificates and offers.

A dispatcher reads and uploads only their own supplier's; an admin reads all and verifies
certificates (a dispatcher's upload always arrives unverified).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel
from sqlalchemy import update

from api import audit
from api.deps import StoreDep, User, require, require_supplier
from api.errors import ApiError, not_found
from api.security import Role
from api.uploads import load_upload, upload_name
from data.load import load_supply
from data.schemas import Certificate, Depot, Driver, HolderKind, Offer, Supplier, Vehicle
from data.store import StoredSupply
from data.tables import CertificateRow, table_of

router = APIRouter(tags=["suppliers"])
_CERTIFICATES = table_of(CertificateRow)


class SupplierDetail(BaseModel):
    """A supplier and everything it brings."""

    supplier: Supplier
    depots: list[Depot]
    vehicles: list[Vehicle]
    drivers: list[Driver]
    certificates: list[Certificate]
    offers: list[Offer]


class SupplyImport(BaseModel):
    """What a supply upload did."""

    supplier_id: str
    inserted: int
    updated: int
    unchanged: int


def _owned(supply: StoredSupply, supplier_id: str) -> SupplierDetail | None:
    found = [s for s in supply.suppliers if s.supplier_id == supplier_id]
    if not found:
        return None
    vehicles = [v for v in supply.vehicles if v.supplier_id == supplier_id]
    drivers = [d for d in supply.drivers if d.supplier_id == supplier_id]
    holders = {
        HolderKind.supplier: {supplier_id},
        HolderKind.vehicle: {v.vehicle_id for v in vehicles},
        HolderKind.driver: {d.driver_id for d in drivers},
    }
    return SupplierDetail(
        supplier=found[0],
        depots=[d for d in supply.depots if d.supplier_id == supplier_id],
        vehicles=vehicles,
        drivers=drivers,
        certificates=[
            c for c in supply.certificates if c.holder_id in holders.get(c.holder_kind, set())
        ],
        offers=[o for o in supply.offers if o.supplier_id == supplier_id],
    )


@router.get("/suppliers", response_model=list[Supplier])
def list_suppliers(store: StoreDep, user: User) -> list[Supplier]:
    """Every supplier (admin) or the dispatcher's own."""
    require(user, Role.admin, Role.dispatcher)
    suppliers = store.supply().suppliers
    if user.role is Role.dispatcher:
        return [s for s in suppliers if s.supplier_id == user.supplier_id]
    return list(suppliers)


@router.get("/suppliers/{supplier_id}", response_model=SupplierDetail)
def get_supplier(supplier_id: str, store: StoreDep, user: User) -> SupplierDetail:
    """A supplier with depots, vehicles, drivers, certificates and offers."""
    require_supplier(user, supplier_id)
    detail = _owned(store.supply(), supplier_id)
    if detail is None:
        raise not_found("supplier", supplier_id)
    return detail


@router.get("/suppliers/{supplier_id}/offers", response_model=list[Offer])
def list_offers(
    supplier_id: str, store: StoreDep, user: User, delivery_date: dt.date | None = None
) -> list[Offer]:
    """The supplier's offers, optionally of one delivery date."""
    detail = get_supplier(supplier_id, store, user)
    return [o for o in detail.offers if delivery_date in (None, o.delivery_date)]


@router.post("/suppliers/{supplier_id}/supply", response_model=SupplyImport, status_code=201)
def upload_supply(
    supplier_id: str,
    store: StoreDep,
    user: User,
    file: Annotated[UploadFile, File(description="YAML or JSON supply bundle")],
) -> SupplyImport:
    """Upsert the supplier's own depots, vehicles, drivers, certificates and offers."""
    require_supplier(user, supplier_id)
    name = upload_name(file, "supply.yaml", (".yaml", ".yml", ".json"), "a .yaml or .json file")
    reference = store.reference()
    bundle = load_upload(
        name, file.file.read(5 * 1024 * 1024), lambda path: load_supply(path, reference=reference)
    )
    owners = {
        *(s.supplier_id for s in bundle.suppliers),
        *(d.supplier_id for d in bundle.depots),
        *(v.supplier_id for v in bundle.vehicles),
        *(d.supplier_id for d in bundle.drivers),
        *(o.supplier_id for o in bundle.offers),
    }
    stored = _owned(store.supply(), supplier_id)
    own_holders = {
        supplier_id,
        *(v.vehicle_id for v in bundle.vehicles),
        *(d.driver_id for d in bundle.drivers),
        *((v.vehicle_id for v in stored.vehicles) if stored else ()),
        *((d.driver_id for d in stored.drivers) if stored else ()),
    }
    owners |= {f"holder {c.holder_id}" for c in bundle.certificates} - {
        f"holder {h}" for h in own_holders
    }
    strangers = sorted(owners - {supplier_id})
    if strangers:
        raise ApiError(
            403, "forbidden", f"the file holds other suppliers' data: {', '.join(strangers)}"
        )
    certificates = tuple(c.model_copy(update={"verified": False}) for c in bundle.certificates)
    result = store.import_supply(
        dataclasses.replace(bundle, certificates=certificates),
        source=f"api:{user.username}:{name}",
    )
    summary = SupplyImport(
        supplier_id=supplier_id,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    audit.record(
        store.engine, user, "supply.import", f"supplier {supplier_id}", after=summary.model_dump()
    )
    return summary


@router.post("/certificates/{certificate_id}/verify", response_model=Certificate)
def verify_certificate(certificate_id: str, store: StoreDep, user: User) -> Certificate:
    """Mark a certificate as checked against the paper original (admin, or a committee:
    suppliers serve across compounds, so any committee may check one)."""
    require(user, Role.admin, Role.committee)
    found = [c for c in store.supply().certificates if c.certificate_id == certificate_id]
    if not found:
        raise not_found("certificate", certificate_id)
    before = found[0]
    after = before.model_copy(update={"verified": True})
    with audit.write(store.engine) as conn:
        conn.execute(
            update(_CERTIFICATES)
            .where(_CERTIFICATES.c.certificate_id == certificate_id)
            .values(verified=True)
        )
        audit.append(
            conn,
            user,
            "certificate.verify",
            f"certificate {certificate_id}",
            **audit.changed(before, after),
        )
    return after
