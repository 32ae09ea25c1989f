"""Wire models (pydantic) and declared polars schemas: the shared vocabulary of linli.

Every model is frozen and validated on construction, so a value that passed loading can be
trusted downstream. Units live in field names (``capacity_kg``, ``price_cents``); money is
integer cents; datetimes are timezone-aware (Asia/Shanghai by default); coordinates are
WGS84 ``lon, lat``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The city's timezone: naive datetimes in input files are read as Shanghai local time."""

DRIVER_TEST_VALIDITY = dt.timedelta(hours=48)
"""A driver's or crew member's negative test is valid for 48 hours after it was taken."""


class PriorityFlag(enum.StrEnum):
    """Household situations that get priority when supply is short."""

    elderly = "elderly"
    infant = "infant"
    pregnant = "pregnant"
    chronic_illness = "chronic_illness"
    disability = "disability"


class LockdownLevel(enum.StrEnum):
    """Shanghai 2022 three-zone control level of a compound."""

    sealed = "sealed"  # 封控区: nobody leaves the building / compound; goods to the door
    controlled = "controlled"  # 管控区: nobody leaves the compound
    precaution = "precaution"  # 防范区: movement limited to the street
    normal = "normal"  # no restriction


LOCKDOWN_LEVEL_ZH: dict[LockdownLevel, str] = {
    LockdownLevel.sealed: "封控区",
    LockdownLevel.controlled: "管控区",
    LockdownLevel.precaution: "防范区",
    LockdownLevel.normal: "无管控",
}


class CertificateType(enum.StrEnum):
    """Kinds of certificate a supplier, vehicle or driver must hold."""

    supply_permit = "supply_permit"  # 保供企业证明
    vehicle_pass = "vehicle_pass"  # 通行证
    driver_test = "driver_test"  # 48-hour negative test of a driver or crew member
    quarantine_report = "quarantine_report"  # 检疫报告, per batch, meat
    food_licence = "food_licence"  # 食品经营许可证
    work_id = "work_id"  # 工作证: everyone on a vehicle carries one at arrival


class HolderKind(enum.StrEnum):
    """Who a certificate belongs to."""

    supplier = "supplier"
    vehicle = "vehicle"
    driver = "driver"
    crew = "crew"  # a delivery crew member (押运/搬运) riding on a vehicle


class Datum(enum.StrEnum):
    """Coordinate datum of an input file; everything is stored as WGS84."""

    wgs84 = "wgs84"
    gcj02 = "gcj02"  # Amap, Tencent
    bd09 = "bd09"  # Baidu


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            "datetime has no timezone; write it with an offset, e.g. 2022-04-12T08:00+08:00"
        )
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]
Lon = Annotated[float, Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees")]
Lat = Annotated[float, Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees")]
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="stable identifier: letters, digits, '_', '.', '-'",
    ),
]


