"""Vehicle crews of a day from the store: assignments, and everyone on board of each crewed
vehicle with their certificates, for the plan checker (``routing.crew``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from data.schemas import CrewAssignment
from data.store import Store, StoredSupply
from data.tables import VehicleCrewRow, table_of
from routing.crew import OnBoard, on_board
from routing.result import Plan

CREWS = table_of(VehicleCrewRow)


def assignments(store: Store, day: dt.date) -> list[CrewAssignment]:
    """The crew assignments of ``day``, by vehicle, crew in their stored order."""
    query = select(CREWS).where(CREWS.c.delivery_date == day)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(CREWS.c.vehicle_id, CREWS.c.position)).mappings()
        crew: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            crew[row["vehicle_id"]].append(row["crew_id"])
    return [
        CrewAssignment(vehicle_id=v, delivery_date=day, crew_ids=tuple(ids))
        for v, ids in sorted(crew.items())
    ]


def crews_on_board(
    supply: StoredSupply, plan: Plan, crewed: Sequence[CrewAssignment]
) -> dict[str, tuple[OnBoard, ...]]:
    """vehicle_id → its route's driver and assigned crew, for vehicles with an assignment."""
    drivers = {d.driver_id: d for d in supply.drivers}
    members = {m.crew_id: m for m in supply.crew}
    by_vehicle = {a.vehicle_id: a for a in crewed}
    found: dict[str, tuple[OnBoard, ...]] = {}
    for route in plan.routes:
        assignment = by_vehicle.get(route.vehicle_id)
        if assignment is None:
            continue
        driver = None if route.driver_id is None else drivers.get(route.driver_id)
        crew = [members[c] for c in assignment.crew_ids if c in members]
        found[route.vehicle_id] = on_board(driver, crew, supply.certificates)
    return found
