"""Benchmark: what governance costs per read, as a ratio to a bare read on the same server.

Four scenarios run against one `wardgate serve` over the loopback, on a fresh demo store:

- bare single / bare page: `/bench/bare/customers...`, the same server stack (uvicorn,
  Litestar, SQLAlchemy, SQLite) reading the same rows with no authentication, policy,
  masking or audit;
- governed single / governed page: `/v1/customers...` as `support-desk` for
  `customer_service`: API key check, field plan, masking and one committed audit row per
  request.

Single-record scenarios rotate over every customer; page scenarios over every full
100-record page, and bare and governed read the same rows. The figures of interest are
governed req/s over bare req/s: absolute numbers depend on the machine and on what else
runs on it, while a ratio taken in the same run, with bare and governed interleaved, mostly
cancels that out. Each scenario runs `--rounds` times and the median is reported.

Correctness is checked on the way: every response must be 2xx and every governed response
must have its own audit row; otherwise the exit status is 1.

    .venv/bin/python -m bench.run [--duration 10] [--rounds 3] [--connections 16]
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
from pathlib import Path

if __package__ in (None, ""):  # run as a file: `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console

from bench import _pyload, _report, _scenarios, _server, _wrk
from bench._load import LoadGenerator

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
    return parser.parse_args(argv)


def _load_generator(args: argparse.Namespace, scripts: Path) -> LoadGenerator:
    wrk = shutil.which("wrk")
    if args.loadgen == "wrk" and wrk is None:
        sys.exit("wrk is not on PATH")
    if wrk is not None and args.loadgen != "python":
        return _wrk.Wrk(wrk, args.connections, args.threads, scripts, _wrk.version(wrk))
    return _pyload.PythonLoad(args.connections)


def _measure(
    server: _server.Server,
    data_dir: Path,
    load: LoadGenerator,
    scenario: _scenarios.Scenario,
    seconds: float,
) -> _report.Measurement:
    audit_before = _server.audit_rows(data_dir) if scenario.governed else 0
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    result = load.run(server.port, scenario, seconds)
    cpu = (server.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
    audit = _server.audit_rows(data_dir) - audit_before if scenario.governed else None
    return _report.Measurement(result, cpu, audit)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A plain `kill` must still stop the server: turn SIGTERM into an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    console = Console(stderr=True)
    data_dir = WORK / "data"
    _server.prepare_store(data_dir, args.customers, reuse=args.reuse)
    ids, key = _server.customer_ids(data_dir), _server.support_desk_key(data_dir)

    with tempfile.TemporaryDirectory(prefix="wardgate-bench-") as tmp:
        load = _load_generator(args, Path(tmp))
        console.print(f"load generator: {load.name}, {args.connections} connections")
        with _server.serve(data_dir, WORK / "server.log") as server:
            scenarios = _scenarios.build(server.port, ids, key)
            for scenario in scenarios:
                _scenarios.probe(server.port, scenario)
                load.run(server.port, scenario, args.warmup)
            runs: dict[str, list[_report.Measurement]] = {s.name: [] for s in scenarios}
            for round_no in range(1, args.rounds + 1):
                for scenario in scenarios:  # bare, governed, bare, governed
                    m = _measure(server, data_dir, load, scenario, args.duration)
                    runs[scenario.name].append(m)
                    console.print(
                        f"round {round_no}/{args.rounds} {scenario.name:<15} "
                        f"{m.load.rps:8,.0f} req/s  errors {m.load.errors}",
                        highlight=False,
                    )

    summaries = [_report.summarize(s, runs[s.name]) for s in scenarios]
    title = (
        f"Wardgate read throughput, median of {args.rounds} × {args.duration:g} s, "
        f"{args.connections} connections, {load.name}, {os.cpu_count()} CPUs"
    )
    _report.print_table(Console(), summaries, title)
    settings = vars(args) | {
        "load_generator": load.name,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    _report.write_json(WORK / "results.json", summaries, settings)

    failed = [s for s in summaries if s.errors or s.audit_shortfall]
    for s in failed:
        console.print(
            f"[red]FAILED[/] {s.name}: {s.errors} error(s), "
            f"{s.audit_shortfall} response(s) without an audit row"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server has been stopped on the way out
        sys.exit(130)
