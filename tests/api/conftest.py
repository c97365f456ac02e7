"""Fixtures of the API tests beyond the shared ones in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.loopback import serving
from tests.helpers.store import Store


@pytest.fixture(scope="module")
def served(store: Store) -> Iterator[tuple[str, int]]:
    """The gateway on the shared store, served by uvicorn on loopback (once per backend:
    what these tests send does not depend on the cipher suite)."""
    if store.suite != "aes256gcm":
        pytest.skip("once per backend: the cipher suite does not matter here")
    with serving(store.settings) as address:
        yield address
