"""SQLAlchemy 2 tables of the store: one per wire model of ``data.schemas``, plus import batches.

Money is integer cents, datetimes are ``DateTime(timezone=True)`` (stored as UTC, read back
in Asia/Shanghai), enums are their string values, sets and lists are JSON arrays. The schema
itself is created by the Alembic migrations in ``data/migrations``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from data.schemas import SHANGHAI

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints, so Alembic batch migrations on SQLite can find them."""

ID = String(64)
"""Width of an ``Identifier`` of data.schemas."""


class AwareDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime: written as UTC, read back in Asia/Shanghai on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes; SQLite keeps no offset, so it gets naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; add an offset")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Naive values (SQLite) are UTC; every value is returned in Shanghai time."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(SHANGHAI)


class Base(DeclarativeBase):
    """Declarative base of all store tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ImportBatch(Base):
    """One import: what kind, from where, the sha256 of its content and how many rows."""

    __tablename__ = "import_batch"
    __table_args__ = (UniqueConstraint("kind", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class CompoundRow(Base):
    """小区."""

    __tablename__ = "compound"

    compound_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    district: Mapped[str] = mapped_column(String(128))
    street: Mapped[str] = mapped_column(String(128))
    lon: Mapped[float]
    lat: Mapped[float]
    households: Mapped[int] = mapped_column(Integer)
    receiving_opens_at: Mapped[dt.time] = mapped_column(Time())
    receiving_closes_at: Mapped[dt.time] = mapped_column(Time())
    synthetic: Mapped[bool] = mapped_column(Boolean)


class BuildingRow(Base):
    """楼栋; its id is unique within its compound."""

    __tablename__ = "building"

    compound_id: Mapped[str] = mapped_column(
        ID, ForeignKey("compound.compound_id"), primary_key=True
    )
    building_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    lon: Mapped[float]
    lat: Mapped[float]
    households: Mapped[int] = mapped_column(Integer)
    floors: Mapped[int] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(Boolean)


class GateRow(Base):
    """A compound gate; its id is unique within its compound."""

    __tablename__ = "gate"

    compound_id: Mapped[str] = mapped_column(
        ID, ForeignKey("compound.compound_id"), primary_key=True
    )
    gate_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    lon: Mapped[float]
    lat: Mapped[float]
    receiving_opens_at: Mapped[dt.time] = mapped_column(Time())
    receiving_closes_at: Mapped[dt.time] = mapped_column(Time())
    max_trucks: Mapped[int] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(Boolean)


class LockdownStatusRow(Base):
    """A compound's control level from ``valid_from`` (one row per compound and start date)."""

    __tablename__ = "lockdown_status"
    __table_args__ = (UniqueConstraint("compound_id", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    level: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date())
    valid_until: Mapped[dt.date | None] = mapped_column(Date())


class CategoryRow(Base):
    """A kind of goods; certificates and aliases are JSON arrays."""

    __tablename__ = "category"

    category_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(256))
    name_en: Mapped[str] = mapped_column(String(256))
    unit: Mapped[str] = mapped_column(String(64))
    unit_weight_g: Mapped[int] = mapped_column(Integer)
    cold_chain: Mapped[bool] = mapped_column(Boolean)
    required_certificates: Mapped[list[str]] = mapped_column(JSON)
    aliases: Mapped[list[str]] = mapped_column(JSON)


class SupplierRow(Base):
    """A licensed supplier; the lockdown levels it serves are a JSON array."""

    __tablename__ = "supplier"

    supplier_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    contact_phone: Mapped[str] = mapped_column(String(64))
    lockdown_levels_served: Mapped[list[str]] = mapped_column(JSON)
    synthetic: Mapped[bool] = mapped_column(Boolean)


class DepotRow(Base):
    """A supplier's warehouse."""

    __tablename__ = "depot"

    depot_id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    name: Mapped[str] = mapped_column(String(256))
    lon: Mapped[float]
    lat: Mapped[float]
    opens_at: Mapped[dt.time] = mapped_column(Time())
    closes_at: Mapped[dt.time] = mapped_column(Time())
    loading_docks: Mapped[int] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(Boolean)


class VehicleRow(Base):
    """A supplier's truck or van."""

    __tablename__ = "vehicle"

    vehicle_id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    depot_id: Mapped[str] = mapped_column(ID, ForeignKey("depot.depot_id"))
    plate: Mapped[str] = mapped_column(String(32))
    capacity_kg: Mapped[int] = mapped_column(Integer)
    capacity_units: Mapped[int] = mapped_column(Integer)
    refrigerated: Mapped[bool] = mapped_column(Boolean)
    fixed_cost_cents: Mapped[int] = mapped_column(Integer)


