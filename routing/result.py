"""The router's answer: routes of stops with ETAs and loads, and every unassigned delivery."""

from __future__ import annotations

import enum

from pydantic import Field

from data.schemas import AwareDatetime, Identifier, Model


class UnassignedReason(enum.StrEnum):
    """Why a delivery is not on any route."""

    no_vehicle = "no_vehicle"  # the supplier has no vehicle (of the kind: refrigerated)
    window_unreachable = "window_unreachable"  # no shift reaches the gate inside its window
    not_routed = "not_routed"  # the solver left it out within the time limit


class Stop(Model):
    """One gate visit: what is unloaded, when the truck arrives and may arrive."""

    delivery_id: Identifier
    compound_id: Identifier
    gate_id: Identifier
    category_id: Identifier
    quantity_units: int = Field(gt=0)
    weight_kg: int = Field(ge=0)
    arrival: AwareDatetime
    service_start: AwareDatetime
    departure: AwareDatetime
    window_start: AwareDatetime
    window_end: AwareDatetime
    trip: int = Field(default=0, ge=0, description="0-based trip of the vehicle (reloads between)")


class Route(Model):
    """One vehicle's trip from its depot and back."""

    vehicle_id: Identifier
    supplier_id: Identifier
    depot_id: Identifier
    start: AwareDatetime
    end: AwareDatetime
    stops: tuple[Stop, ...] = Field(min_length=1)
    distance_m: int = Field(ge=0)
    load_units: int = Field(ge=0, description="units delivered over all trips")
    load_kg: int = Field(ge=0, description="kilograms delivered over all trips")
    trips: int = Field(default=1, ge=1)


class Unassigned(Model):
    """A delivery (or part of one) no route carries, and why."""

    delivery_id: Identifier
    quantity_units: int = Field(gt=0)
    reason: UnassignedReason


class Plan(Model):
    """Routes for the day, with unassigned deliveries listed, never dropped."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    distance_m: int = Field(ge=0)
    solve_time_s: float = Field(ge=0)
    seed: int

    def to_json(self) -> str:
        """The plan as JSON, for export."""
        return self.model_dump_json(indent=2)
