"""Shared fixtures: a seeded store on SQLite and on the real PostgreSQL, and an API client.

PostgreSQL tests create their own database per run and drop it afterwards. With
CI=true a PostgreSQL that cannot be reached fails the run; elsewhere those tests skip
with a message saying why. The classes behind the fixtures live in `tests/helpers/`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Iterator

import asyncpg
import pytest
import structlog

from gateway.settings import get_settings
from tests.helpers.api import Api, api_on
from tests.helpers.postgres import PG_ADMIN_URL, admin_execute, in_ci
from tests.helpers.store import STORE_PARAMS, Store, new_store


@pytest.fixture(scope="session")
def postgres_url_factory() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL databases for this run; drops them all at the end."""
    created: list[str] = []
    base, _, _ = PG_ADMIN_URL.rpartition("/")

    def make() -> str:
        name = f"wardgate_test_{uuid.uuid4().hex[:12]}"
        try:
            asyncio.run(admin_execute(f'CREATE DATABASE "{name}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            message = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__})"
            if in_ci():
                pytest.fail(f"{message}: PostgreSQL tests must run in CI")
            pytest.skip(f"{message}: PostgreSQL tests skipped (they run in CI)")
        created.append(name)
        return f"{base}/{name}"

    yield make
    for name in created:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url(postgres_url_factory: Callable[[], str]) -> str:
    """A fresh, empty PostgreSQL database for this test run."""
    return postgres_url_factory()


@pytest.fixture(scope="session", params=STORE_PARAMS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A seeded demo store (40 customers) per backend and cipher suite.

    Every API test runs on SQLite and PostgreSQL, under AES-256-GCM and under the SM4
    suite. On PostgreSQL the key store is a database of its own, as in production.
    """
    return new_store(request, tmp_path_factory)


@pytest.fixture(scope="session")
def api(store: Store) -> Iterator[Api]:
    with api_on(store) as api:
        yield api


@pytest.fixture(scope="module", params=STORE_PARAMS)
def own_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """Like `api`, on a store of this test module's own: for tests that change policy,
    keys or principals, which the shared store must never see."""
    with api_on(new_store(request, tmp_path_factory)) as api:
        yield api


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """Put structlog's configuration and the root logger back afterwards: a root handler
    left on stdout would print other tests' client logs (URLs with lookups) into capsys."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        structlog.configure(**config)
        root.handlers = handlers
        root.setLevel(level)


@pytest.fixture
def isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings only from what the test gives: no WARDGATE_* variable from outside (an
    operator's database URL or key must not reach a test's store), and the cached
    settings cleared before and after."""
    for name in list(os.environ):
        if name.startswith("WARDGATE_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def cli_env(isolated_settings: None, logging_restored: None) -> None:
    """For a command run in-process: isolated settings, and logging put back afterwards.

    The command configures logging onto the stdout CliRunner hands it, which is closed
    afterwards: later tests in the session must not log into it.
    """