class Model(BaseModel):
    """Base of every wire model: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Hours(Model):
    """A daily opening interval in local time, e.g. receiving hours of a gate."""

    # local wall-clock times without an offset: RFC 3339 "partial-time", not "time"
    opens_at: dt.time = Field(json_schema_extra={"format": "partial-time"})
    closes_at: dt.time = Field(json_schema_extra={"format": "partial-time"})

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.closes_at <= self.opens_at:
            raise ValueError(
                f"closes_at {self.closes_at:%H:%M} is not after opens_at {self.opens_at:%H:%M}; "
                "intervals over midnight are not supported, split them"
            )
        return self


class Compound(Model):
    """小区: a gated residential compound."""

    compound_id: Identifier
    name: str = Field(min_length=1)
    district: str = Field(min_length=1, description="区, e.g. 浦东新区")
    street: str = Field(default="", description="街道/镇")
    lon: Lon
    lat: Lat
    households: int = Field(ge=0, description="number of dwellings in the compound")
    receiving_hours: Hours = Hours(opens_at=dt.time(7, 0), closes_at=dt.time(19, 0))
    synthetic: bool = Field(default=False, description="true where values were synthesised")


class Building(Model):
    """楼栋 of a compound."""

    building_id: Identifier
    compound_id: Identifier
    name: str = Field(min_length=1, description="as residents say it, e.g. 3号楼")
    lon: Lon
    lat: Lat
    households: int = Field(ge=0)
    floors: int = Field(default=6, ge=1)
    synthetic: bool = False


class Gate(Model):
    """A compound gate where trucks unload."""

    gate_id: Identifier
    compound_id: Identifier
    name: str = Field(min_length=1)
    lon: Lon
    lat: Lat
    receiving_hours: Hours = Hours(opens_at=dt.time(7, 0), closes_at=dt.time(19, 0))
    max_trucks: int = Field(default=1, ge=1, description="trucks that may unload at once")
    synthetic: bool = False


class LockdownStatus(Model):
    """A compound's control level over a date interval (valid_until inclusive, open if None)."""

    compound_id: Identifier
    level: LockdownLevel
    valid_from: dt.date
    valid_until: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until} is before valid_from {self.valid_from}"
            )
        return self

    def covers(self, day: dt.date) -> bool:
        """Whether this status applies on ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Category(Model):
    """A kind of goods with its unit and the rules that come with it."""

    category_id: Identifier
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str = Field(min_length=1, description="what one unit is, e.g. 份 (5 kg bag), 盒")
    unit_weight_g: int = Field(gt=0, description="weight of one unit in grams")
    cold_chain: bool = False
    required_certificates: tuple[CertificateType, ...] = ()
    aliases: tuple[str, ...] = Field(
        default=(), description="product names that mean this category in 接龙 text"
    )


class OrderItem(Model):
    """One item on a household order."""

    category_id: Identifier
    quantity_units: int = Field(gt=0)
    product: str = Field(default="", description="product name as ordered, e.g. 蔬菜套餐")


class HouseholdOrder(Model):
    """One 接龙 line: a household's order for a delivery date.

    Household-level fields (``household_name``, ``phone``, ``room``, ``priority_flags``)
    are private to the leader of the group the household joined.
    """

    order_id: str = Field(
        min_length=1, max_length=128, description="stable key within compound and date"
    )
    compound_id: Identifier
    building_id: Identifier
    room: str = Field(min_length=1, max_length=16)
    delivery_date: dt.date
    items: tuple[OrderItem, ...] = Field(min_length=1)
    priority_flags: frozenset[PriorityFlag] = frozenset()
    proxy: bool = Field(default=False, description="ordered by a volunteer or relative (代下单)")
    household_name: str = ""
    phone: str = ""

    @property
    def priority(self) -> bool:
        """Whether the household is served first when supply is short."""
        return bool(self.priority_flags)


class Supplier(Model):
    """A licensed supplier."""

    supplier_id: Identifier
    name: str = Field(min_length=1)
    contact_phone: str = ""
    lockdown_levels_served: frozenset[LockdownLevel] = frozenset(LockdownLevel)
    synthetic: bool = False


class Depot(Model):
    """A supplier's warehouse, where its vehicles load."""

    depot_id: Identifier
    supplier_id: Identifier
    name: str = Field(min_length=1)
    lon: Lon
    lat: Lat
    hours: Hours = Hours(opens_at=dt.time(5, 0), closes_at=dt.time(22, 0))
    loading_docks: int = Field(default=2, ge=1)
    synthetic: bool = False


class Vehicle(Model):
    """A supplier's truck or van."""

    vehicle_id: Identifier
    supplier_id: Identifier
    depot_id: Identifier
    plate: str = Field(min_length=1)
    capacity_kg: int = Field(gt=0)
    capacity_units: int = Field(gt=0)
    refrigerated: bool = False
    fixed_cost_cents: int = Field(default=0, ge=0)


class Driver(Model):
    """A supplier's driver; the 48-hour test runs from ``test_taken_at``."""

    driver_id: Identifier
    supplier_id: Identifier
    name: str = Field(min_length=1)
    phone: str = ""
    test_taken_at: AwareDatetime | None = None

    @property
    def test_valid_until(self) -> dt.datetime | None:
        """When the driver's negative test stops being valid."""
        return None if self.test_taken_at is None else self.test_taken_at + DRIVER_TEST_VALIDITY


class CrewMember(Model):
    """A supplier's delivery crew member (搬运、押运) riding on a vehicle besides the driver;
    like a driver, they need a valid 48-hour test and a work ID at every arrival."""

    crew_id: Identifier
    supplier_id: Identifier
    name: str = Field(min_length=1)
    phone: str = ""
    test_taken_at: AwareDatetime | None = None

    @property
    def test_valid_until(self) -> dt.datetime | None:
        """When the crew member's negative test stops being valid."""
        return None if self.test_taken_at is None else self.test_taken_at + DRIVER_TEST_VALIDITY


