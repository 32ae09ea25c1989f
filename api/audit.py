"""The audit log: every change appended with who, role, what, when, before and after.

Each event's ``hash`` is sha256 over the previous event's hash and the event's canonical
JSON, so editing, inserting or deleting a stored event breaks the chain at that point;
``verify`` walks the chain and names the first event that does not fit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, insert, select, text

from api.security import Principal
from data.store import write_transaction
from data.tables import AuditEventRow, table_of

GENESIS = "0" * 64
"""``prev_hash`` of the first event."""

_EVENTS = table_of(AuditEventRow)
_sqlite_writer = threading.Lock()


class AuditEvent(BaseModel):
    """One stored event as the API returns it."""

    model_config = ConfigDict(frozen=True)

    seq: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str


def _digest(prev_hash: str, at: dt.datetime, fields: dict[str, Any]) -> str:
    """The chained hash of one event (time in UTC to the microsecond, keys sorted)."""
    body = {**fields, "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds")}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def append(
    conn: Connection,
    who: Principal | str,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
) -> str:
    """Append one event inside the caller's transaction; returns its hash.

    On PostgreSQL a transaction-scoped advisory lock orders concurrent writers, so two
    events never claim the same predecessor.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7274)"))
    last = conn.execute(select(_EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1))
    prev_hash = last.scalar_one_or_none() or GENESIS
    actor, role = (who.username, who.role.value) if isinstance(who, Principal) else (who, "system")
    at = dt.datetime.now(dt.UTC)
    fields = {
        "actor": actor,
        "role": role,
        "action": action,
        "target": target[:256],
        "before": before,
        "after": after,
    }
    digest = _digest(prev_hash, at, fields)
    conn.execute(insert(_EVENTS).values(**fields, at=at, prev_hash=prev_hash, hash=digest))
    return digest


def record(
    engine: Engine,
    who: Principal | str,
    action: str,
    target: str,
    *,
    before: Any = None,
    after: Any = None,
) -> str:
    """Append one event in its own transaction."""
    with write(engine) as conn:
        return append(conn, who, action, target, before=before, after=after)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite, writers of this process take turns (no BUSY errors)."""
    lock = _sqlite_writer if engine.dialect.name == "sqlite" else nullcontext()
    with lock, write_transaction(engine) as conn:
        yield conn


def events(
    engine: Engine, *, after_seq: int = 0, limit: int = 100, action: str | None = None
) -> list[AuditEvent]:
    """Events after ``after_seq`` in order, at most ``limit``, optionally of one action."""
    query = select(_EVENTS).where(_EVENTS.c.seq > after_seq).order_by(_EVENTS.c.seq).limit(limit)
    if action:
        query = query.where(_EVENTS.c.action == action)
    with engine.connect() as conn:
        return [AuditEvent.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def _all(engine: Engine, batch: int = 5000) -> Iterator[AuditEvent]:
    seq = 0
    while chunk := events(engine, after_seq=seq, limit=batch):
        yield from chunk
        seq = chunk[-1].seq


@dataclass(frozen=True)
class Verdict:
    """The chain is intact (``broken_at`` None) or breaks at that event, and why."""

    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether every event fits its predecessor and its own content."""
        return self.broken_at is None


def verify(engine: Engine) -> Verdict:
    """Recompute every hash in order; the first mismatch is reported with its ``seq``."""
    prev = GENESIS
    count = 0
    for event in _all(engine):
        count += 1
        if event.prev_hash != prev:
            return Verdict(
                count,
                event.seq,
                "its prev_hash is not the previous event's hash "
                "(an event before it was deleted, inserted or changed)",
            )
        fields = event.model_dump(include={"actor", "role", "action", "target", "before", "after"})
        if _digest(prev, event.at, fields) != event.hash:
            return Verdict(count, event.seq, "its content does not match its hash (edited)")
        prev = event.hash
    return Verdict(count)


def changed(before: BaseModel | None, after: BaseModel | None) -> dict[str, Any]:
    """Before/after JSON of a model change, for ``append``'s keyword arguments."""
    return {
        "before": None if before is None else before.model_dump(mode="json"),
        "after": None if after is None else after.model_dump(mode="json"),
    }


def targets(items: Sequence[str]) -> str:
    """A short target naming several objects."""
    head = ", ".join(items[:5])
    return head + (f" and {len(items) - 5} more" if len(items) > 5 else "")
