"""Fault injection for the Dask tests: a piece hook that kills its own worker process once."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def kill_once(marker: str, victim: str, scope: str) -> None:
    """SIGKILL this process when solving ``victim``'s piece the first time (``marker``
    records the pid and stops the retry from dying too)."""
    path = Path(marker)
    if scope == victim and not path.exists():
        path.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
