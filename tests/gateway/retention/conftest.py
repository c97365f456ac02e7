"""A freshly seeded demo store per test, on SQLite and on PostgreSQL: retention erases,
so no test may share one."""

from __future__ import annotations

import pytest

from tests.helpers.retention import BACKENDS
from tests.helpers.store import Store, new_store


@pytest.fixture(params=BACKENDS)
def fresh_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return new_store(request, tmp_path_factory)
