"""Appending benchmark rows to a results CSV without losing columns."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path


def append_rows(path: Path, rows: Sequence[dict[str, object]]) -> None:
    """Append ``rows`` to the CSV at ``path``; when they bring new columns the file is
    rewritten under the union of the headers, so every row keeps its values under its own
    column names (appending under the old, shorter header makes readers misread them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    earlier: list[dict[str, object]] = []
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            earlier = list(csv.DictReader(handle))
    fields = list(dict.fromkeys(k for row in (*earlier, *rows) for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows([*earlier, *rows])
