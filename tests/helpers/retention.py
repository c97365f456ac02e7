"""Running retention against a test store at a fixed instant, and reading its traces."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

from gateway.db.engine import create_database
from gateway.db.opening import open_protector
from gateway.retention.run import RetentionReport, RunContext
from gateway.retention.service import retention_run

# Retention tests run on both backends under one cipher suite: the suites are tested
# elsewhere, and erasure does not depend on them.
from tests.helpers.store import BACKENDS as BACKENDS
from tests.helpers.store import Store

FAR_FUTURE = dt.datetime(2040, 1, 1, tzinfo=dt.UTC)
"""Every demo customer's activity (2026) is long past; only valid consents keep them."""


def run_retention_at(
    store: Store, now: dt.datetime, *, dry_run: bool, batch_size: int = 200
) -> RetentionReport:
    async def run() -> RetentionReport:
        db = create_database(store.settings)
        try:
            protector = await open_protector(store.settings, db)
            return await retention_run(
                db,
                protector.keystore,
                protector.catalog,
                now=now,
                dry_run=dry_run,
                context=RunContext("test:retention", uuid.uuid4().hex, "CLI"),
                batch_size=batch_size,
            )
        finally:
            await db.dispose()

    return asyncio.run(run())


def erased_ids(store: Store) -> set[str]:
    return {row[0] for row in store.sql("SELECT id FROM customers WHERE erased_at IS NOT NULL")}


def entries(store: Store, action: str) -> list[dict[str, Any]]:
    rows = store.sql(
        "SELECT seq, principal_id, purpose, outcome, subject_ids, fields, request_id "
        "FROM audit_events WHERE action = :action ORDER BY seq",
        {"action": action},
    )
    found = []
    for row in rows:
        entry = dict(row._mapping)
        for key in ("subject_ids", "fields"):
            if isinstance(entry[key], str):
                entry[key] = json.loads(entry[key])
        found.append(entry)
    return found


def set_hold(store: Store, customer_id: str) -> None:
    store.sql(
        "INSERT INTO legal_holds (id, customer_id, reason, note, set_by, set_at) "
        "VALUES (:id, :cid, 'litigation', 'case 1', 'test', '2026-12-01T00:00:00+00:00')",
        {"id": f"hld_{uuid.uuid4().hex[:20]}", "cid": customer_id},
    )
