"""Medians across rounds, the governed/bare ratios, the table and the JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.table import Table

from bench._load import LoadResult
from bench._scenarios import Scenario, Shape


@dataclass(frozen=True, slots=True)
class Measurement:
    """One timed run of one scenario."""

    load: LoadResult
    server_cpu: float
    """Server CPU time over wall time; 1.0 is one core busy all along."""
    audit_rows: int | None
    """Audit rows appended during a governed run; None for the bare baseline."""


@dataclass(frozen=True, slots=True)
class Summary:
    name: str
    shape: Shape
    governed: bool
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu: float
    requests: int
    errors: int
    audit_shortfall: int
    """Responses without an audit row of their own (must be 0)."""
    rounds: list[Measurement]


def summarize(scenario: Scenario, rounds: list[Measurement]) -> Summary:
    loads = [m.load for m in rounds]
    shortfall = sum(
        max(0, m.load.requests - m.audit_rows) for m in rounds if m.audit_rows is not None
    )
    return Summary(
        name=scenario.name,
        shape=scenario.shape,
        governed=scenario.governed,
        rps=median(r.rps for r in loads),
        p50_ms=median(r.p50_ms for r in loads),
        p99_ms=median(r.p99_ms for r in loads),
        server_cpu=median(m.server_cpu for m in rounds),
        requests=sum(r.requests for r in loads),
        errors=sum(r.errors for r in loads),
        audit_shortfall=shortfall,
        rounds=rounds,
    )


def ratios(summaries: list[Summary]) -> dict[Shape, float]:
    """Governed requests/s over bare requests/s, per shape (1.0 = governance is free)."""
    rps = {(s.shape, s.governed): s.rps for s in summaries}
    shapes: tuple[Shape, ...] = ("single", "page")
    return {shape: rps[shape, True] / rps[shape, False] for shape in shapes if rps[shape, False]}


def round_ratios(summaries: list[Summary]) -> dict[Shape, list[float]]:
    """The same ratio within each round, where bare and governed ran back to back."""
    by_key = {(s.shape, s.governed): s.rounds for s in summaries}
    shapes: tuple[Shape, ...] = ("single", "page")
    return {
        shape: [
            g.load.rps / b.load.rps if b.load.rps else 0.0
            for b, g in zip(by_key[shape, False], by_key[shape, True], strict=True)
        ]
        for shape in shapes
    }


def print_table(console: Console, summaries: list[Summary], title: str) -> None:
    table = Table(title=title)
    for column in ("scenario", "req/s", "p50 ms", "p99 ms", "server CPU", "requests", "errors"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for s in summaries:
        table.add_row(
            s.name,
            f"{s.rps:,.0f}",
            f"{s.p50_ms:.2f}",
            f"{s.p99_ms:.2f}",
            f"{s.server_cpu:.0%}",
            f"{s.requests:,}",
            f"[red]{s.errors}[/]" if s.errors else "0",
        )
    console.print(table)
    console.print("server CPU: its CPU time over wall time, 100% = one core busy", style="dim")
    labels: dict[Shape, str] = {"single": "single record", "page": "100-record page"}
    per_round = round_ratios(summaries)
    for shape, ratio in ratios(summaries).items():
        rounds = " ".join(f"{r:.2f}" for r in per_round[shape])
        console.print(
            f"governed/bare req/s, {labels[shape]}: [bold]{ratio:.2f}[/] (by round: {rounds})",
            highlight=False,
        )


def write_json(path: Path, summaries: list[Summary], settings: dict[str, object]) -> None:
    document = {
        "settings": settings,
        "ratios_governed_over_bare_rps": ratios(summaries),
        "ratios_by_round": round_ratios(summaries),
        "scenarios": [
            asdict(s) | {"rounds": [asdict(m) | {"rps": m.load.rps} for m in s.rounds]}
            for s in summaries
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
