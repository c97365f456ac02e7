"""A Litestar test client that knows the demo principals' keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from gateway.app import WardgateApp
from gateway.state import GatewayState
from tests.helpers.store import Store


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


@contextmanager
def api_on(store: Store) -> Iterator[Api]:
    """The gateway serving `store`, started (lifespan and all) and stopped around the block."""
    app = WardgateApp(store.settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)
