"""Profile: where the server's CPU time goes, per stage, for each tier of a read.

Starts one `wardgate serve` worker on the benchmark's demo store (SQLite, or
`--store postgres`), drives each scenario with the benchmark's load generator, and
samples the server with py-spy meanwhile (every thread, idle ones left out). Each
sampled stack is put in one stage by the first rule below that one of its frames
matches, so a statement the audit writer runs counts as audit, a key fetch as
decryption, and a statement of the read itself as a store round trip. With `--gil`
only samples holding the GIL count: Python's own CPU time, without a thread waiting in
a system call (the audit writer's fsync) but also without C code that lets the GIL go.

    audit append, decryption, text rewrite (PII), masking, consent, plan,
    authentication (anywhere in the stack), then, by the frame nearest the leaf: store
    round trips, serialization, pipeline (other Wardgate code), HTTP and middleware
    (uvicorn, Litestar), event loop, other

and reports each stage's share of the samples and its CPU milliseconds per request
(the share times the server's measured CPU per request).

    .venv/bin/python -m bench.profile [--duration 10] [--store sqlite] [--scenarios governed]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contextlib import nullcontext

from rich.console import Console
from rich.table import Table

from bench import _pyload, _scenarios, _server, _stores, _wrk
from bench._load import LoadGenerator
from bench._stores import BenchStore

WORK = Path(__file__).resolve().parents[1] / ".bench"

# Stages a stack belongs to wherever the marker sits in it (py-spy names files relative
# to their sys.path entry: "(audit/store.py:141)").
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("audit append", ("(audit/", "gateway/compliance/entries", "gateway/compliance/checkpoints")),
    ("decryption", ("(keys/", "gateway/encryption/", "gateway/customers/age", "cryptography")),
    (
        "text rewrite (PII)",
        # PII detection runs in masking/detection (presidio is off the serving path).
        ("gateway/governance/scan", "gateway/pii/", "text_plan", "(masking/detection/", "jieba"),
    ),
    ("masking", ("(masking/",)),
    ("consent", ("consent_gate", "gateway/consents/", "policies/consent")),
    ("plan", ("gateway/governance/plans", "(policies/", "casbin", "gateway/governance/call")),
    ("authentication", ("gateway/access/",)),
)
# Otherwise the frame nearest the leaf that one of these matches decides.
LEAF_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("store round trips", ("sqlalchemy/", "aiosqlite/", "asyncpg/", "sqlite3/", "greenlet")),
    ("serialization", ("msgspec", "orjson", "litestar/serialization", "litestar/response")),
    ("pipeline (other Wardgate code)", ("(gateway/",)),
    ("HTTP and middleware", ("uvicorn/", "litestar/", "httptools", "structlog/", "logging/")),
    ("event loop", ("asyncio/", "selectors", "threading", "concurrent/")),
)
OTHER = "other"


def stage_of(stack: str) -> str:
    """The stage of one collapsed stack (`frame;frame;...`, root first)."""
    for name, markers in STAGES:
        if any(marker in stack for marker in markers):
            return name
    for frame in reversed(stack.split(";")):
        if "gateway/cli/" in frame:
            break  # the command that started the server: below everything of interest
        for name, markers in LEAF_STAGES:
            if any(marker in frame for marker in markers):
                return name
    return OTHER


def read_raw(path: Path) -> Counter[str]:
    """py-spy's raw (collapsed) output: one `stack count` per line."""
    stages: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stages[stage_of(stack)] += int(count)
    return stages


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument(
        "--scenarios", default="floor,bare,governed", help="tiers to profile, comma-separated"
    )
    parser.add_argument(
        "--shapes", default="single,page", help="shapes to profile, comma-separated"
    )
    parser.add_argument("--raw-dir", type=Path, help="keep py-spy's raw stacks here")
    parser.add_argument("--gil", action="store_true", help="only samples holding the GIL")
    return parser.parse_args(argv)


def _loadgen(connections: int, scripts: Path) -> LoadGenerator:
    wrk = shutil.which("wrk")
    if wrk is not None:
        return _wrk.Wrk(wrk, connections, 1, scripts, _wrk.version(wrk))
    return _pyload.PythonLoad(connections)


def _profile(
    server: _server.Server,
    load: LoadGenerator,
    scenario: _scenarios.Scenario,
    seconds: int,
    rate: int,
    out: Path,
    *,
    gil: bool = False,
) -> tuple[Counter[str], float]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(server.process.pid), "--duration", str(seconds)]
    command += ["--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking"]
    if gil:
        command.append("--gil")
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # py-spy attaches
    cpu_before = server.cpu_seconds()
    result = load.run(server.port, scenario, seconds)
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1e3 / max(1, result.requests)
    recorder.wait(timeout=seconds + 60)
    return read_raw(out), cpu_ms


def print_profile(console: Console, name: str, stages: Counter[str], cpu_ms: float) -> None:
    total = sum(stages.values()) or 1
    table = Table(title=f"{name}: {cpu_ms:.2f} server CPU ms per request")
    for column in ("stage", "share", "CPU ms/req"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage, count in stages.most_common():
        share = count / total
        table.add_row(stage, f"{share:.0%}", f"{share * cpu_ms:.3f}")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    console = Console()
    tiers = {t.strip() for t in args.scenarios.split(",")}
    with (
        nullcontext(_stores.sqlite_store(WORK))
        if args.store == "sqlite"
        else _stores.postgres_store(WORK)
    ) as store:
        assert isinstance(store, BenchStore)  # noqa: S101 - both branches yield one
        store.prepare(args.customers, reuse=args.store == "sqlite")
        ids, key = store.customer_ids(), _server.support_desk_key(store.data_dir)
        log = WORK / f"profile-{args.store}.log"
        with (
            tempfile.TemporaryDirectory(prefix="wardgate-profile-") as tmp,
            _server.serve(store.data_dir, log, store.env, workers=1) as server,
        ):
            load = _loadgen(args.connections, Path(tmp))
            core = _scenarios.build(server.port, ids, key)
            governed = [s for s in core if s.governed]
            scenarios = core + _scenarios.floors(server.port, governed, store.data_dir)
            shapes = {s.strip() for s in args.shapes.split(",")}
            raw_dir = args.raw_dir or Path(tmp)
            raw_dir.mkdir(parents=True, exist_ok=True)
            for scenario in sorted(scenarios, key=lambda s: (s.shape, s.tier)):
                if scenario.tier not in tiers or scenario.shape not in shapes:
                    continue
                load.run(server.port, scenario, 1)  # warm-up
                out = raw_dir / f"{args.store}-{scenario.name.replace(' ', '_')}.txt"
                stages, cpu_ms = _profile(
                    server, load, scenario, args.duration, args.rate, out, gil=args.gil
                )
                print_profile(console, f"{args.store} {scenario.name}", stages, cpu_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
