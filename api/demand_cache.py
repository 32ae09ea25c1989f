"""Read caches of one server process, rebuilt whenever the stored data may have changed.

Every import writes (or, for content imported before, touches) an ``import_batch`` row,
so the newest batch id and the latest import time are a version of the data that every
server process can read with one small query; anything cached under an older version is
rebuilt. Cached: demand per date, compounds, supply, each supplier's service area, and
documents built from a plan (keyed also by the plan's job ids, which change on re-plans).
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

import polars as pl
from sqlalchemy import func, select

from data.aggregate import aggregate_demand
from data.schemas import Compound
from data.store import Store, StoredSupply
from data.tables import ImportBatch, table_of
from matcher.service_area import served_compounds

_BATCH = table_of(ImportBatch)
T = TypeVar("T")
_MISSING = object()
Version = tuple[int, str]
"""The data version: newest import batch id and latest import time."""


class DemandCache:
    """Versioned memo of expensive reads; at most ``size`` entries, least recent dropped."""

    def __init__(self, store: Store, *, size: int = 256) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[Version, Any]] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}

    def version(self) -> Version:
        """The newest batch id and the latest import time: either moves on every import."""
        query = select(func.coalesce(func.max(_BATCH.c.id), 0), func.max(_BATCH.c.created_at))
        with self._store.engine.connect() as conn:
            newest, latest = conn.execute(query).one()
        return int(newest), str(latest)

    def _found(self, key: Hashable, version: Version) -> Any:
        """The value kept for ``key`` at ``version``, else ``_MISSING``."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                return _MISSING
            self._entries.move_to_end(key)
            return found[1]

    def peek(self, key: Hashable, version: Version) -> Any | None:
        """The value kept for ``key`` at ``version``, or None: a lookup without I/O, so an
        async endpoint can answer from the cache on the event loop."""
        found = self._found(key, version)
        return None if found is _MISSING else found

    def memo(self, key: Hashable, build: Callable[[], T], version: Version | None = None) -> T:
        """``build()`` once per data version for ``key``; pass ``version`` when the request
        has read it already, so one request reads it once.

        Concurrent misses of one key wait for a single build (no stampede of identical
        builds when many requests reach a cold process at once)."""
        version = version or self.version()
        found = self._found(key, version)
        if found is not _MISSING:
            value: T = found
            return value
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            found = self._found(key, version)
            if found is not _MISSING:
                return cast(T, found)
            value = build()
            with self._lock:
                self._entries[key] = (version, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
                self._building.pop(key, None)
        # Cached values live long and hold many objects; left to the collector, every
        # full collection walks them and everything imported (pauses of 140-180 ms were
        # measured under load). Frozen, they are skipped; a dropped value is still freed by
        # its reference count (cached values hold no reference cycles).
        gc.freeze()
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
