"""What a worker process runs for one piece: the matcher or the router, timed and labelled.

Kept apart from the orchestration so a Dask worker imports only the solvers. ``fault`` is a
hook called with the piece's scope before solving; the tests use it to kill a worker.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from pydantic import Field

from api.city.decompose import MatchPiece, Piece, piece_kind
from data.schemas import Model
from matcher.result import Allocation
from matcher.solve import solve as match
from routing.result import Plan
from routing.solve import solve as route


class PieceResult(Model):
    """A solved piece: its key, what it covered, the answer and where it was computed."""

    key: str = Field(min_length=64, max_length=64)
    kind: str
    scope: str
    round: int
    seconds: float = Field(ge=0)
    worker: str = Field(description="host:pid of the process that solved it")
    allocation: Allocation | None = None
    plan: Plan | None = None


def solve_piece(piece: Piece, key: str, fault: Callable[[str], None] | None = None) -> PieceResult:
    """Solve ``piece`` (matcher or router, with the piece's own seed and limits)."""
    if fault is not None:
        fault(piece.scope)
    began = time.perf_counter()
    allocation: Allocation | None = None
    plan: Plan | None = None
    if isinstance(piece, MatchPiece):
        allocation = match(piece.problem, piece.params)
    else:
        plan = route(piece.problem, piece.params)
    return PieceResult(
        key=key,
        kind=piece_kind(piece),
        scope=piece.scope,
        round=piece.round,
        seconds=time.perf_counter() - began,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        allocation=allocation,
        plan=plan,
    )