class CrewAssignment(Model):
    """Who rides on a vehicle on a date besides its driver (the crew, in order)."""

    vehicle_id: Identifier
    delivery_date: dt.date
    crew_ids: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        repeated = sorted({c for c in self.crew_ids if self.crew_ids.count(c) > 1})
        if repeated:
            raise ValueError(f"crew_ids repeats {', '.join(repeated)}; name each person once")
        return self


class Certificate(Model):
    """A typed document held by a supplier, vehicle, driver or crew member over a validity
    interval."""

    certificate_id: Identifier
    type: CertificateType
    holder_kind: HolderKind
    holder_id: Identifier
    scope: str = Field(
        default="",
        description="what it covers: a category_id (quarantine report), a lockdown level "
        "(vehicle pass) or empty for everything",
    )
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    verified: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.valid_until <= self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until.isoformat()} is not after "
                f"valid_from {self.valid_from.isoformat()}"
            )
        return self

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether the certificate is valid over the whole interval [start, end]."""
        return self.valid_from <= start and end <= self.valid_until


class ServiceArea(Model):
    """Where an offer delivers: districts and/or a radius from the supplier's depots."""

    districts: tuple[str, ...] = ()
    max_distance_m: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.districts and self.max_distance_m is None:
            raise ValueError("give districts, max_distance_m or both")
        return self


class Offer(Model):
    """What a supplier can deliver of one category on one date."""

    offer_id: Identifier
    supplier_id: Identifier
    category_id: Identifier
    delivery_date: dt.date
    capacity_units: int = Field(gt=0)
    unit_price_cents: int = Field(gt=0)
    list_price_cents: int | None = Field(default=None, gt=0, description="supplier list price")
    min_order_units: int = Field(default=1, ge=1, description="起送份数 per compound")
    case_size_units: int = Field(default=1, ge=1, description="sold in whole cases of N")
    package_name: str = ""
    service_area: ServiceArea
    depot_ids: tuple[Identifier, ...] = Field(min_length=1)


class Demand(Model):
    """Aggregated demand: compound × building × category × delivery date."""

    compound_id: str
    building_id: str
    category_id: str
    delivery_date: dt.date
    quantity_units: int = Field(ge=0)
    households: int = Field(ge=0)
    priority_quantity_units: int = Field(ge=0)
    priority_households: int = Field(ge=0)


# --- declared polars schemas -------------------------------------------------------------

ORDER_LINE_SCHEMA: pl.Schema = pl.Schema(
    {
        "order_id": pl.String,
        "compound_id": pl.String,
        "building_id": pl.String,
        "household_key": pl.String,
        "delivery_date": pl.Date,
        "category_id": pl.String,
        "quantity_units": pl.Int64,
        "priority": pl.Boolean,
    }
)
"""One row per order item: what aggregation reads. ``household_key`` is an opaque key
(compound, building, room) that never leaves aggregation."""

DEMAND_SCHEMA: pl.Schema = pl.Schema(
    {
        "compound_id": pl.String,
        "building_id": pl.String,
        "category_id": pl.String,
        "delivery_date": pl.Date,
        "quantity_units": pl.Int64,
        "households": pl.Int64,
        "priority_quantity_units": pl.Int64,
        "priority_households": pl.Int64,
    }
)
"""Aggregated demand per compound × building × category × delivery date."""

COMPOUND_SCHEMA: pl.Schema = pl.Schema(
    {
        "compound_id": pl.String,
        "name": pl.String,
        "district": pl.String,
        "street": pl.String,
        "lon": pl.Float64,
        "lat": pl.Float64,
        "households": pl.Int64,
    }
)

BUILDING_SCHEMA: pl.Schema = pl.Schema(
    {
        "building_id": pl.String,
        "compound_id": pl.String,
        "name": pl.String,
        "lon": pl.Float64,
        "lat": pl.Float64,
        "households": pl.Int64,
    }
)


def models_frame(rows: list[Any], schema: pl.Schema) -> pl.DataFrame:
    """A polars frame with exactly ``schema``'s columns from a list of models."""
    columns = list(schema.names())
    return pl.DataFrame(
        [[getattr(row, name) for name in columns] for row in rows],
        schema=schema,
        orient="row",
    )
