"""Solved pieces kept by the hash of their inputs: in memory, or in the store's ``city_piece``.

A plan-city run looks every piece up before solving it, so a re-plan after one change
re-solves only the pieces whose inputs changed; results are written as they stream back,
so an interrupted run loses only the pieces still running.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import insert, select

from api.city.work import PieceResult
from data.schemas import SHANGHAI
from data.store import Store, write_transaction
from data.tables import CityPieceRow, table_of

_PIECES = table_of(CityPieceRow)


class PieceCache(Protocol):
    """Where solved pieces are looked up and kept."""

    def get(self, key: str) -> PieceResult | None:
        """The stored result of the piece with ``key``, if any."""
        ...

    def put(self, result: PieceResult) -> None:
        """Keep ``result`` (a second put of the same key is a no-op)."""
        ...


class MemoryCache:
    """Pieces in a dict (one process; tests and benchmarks)."""

    def __init__(self) -> None:
        self.results: dict[str, PieceResult] = {}

    def get(self, key: str) -> PieceResult | None:
        """The kept result, if any."""
        return self.results.get(key)

    def put(self, result: PieceResult) -> None:
        """Keep ``result`` unless its key is already kept."""
        self.results.setdefault(result.key, result)


class StoreCache:
    """Pieces in the store's ``city_piece`` table, for one delivery date."""

    def __init__(self, store: Store, delivery_date: dt.date) -> None:
        self.store = store
        self.delivery_date = delivery_date

    def get(self, key: str) -> PieceResult | None:
        """The stored result, if any."""
        with self.store.engine.connect() as conn:
            found = conn.execute(select(_PIECES.c.result).where(_PIECES.c.key == key)).first()
        return None if found is None else PieceResult.model_validate(found[0])

    def put(self, result: PieceResult) -> None:
        """Write ``result`` unless its key is already stored."""
        with write_transaction(self.store.engine) as conn:
            exists = conn.execute(select(_PIECES.c.key).where(_PIECES.c.key == result.key))
            if exists.first() is not None:
                return
            conn.execute(
                insert(_PIECES).values(
                    key=result.key,
                    kind=result.kind,
                    scope=result.scope[:256],
                    round=result.round,
                    delivery_date=self.delivery_date,
                    result=result.model_dump(mode="json"),
                    created_at=dt.datetime.now(SHANGHAI),
                )
            )
