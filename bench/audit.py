"""Benchmark: the audit log — group commit, verification speed, checkpoint cost.

- audited requests/s: governed single-record reads (each one waits for its own committed
  audit entry) against the same server with group commit on (default) and off
  (WARDGATE_AUDIT_MAX_BATCH=1: one transaction per request), each with SQLite's
  synchronous=FULL (default: every commit synced before the response, so it survives a
  power loss) and NORMAL (synced at WAL checkpoints only), rounds interleaved;
- verification: entries/s of `verify_store` (recompute every RFC 8785 entry and leaf,
  the tree, and check the signed checkpoints) over a log of `--entries` entries;
- checkpoint cost: milliseconds to sign and store one checkpoint;
- commit cost: audit commits/s in-process with one entry per commit, synchronous=FULL
  against NORMAL (the sync itself, without a server or a load generator).

    .venv/bin/python -m bench.audit [--duration 5] [--rounds 3] [--entries 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from audit import AuditEntry, GroupCommitAppender, Outcome
from audit.store import append_entries
from bench import _pyload, _scenarios, _server, _wrk
from bench._load import LoadGenerator
from gateway.compliance.checkpoints import CheckpointIssuer, log_signer
from gateway.compliance.log_reader import verify_store
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_keystore
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"


def _loadgen(connections: int) -> LoadGenerator:
    wrk = shutil.which("wrk")
    scripts = WORK / "audit-wrk"
    # Scripts name customer ids: never reuse ones written for an earlier store.
    shutil.rmtree(scripts, ignore_errors=True)
    scripts.mkdir(parents=True)
    if wrk is not None:
        return _wrk.Wrk(wrk, connections, 1, scripts, _wrk.version(wrk))
    return _pyload.PythonLoad(connections)


# Group commit on (default) or off (one transaction per request), each with the SQLite
# sync level FULL (default: a commit is on disk before the response, across power loss)
# and NORMAL (synced at WAL checkpoints: survives a crash of the gateway, not of the host).
_MODES: tuple[tuple[str, dict[str, str]], ...] = (
    ("on", {}),
    ("off", {"WARDGATE_AUDIT_MAX_BATCH": "1"}),
    ("on-normal", {"WARDGATE_SQLITE_SYNCHRONOUS": "normal"}),
    ("off-normal", {"WARDGATE_AUDIT_MAX_BATCH": "1", "WARDGATE_SQLITE_SYNCHRONOUS": "normal"}),
)


def group_commit(duration: float, rounds: int, connections: int) -> dict[str, float]:
    data_dir = WORK / "data"
    _server.prepare_store(data_dir, 2000, reuse=True)
    ids = _server.customer_ids(data_dir)
    key = _server.support_desk_key(data_dir)
    load = _loadgen(connections)
    results: dict[str, list[float]] = {mode: [] for mode, _ in _MODES}
    for _ in range(rounds):
        for mode, env in _MODES:
            with _server.serve(data_dir, WORK / f"audit-{mode}.log", env) as server:
                scenario = _scenarios.build(server.port, ids, key)[1]  # governed single
                load.run(server.port, scenario, 1)
                result = load.run(server.port, scenario, duration)
                if result.errors:
                    msg = f"{result.errors} failed requests with group commit {mode}"
                    raise RuntimeError(msg)
                results[mode].append(result.rps)
    return {mode: statistics.median(values) for mode, values in results.items()}


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"bench-{n:08d}",
        action="customers.read",
        outcome=Outcome.ALLOWED,
        status=200,
        principal_id="support-desk",
        purpose="customer_service",
        legal_basis="contract",
        entity="customers",
        record_ids=(f"cus_{n:026d}",),
        subject_ids=(f"cus_{n:026d}",),
        fields={"name": "masked", "phone": "masked", "notes": "withheld:denied"},
        policy_version=1,
    )


async def verification_and_checkpoints(entries: int) -> dict[str, float]:
    work = WORK / "audit-verify"
    shutil.rmtree(work, ignore_errors=True)
    settings = Settings(data_dir=work, log_level="warning")
    await init_store(settings, demo=False)
    db = create_database(settings)
    try:
        _, system_keys = await open_keystore(settings, db)
        issuer = CheckpointIssuer(db.writer, log_signer(system_keys.audit_signing))
        costs = []
        for start in range(0, entries, 5000):
            async with db.writer.begin() as conn:
                await append_entries(
                    conn, [_entry(n) for n in range(start, min(entries, start + 5000))]
                )
            began = time.perf_counter()
            await issuer.issue()
            costs.append((time.perf_counter() - began) * 1000)
        report, seconds = await verify_store(db, issuer.signer.verifier())
        if not report.ok:
            msg = f"the benchmark log does not verify: {report.problem}"
            raise RuntimeError(msg)
        return {
            "entries": report.entries,
            "verify_per_s": report.entries / seconds,
            "verify_seconds": seconds,
            "checkpoint_ms": statistics.median(costs),
            "checkpoints": report.checkpoints_verified,
        }
    finally:
        await db.dispose()


async def commit_cost(seconds: float) -> dict[str, float]:
    """Audit commits/s in-process, one entry per commit (group commit's worst case: one
    sync per request), under synchronous=FULL and NORMAL, modes interleaved."""
    rates: dict[str, list[float]] = {"full": [], "normal": []}
    for _ in range(2):
        for level in ("full", "normal"):
            work = WORK / f"audit-sync-{level}"
            shutil.rmtree(work, ignore_errors=True)
            settings = Settings(data_dir=work, log_level="warning", sqlite_synchronous=level)
            await init_store(settings, demo=False)
            db = create_database(settings)
            appender = GroupCommitAppender(db.writer, max_batch=1, sync_engine=db.audit_writer)
            appender.start()
            try:
                n = 0
                began = time.perf_counter()
                while time.perf_counter() - began < seconds:
                    await appender.append(_entry(n))
                    n += 1
                rates[level].append(n / (time.perf_counter() - began))
            finally:
                await appender.close()
                await db.dispose()
    return {level: statistics.median(values) for level, values in rates.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.audit", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args(argv)
    console = Console()
    commits = asyncio.run(commit_cost(args.duration))
    rates = group_commit(args.duration, args.rounds, args.connections)
    verify = asyncio.run(verification_and_checkpoints(args.entries))
    table = Table(title="Audit log")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("audited reads/s, group commit on (median)", f"{rates['on']:,.0f}")
    table.add_row("audited reads/s, group commit off (median)", f"{rates['off']:,.0f}")
    table.add_row("group commit on/off", f"{rates['on'] / rates['off']:.2f}")
    table.add_row(
        "audited reads/s, group commit on, synchronous=NORMAL", f"{rates['on-normal']:,.0f}"
    )
    table.add_row(
        "audited reads/s, group commit off, synchronous=NORMAL", f"{rates['off-normal']:,.0f}"
    )
    table.add_row(
        "cost of synchronous=FULL (default), group commit on",
        f"{1 - rates['on'] / rates['on-normal']:.1%}",
    )
    table.add_row(
        "cost of synchronous=FULL (default), group commit off",
        f"{1 - rates['off'] / rates['off-normal']:.1%}",
    )
    table.add_row("audit commits/s, one entry each, synchronous=FULL", f"{commits['full']:,.0f}")
    table.add_row(
        "audit commits/s, one entry each, synchronous=NORMAL", f"{commits['normal']:,.0f}"
    )
    table.add_row(
        f"verification, entries/s ({verify['entries']:,.0f} entries)",
        f"{verify['verify_per_s']:,.0f}",
    )
    table.add_row("signed checkpoints matched", f"{verify['checkpoints']:.0f}")
    table.add_row("checkpoint cost, median ms", f"{verify['checkpoint_ms']:.2f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
