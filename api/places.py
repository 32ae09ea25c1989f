"""Where a compound's goods go on a day: pickup points pinned by leaders, and whether the
compound is sealed (封控, door delivery by building volunteers), read from the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select

from data.geo import haversine_m
from data.schemas import LockdownLevel
from data.store import Store
from data.tables import PickupPinRow, table_of
from routing.pickup_points import DEFAULT_CIRCUITY

PINS = table_of(PickupPinRow)


def level_on(store: Store, compound_id: str, day: dt.date) -> LockdownLevel | None:
    """The compound's lockdown level on ``day`` (the latest status covering it), or None."""
    covering = [s for s in store.lockdown(compound_id) if s.covers(day)]
    return max(covering, key=lambda s: s.valid_from).level if covering else None


def sealed_compounds(store: Store, day: dt.date, compound_ids: Collection[str]) -> frozenset[str]:
    """Which of ``compound_ids`` are sealed on ``day``."""
    return frozenset(c for c in compound_ids if level_on(store, c, day) is LockdownLevel.sealed)


def pinned_points(
    store: Store, day: dt.date, compound_ids: Collection[str]
) -> dict[str, tuple[str, int]]:
    """building_id → (pinned point name, walking metres) for every building of the compounds
    with a pin on ``day``; a building's own pin wins over its compound-wide pin."""
    query = select(PINS).where(PINS.c.delivery_date == day, PINS.c.compound_id.in_(compound_ids))
    with store.engine.connect() as conn:
        rows = list(conn.execute(query).mappings())
    found: dict[str, tuple[str, int]] = {}
    for row in sorted(rows, key=lambda r: r["building_id"] != ""):  # compound-wide first
        for building in store.buildings(row["compound_id"]):
            if row["building_id"] in ("", building.building_id):
                metres = haversine_m(building.lon, building.lat, row["lon"], row["lat"])
                found[building.building_id] = (row["point_name"], round(metres * DEFAULT_CIRCUITY))
    return found
