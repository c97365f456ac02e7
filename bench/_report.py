"""Medians across rounds, the ratios between tiers, the targets, the table and the JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.table import Table

from bench._load import LoadResult
from bench._scenarios import Scenario, Shape, Tier

SHAPES: tuple[Shape, ...] = ("single", "page")
LABELS: dict[Shape, str] = {"single": "single record", "page": "100-record page"}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One timed run of one scenario."""

    load: LoadResult
    server_cpu: float
    """Server CPU time over wall time; 1.0 is one core busy all along."""
    audit_rows: int | None
    """Audit rows appended during a governed run; None for floor and bare."""
    cpu_seconds: float = 0.0
    """Server CPU time (supervisor and workers) spent during the run."""

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1e3 / self.load.requests if self.load.requests else 0.0


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
    tier: Tier = "bare"
    cpu_ms: float = 0.0
    """Median server CPU milliseconds per request."""


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
        tier=scenario.tier,
        cpu_ms=median(m.cpu_ms_per_request for m in rounds),
    )


def _rps(summaries: list[Summary]) -> dict[tuple[Shape, Tier], float]:
    return {(s.shape, s.tier): s.rps for s in summaries}


def ratio(summaries: list[Summary], shape: Shape, over: Tier, under: Tier) -> float | None:
    """`over` req/s divided by `under` req/s for one shape (None when either is missing)."""
    rps = _rps(summaries)
    if not rps.get((shape, under)) or (shape, over) not in rps:
        return None
    return rps[shape, over] / rps[shape, under]


def ratios(summaries: list[Summary]) -> dict[Shape, float]:
    """Governed requests/s over bare requests/s, per shape (1.0 = governance is free)."""
    found = {shape: ratio(summaries, shape, "governed", "bare") for shape in SHAPES}
    return {shape: value for shape, value in found.items() if value is not None}


def round_ratios(
    summaries: list[Summary], over: Tier = "governed", under: Tier = "bare"
) -> dict[Shape, list[float]]:
    """The same ratio within each round, where the tiers ran back to back."""
    by_key = {(s.shape, s.tier): s.rounds for s in summaries}
    return {
        shape: [
            o.load.rps / u.load.rps if u.load.rps else 0.0
            for u, o in zip(by_key[shape, under], by_key[shape, over], strict=True)
        ]
        for shape in SHAPES
        if (shape, under) in by_key and (shape, over) in by_key
    }


@dataclass(frozen=True, slots=True)
class Run:
    """One configuration: a store, a worker count, its summaries and its processes."""

    store: str
    workers: int
    summaries: list[Summary]
    startup_seconds: float
    rss_mb: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.store}, {self.workers} worker{'s' if self.workers > 1 else ''}"


def print_table(console: Console, summaries: list[Summary], title: str) -> None:
    table = Table(title=title)
    columns = ("scenario", "req/s", "p50 ms", "p99 ms", "server CPU", "CPU ms/req", "requests")
    for column in (*columns, "errors"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for s in summaries:
        table.add_row(
            s.name,
            f"{s.rps:,.0f}",
            f"{s.p50_ms:.2f}",
            f"{s.p99_ms:.2f}",
            f"{s.server_cpu:.0%}",
            f"{s.cpu_ms:.2f}",
            f"{s.requests:,}",
            f"[red]{s.errors}[/]" if s.errors else "0",
        )
    console.print(table)
    console.print(
        "server CPU: its CPU time over wall time, 100% = one core busy; "
        "CPU ms/req: supervisor and workers together",
        style="dim",
    )
    for shape in SHAPES:
        parts = []
        pairs: tuple[tuple[Tier, Tier], ...] = (
            ("governed", "bare"),
            ("governed", "floor"),
            ("bare", "floor"),
        )
        for over, under in pairs:
            value = ratio(summaries, shape, over, under)
            if value is None:
                continue
            rounds = " ".join(f"{r:.2f}" for r in round_ratios(summaries, over, under)[shape])
            parts.append(f"{over}/{under} [bold]{value:.2f}[/] ({rounds})")
        if parts:
            console.print(f"{LABELS[shape]}: " + ";  ".join(parts), highlight=False)


@dataclass(frozen=True, slots=True)
class Target:
    what: str
    run: str
    value: float
    goal: str
    met: bool


def _find(runs: list[Run], store: str, workers: int) -> Run | None:
    return next((r for r in runs if r.store == store and r.workers == workers), None)


def targets(runs: list[Run]) -> list[Target]:
    """The issue's targets, each checked on every run it applies to."""
    found: list[Target] = []
    for run in runs:
        s = run.summaries
        goals: tuple[tuple[Shape, float], ...] = (("single", 0.8), ("page", 0.5))
        for shape, goal in goals:
            value = ratio(s, shape, "governed", "bare")
            if value is not None:
                found.append(
                    Target(f"governed/bare {shape}", run.label, value, f">= {goal}", value >= goal)
                )
        value = ratio(s, "single", "bare", "floor")
        if value is not None:
            found.append(Target("bare/floor single", run.label, value, ">= 0.5", value >= 0.5))
        page = next((x for x in s if x.shape == "page" and x.tier == "governed"), None)
        if page is not None:
            found.append(
                Target("governed page CPU ms", run.label, page.cpu_ms, "<= 8", page.cpu_ms <= 8)
            )
        if run.store == "sqlite" and run.workers == 2:
            single = next((x for x in s if x.shape == "single" and x.tier == "governed"), None)
            if single is not None:
                found.append(
                    Target(
                        "governed single req/s",
                        run.label,
                        single.rps,
                        ">= 1500",
                        single.rps >= 1500,
                    )
                )
                found.append(
                    Target(
                        "governed single p99 ms",
                        run.label,
                        single.p99_ms,
                        "<= 25",
                        single.p99_ms <= 25,
                    )
                )
    for run in runs:
        if run.workers == 1 and run.store == "sqlite":
            found.append(
                Target(
                    "start-up to /readyz s",
                    run.label,
                    run.startup_seconds,
                    "<= 3",
                    run.startup_seconds <= 3,
                )
            )
    for run in runs:
        if run.rss_mb:
            worst = max(run.rss_mb)
            found.append(
                Target("RSS per worker MB (max)", run.label, worst, "<= 400", worst <= 400)
            )
    return found


def print_targets(console: Console, found: list[Target]) -> None:
    table = Table(title="Targets (issue 16)")
    for column in ("target", "run", "value", "goal", "met"):
        table.add_column(column, justify="left" if column in ("target", "run") else "right")
    for t in found:
        table.add_row(
            t.what, t.run, f"{t.value:,.2f}", t.goal, "[green]yes[/]" if t.met else "[red]no[/]"
        )
    console.print(table)


def write_json(path: Path, runs: list[Run], settings: dict[str, object]) -> None:
    document = {
        "settings": settings,
        "runs": [
            {
                "store": run.store,
                "workers": run.workers,
                "startup_seconds": run.startup_seconds,
                "rss_mb": run.rss_mb,
                "ratios_governed_over_bare_rps": ratios(run.summaries),
                "scenarios": [
                    asdict(s)
                    | {
                        "rounds": [
                            asdict(m) | {"rps": m.load.rps, "cpu_ms": m.cpu_ms_per_request}
                            for m in s.rounds
                        ]
                    }
                    for s in run.summaries
                ],
            }
            for run in runs
        ],
        "targets": [asdict(t) for t in targets(runs)],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
