"""Run a city day's pieces on Dask distributed (or in this process) and assemble the plan.

``plan_city`` runs three stages: matching round 1 (one piece per zone: a district, large
ones cut by streets), round 2 (the zones that get unused capacity), routing (one piece per
supplier), then staggers the merged routes at the gates. ``PieceRunner`` looks every piece
up in the cache by its key, submits the others to the Dask client (``retries`` for a piece
that raises; a piece whose worker dies is reassigned by the scheduler), writes each result
to the cache as it streams back (``as_completed``) and reports done / running / failed to a
progress view. Without a client the pieces run one after the other in this process: the
single-process reference, which gives the same plan because every piece has its own seed and
a deterministic budget (matcher: deterministic time; router: ``max_iterations``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from distributed import Client, Future, LocalCluster, as_completed

from api.city.cache import MemoryCache, PieceCache
from api.city.day import CityDay
from api.city.decompose import (
    Decomposer,
    Piece,
    better,
    capacity_overruns,
    merge_allocations,
    merge_plans,
    piece_key,
    piece_kind,
    route_pieces,
    routing_day,
)
from api.city.work import PieceResult, solve_piece
from matcher.model import Params
from matcher.result import Allocation, Objectives, SolveStatus
from routing.matrix import HaversineMatrix
from routing.model import Params as RouteParams
from routing.model import RoutingProblem
from routing.result import Plan
from routing.windows import Infeasible


class ProgressView(Protocol):
    """What a run reports while its pieces are solved."""

    def begin(self, stage: str, total: int, reused: int) -> None:
        """A stage starts with ``total`` pieces, ``reused`` of them found in the cache."""
        ...

    def advance(self, done: int, running: int, failed: int) -> None:
        """Counts of the stage's pieces solved (incl. reused), running now, failed."""
        ...

    def end(self) -> None:
        """The stage is over."""
        ...


class PieceFailedError(RuntimeError):
    """Pieces that raised after all their retries; the others are kept in the cache."""

    def __init__(self, failures: Sequence[tuple[str, str, BaseException | str]]) -> None:
        self.failures = tuple(failures)
        text = "; ".join(f"{kind} {scope}: {error!r}" for kind, scope, error in failures)
        super().__init__(f"{len(failures)} piece(s) failed after their retries: {text}")


@dataclass(frozen=True)
class PieceRun:
    """How one piece of a run was answered."""

    kind: str
    scope: str
    round: int
    key: str
    status: str  # "solved" or "reused"
    seconds: float
    worker: str


