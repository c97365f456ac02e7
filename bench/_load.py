"""What a load generator reports for one run, and the interface both generators share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bench._scenarios import Scenario


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    """Responses received, whatever their status."""
    seconds: float
    p50_ms: float
    p99_ms: float
    bad_status: int
    """Responses that were not 2xx."""
    socket_errors: int
    """Connect, read and write errors and timeouts."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.bad_status + self.socket_errors


class LoadGenerator(Protocol):
    @property
    def name(self) -> str: ...

    def run(self, port: int, scenario: Scenario, seconds: float) -> LoadResult: ...
