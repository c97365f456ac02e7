"""Migration 0005: principals move from their table into a new policy version.

A store at revision 0004 with principals and keys is upgraded on SQLite and on
PostgreSQL; afterwards the principals' roles and purposes are in the latest policy
version (author "migration"), the old table is gone, the same keys authenticate the
same principals, and policy versions can no longer be edited.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from gateway.access.authentication import hash_api_key
from gateway.db.engine import create_database
from gateway.db.migrate import current_revision, head_revision
from gateway.settings import Settings
from gateway.state import load_snapshot
from policies.catalog import default_catalog
from policies.document import default_policy_document
from tests.helpers.migrations import (
    MIGRATION_BACKENDS,
    downgrade_to,
    empty_store_settings,
    execute,
    upgrade_to,
)

KEY = "wg_migration-test-key-not-a-real-secret-000000000001"
ORPHAN_KEY = "wg_migration-test-key-not-a-real-secret-000000000002"


async def _old_store(settings: Settings) -> None:
    """Revision 0004, the default policy as version 1, two principals, two keys."""
    await upgrade_to(settings, "0004")
    document = json.dumps(default_policy_document().to_document())
    await execute(
        settings,
        "INSERT INTO policy_versions (version, created_at, author, comment, document) "
        "VALUES (1, '2026-01-01T00:00:00+00:00', 'wardgate init', 'default policy', :doc)",
        {"doc": document},
    )
    for pid, roles, purposes in (
        ("support-desk", ["customer_service"], ["customer_service"]),
        ("compliance-officer", ["compliance"], ["compliance_audit", "erasure"]),
    ):
        await execute(
            settings,
            "INSERT INTO principals (id, description, roles, purposes, created_at) "
            "VALUES (:id, 'desk', :roles, :purposes, '2026-01-01T00:00:00+00:00')",
            {"id": pid, "roles": json.dumps(roles), "purposes": json.dumps(purposes)},
        )
    for key, owner in ((KEY, "support-desk"), (ORPHAN_KEY, "compliance-officer")):
        digest = hash_api_key(key)
        await execute(
            settings,
            "INSERT INTO api_keys (key_id, principal_id, key_hash, created_at) "
            "VALUES (:kid, :owner, :hash, '2026-01-01T00:00:00+00:00')",
            {"kid": digest[:16], "owner": owner, "hash": digest},
        )


@pytest.fixture(params=MIGRATION_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_given_store_at_0004_when_upgraded_then_principals_are_in_a_new_policy_version(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        await _old_store(settings)
        await upgrade_to(settings, "head")

        db = create_database(settings)
        try:
            assert await current_revision(db.reader) == head_revision()
            async with db.reader.connect() as conn:
                tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert "principals" not in tables
            snapshot = await load_snapshot(db, default_catalog())
        finally:
            await db.dispose()

        assert snapshot.version == 2
        assert set(snapshot.document.principals) == {"support-desk", "compliance-officer"}
        officer = snapshot.document.principals["compliance-officer"]
        assert officer.roles == {"compliance"}
        assert officer.purposes == {"compliance_audit", "erasure"}
        principal = snapshot.directory.authenticate(KEY)
        assert principal is not None
        assert principal.id == "support-desk"
        assert principal.roles == {"customer_service"}
        rows = await execute(
            settings, "SELECT author, comment FROM policy_versions ORDER BY version"
        )
        assert [row[0] for row in rows] == ["wardgate init", "migration"]

    asyncio.run(scenario())


def test_given_migrated_store_then_policy_versions_refuse_update_and_delete(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)
    asyncio.run(_old_store(settings))
    asyncio.run(upgrade_to(settings, "head"))

    for statement in (
        "UPDATE policy_versions SET comment = 'rewritten' WHERE version = 1",
        "DELETE FROM policy_versions WHERE version = 1",
    ):
        with pytest.raises(DBAPIError, match="policy versions are immutable"):
            asyncio.run(execute(settings, statement))

    assert len(asyncio.run(execute(settings, "SELECT version FROM policy_versions"))) == 2


def test_given_migrated_store_when_principal_leaves_the_document_then_its_key_opens_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> None:
        await _old_store(settings)
        await upgrade_to(settings, "head")
        rows = await execute(settings, "SELECT document FROM policy_versions WHERE version = 2")
        raw = rows[0][0]
        document = json.loads(raw) if isinstance(raw, str) else raw
        del document["principals"]["compliance-officer"]
        await execute(
            settings,
            "INSERT INTO policy_versions (version, created_at, author, comment, document) "
            "VALUES (3, '2026-01-02T00:00:00+00:00', 'test', '', :doc)",
            {"doc": json.dumps(document)},
        )
        db = create_database(settings)
        try:
            snapshot = await load_snapshot(db, default_catalog())
        finally:
            await db.dispose()
        assert snapshot.directory.authenticate(KEY) is not None
        assert snapshot.directory.authenticate(ORPHAN_KEY) is None

    asyncio.run(scenario())


def test_given_migrated_store_when_downgraded_then_principals_table_is_rebuilt(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = empty_store_settings(backend, tmp_path, request)

    async def scenario() -> list[Any]:
        await _old_store(settings)
        await upgrade_to(settings, "head")
        await downgrade_to(settings, "0004")
        return await execute(settings, "SELECT id, roles FROM principals ORDER BY id")

    rows = asyncio.run(scenario())

    assert [row[0] for row in rows] == ["compliance-officer", "support-desk"]
    roles = rows[1][1]
    assert (json.loads(roles) if isinstance(roles, str) else roles) == ["customer_service"]
