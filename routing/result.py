"""The router's answer: routes of stops with ETAs and loads, and every unassigned delivery."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from pydantic import Field

from data.schemas import AwareDatetime, Identifier, Model
from routing.model import Delivery


class UnassignedReason(enum.StrEnum):
    """Why a delivery is not on any route."""

    no_vehicle = "no_vehicle"  # the supplier has no vehicle (of the kind: refrigerated)
    window_unreachable = "window_unreachable"  # no shift reaches the gate inside its window
    not_routed = "not_routed"  # the solver left it out within the time limit
    gate_busy = "gate_busy"  # its gate was full and waiting would break a window or shift
    vehicle_broken_down = "vehicle_broken_down"  # on board a vehicle that broke down, lost
    delivery_failed = "delivery_failed"  # refused at the gate and no window left to retry
    sealed_no_pass = "sealed_no_pass"  # compound sealed; no vehicle of the supplier may enter


UNASSIGNED_REASON_TEXT: dict[UnassignedReason, str] = {
    UnassignedReason.no_vehicle: "the supplier has no vehicle of the kind it needs "
    "(refrigerated for cold-chain goods) with a valid shift.",
    UnassignedReason.window_unreachable: "no vehicle's shift reaches the gate inside its "
    "receiving window and returns to the depot in time.",
    UnassignedReason.not_routed: "the solver found no route with room for it within the "
    "time limit (capacity, windows or route duration).",
    UnassignedReason.gate_busy: "its gate already takes as many trucks as it allows, and "
    "waiting for a free slot would break the window, the shift or the route duration.",
    UnassignedReason.vehicle_broken_down: "it was on board a vehicle that broke down, and "
    "the goods are lost; a broken truck's cargo can be moved only by reloading.",
    UnassignedReason.delivery_failed: "the gate refused it, and no receiving window is left "
    "today to deliver it again.",
    UnassignedReason.sealed_no_pass: "the compound is sealed (封控), and no working vehicle "
    "of a supplier that serves sealed compounds holds a pass to its gate.",
}
"""One English sentence per reason, for reports and the plan JSON."""


class PlanStatus(enum.StrEnum):
    """Whether every delivery is on a route."""

    complete = "complete"  # every unit routed
    partial = "partial"  # some units unassigned, each with its reason
    nothing_routed = "nothing_routed"  # deliveries given, none routed


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
    gate_wait_s: int = Field(
        default=0, ge=0, description="delay added so the gate is not over its truck limit"
    )


class CategoryLoad(Model):
    """What a route carries of one category over all its trips."""

    category_id: Identifier
    quantity_units: int = Field(ge=0)
    weight_kg: int = Field(ge=0)


class Route(Model):
    """One vehicle's trip from its depot and back."""

    vehicle_id: Identifier
    supplier_id: Identifier
    depot_id: Identifier
    driver_id: Identifier | None = None
    start: AwareDatetime
    end: AwareDatetime
    stops: tuple[Stop, ...] = Field(min_length=1)
    distance_m: int = Field(ge=0)
    load_units: int = Field(ge=0, description="units delivered over all trips")
    load_kg: int = Field(ge=0, description="kilograms delivered over all trips")
    trips: int = Field(default=1, ge=1)
    duration_s: int = Field(default=0, ge=0, description="from leaving the depot to return")
    load_by_category: tuple[CategoryLoad, ...] = ()


class Unassigned(Model):
    """A delivery (or part of one) no route carries, and why."""

    delivery_id: Identifier
    quantity_units: int = Field(gt=0)
    reason: UnassignedReason
    detail: str = Field(default="", description="the reason as a sentence")


class Plan(Model):
    """Routes for the day, with unassigned deliveries listed, never dropped."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    status: PlanStatus = PlanStatus.complete
    distance_m: int = Field(ge=0)
    solve_time_s: float = Field(ge=0)
    seed: int

    def to_json(self) -> str:
        """The plan as JSON, for export."""
        return self.model_dump_json(indent=2)


def unassigned(piece: Delivery, reason: UnassignedReason, why: str = "") -> Unassigned:
    """``piece`` as unassigned with ``reason`` and a sentence (``why`` adds specifics)."""
    detail = f"{piece.delivery_id}: {UNASSIGNED_REASON_TEXT[reason]}"
    return Unassigned(
        delivery_id=piece.delivery_id,
        quantity_units=piece.quantity_units,
        reason=reason,
        detail=f"{detail} {why}".strip(),
    )


def category_loads(stops: Sequence[Stop]) -> tuple[CategoryLoad, ...]:
    """Units and kilograms per category over ``stops``, sorted by category."""
    units: dict[str, int] = {}
    kgs: dict[str, int] = {}
    for stop in stops:
        units[stop.category_id] = units.get(stop.category_id, 0) + stop.quantity_units
        kgs[stop.category_id] = kgs.get(stop.category_id, 0) + stop.weight_kg
    return tuple(
        CategoryLoad(category_id=c, quantity_units=units[c], weight_kg=kgs[c])
        for c in sorted(units)
    )