class DriverRow(Base):
    """A supplier's driver."""

    __tablename__ = "driver"

    driver_id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    name: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str] = mapped_column(String(64))
    test_taken_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class CertificateRow(Base):
    """A certificate of a supplier, vehicle or driver (holder is polymorphic, so no FK)."""

    __tablename__ = "certificate"

    certificate_id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(ID, index=True)
    scope: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    valid_until: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    verified: Mapped[bool] = mapped_column(Boolean)


class OfferRow(Base):
    """What a supplier delivers of one category on one date; service area flattened."""

    __tablename__ = "offer"

    offer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    category_id: Mapped[str] = mapped_column(ID, ForeignKey("category.category_id"))
    delivery_date: Mapped[dt.date] = mapped_column(Date(), index=True)
    capacity_units: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    list_price_cents: Mapped[int | None] = mapped_column(Integer)
    min_order_units: Mapped[int] = mapped_column(Integer)
    case_size_units: Mapped[int] = mapped_column(Integer)
    package_name: Mapped[str] = mapped_column(String(256))
    service_districts: Mapped[list[str]] = mapped_column(JSON)
    service_max_distance_m: Mapped[int | None] = mapped_column(Integer)
    depot_ids: Mapped[list[str]] = mapped_column(JSON)


class HouseholdOrderRow(Base):
    """One 接龙 line; ``household_key``, ``priority`` and ``fingerprint`` are derived on import."""

    __tablename__ = "household_order"
    __table_args__ = (
        UniqueConstraint("compound_id", "delivery_date", "order_id"),
        ForeignKeyConstraint(
            ["compound_id", "building_id"], ["building.compound_id", "building.building_id"]
        ),
        Index("ix_household_order_delivery_date", "delivery_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(128))
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    building_id: Mapped[str] = mapped_column(ID)
    room: Mapped[str] = mapped_column(String(16))
    delivery_date: Mapped[dt.date] = mapped_column(Date())
    priority_flags: Mapped[list[str]] = mapped_column(JSON)
    priority: Mapped[bool] = mapped_column(Boolean)
    proxy: Mapped[bool] = mapped_column(Boolean)
    household_name: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str] = mapped_column(String(64))
    household_key: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[int] = mapped_column(Integer, ForeignKey("import_batch.id"))


class OrderItemRow(Base):
    """One item of a household order, in its position on the order."""

    __tablename__ = "order_item"
    __table_args__ = (UniqueConstraint("order_pk", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(
        Integer, ForeignKey("household_order.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[str] = mapped_column(ID, ForeignKey("category.category_id"))
    quantity_units: Mapped[int] = mapped_column(Integer)
    product: Mapped[str] = mapped_column(String(256))


# --- operations: accounts, jobs, audit, idempotent requests, stop events ---------------------


class UserAccountRow(Base):
    """A person who signs in: role and the one compound, supplier or driver it is bound to."""

    __tablename__ = "user_account"

    username: Mapped[str] = mapped_column(ID, primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    compound_id: Mapped[str | None] = mapped_column(ID, ForeignKey("compound.compound_id"))
    supplier_id: Mapped[str | None] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    driver_id: Mapped[str | None] = mapped_column(ID, ForeignKey("driver.driver_id"))
    building_id: Mapped[str | None] = mapped_column(
        ID, doc="a volunteer's building (with compound_id)"
    )
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class JobRow(Base):
    """A matching or planning run: who asked, for what scope, its status, progress and result."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status", "status"),)

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, doc="percent done, 0-100")
    message: Mapped[str] = mapped_column(String(512))
    owner: Mapped[str] = mapped_column(ID, ForeignKey("user_account.username"))
    compound_id: Mapped[str | None] = mapped_column(ID)
    supplier_id: Mapped[str | None] = mapped_column(ID)
    delivery_date: Mapped[dt.date] = mapped_column(Date())
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class AuditEventRow(Base):
    """One change, append-only; ``hash`` chains it to the event before so edits show."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    actor: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class IdempotentRequestRow(Base):
    """The answer given to a request with an ``Idempotency-Key``, replayed on retry."""

    __tablename__ = "idempotent_request"

    username: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class GroupBuyRow(Base):
    """团: a compound's group on one offer; ``data`` is the whole ``matcher.groups.Group``."""

    __tablename__ = "group_buy"
    __table_args__ = (Index("ix_group_buy_compound_id", "compound_id"),)

    group_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    offer_id: Mapped[str] = mapped_column(ID, ForeignKey("offer.offer_id"))
    state: Mapped[str] = mapped_column(String(16))
    public_token: Mapped[str] = mapped_column(String(32), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class StopEventRow(Base):
    """A driver's report on a stop of a plan: arrived, delivered (units) or failed (reason)."""

    __tablename__ = "stop_event"
    __table_args__ = (UniqueConstraint("job_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("job.job_id"))
    event_id: Mapped[str] = mapped_column(String(64), doc="client-made id: retries are no-ops")
    vehicle_id: Mapped[str] = mapped_column(ID)
    delivery_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    quantity_units: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(512))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    reported_by: Mapped[str] = mapped_column(ID)


class CityPieceRow(Base):
    """One solved piece of a city plan (a district's matching, a supplier's routes), keyed by
    the SHA-256 of its inputs so an unchanged piece is reused instead of re-solved."""

    __tablename__ = "city_piece"
    __table_args__ = (Index("ix_city_piece_delivery_date", "delivery_date"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), doc="match or route")
    scope: Mapped[str] = mapped_column(String(256), doc="district(s) or supplier_id")
    round: Mapped[int] = mapped_column(Integer)
    delivery_date: Mapped[dt.date] = mapped_column(Date())
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


# --- group-buy operations: scopes, pooled groups, sign-ups, payments -------------------------


class UserCompoundRow(Base):
    """A compound a committee (居委会) account is scoped to; a committee has several."""

    __tablename__ = "user_compound"

    username: Mapped[str] = mapped_column(ID, ForeignKey("user_account.username"), primary_key=True)
    compound_id: Mapped[str] = mapped_column(
        ID, ForeignKey("compound.compound_id"), primary_key=True
    )


class GroupCompoundRow(Base):
    """A compound a group delivers to: the lead compound (position 0) and, for a pooled
    group, each neighbour that joined, with the leader who agreed for it."""

    __tablename__ = "group_compound"
    __table_args__ = (Index("ix_group_compound_compound_id", "compound_id"),)

    group_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("group_buy.group_id"), primary_key=True
    )
    compound_id: Mapped[str] = mapped_column(
        ID, ForeignKey("compound.compound_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    leader: Mapped[str | None] = mapped_column(ID, doc="username of the leader for this compound")
    joined_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class GroupSignupRow(Base):
    """One household's line in a group (a 接龙 line): room, who, how many units, and the
    short code with which the household checks its own line."""

    __tablename__ = "group_signup"
    __table_args__ = (
        ForeignKeyConstraint(
            ["compound_id", "building_id"], ["building.compound_id", "building.building_id"]
        ),
        Index("ix_group_signup_group_id", "group_id"),
    )

    signup_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), ForeignKey("group_buy.group_id"))
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    building_id: Mapped[str] = mapped_column(ID)
    room: Mapped[str] = mapped_column(String(16))
    household_name: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str] = mapped_column(String(64))
    priority_flags: Mapped[list[str]] = mapped_column(JSON)
    proxy: Mapped[bool] = mapped_column(Boolean)
    quantity_units: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), doc="active, waitlisted or cancelled")
    source: Mapped[str] = mapped_column(String(16), doc="jielong, api or resident")
    resident_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class PaymentRow(Base):
    """A recorded (never processed) money movement of a group: a household's payment or
    refund, or the leader's advance to the supplier; ``amount_cents`` is always positive."""

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_group_id", "group_id"),)

    payment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), ForeignKey("group_buy.group_id"))
    signup_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("group_signup.signup_id"), doc="None for the leader's advance"
    )
    kind: Mapped[str] = mapped_column(String(16), doc="household, refund or advance")
    amount_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(32), doc="a label: wechat, alipay, cash, ...")
    note: Mapped[str] = mapped_column(String(512))
    claim_id: Mapped[str | None] = mapped_column(String(32), doc="the claim a refund settles")
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    recorded_by: Mapped[str] = mapped_column(ID)


