"""Benchmark: the three tiers of a read — floor, bare, governed — on both stores, 1 and N workers.

Six scenarios run against `wardgate serve` over the loopback, on a fresh demo store:

- floor single / floor page: `/bench/floor/...`, a constant body of the same size as the
  governed response (the governed scenario's first answer, saved), through the same app,
  middleware and serializer, touching no store: what the server stack itself costs;
- bare single / bare page: `/bench/bare/customers...`, the same server stack reading the
  same rows with no authentication, policy, masking or audit;
- governed single / governed page: `/v1/customers...` as `support-desk` for
  `customer_service`: API key check, field plan, decryption, masking, consent and one
  committed audit row per request.

Each runs on the embedded SQLite store and on a PostgreSQL database of its own (created
and dropped; `WARDGATE_BENCH_POSTGRES_URL` names the server, default the local one),
with one worker and with N (`--workers`, default "1,<CPUs>"). Single-record scenarios
rotate over every customer; page scenarios over every full 100-record page. Each scenario
runs `--rounds` times, tiers interleaved, and the median is reported with the ratios
governed/bare, governed/floor and bare/floor (ratios taken in the same run mostly cancel
out what else the machine is doing), the server CPU per request (from /proc, supervisor
and workers), start-up time to /readyz and RSS per worker after the load, and the
issue's targets.

With `--export-threshold N`, customer_service counts every governed read against a
daily threshold of N records (a new policy version applied after the store is made):
the governed tiers then include the export-threshold gate, as marketing and analytics
reads do. Make N larger than the run reads, or the reads are refused (and fail the run).

Correctness is checked on the way: every response must be 2xx and every governed response
must have its own audit row; otherwise the exit status is 1.

    .venv/bin/python -m bench.run [--duration 10] [--rounds 3] [--connections 16]
        [--stores sqlite,postgres] [--workers 1,2] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

if __package__ in (None, ""):  # run as a file: `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console

from bench import _pyload, _report, _scenarios, _server, _stores, _wrk
from bench._load import LoadGenerator
from bench._stores import BenchStore

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per run (whole seconds with wrk)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per scenario, once")
    parser.add_argument("--rounds", type=int, default=3, help="runs per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (the server needs a core)"
    )
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--reuse", action="store_true", help="keep .bench/data if present")
    parser.add_argument(
        "--stores", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument(
        "--workers",
        default=f"1,{os.cpu_count() or 1}",
        help="comma-separated worker counts of `wardgate serve`",
    )
    parser.add_argument(
        "--export-threshold",
        type=int,
        default=None,
        metavar="N",
        help="give customer_service an export threshold of N records a day (never "
        "reached: make it large), so every governed read runs the export-threshold gate",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few minutes: 3 s runs, 1 round, 2 s warm-up, 200 customers",
    )
    args = parser.parse_args(argv)
    if args.quick:
        # Few enough customers that the warm-up reads each once: the governed tiers are
        # measured with their caches (data keys, free-text detections) warm, as they
        # are in a long run, not on first touch.
        args.duration, args.rounds, args.warmup, args.customers = 3.0, 1, 2.0, 200
    return args


def _load_generator(args: argparse.Namespace, scripts: Path) -> LoadGenerator:
    wrk = shutil.which("wrk")
    if args.loadgen == "wrk" and wrk is None:
        sys.exit("wrk is not on PATH")
    if wrk is not None and args.loadgen != "python":
        return _wrk.Wrk(wrk, args.connections, args.threads, scripts, _wrk.version(wrk))
    return _pyload.PythonLoad(args.connections)


def _measure(
    server: _server.Server,
    store: BenchStore,
    load: LoadGenerator,
    scenario: _scenarios.Scenario,
    seconds: float,
) -> _report.Measurement:
    audit_before = store.audit_rows() if scenario.governed else 0
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    result = load.run(server.port, scenario, seconds)
    cpu_seconds = server.cpu_seconds() - cpu_before
    cpu = cpu_seconds / (time.monotonic() - wall_before)
    audit = store.audit_rows() - audit_before if scenario.governed else None
    return _report.Measurement(result, cpu, audit, cpu_seconds)


def _ordered(scenarios: list[_scenarios.Scenario]) -> list[_scenarios.Scenario]:
    """Per shape: floor, bare, governed, back to back."""
    rank = {"floor": 0, "bare": 1, "governed": 2}
    return sorted(scenarios, key=lambda s: (s.shape != "single", rank[s.tier]))


def _run_one(
    args: argparse.Namespace,
    console: Console,
    store: BenchStore,
    workers: int,
    load: LoadGenerator,
) -> _report.Run:
    ids, key = store.customer_ids(), _server.support_desk_key(store.data_dir)
    log = WORK / f"server-{store.name}-{workers}.log"
    with _server.serve(store.data_dir, log, store.env, workers=workers) as server:
        console.print(
            f"{store.name}, {workers} worker(s): ready in {server.startup_seconds:.2f} s",
            highlight=False,
        )
        core = _scenarios.build(server.port, ids, key)
        governed = [s for s in core if s.governed]
        scenarios = _ordered(core + _scenarios.floors(server.port, governed, store.data_dir))
        for scenario in scenarios:
            _scenarios.probe(server.port, scenario)
            load.run(server.port, scenario, args.warmup)
        runs: dict[str, list[_report.Measurement]] = {s.name: [] for s in scenarios}
        for round_no in range(1, args.rounds + 1):
            for scenario in scenarios:
                m = _measure(server, store, load, scenario, args.duration)
                runs[scenario.name].append(m)
                console.print(
                    f"{store.name} w{workers} round {round_no}/{args.rounds} "
                    f"{scenario.name:<15} {m.load.rps:8,.0f} req/s  "
                    f"{m.cpu_ms_per_request:6.2f} CPU ms/req  errors {m.load.errors}",
                    highlight=False,
                )
        rss = server.rss_mb()
    summaries = [_report.summarize(s, runs[s.name]) for s in scenarios]
    return _report.Run(store.name, workers, summaries, server.startup_seconds, rss)


def _stores_of(args: argparse.Namespace, console: Console) -> list[str]:
    wanted = [name.strip() for name in args.stores.split(",") if name.strip()]
    unknown = set(wanted) - {"sqlite", "postgres"}
    if unknown:
        sys.exit(f"unknown store(s): {', '.join(sorted(unknown))}")
    if "postgres" in wanted and not _stores.postgres_reachable():
        console.print(f"[yellow]PostgreSQL at {_stores.ADMIN_URL} unreachable: skipped[/]")
        wanted.remove("postgres")
    return wanted


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A plain `kill` must still stop the server: turn SIGTERM into an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    console = Console(stderr=True)
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    results: list[_report.Run] = []

    with tempfile.TemporaryDirectory(prefix="wardgate-bench-") as tmp:
        load = _load_generator(args, Path(tmp))
        console.print(f"load generator: {load.name}, {args.connections} connections")
        for name in _stores_of(args, console):
            with (
                nullcontext(_stores.sqlite_store(WORK))
                if name == "sqlite"
                else _stores.postgres_store(WORK)
            ) as store:
                store.prepare(args.customers, reuse=args.reuse and name == "sqlite")
                if args.export_threshold is not None:
                    _server.set_export_threshold(
                        store.data_dir, "customer_service", args.export_threshold, store.env
                    )
                for workers in worker_counts:
                    results.append(_run_one(args, console, store, workers, load))

    out = Console()
    for run in results:
        title = (
            f"{run.label}: median of {args.rounds} × {args.duration:g} s, "
            f"{args.connections} connections, {load.name}, {os.cpu_count()} CPUs"
        )
        _report.print_table(out, run.summaries, title)
        rss = ", ".join(f"{mb:.0f}" for mb in run.rss_mb)
        out.print(
            f"start-up to /readyz {run.startup_seconds:.2f} s; RSS per worker after the "
            f"load: {rss} MB",
            highlight=False,
        )
    _report.print_targets(out, _report.targets(results))
    settings = vars(args) | {
        "load_generator": load.name,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    _report.write_json(WORK / "results.json", results, settings)

    failed = [(run, s) for run in results for s in run.summaries if s.errors or s.audit_shortfall]
    for run, s in failed:
        console.print(
            f"[red]FAILED[/] {run.label} {s.name}: {s.errors} error(s), "
            f"{s.audit_shortfall} response(s) without an audit row"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server has been stopped on the way out
        sys.exit(130)
