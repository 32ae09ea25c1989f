"""Aggregated demand per delivery date, recomputed when the data may have changed.

Every import writes (or, for content imported before, touches) an ``import_batch`` row,
so the newest batch id and the latest import time are a version of the data that every
server process can read with one small query; a cached frame older than it is rebuilt.
The cache is per process and holds one frame per date.
"""

from __future__ import annotations

import datetime as dt
import threading

import polars as pl
from sqlalchemy import func, select

from data.aggregate import aggregate_demand
from data.store import Store
from data.tables import ImportBatch, table_of

_BATCH = table_of(ImportBatch)


class DemandCache:
    """Building × category demand of a date, rebuilt after any later import."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._frames: dict[dt.date, tuple[tuple[int, str], pl.DataFrame]] = {}

    def _version(self) -> tuple[int, str]:
        """The newest batch id and the latest import time: either moves on every import."""
        query = select(func.coalesce(func.max(_BATCH.c.id), 0), func.max(_BATCH.c.created_at))
        with self._store.engine.connect() as conn:
            newest, latest = conn.execute(query).one()
        return int(newest), str(latest)

    def building_demand(self, day: dt.date) -> pl.DataFrame:
        """Demand per compound × building × category on ``day`` (DEMAND_SCHEMA)."""
        version = self._version()
        with self._lock:
            found = self._frames.get(day)
        if found is not None and found[0] == version:
            return found[1]
        frame = aggregate_demand(self._store.order_lines(day)).collect()
        with self._lock:
            self._frames[day] = (version, frame)
        return frame