# --- hand-out, pinned pickup points, vehicle crews (migration 0006) --------------------------


class CrewMemberRow(Base):
    """A supplier's delivery crew member riding on a vehicle besides the driver."""

    __tablename__ = "crew_member"

    crew_id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    name: Mapped[str] = mapped_column(String(256))
    phone: Mapped[str] = mapped_column(String(64))
    test_taken_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())


class VehicleCrewRow(Base):
    """A crew member assigned to a vehicle on a date (the dispatcher's crew of the day)."""

    __tablename__ = "vehicle_crew"

    vehicle_id: Mapped[str] = mapped_column(ID, ForeignKey("vehicle.vehicle_id"), primary_key=True)
    delivery_date: Mapped[dt.date] = mapped_column(Date(), primary_key=True)
    crew_id: Mapped[str] = mapped_column(ID, ForeignKey("crew_member.crew_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class PickupPinRow(Base):
    """A pickup point a leader pinned by hand for a compound and date, for every building
    (``building_id`` empty) or one building; it overrides the computed point."""

    __tablename__ = "pickup_pin"
    __table_args__ = (UniqueConstraint("compound_id", "delivery_date", "building_id"),)

    pin_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    delivery_date: Mapped[dt.date] = mapped_column(Date())
    building_id: Mapped[str] = mapped_column(ID, doc="empty: every building of the compound")
    point_name: Mapped[str] = mapped_column(String(128))
    lon: Mapped[float]
    lat: Mapped[float]
    pinned_by: Mapped[str] = mapped_column(ID)
    pinned_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class HandoutStepRow(Base):
    """One step of a building's hand-out of a delivery: received, disinfected, handed out."""

    __tablename__ = "handout_step"
    __table_args__ = (
        ForeignKeyConstraint(
            ["compound_id", "building_id"], ["building.compound_id", "building.building_id"]
        ),
        UniqueConstraint("compound_id", "building_id", "delivery_date", "delivery_key", "step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    compound_id: Mapped[str] = mapped_column(ID)
    building_id: Mapped[str] = mapped_column(ID)
    delivery_date: Mapped[dt.date] = mapped_column(Date())
    delivery_key: Mapped[str] = mapped_column(
        String(128), doc="which delivery of the day: a group id, or empty for the whole day"
    )
    step: Mapped[str] = mapped_column(String(16), doc="received, disinfected or handed_out")
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    recorded_by: Mapped[str] = mapped_column(ID)


class OrderImporterRow(Base):
    """The leader who last imported a household order through the API: only that leader
    sees the order's household fields; other leaders of the compound see aggregates."""

    __tablename__ = "order_importer"

    compound_id: Mapped[str] = mapped_column(
        ID, ForeignKey("compound.compound_id"), primary_key=True
    )
    delivery_date: Mapped[dt.date] = mapped_column(Date(), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    username: Mapped[str] = mapped_column(ID)


# --- receipt checks, claims, supplier refusals (migration 0005) ------------------------------


class ReceiptCheckRow(Base):
    """验货: what arrived for a group at one compound against what was expected; ``lines``
    is a JSON array of ``matcher.receipt.ReceiptLine``."""

    __tablename__ = "receipt_check"
    __table_args__ = (Index("ix_receipt_check_group_id", "group_id"),)

    check_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), ForeignKey("group_buy.group_id"))
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    expected_units: Mapped[int] = mapped_column(Integer)
    expected_from: Mapped[str] = mapped_column(String(16), doc="plan or ordered")
    plan_job_id: Mapped[str | None] = mapped_column(String(32))
    received_units: Mapped[int] = mapped_column(Integer)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    discrepancy: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    recorded_by: Mapped[str] = mapped_column(ID)


class ClaimRow(Base):
    """An after-sales claim; ``data`` is the whole ``matcher.claims.Claim`` (with history)."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_group_id", "group_id"),
        Index("ix_claim_supplier_id", "supplier_id"),
        Index("ix_claim_state", "state"),
    )

    claim_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(128), ForeignKey("group_buy.group_id"))
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("supplier.supplier_id"))
    signup_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("group_signup.signup_id"), doc="None for a group-level claim"
    )
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    filed_by: Mapped[str] = mapped_column(ID)
    filed_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


class SupplierRefusalRow(Base):
    """A leader's refusal of a supplier for their groups, with the reason (the committee of
    the leader's compound sees it)."""

    __tablename__ = "supplier_refusal"

    leader: Mapped[str] = mapped_column(ID, ForeignKey("user_account.username"), primary_key=True)
    supplier_id: Mapped[str] = mapped_column(
        ID, ForeignKey("supplier.supplier_id"), primary_key=True
    )
    compound_id: Mapped[str] = mapped_column(ID, ForeignKey("compound.compound_id"))
    reason: Mapped[str] = mapped_column(String(512))
    at: Mapped[dt.datetime] = mapped_column(AwareDateTime())


TABLES = tuple(Base.metadata.sorted_tables)
"""Every store table, parents before children."""


def table_of(mapped: type[Base]) -> Table:
    """The Core ``Table`` of a mapped row class (typed, for Core statements)."""
    found = mapped.__table__
    if not isinstance(found, Table):
        raise TypeError(f"{mapped.__name__} is not mapped to a table")
    return found
