"""SIGKILL the real server while order uploads stream in; a restart must lose and double nothing.

Per backend (SQLite file, PostgreSQL schema; ``api_url`` seeds both): ``linli serve`` runs
as a subprocess, a few threads upload one-order CSVs for c-tangqiao as fast as they can,
each with its own ``Idempotency-Key``, and the server is killed with SIGKILL while uploads
are in flight. After a restart on the same database every acknowledged order is there once,
and re-sending every upload (answered or cut off) with its key gives 201 and no duplicate.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api import subprocess_server
from api.audit import verify
from api.subprocess_server import Server, ServerStartError
from data.store import Store
from tests.api.conftest import PASSWORD

COMPOUND = "c-tangqiao"
DAY = "2022-04-15"
HEADER = (
    "order_id,compound_id,building_id,room,delivery_date,category_id,quantity_units,"
    "product,priority_flags,proxy,household_name,phone\n"
)
SEED_ORDERS = {"o-4"}
"""Orders of c-tangqiao in the seeded day (tests/instances/api/orders.csv)."""
UPLOADERS = 4
"""Threads uploading at once, so several uploads are in flight when the server dies."""
KILL_AFTER_OK = 30
KILL_AFTER_S = 3.0
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 20.0


@contextmanager
def serve(url: str, log: Path) -> Iterator[Server]:
    """The real server on ``url``, killed with SIGKILL afterwards; a failed start fails the test."""
    env = {**os.environ, "LINLI_JWT_SECRET": "crash-test-secret-" + "k" * 32, "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    env.pop("LINLI_DATABASE_URL", None)
    try:
        with subprocess_server.serve(url, log, env=env, start_timeout_s=START_TIMEOUT_S) as server:
            yield server
    except ServerStartError as error:
        pytest.fail(str(error))


def _sign_in(base_url: str) -> dict[str, str]:
    """Bearer header of c-tangqiao's leader."""
    form = {"username": "leader_other", "password": PASSWORD}
    reply = httpx.post(f"{base_url}/auth/token", data=form, timeout=REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def _order_id(index: int) -> str:
    return f"crash-{index:05d}"


def _quantity(index: int) -> int:
    return index % 5 + 1


def _room(index: int) -> str:
    """A room on the roster of c-tangqiao-b01 (6 floors, 7 flats a floor)."""
    return f"{index % 6 + 1}{index % 7 + 1:02d}"


def _csv(index: int) -> bytes:
    """One order for building c-tangqiao-b01; quantity varies so items can be checked."""
    row = (
        f"{_order_id(index)},{COMPOUND},c-tangqiao-b01,{_room(index)},{DAY},eggs,"
        f"{_quantity(index)},,,,住户{index},\n"
    )
    return (HEADER + row).encode()


def _upload(client: httpx.Client, headers: dict[str, str], index: int) -> httpx.Response:
    """POST upload ``index`` under its own Idempotency-Key."""
    return client.post(
        f"/compounds/{COMPOUND}/orders",
        headers={**headers, "Idempotency-Key": f"crash-key-{index}"},
        files={"file": (f"orders-{index}.csv", _csv(index), "text/csv")},
    )


@dataclass
class Stream:
    """Uploads streamed by several threads; what each one got back."""

    base_url: str
    headers: dict[str, str]
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: Iterator[int] = field(default_factory=itertools.count)
    in_flight: int = 0
    answers: dict[int, httpx.Response] = field(default_factory=dict)
    cut_off: dict[int, str] = field(default_factory=dict)

    def ok(self) -> int:
        """Uploads answered 2xx so far."""
        with self.lock:
            return sum(r.is_success for r in self.answers.values())

    def flying(self) -> int:
        """Uploads sent and not yet answered."""
        with self.lock:
            return self.in_flight

    def run(self) -> None:
        """Upload new orders until stopped; a transport error means no answer."""
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S) as client:
            while not self.stop.is_set():
                with self.lock:
                    index = next(self.counter)
                    self.in_flight += 1
                try:
                    reply = _upload(client, self.headers, index)
                except httpx.TransportError as error:
                    with self.lock:
                        self.cut_off[index] = type(error).__name__
                        self.in_flight -= 1
                    continue
                with self.lock:
                    self.answers[index] = reply
                    self.in_flight -= 1


