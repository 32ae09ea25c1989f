"""Typed input errors: every problem names its file, row and field and says how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in an input: where it is, what is wrong, how to fix it.

    ``row`` is the row as a person sees it: for CSV and XLSX the spreadsheet row (the
    header is row 1, the first data row is row 2); for JSON/YAML lists and GeoJSON
    features the 1-based position in the list; for 接龙 text the line number.
    """

    file: str
    row: int | None
    field: str | None
    message: str
    hint: str = ""
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (got {self.value!r})"
        if self.hint:
            text += f". Fix: {self.hint}"
        return text


class DataError(ValueError):
    """An input was rejected as a whole; ``issues`` lists every problem found, not the first."""

    exit_code = 2

    def __init__(self, issues: list[Issue]) -> None:
        if not issues:
            raise ValueError("DataError needs at least one issue")
        self.issues = list(issues)
        count = len(self.issues)
        head = f"{count} problem{'s' if count > 1 else ''} in input, nothing was imported:"
        super().__init__("\n".join([head, *(f"  - {issue}" for issue in self.issues)]))
