"""Shared fixtures: a seeded store on SQLite and on the real PostgreSQL, and an API client.

PostgreSQL tests create their own database per run and drop it afterwards. With
CI=true a PostgreSQL that cannot be reached fails the run; elsewhere those tests skip
with a message saying why.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from gateway.app import WardgateApp
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.settings import Settings
from gateway.state import GatewayState, open_protector
from policies.catalog import default_catalog

PG_ADMIN_URL = os.environ.get(
    "WARDGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DEMO_CUSTOMERS = 40


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url_factory() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL databases for this run; drops them all at the end."""
    created: list[str] = []
    base, _, _ = PG_ADMIN_URL.rpartition("/")

    def make() -> str:
        name = f"wardgate_test_{uuid.uuid4().hex[:12]}"
        try:
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            message = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__})"
            if in_ci():
                pytest.fail(f"{message}: PostgreSQL tests must run in CI")
            pytest.skip(f"{message}: PostgreSQL tests skipped (they run in CI)")
        created.append(name)
        return f"{base}/{name}"

    yield make
    for name in created:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url(postgres_url_factory: Callable[[], str]) -> str:
    """A fresh, empty PostgreSQL database for this test run."""
    return postgres_url_factory()


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


def _seed(settings: Settings) -> None:
    asyncio.run(init_store(settings, demo=True, customers=DEMO_CUSTOMERS))


STORE_PARAMS = [
    pytest.param(("sqlite", "aes256gcm"), id="sqlite-aes"),
    pytest.param(("postgres", "aes256gcm"), id="postgres-aes", marks=pytest.mark.postgres),
    pytest.param(("sqlite", "sm4gcm"), id="sqlite-sm4"),
    pytest.param(("postgres", "sm4gcm"), id="postgres-sm4", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session", params=STORE_PARAMS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A seeded demo store (40 customers) per backend and cipher suite.

    Every API test runs on SQLite and PostgreSQL, under AES-256-GCM and under the SM4
    suite. On PostgreSQL the key store is a database of its own, as in production.
    """
    return new_store(request, tmp_path_factory)


def new_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    backend, suite = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"store-{backend}-{suite}")
    settings = Settings(data_dir=data_dir, log_json=True, crypto_suite=suite)
    if backend == "postgres":
        make_database = request.getfixturevalue("postgres_url_factory")
        settings = settings.with_overrides(
            database_url=make_database(), keystore_url=make_database()
        )
    _seed(settings)
    return Store(backend=backend, settings=settings, suite=suite)


class Api:
    """A test client that knows the demo principals' keys."""

    def __init__(self, client: TestClient[Any], store: Store, app: WardgateApp) -> None:
        self.client = client
        self.app = app
        self.store = store
        self._keys = store.keys

    def headers(self, principal: str | None, purpose: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if principal is not None:
            headers["Authorization"] = f"Bearer {self._keys[principal]}"
        if purpose is not None:
            headers["X-Purpose"] = purpose
        return headers

    def get(self, path: str, principal: str | None, purpose: str | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(principal, purpose), **kw)

    def post(self, path: str, principal: str | None, purpose: str | None, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(principal, purpose), **kw)

    def patch(self, path: str, principal: str | None, purpose: str | None, **kw: Any) -> Any:
        return self.client.patch(path, headers=self.headers(principal, purpose), **kw)

    def delete(self, path: str, principal: str | None, purpose: str | None, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers(principal, purpose), **kw)

    @property
    def state(self) -> GatewayState:
        state: GatewayState = self.app.litestar.state.gateway
        return state

    def customer_ids(self) -> list[str]:
        live = "SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id"
        return [row[0] for row in self.store.sql(live)]


@pytest.fixture(scope="session")
def api(store: Store) -> Iterator[Api]:
    app = WardgateApp(store.settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)


@pytest.fixture(scope="module", params=STORE_PARAMS)
def own_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """Like `api`, on a store of this test module's own: for tests that change policy,
    keys or principals, which the shared store must never see."""
    store = new_store(request, tmp_path_factory)
    app = WardgateApp(store.settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)