def _orders(base_url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    reply = httpx.get(
        f"{base_url}/compounds/{COMPOUND}/orders",
        params={"delivery_date": DAY},
        headers=headers,
        timeout=REQUEST_TIMEOUT_S,
    )
    assert reply.status_code == 200, reply.text
    orders: list[dict[str, Any]] = reply.json()
    return orders


def _assert_once(orders: list[dict[str, Any]], indices: set[int]) -> None:
    """Each upload in ``indices`` is stored exactly once, with its one item."""
    ids = [o["order_id"] for o in orders]
    assert len(ids) == len(set(ids)), "an order is stored twice"
    by_id = {o["order_id"]: o for o in orders}
    for index in sorted(indices):
        stored = by_id.get(_order_id(index))
        assert stored is not None, f"upload {index} is lost"
        assert [(i["category_id"], i["quantity_units"]) for i in stored["items"]] == [
            ("eggs", _quantity(index))
        ], stored


def test_sigkill_during_uploads_loses_and_doubles_nothing(api_url: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with serve(api_url, tmp_path / "first.log") as first:
        stream = Stream(first.base_url, _sign_in(first.base_url))
        threads = [threading.Thread(target=stream.run, daemon=True) for _ in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        while stream.ok() < KILL_AFTER_OK and time.monotonic() - began < KILL_AFTER_S:
            time.sleep(0.005)
        while stream.ok() == 0 and time.monotonic() - began < START_TIMEOUT_S:
            time.sleep(0.005)  # a slow machine: wait for one acknowledged upload at least
        while True:  # kill mid-request: no thread records an answer while we hold the lock
            with stream.lock:
                in_flight_at_kill = stream.in_flight
                if in_flight_at_kill:
                    stream.stop.set()
                    os.kill(first.process.pid, signal.SIGKILL)
                    break
            time.sleep(0.0005)
        first.process.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
        assert not any(t.is_alive() for t in threads)
        log = first.output()

    acknowledged = {i for i, r in stream.answers.items() if r.is_success}
    failed = {i: (r.status_code, r.text[:200]) for i, r in stream.answers.items() if r.is_error}
    attempted = set(stream.answers) | set(stream.cut_off)
    assert in_flight_at_kill >= 1
    assert acknowledged, f"no upload succeeded before the kill:\n{log}"
    assert all(stream.answers[i].status_code == 201 for i in acknowledged)
    assert not failed, f"server errors before the kill: {failed}\n{log}"

    with serve(api_url, tmp_path / "second.log") as second:
        headers = _sign_in(second.base_url)
        before = _orders(second.base_url, headers)
        _assert_once(before, acknowledged)
        known = SEED_ORDERS | {_order_id(i) for i in attempted}
        assert {o["order_id"] for o in before} <= known, "an order nobody uploaded appeared"

        with httpx.Client(base_url=second.base_url, timeout=REQUEST_TIMEOUT_S) as client:
            for index in sorted(attempted):
                again = _upload(client, headers, index)
                assert again.status_code == 201, (index, again.text)
                summary = again.json()
                assert summary["orders"] == 1 and summary["updated"] == 0, summary
                assert summary["inserted"] + summary["unchanged"] == 1, summary
                if index in acknowledged:  # the first answer, replayed
                    assert summary == stream.answers[index].json()
                    assert again.headers.get("Idempotent-Replayed") == "true"

        after = _orders(second.base_url, headers)
        _assert_once(after, attempted)
        assert {o["order_id"] for o in after} == known

    store = Store.open(api_url)
    try:
        verdict = verify(store.engine)
    finally:
        store.close()
    assert verdict.ok, verdict
    print(
        f"{len(acknowledged)} acknowledged, {len(failed)} server errors, "
        f"{len(stream.cut_off)} cut off {sorted(set(stream.cut_off.values()))} "
        f"({in_flight_at_kill} in flight at the kill), {time.monotonic() - started:.1f} s"
    )
