"""Read caches of one server process, rebuilt whenever the stored data may have changed.

Every import writes (or, for content imported before, touches) an ``import_batch`` row,
so the newest batch id and the latest import time are a version of the data that every
server process can read with one small query; anything cached under an older version is
rebuilt. Cached: demand per date, compounds, supply, each supplier's service area, and
documents built from a plan (keyed also by the plan's job ids, which change on re-plans).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import func, select

from data.aggregate import aggregate_demand
from data.schemas import Compound
from data.store import Store, StoredSupply
from data.tables import ImportBatch, table_of
from matcher.service_area import served_compounds

_BATCH = table_of(ImportBatch)
T = TypeVar("T")
Version = tuple[int, str]
"""The data version: newest import batch id and latest import time."""


class DemandCache:
    """Versioned memo of expensive reads; at most ``size`` entries, least recent dropped."""

    def __init__(self, store: Store, *, size: int = 256) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Version, Any]] = OrderedDict()

    def version(self) -> Version:
        """The newest batch id and the latest import time: either moves on every import."""
        query = select(func.coalesce(func.max(_BATCH.c.id), 0), func.max(_BATCH.c.created_at))
        with self._store.engine.connect() as conn:
            newest, latest = conn.execute(query).one()
        return int(newest), str(latest)

    def peek(self, key: Hashable, version: Version) -> Any | None:
        """The value kept for ``key`` at ``version``, or None: a lookup without I/O, so an
        async endpoint can answer from the cache on the event loop."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def memo(self, key: Hashable, build: Callable[[], T], version: Version | None = None) -> T:
        """``build()`` once per data version for ``key``; pass ``version`` when the request
        has read it already, so one request reads it once."""
        version = version or self.version()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == version:
                self._entries.move_to_end(key)
                value: T = found[1]
                return value
        value = build()
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def building_demand(self, day: dt.date, version: Version | None = None) -> pl.DataFrame:
        """Demand per compound × building × category on ``day`` (DEMAND_SCHEMA)."""
        return self.memo(
            ("demand", day),
            lambda: aggregate_demand(self._store.order_lines(day)).collect(),
            version,
        )

    def compounds(self, version: Version | None = None) -> list[Compound]:
        """Every compound, by id."""
        return self.memo("compounds", self._store.compounds, version)

    def supply(self, version: Version | None = None) -> StoredSupply:
        """Every supplier with what it brings."""
        return self.memo("supply", self._store.supply, version)

    def served(
        self, supplier_id: str, day: dt.date, version: Version | None = None
    ) -> frozenset[str]:
        """Compounds the supplier's offers of ``day`` (else all its offers) may serve."""

        def build() -> frozenset[str]:
            supply = self.supply(version)
            offers = [o for o in supply.offers if o.supplier_id == supplier_id]
            dated = [o for o in offers if o.delivery_date == day] or offers
            depots = [d for d in supply.depots if d.supplier_id == supplier_id]
            return frozenset(served_compounds(self.compounds(version), dated, depots))

        return self.memo(("served", supplier_id, day), build, version)
