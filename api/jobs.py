"""Background jobs: matching and planning run in worker processes, tracked in the ``job`` table.

The web process only inserts a ``queued`` row and hands its id to a process pool; the
worker (``api.job_work.run_job``) marks it ``running``, reports progress and writes the
result. On start-up ``recover`` marks jobs a dead server left ``running`` as failed (the
client submits again) and re-queues ``queued`` ones, so no job stays stuck.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import multiprocessing
import secrets
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update

from api import audit
from api.errors import ApiError, not_found
from api.job_work import run_job
from api.security import Principal
from api.settings import Settings
from data.store import Store, write_transaction
from data.tables import JobRow, table_of

log = logging.getLogger("linli.jobs")
_JOBS = table_of(JobRow)

INTERRUPTED = "interrupted: the server stopped while this job ran; submit it again"


class JobKind(enum.StrEnum):
    """What a job computes."""

    match = "match"  # the day's allocation of demand to offers
    plan = "plan"  # vehicle routes for an allocation
    replan = "replan"  # the rest of a plan's day after breakdowns, failures, sealing


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobView(BaseModel):
    """A job as its owner polls it (the result is fetched from the kind's own endpoint)."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    kind: JobKind
    status: JobStatus
    progress: int
    message: str
    owner: str
    compound_id: str | None
    supplier_id: str | None
    delivery_date: dt.date
    params: dict[str, Any]
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def job_view(row: Any) -> JobView:
    """A stored job row as the API shows it."""
    return JobView.model_validate({k: row[k] for k in JobView.model_fields})


def load_job(store: Store, job_id: str) -> JobView | None:
    """The job, or None."""
    with store.engine.connect() as conn:
        row = conn.execute(select(_JOBS).where(_JOBS.c.job_id == job_id)).mappings().first()
    return None if row is None else job_view(row)


def load_result(store: Store, job_id: str) -> dict[str, Any] | None:
    """The stored result of a finished job."""
    with store.engine.connect() as conn:
        value = conn.execute(select(_JOBS.c.result).where(_JOBS.c.job_id == job_id))
        found = value.scalar_one_or_none()
    return found if isinstance(found, dict) else None


def finished(store: Store, job_id: str, *kinds: JobKind) -> tuple[JobView, dict[str, Any]]:
    """A succeeded job of one of ``kinds`` and its result; 404 if none, 409 if not done yet."""
    job = load_job(store, job_id)
    kind = "/".join(kinds)
    if job is None or job.kind not in kinds:
        raise not_found(f"{kind} job", job_id)
    if job.status is not JobStatus.succeeded:
        raise ApiError(409, "job_not_done", f"job {job_id} is {job.status}; poll /jobs/{job_id}")
    result = load_result(store, job_id)
    if result is None:
        raise ApiError(409, "job_not_done", f"job {job_id} has no result")
    return job, result


class JobRunner:
    """Submits jobs to a pool of worker processes and keeps their rows honest."""

    def __init__(self, store: Store, settings: Settings, *, workers: int = 1) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Open the worker pool and dispatch every queued job."""
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        with self.store.engine.connect() as conn:
            queued = conn.execute(
                select(_JOBS.c.job_id)
                .where(_JOBS.c.status == JobStatus.queued)
                .order_by(_JOBS.c.created_at)
            ).scalars()
            for job_id in list(queued):
                self._dispatch(job_id)

    def stop(self) -> None:
        """Stop taking work; running workers finish or die with the server."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def recover(self) -> int:
        """Mark jobs left ``running`` by a stopped server as failed; returns how many."""
        now = dt.datetime.now(dt.UTC)
        with audit.write(self.store.engine) as conn:
            stuck = list(
                conn.execute(
                    select(_JOBS.c.job_id).where(_JOBS.c.status == JobStatus.running)
                ).scalars()
            )
            if stuck:
                conn.execute(
                    update(_JOBS)
                    .where(_JOBS.c.job_id.in_(stuck))
                    .values(status=JobStatus.failed, error=INTERRUPTED, finished_at=now)
                )
                for job_id in stuck:
                    audit.append(conn, "server", "job.interrupted", f"job {job_id}")
        return len(stuck)

    def submit(
        self,
        kind: JobKind,
        owner: Principal,
        delivery_date: dt.date,
        params: dict[str, Any],
    ) -> JobView:
        """Record a queued job in the caller's scope and hand it to a worker."""
        job_id = secrets.token_hex(8)
        values = {
            "job_id": job_id,
            "kind": kind.value,
            "status": JobStatus.queued.value,
            "progress": 0,
            "message": "queued",
            "owner": owner.username,
            "compound_id": owner.compound_id,
            "supplier_id": owner.supplier_id,
            "delivery_date": delivery_date,
            "params": params,
            "created_at": dt.datetime.now(dt.UTC),
        }
        with audit.write(self.store.engine) as conn:
            conn.execute(insert(_JOBS).values(**values))
            audit.append(conn, owner, f"job.submit.{kind}", f"job {job_id}", after=params)
        self._dispatch(job_id)
        view = self.get(job_id)
        assert view is not None
        return view

    def _dispatch(self, job_id: str) -> None:
        with self._lock:
            pool = self._pool
        if pool is None:
            return  # picked up by start()
        future = pool.submit(run_job, self.settings.url(), job_id)
        future.add_done_callback(lambda done: self._finished(job_id, done))

    def _finished(self, job_id: str, future: Future[None]) -> None:
        """A worker that died (killed, out of memory) leaves its job failed, not running."""
        error = None if future.cancelled() else future.exception()
        if error is None:
            return
        log.error("job %s: worker failed: %r", job_id, error)
        with write_transaction(self.store.engine) as conn:
            conn.execute(
                update(_JOBS)
                .where(
                    _JOBS.c.job_id == job_id,
                    _JOBS.c.status.in_([JobStatus.queued, JobStatus.running]),
                )
                .values(
                    status=JobStatus.failed,
                    error=f"the worker process failed: {type(error).__name__}",
                    finished_at=dt.datetime.now(dt.UTC),
                )
            )

    def get(self, job_id: str) -> JobView | None:
        """The job, or None."""
        return load_job(self.store, job_id)

    def recent(self, owner: str | None, status: JobStatus | None, limit: int) -> list[JobView]:
        """Newest jobs first, of one owner (None: everyone's), optionally of one status."""
        query = select(_JOBS).order_by(_JOBS.c.created_at.desc()).limit(limit)
        if owner is not None:
            query = query.where(_JOBS.c.owner == owner)
        if status is not None:
            query = query.where(_JOBS.c.status == status)
        with self.store.engine.connect() as conn:
            return [job_view(row) for row in conn.execute(query).mappings()]

    def result(self, job_id: str) -> dict[str, Any] | None:
        """The stored result of a finished job."""
        return load_result(self.store, job_id)
