"""What a bulk import tells its caller: problems by line, progress, the final report.

Problems name a line, a field and a stable reason word, never a value: the file holds
personal information, and problems are printed and kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Phase = Literal["validating", "loading"]
MAX_PROBLEMS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one row was refused: its line in the file (1-based), the field, a reason word."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    phase: Phase
    bytes_read: int
    rows_read: int
    loaded: int
    rejected: int


def ignore_progress(_: ImportProgress) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows_read: int
    loaded: int
    rejected: int
    problems: tuple[ImportProblem, ...]
    """The first `MAX_PROBLEMS_KEPT` problems, in file order; `problems_total` counts all."""
    problems_total: int
    seconds: float
    request_id: str
    """The `request_id` of this import's audit entries."""
    refused: bool = False
    """All-or-nothing mode found problems, so nothing was loaded."""
    tally: Mapping[str, int] = field(default_factory=dict)
    """Counts of committed rows by a kind the import's rules name (e.g. consent grants)."""

    @property
    def rows_per_second(self) -> float:
        return self.loaded / self.seconds if self.seconds > 0 else 0.0


class ImportSourceError(Exception):
    """The file cannot be imported at all: missing, unknown format, unusable header, or
    changed between the validation and the loading pass."""


class ImportAbortedError(Exception):
    """The store failed mid-import; `report` counts what was committed before it."""

    def __init__(self, msg: str, report: ImportReport) -> None:
        super().__init__(msg)
        self.report = report
