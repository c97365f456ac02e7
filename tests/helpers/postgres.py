"""The PostgreSQL the tests run against (`WARDGATE_TEST_POSTGRES_URL`) and whether a
missing one fails the run (in CI) or skips its tests (elsewhere)."""

from __future__ import annotations

import os

import asyncpg

PG_ADMIN_URL = os.environ.get(
    "WARDGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def admin_execute(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) as the administrator."""
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()
