"""A rich progress display for plan-city: per stage, pieces done / running / failed and ETA."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgress:
    """One bar per stage; use as a context manager around ``plan_city``."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(bar_width=20),
            TextColumn("{task.completed}/{task.total} done"),
            TextColumn(
                "{task.fields[running]} running {task.fields[failed]} failed "
                "{task.fields[reused]} reused"
            ),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def begin(self, stage: str, total: int, reused: int) -> None:
        """A new bar for ``stage``."""
        self._task = self._progress.add_task(
            stage, total=total, completed=reused, running=0, failed=0, reused=reused
        )

    def advance(self, done: int, running: int, failed: int) -> None:
        """Update the current bar."""
        if self._task is not None:
            self._progress.update(self._task, completed=done, running=running, failed=failed)

    def end(self) -> None:
        """Finish the current bar."""
        if self._task is not None:
            self._progress.refresh()
            self._task = None