@dataclass
class PieceRunner:
    """Answers pieces from the cache or by solving them (on ``client``, else here)."""

    client: Client | None = None
    cache: PieceCache = field(default_factory=MemoryCache)
    progress: ProgressView | None = None
    fault: Callable[[str], None] | None = None
    retries: int = 2
    poll_s: float = 0.2
    runs: list[PieceRun] = field(default_factory=list)

    def run(self, stage: str, pieces: Sequence[Piece]) -> list[PieceResult]:
        """Results of ``pieces`` in their order; raises ``PieceFailedError`` after the stage."""
        keys = [piece_key(p) for p in pieces]
        found: dict[str, PieceResult] = {}
        todo: dict[str, Piece] = {}
        for key, piece in zip(keys, pieces, strict=True):
            cached = self.cache.get(key)
            if cached is not None:
                found[key] = cached
                self._record(piece, cached, "reused")
            else:
                todo.setdefault(key, piece)
        if self.progress is not None:
            self.progress.begin(stage, len(set(keys)), len(found))
        failures: list[tuple[str, str, BaseException | str]] = []
        if self.client is None:
            self._run_here(todo, found, failures)
        else:
            self._run_dask(self.client, todo, found, failures)
        if self.progress is not None:
            self.progress.end()
        if failures:
            raise PieceFailedError(failures)
        return [found[key] for key in keys]

    def _record(self, piece: Piece, result: PieceResult, status: str) -> None:
        self.runs.append(
            PieceRun(
                piece_kind(piece),
                piece.scope,
                piece.round,
                result.key,
                status,
                result.seconds,
                result.worker,
            )
        )

    def _advance(self, done: int, running: int, failed: int) -> None:
        if self.progress is not None:
            self.progress.advance(done, running, failed)

    def _run_here(
        self,
        todo: dict[str, Piece],
        found: dict[str, PieceResult],
        failures: list[tuple[str, str, BaseException | str]],
    ) -> None:
        for key, piece in todo.items():
            self._advance(len(found), 1, len(failures))
            try:
                result = solve_piece(piece, key, self.fault)
            except Exception as error:  # reported with the piece; the others go on
                failures.append((piece_kind(piece), piece.scope, error))
                continue
            self.cache.put(result)
            found[key] = result
            self._record(piece, result, "solved")
        self._advance(len(found), 0, len(failures))

    def _run_dask(
        self,
        client: Client,
        todo: dict[str, Piece],
        found: dict[str, PieceResult],
        failures: list[tuple[str, str, BaseException | str]],
    ) -> None:
        futures: dict[Future[PieceResult], tuple[str, Piece]] = {}
        for key, piece in todo.items():
            future = client.submit(
                solve_piece,
                piece,
                key,
                self.fault,
                key=f"{piece_kind(piece)}-r{piece.round}-{key[:24]}",
                retries=self.retries,
                pure=False,
            )
            futures[future] = (key, piece)
        pending = {f.key for f in futures}
        stream = as_completed(list(futures))
        while not stream.is_empty():
            ready = stream.next_batch(block=False) if stream.has_ready() else []
            for future in ready:
                key, piece = futures[future]
                pending.discard(future.key)
                if future.status == "finished":
                    result: PieceResult = future.result()
                    self.cache.put(result)
                    found[key] = result
                    self._record(piece, result, "solved")
                elif future.status in ("error", "cancelled"):
                    error = future.exception() if future.status == "error" else None
                    failures.append((piece_kind(piece), piece.scope, error or future.status))
                else:  # its result died with a worker before it was read: recomputed
                    pending.add(future.key)
                    stream.add(future)
                    continue
                future.release()
            running = sum(1 for keys in client.processing().values() for k in keys if k in pending)
            self._advance(len(found), running, len(failures))
            if not ready:
                time.sleep(self.poll_s)


@dataclass(frozen=True)
class CityPlan:
    """A city day's allocation and routes, and how each piece was answered."""

    allocation: Allocation
    problem: RoutingProblem
    infeasible: tuple[Infeasible, ...]
    plan: Plan
    runs: tuple[PieceRun, ...]
    grants: dict[str, dict[str, int]]
    """Round-2 capacity grants: offer_id → district → units."""
    second_round_kept: tuple[str, ...]
    """Districts whose round-2 answer replaced round 1."""
    timings: dict[str, float]
    """Seconds of the ``match`` and ``route`` stages (decomposition and merge included)."""

    def solved(self, kind: str | None = None) -> list[PieceRun]:
        """Pieces solved (not reused) in this run, optionally of one kind."""
        return [r for r in self.runs if r.status == "solved" and kind in (None, r.kind)]


def _empty_allocation(day: CityDay, params: Params) -> Allocation:
    return Allocation(
        delivery_date=day.delivery_date,
        status=SolveStatus.optimal,
        lines=(),
        unmet=(),
        demand=(),
        objectives=Objectives(priority_served_units=0, served_units=0, cost_cents=0),
        solve_time_s=0.0,
        solver="cp-sat",
        seed=params.seed,
    )


