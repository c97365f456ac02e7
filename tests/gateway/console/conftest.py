"""Console tests run on a store of their own per module (sessions, failed sign-ins and
revoked keys must not reach the shared store), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.api import Api, api_on
from tests.helpers.console import Console
from tests.helpers.store import BACKENDS, new_store


@pytest.fixture(scope="module", params=BACKENDS)
def console_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    with api_on(new_store(request, tmp_path_factory)) as api:
        yield api


@pytest.fixture
def console(console_api: Api) -> Console:
    """A browser with no cookies yet, and a clean rate-limit slate (every request of the
    test client comes from one address)."""
    console_api.store.sql("DELETE FROM console_sign_in_failures")
    return Console(console_api)
