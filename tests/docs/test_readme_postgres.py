"""README, *Moving to PostgreSQL*: its commands — create the databases, point Wardgate
at them, `init --demo`, `keys status`, `serve` — work as written on the PostgreSQL at
127.0.0.1:5432, the address the README names.

The docs test skips that block (it needs a PostgreSQL server, creates databases and
serves until stopped); this test runs it with two names of its own in place of
`wardgate` and `wardgate_keys`, so it never touches a database someone else made, and
drops them at the end.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.helpers.postgres import in_ci
from tests.helpers.readme_server import block_env, readme_block, serving_block
from tests.helpers.servers import free_port

README_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
READY_SECONDS = 600.0  # init --demo on PostgreSQL, then the gateway, on a busy machine

pytestmark = pytest.mark.postgres


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(README_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def database_names() -> Iterator[tuple[str, str]]:
    """Two names no database has yet; whatever the block created under them is dropped."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"no PostgreSQL at {README_ADMIN_URL} ({type(exc).__name__})"
        if in_ci():
            pytest.fail(f"{message}: the README's PostgreSQL block must run in CI")
        pytest.skip(message)
    stem = f"wardgate_readme_{uuid.uuid4().hex[:10]}"
    names = (stem, f"{stem}_keys")
    yield names
    for name in names:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _with_names(script: str, store: str, keys: str) -> str:
    script = re.sub(r"\bwardgate_keys\b", keys, script)
    # `wardgate` as a database name: after `createdb … ` or at the end of a URL.
    return re.sub(r"(?<=[ /])wardgate(?=[ \t]*(?:#.*)?$)", store, script, flags=re.MULTILINE)


def test_given_the_readme_postgres_block_then_it_creates_a_store_there_and_serves_it(
    tmp_path: Path, database_names: tuple[str, str]
) -> None:
    store, keys = database_names
    block = readme_block("Moving to PostgreSQL")
    script = _with_names("\n".join(command.text for command in block.commands), store, keys)
    assert f"postgres {store} " in script, script  # createdb
    assert f"5432/{store}\n" in script, script  # WARDGATE_DATABASE_URL
    assert script.count(keys) == 2, script  # createdb, WARDGATE_KEYSTORE_URL
    port = free_port()

    with serving_block(
        script, tmp_path, block_env(tmp_path), port, tmp_path / "block.log", READY_SECONDS
    ):
        demo_keys = json.loads((tmp_path / "wardgate-pg" / "demo-keys.json").read_text())
        headers = {
            "Authorization": f"Bearer {demo_keys['support-desk']}",
            "X-Purpose": "customer_service",
        }
        page = httpx.get(
            f"http://127.0.0.1:{port}/v1/customers?limit=5", headers=headers, timeout=30
        )
    assert page.status_code == 200, page.text
    assert len(page.json()["data"]) == 5
    log = (tmp_path / "block.log").read_text(errors="replace")
    assert "Traceback" not in log
    # The store is in PostgreSQL, not in a SQLite file beside the master key.
    assert sorted(p.name for p in (tmp_path / "wardgate-pg").iterdir()) == [
        "demo-keys.json",
        "master.key",
    ]
