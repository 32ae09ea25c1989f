"""From the matcher's allocation to the router's problem: deliveries at gates, vehicle shifts.

Each allocation line becomes one delivery to the compound gate nearest the line's depot,
with the gate's window (``windows.stop_window``), the weight from the category's unit
weight and a service time of a fixed hand-over plus a time per unit. Each vehicle gets
the supplier's next driver and the shift of ``windows.vehicle_shift``. What cannot be
routed at all (no gate, empty window, no shift) is returned as ``Infeasible``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence

from data.geo import haversine_m
from data.schemas import (
    SHANGHAI,
    Category,
    Certificate,
    CertificateType,
    Compound,
    Depot,
    Driver,
    Gate,
    Vehicle,
)
from matcher.result import Allocation
from routing.model import Delivery, RoutingProblem, RoutingVehicle
from routing.windows import (
    Infeasible,
    Interval,
    WindowReason,
    stop_window,
    valid_until,
    vehicle_shift,
)

SERVICE_FIXED_S = 600
"""Hand-over at the gate: parking, receipt check, disinfection (10 minutes)."""

SERVICE_PER_UNIT_S = 6
"""Unloading time per unit (a 5 kg bag or a box)."""


def build_routing_problem(
    day: dt.date,
    allocation: Allocation,
    *,
    compounds: Sequence[Compound],
    gates: Sequence[Gate],
    categories: Sequence[Category],
    depots: Sequence[Depot],
    vehicles: Sequence[Vehicle],
    drivers: Sequence[Driver],
    certificates: Sequence[Certificate],
    committed: Collection[tuple[str, str]] = (),
) -> tuple[RoutingProblem, tuple[Infeasible, ...]]:
    """The day's routing problem for ``allocation`` and what cannot enter it, with reasons.

    ``committed``: (offer, compound) pairs whose lines carry formed groups' goods or owed
    redeliveries; their deliveries are marked ``committed`` (routed before ordinary ones).
    """
    compound_by_id = {c.compound_id: c for c in compounds}
    category_by_id = {c.category_id: c for c in categories}
    depot_by_id = {d.depot_id: d for d in depots}
    gates_of: dict[str, list[Gate]] = {}
    for gate in gates:
        gates_of.setdefault(gate.compound_id, []).append(gate)
    problems: list[Infeasible] = []
    deliveries: list[Delivery] = []
    for n, line in enumerate(allocation.lines):
        depot = depot_by_id[line.depot_id]
        options = gates_of.get(line.compound_id, [])
        delivery_id = f"del-{n + 1:05d}"
        if not options:
            problems.append(
                Infeasible(
                    subject=delivery_id,
                    reason=WindowReason.hours_disjoint,
                    detail=f"compound {line.compound_id} has no gate on record",
                )
            )
            continue
        gate = min(options, key=lambda g: (haversine_m(depot.lon, depot.lat, g.lon, g.lat),
                                           g.gate_id))  # fmt: skip
        window = stop_window(day, compound_by_id[line.compound_id], gate)
        if isinstance(window, Infeasible):
            problems.append(window.model_copy(update={"subject": delivery_id}))
            continue
        category = category_by_id[line.category_id]
        deliveries.append(
            Delivery(
                delivery_id=delivery_id,
                supplier_id=line.supplier_id,
                compound_id=line.compound_id,
                gate_id=gate.gate_id,
                lon=gate.lon,
                lat=gate.lat,
                category_id=line.category_id,
                quantity_units=line.quantity_units,
                weight_kg=math.ceil(line.quantity_units * category.unit_weight_g / 1000),
                cold_chain=category.cold_chain,
                window_start=window.start,
                window_end=window.end,
                service_s=SERVICE_FIXED_S + SERVICE_PER_UNIT_S * line.quantity_units,
                service_per_unit_s=SERVICE_PER_UNIT_S,
                gate_max_trucks=gate.max_trucks,
                committed=(line.offer_id, line.compound_id) in committed,
            )
        )
    fleet: list[RoutingVehicle] = []
    for supplier_id in sorted({v.supplier_id for v in vehicles}):
        own = sorted((v for v in vehicles if v.supplier_id == supplier_id),
                     key=lambda v: v.vehicle_id)  # fmt: skip
        crew = sorted((d for d in drivers if d.supplier_id == supplier_id),
                      key=lambda d: d.driver_id)  # fmt: skip
        for k, vehicle in enumerate(own):
            driver = crew[k] if k < len(crew) else None
            depot = depot_by_id[vehicle.depot_id]
            shift = vehicle_shift(day, vehicle, depot, driver, certificates)
            if isinstance(shift, Infeasible):
                problems.append(shift)
                continue
            fleet.append(_routing_vehicle(vehicle, depot, driver, shift, certificates))
    day_start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=SHANGHAI)
    problem = RoutingProblem(day_start=day_start, deliveries=tuple(deliveries),
                             vehicles=tuple(fleet))  # fmt: skip
    return problem, tuple(problems)


def _routing_vehicle(
    vehicle: Vehicle,
    depot: Depot,
    driver: Driver | None,
    shift: Interval,
    certificates: Sequence[Certificate],
) -> RoutingVehicle:
    return RoutingVehicle(
        vehicle_id=vehicle.vehicle_id,
        supplier_id=vehicle.supplier_id,
        depot_id=depot.depot_id,
        depot_lon=depot.lon,
        depot_lat=depot.lat,
        capacity_kg=vehicle.capacity_kg,
        capacity_units=vehicle.capacity_units,
        refrigerated=vehicle.refrigerated,
        fixed_cost_cents=vehicle.fixed_cost_cents,
        shift_start=shift.start,
        shift_end=shift.end,
        driver_id=None if driver is None else driver.driver_id,
        driver_test_valid_until=None
        if driver is None
        else valid_until(
            CertificateType.driver_test, driver.driver_id, certificates, shift, driver
        ),
        vehicle_pass_valid_until=valid_until(
            CertificateType.vehicle_pass, vehicle.vehicle_id, certificates, shift
        ),
    )
