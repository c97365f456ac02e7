"""The stores a benchmark runs on: the embedded SQLite, and a PostgreSQL database of its
own (created before, dropped after, on the server `WARDGATE_BENCH_POSTGRES_URL` names)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench import _server

ADMIN_URL = os.environ.get(
    "WARDGATE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True, slots=True)
class BenchStore:
    name: str
    """sqlite or postgres"""
    data_dir: Path
    """Master key, key store and demo keys (and, on SQLite, the store itself)."""
    env: dict[str, str] = field(default_factory=dict)
    """What `wardgate` needs to find the store (WARDGATE_DATABASE_URL on PostgreSQL)."""

    def query(self, sql: str) -> list[tuple[object, ...]]:
        url = self.env.get("WARDGATE_DATABASE_URL")
        if url is None:
            # Read-only, so the benchmark can look while the server writes (WAL).
            uri = f"file:{self.data_dir / 'wardgate.db'}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                return conn.execute(sql).fetchall()
        return asyncio.run(_pg_fetch(url, sql))

    def customer_ids(self) -> list[str]:
        return [str(row[0]) for row in self.query("SELECT id FROM customers ORDER BY id")]

    def audit_rows(self) -> int:
        return int(str(self.query("SELECT count(*) FROM audit_events")[0][0]))

    def prepare(self, customers: int, *, reuse: bool) -> None:
        _server.prepare_store(self.data_dir, customers, reuse=reuse, env=self.env)


async def _pg_fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def postgres_reachable() -> bool:
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def sqlite_store(work: Path) -> BenchStore:
    return BenchStore("sqlite", work / "data")


@contextmanager
def postgres_store(work: Path) -> Iterator[BenchStore]:
    """A fresh database for one benchmark run, dropped afterwards whatever happens."""
    name = f"wardgate_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield BenchStore(
            "postgres", work / "data-postgres", {"WARDGATE_DATABASE_URL": f"{base}/{name}"}
        )
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
