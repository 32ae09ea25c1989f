"""Aggregated demand per delivery date, recomputed when a newer import batch exists.

Every import writes an ``import_batch`` row, so the newest batch id is a version of the
data that every server process can read with one small query; a cached frame older than
it is rebuilt. The cache is per process and holds one frame per date.
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
        self._frames: dict[dt.date, tuple[int, pl.DataFrame]] = {}

    def _version(self) -> int:
        with self._store.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(_BATCH.c.id), 0))).scalar_one())

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
