"""Start-up: `wardgate serve` (one worker, SQLite) from spawn to its first 200 on /readyz.

Starts the server `--runs` times on one demo store and reports the median wall time and
the median CPU time (user + system, from /proc) the process had used when it answered
ready. With `--baseline PATH` (another build's `wardgate`, e.g. main's) the two builds
start alternately, so both see the same load; compare their CPU, which the other work
on a shared machine disturbs far less than wall time.

Each build starts once first, not counted: it writes its bytecode (an installed package
has it; PYTHONDONTWRITEBYTECODE, if set here, is dropped for the servers, or every start
would compile every module from source) and warms the page cache.

    .venv/bin/python -m bench.startup [--runs 5] [--baseline /work/main/.venv/bin/wardgate]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: `python bench/startup.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _server


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="starts per build")
    parser.add_argument("--customers", type=int, default=200, help="demo store size")
    parser.add_argument("--baseline", help="another build's `wardgate`, started alternately")
    return parser.parse_args(argv)


def _start(wardgate: str, data_dir: Path, log: Path) -> tuple[float, float]:
    """Wall seconds to ready, and the server's CPU seconds at that moment."""
    with _server.serve(data_dir, log, wardgate=wardgate) as server:
        return server.startup_seconds, server.cpu_seconds()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    builds = {"this build": _server._wardgate()}
    if args.baseline:
        builds = {"baseline": args.baseline} | builds
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module's docstring
    with tempfile.TemporaryDirectory(prefix="wardgate-startup-") as tmp:
        data_dir = Path(tmp) / "store"
        _server.prepare_store(data_dir, args.customers, reuse=False)
        for wardgate in builds.values():
            _start(wardgate, data_dir, Path(tmp) / "serve.log")
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in builds}
        for run in range(args.runs):
            for name, wardgate in builds.items():
                wall, cpu = _start(wardgate, data_dir, Path(tmp) / "serve.log")
                figures[name].append((wall, cpu))
                print(f"run {run + 1} {name}: ready in {wall:.2f} s, {cpu:.2f} s CPU", flush=True)
    for name, runs in figures.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name}: median of {len(runs)}: ready in {wall:.2f} s wall, {cpu:.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
