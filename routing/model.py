"""Frozen routing input: deliveries to compound gates, a supplier's vehicles, and parameters.

Times are timezone-aware datetimes on the wire and integer seconds from ``day_start``
inside the solver; loads are integer kilograms and units.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import Field, model_validator

from data.schemas import AwareDatetime, Identifier, Lat, Lon, Model


class Delivery(Model):
    """Goods of one category for one compound gate, with the allowed arrival window."""

    delivery_id: Identifier
    supplier_id: Identifier
    compound_id: Identifier
    gate_id: Identifier
    lon: Lon
    lat: Lat
    category_id: Identifier
    quantity_units: int = Field(gt=0)
    weight_kg: int = Field(ge=0)
    cold_chain: bool = False
    window_start: AwareDatetime
    window_end: AwareDatetime
    service_s: int = Field(default=600, ge=0, description="unloading and hand-over at the gate")
    service_per_unit_s: int = Field(
        default=0, ge=0, description="the part of service_s that is per unit unloaded"
    )
    gate_max_trucks: int = Field(default=1, ge=1, description="trucks the gate takes at once")
    committed: bool = Field(
        default=False,
        description="goods residents signed up (and paid) for in a formed group, or a "
        "redelivery owed on a claim: when the fleet cannot carry everything, ordinary "
        "deliveries are left behind first",
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_end <= self.window_start:
            raise ValueError(
                f"delivery {self.delivery_id}: window ends {self.window_end:%H:%M} before it "
                f"starts {self.window_start:%H:%M}"
            )
        if self.service_per_unit_s * self.quantity_units > self.service_s:
            raise ValueError(
                f"delivery {self.delivery_id}: service_s {self.service_s} is less than "
                f"{self.quantity_units} units × service_per_unit_s {self.service_per_unit_s}"
            )
        return self

    def service_for(self, units: int) -> int:
        """Service seconds for unloading ``units`` of this delivery (a split piece)."""
        fixed = self.service_s - self.service_per_unit_s * self.quantity_units
        return fixed + self.service_per_unit_s * units


def parent_id(piece_id: str) -> str:
    """The delivery a piece was cut from (``d1.2`` → ``d1``)."""
    head, _, tail = piece_id.rpartition(".")
    return head if head and tail.isdigit() else piece_id


class RoutingVehicle(Model):
    """One vehicle, its depot and the shift it may drive (driver, test and pass validity)."""

    vehicle_id: Identifier
    supplier_id: Identifier
    depot_id: Identifier
    depot_lon: Lon
    depot_lat: Lat
    capacity_kg: int = Field(gt=0)
    capacity_units: int = Field(gt=0)
    refrigerated: bool = False
    fixed_cost_cents: int = Field(default=0, ge=0)
    shift_start: AwareDatetime
    shift_end: AwareDatetime
    driver_id: Identifier | None = None
    driver_test_valid_until: AwareDatetime | None = Field(
        default=None, description="the driver's 48-hour test expires: the route ends before"
    )
    vehicle_pass_valid_until: AwareDatetime | None = Field(
        default=None, description="the vehicle pass expires: the route ends before"
    )

    @model_validator(mode="after")
    def _shift(self) -> Self:
        if self.shift_end <= self.shift_start:
            raise ValueError(f"vehicle {self.vehicle_id}: shift ends before it starts")
        for name, until in (
            ("driver test", self.driver_test_valid_until),
            ("vehicle pass", self.vehicle_pass_valid_until),
        ):
            if until is not None and until < self.shift_end:
                raise ValueError(
                    f"vehicle {self.vehicle_id}: shift ends {self.shift_end:%H:%M}, after its "
                    f"{name} expires {until:%H:%M}; end the shift by then"
                )
        return self


class RoutingProblem(Model):
    """Everything the router needs for one day."""

    day_start: AwareDatetime
    deliveries: tuple[Delivery, ...]
    vehicles: tuple[RoutingVehicle, ...]
    max_route_duration_s: int = Field(default=10 * 3600, gt=0)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for kind, ids in (
            ("delivery", [d.delivery_id for d in self.deliveries]),
            ("vehicle", [v.vehicle_id for v in self.vehicles]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate {kind} ids")
        return self

    def seconds(self, moment: dt.datetime) -> int:
        """Integer seconds from ``day_start``."""
        return int((moment - self.day_start).total_seconds())


class Params(Model):
    """How to route: time limit, seed, speed model."""

    time_limit_s: float = Field(default=10.0, gt=0)
    seed: int = Field(default=0, ge=0)
    max_iterations: int | None = Field(
        default=None,
        gt=0,
        description="stop each solve after this many search iterations: the same answer on "
        "any machine and load (the time limit still stops it first if reached)",
    )
    circuity: float = Field(default=1.4, ge=1.0, le=3.0)
    speed_kmh: float = Field(default=18.0, gt=0)
    max_trips: int = Field(
        default=6, ge=1, description="trips per vehicle a day; it reloads at its depot between"
    )
    stagger_gates: bool = Field(
        default=True,
        description="delay arrivals so no gate unloads more than its max_trucks at once",
    )
