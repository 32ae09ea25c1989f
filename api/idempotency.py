"""``Idempotency-Key``: a retried request gets the first answer again, never a second effect.

The first answer is stored under (user, key) with the sha256 of the request; a retry with
the same body replays it, a different body under the same key is a 409.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from api.errors import ApiError
from data.store import write_transaction
from data.tables import IdempotentRequestRow, table_of

_REQUESTS = table_of(IdempotentRequestRow)


def fingerprint(*parts: bytes | str) -> str:
    """sha256 over the request's method, path and body."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


_local_locks: dict[tuple[str, str], threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def exclusive(engine: Engine, username: str, key: str) -> Iterator[None]:
    """Hold (user, key) alone while a request is answered, so two concurrent retries of one
    upload never both run it: a PostgreSQL advisory lock across server processes, a lock
    per key within the one process that serves a SQLite file."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            name = f"linli-idempotency|{username}|{key}"
            conn.execute(text("SELECT pg_advisory_lock(hashtextextended(:n, 0))"), {"n": name})
            try:
                yield
            finally:
                conn.execute(
                    text("SELECT pg_advisory_unlock(hashtextextended(:n, 0))"), {"n": name}
                )
        return
    with _local_guard:
        lock = _local_locks.setdefault((username, key), threading.Lock())
    with lock:
        yield


def replay(engine: Engine, username: str, key: str, request_sha256: str) -> Any | None:
    """The stored answer to this key, if any; 409 when the key was used for another request."""
    query = select(_REQUESTS).where(_REQUESTS.c.username == username, _REQUESTS.c.key == key)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    if row["request_sha256"] != request_sha256:
        raise ApiError(
            409,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key",
            "Idempotency-Key",
        )
    return row["response"]


def remember(
    engine: Engine, username: str, key: str, request_sha256: str, status_code: int, response: Any
) -> Any:
    """Store the answer; if a concurrent retry stored one first, return that one instead."""
    values = {
        "username": username,
        "key": key,
        "request_sha256": request_sha256,
        "status_code": status_code,
        "response": response,
        "created_at": dt.datetime.now(dt.UTC),
    }
    try:
        with write_transaction(engine) as conn:
            conn.execute(insert(_REQUESTS).values(**values))
    except IntegrityError:
        stored = replay(engine, username, key, request_sha256)
        return response if stored is None else stored
    return response