def plan_city(
    day: CityDay, match_params: Params, route_params: RouteParams, runner: PieceRunner
) -> CityPlan:
    """Match per zone (two rounds), route per supplier, stagger gates city-wide."""
    began = time.perf_counter()
    decomposer = Decomposer(day)
    first = runner.run("match, round 1", decomposer.first_round(match_params))
    chosen: dict[str, Allocation] = {}
    for result in first:
        assert result.allocation is not None
        chosen[result.scope] = result.allocation
    second_pieces, grants = decomposer.second_round(match_params, chosen)
    kept: list[str] = []
    for result in runner.run("match, round 2", second_pieces):
        assert result.allocation is not None
        if better(result.allocation, chosen[result.scope]):
            chosen[result.scope] = result.allocation
            kept.append(result.scope)
    allocation = (
        merge_allocations(chosen[d] for d in sorted(chosen))
        if chosen
        else _empty_allocation(day, match_params)
    )
    overruns = capacity_overruns(day, allocation)
    if overruns:  # the split makes this impossible; never publish such a plan
        raise RuntimeError("capacity split broken: " + "; ".join(overruns))
    matched = time.perf_counter()

    problem, infeasible = routing_day(day, allocation)
    routed = runner.run("route", route_pieces(problem, route_params))
    source = HaversineMatrix(circuity=route_params.circuity, speed_kmh=route_params.speed_kmh)
    plans = [r.plan for r in routed if r.plan is not None]
    plan = merge_plans(
        problem, plans, route_params, source, solve_time_s=sum(r.seconds for r in routed)
    )
    done = time.perf_counter()
    return CityPlan(
        allocation=allocation,
        problem=problem,
        infeasible=infeasible,
        plan=plan,
        runs=tuple(runner.runs),
        grants=grants,
        second_round_kept=tuple(sorted(kept)),
        timings={"match": matched - began, "route": done - matched},
    )


def default_workers() -> int:
    """Worker processes for a local cluster: the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A client of the cluster at ``scheduler`` (tcp://host:port), else of a new LocalCluster
    with ``workers`` single-threaded worker processes (default: one per core)."""
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers or default_workers(),
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@dataclass(frozen=True)
class JointComparison:
    """Districts solved apart (with their round-1 shares) against solved as one piece."""

    districts: tuple[str, ...]
    apart: Objectives
    joint: Objectives

    @property
    def served_loss_units(self) -> int:
        """Units the joint piece serves beyond the separate ones (negative: it serves fewer)."""
        return self.joint.served_units - self.apart.served_units

    @property
    def priority_loss_units(self) -> int:
        """Priority units the joint piece serves beyond the separate ones."""
        return self.joint.priority_served_units - self.apart.priority_served_units


def compare_joint(
    day: CityDay, districts: Sequence[str], params: Params, runner: PieceRunner | None = None
) -> JointComparison:
    """The loss of splitting ``districts``: each solved with its round-1 capacity shares,
    against one piece of them all with the sum of their shares (the same supply) and the
    sum of their solver budgets."""
    runner = runner or PieceRunner()
    decomposer = Decomposer(day)
    shares = decomposer.shares()
    apart_pieces = [
        decomposer.match_piece([d], {o: s[d] for o, s in shares.items() if d in s}, params)
        for d in districts
    ]
    joint_capacity = {
        o: sum(s.get(d, 0) for d in districts)
        for o, s in shares.items()
        if any(d in s for d in districts)
    }
    scale = len(districts)  # the joint piece gets the budget of all the pieces it replaces
    joint_params = params.model_copy(
        update={
            "time_limit_s": params.time_limit_s * scale,
            "deterministic_time": None
            if params.deterministic_time is None
            else params.deterministic_time * scale,
        }
    )
    joint_piece = decomposer.match_piece(districts, joint_capacity, joint_params)
    results = runner.run("loss sample", [*apart_pieces, joint_piece])
    allocations = [r.allocation for r in results if r.allocation is not None]
    apart = merge_allocations(allocations[:-1]).objectives
    return JointComparison(tuple(districts), apart, allocations[-1].objectives)
