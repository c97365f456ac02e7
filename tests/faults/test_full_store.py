"""A "full" SQLite store: reads are 503 with no data, /readyz is 503, and both recover
by themselves when space returns.

SQLite's `max_page_count` makes the store full without root or a real disk: set on the
gateway's writing connections to the file's current size, the next page the audit log
needs is refused with SQLITE_FULL, exactly as on a full disk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, event, text
from structlog.testing import capture_logs

from audit.verify import VerifyReport
from gateway.app import WardgateApp
from gateway.compliance.log_reader import verify_store
from gateway.db.init_store import init_store
from gateway.ops.readiness import PROBE_ACTION
from gateway.settings import Settings
from tests.helpers.api import Api
from tests.helpers.customers import SUPPORT, valid_body
from tests.helpers.store import Store

pytestmark = pytest.mark.fault


class PageLimit:
    """`PRAGMA max_page_count` on every connection the gateway writes through, applied
    at each checkout (the pragma is per connection, not stored in the file). The audit
    writer keeps its connection between batches (and drops it after a failed one): it
    is made to check out a fresh one when the limit starts."""

    def __init__(self, api: Api) -> None:
        state = api.state
        assert state.db.audit_writer is not None
        self._engines: list[Engine] = [state.db.writer.sync_engine, state.db.audit_writer]
        self._reconnect = lambda: api.client.blocking_portal.call(state.appender.reconnect)
        self.pages = 1_073_741_823

    def _apply(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {int(self.pages)}")
        cursor.close()

    def __enter__(self) -> PageLimit:
        for engine in self._engines:
            event.listen(engine, "checkout", self._apply)
        self._reconnect()
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self._engines:
            event.remove(engine, "checkout", self._apply)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=True, customers=5))
    store = Store(backend="sqlite", settings=settings)
    app = WardgateApp(settings)
    with TestClient(app=app) as client:  # type: ignore[arg-type]
        yield Api(client, store, app)


def _page_count(api: Api) -> int:
    async def run() -> int:
        async with api.state.db.reader.connect() as conn:
            return int((await conn.execute(text("PRAGMA page_count"))).scalar_one())

    return api.client.blocking_portal.call(run)


def _verify(api: Api) -> VerifyReport:
    async def run() -> VerifyReport:
        report, _ = await verify_store(api.state.db, api.state.checkpoints.signer.verifier())
        return report

    return api.client.blocking_portal.call(run)


def test_given_full_store_then_reads_503_without_data_readyz_503_and_recovery(
    api: Api,
) -> None:
    customer = api.customer_ids()[0]
    assert api.get(f"/v1/customers/{customer}", *SUPPORT).status_code == 200
    assert api.client.get("/readyz").status_code == 200

    with PageLimit(api) as limit, capture_logs() as logs:
        limit.pages = _page_count(api)
        answers = []
        for _ in range(2000):  # each entry takes a few hundred bytes: pages fill fast
            response = api.get(f"/v1/customers/{customer}", *SUPPORT)
            answers.append(response)
            if response.status_code != 200:
                break
        refused = answers[-1]
        assert refused.status_code == 503, refused.text
        assert refused.json()["reason"] == "audit_unavailable"
        assert "data" not in refused.json()
        # Still full: every read is refused, none shows data, none is a 500.
        for _ in range(5):
            again = api.get(f"/v1/customers/{customer}", *SUPPORT)
            assert again.status_code == 503
            assert "data" not in again.json()
        listed = api.get("/v1/customers?limit=5", *SUPPORT)
        assert listed.status_code == 503
        assert "data" not in listed.json()
        # A write commits with its entry or not at all; a page freed by a failed batch
        # may still take one, but never a 500.
        created = api.post("/v1/customers", *SUPPORT, json=valid_body())
        assert created.status_code in (201, 503), created.text

        ready = api.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "audit_unavailable"
        assert ready.json()["fault"] == "full"

        # Space returns: no restart, no traffic needed — readiness finds out itself.
        limit.pages = 1_073_741_823
        deadline = time.monotonic() + 5
        while (ready := api.client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.2)
    assert ready.json()["status"] == "ready"
    assert api.get(f"/v1/customers/{customer}", *SUPPORT).status_code == 200

    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert any(e.get("fault") == "full" for e in warnings), warnings
    # The entry that proved the log writable again is in it, and the log verifies.
    probes = api.store.sql(
        "SELECT count(*) FROM audit_events WHERE action = :a", {"a": PROBE_ACTION}
    )
    assert probes[0][0] == 1
    report = _verify(api)
    assert report.ok, report.problem
