"""A seeded demo store per backend and cipher suite, and a way to look inside it
(plain SQL, and rows decrypted with the store's real keys)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.opening import open_protector
from gateway.settings import Settings
from policies.catalog import default_catalog

DEMO_CUSTOMERS = 40


@dataclass(frozen=True)
class Store:
    backend: str
    settings: Settings
    suite: str = "aes256gcm"

    @property
    def keys(self) -> dict[str, str]:
        return json.loads((self.settings.data_dir / "demo-keys.json").read_text())

    def sql(self, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Run one statement on a connection of its own and return the rows (if any)."""

        async def run() -> list[Any]:
            db = create_database(self.settings)
            try:
                async with db.writer.begin() as conn:
                    result = await conn.execute(text(statement), params or {})
                    return list(result.all()) if result.returns_rows else []
            finally:
                await db.dispose()

        return asyncio.run(run())

    def decrypted(
        self, entity: str, statement: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of `entity` selected by `statement`, decrypted with the store's real keys."""

        async def run() -> list[dict[str, Any]]:
            db = create_database(self.settings)
            try:
                protector = await open_protector(self.settings, db)
                async with db.reader.connect() as conn:
                    rows = (await conn.execute(text(statement), params or {})).all()
                fields = default_catalog().entity(entity).field_names
                revealed = await protector.reveal(entity, [r._mapping for r in rows], fields)
                return revealed.rows
            finally:
                await db.dispose()

        return asyncio.run(run())

    def customers(
        self, where: str = "1=1", params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return self.decrypted(
            "customers",
            f"SELECT * FROM customers WHERE {where} ORDER BY id",  # noqa: S608 - test-only
            params,
        )

    def consented(self, *purposes: str) -> list[str]:
        """Live customers whose current consent covers every one of `purposes`."""
        events = self.sql("SELECT customer_id, purpose, kind FROM consents ORDER BY at, id")
        current: dict[tuple[str, str], str] = {}
        for customer_id, purpose, kind in events:
            current[(customer_id, purpose)] = kind
        live = {row[0] for row in self.sql("SELECT id FROM customers WHERE erased_at IS NULL")}
        return sorted(c for c in live if all(current.get((c, p)) == "grant" for p in purposes))

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 - test-only, fixed names


STORE_PARAMS = [
    pytest.param(("sqlite", "aes256gcm"), id="sqlite-aes"),
    pytest.param(("postgres", "aes256gcm"), id="postgres-aes", marks=pytest.mark.postgres),
    pytest.param(("sqlite", "sm4gcm"), id="sqlite-sm4"),
    pytest.param(("postgres", "sm4gcm"), id="postgres-sm4", marks=pytest.mark.postgres),
]
BACKENDS = [
    pytest.param(("sqlite", "aes256gcm"), id="sqlite"),
    pytest.param(("postgres", "aes256gcm"), id="postgres", marks=pytest.mark.postgres),
]
"""Both backends under one cipher suite, for suites whose behaviour does not depend on
the suite (the suites are tested under STORE_PARAMS)."""


def new_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A freshly seeded demo store for the (backend, suite) in `request.param`; on
    PostgreSQL the key store is a database of its own, as in production."""
    backend, suite = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"store-{backend}-{suite}")
    settings = Settings(data_dir=data_dir, log_json=True, crypto_suite=suite)
    if backend == "postgres":
        make_database = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(
            database_url=make_database(), keystore_url=make_database()
        )
    asyncio.run(init_store(settings, demo=True, customers=DEMO_CUSTOMERS))
    return Store(backend=backend, settings=settings, suite=suite)


def tamper_log(data_dir: Path, statement: str, params: tuple[object, ...] = ()) -> None:
    """Change the log behind the gateway's back, as someone with the database file could
    (the append-only triggers dropped first)."""
    conn = sqlite3.connect(data_dir / "wardgate.db")
    try:
        triggers = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
        ).fetchall()
        for (name,) in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()
