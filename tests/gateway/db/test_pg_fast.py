"""The PostgreSQL fast path (`gateway.db.pg_fast`) against the real database: rows as
SQLAlchemy gives them, every commit seen by the next read, a lost connection read
again once, and an audit batch that is one transaction storing what it was given."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import DBAPIError

from audit.entry import AuditEntry, Outcome
from audit.schema import audit_events, audit_subjects, audit_tree
from audit.store import append_entries_asyncpg
from gateway.customers.read import _by_id_statement
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.schema import customers_table
from gateway.settings import Settings
from tests.helpers.postgres import PG_ADMIN_URL

pytestmark = pytest.mark.postgres

_customers = customers_table()


@pytest.fixture(scope="module")
def settings(
    tmp_path_factory: pytest.TempPathFactory, postgres_url_factory: Callable[[], str]
) -> Settings:
    work: Path = tmp_path_factory.mktemp("pg-fast")
    settings = Settings(
        data_dir=work / "data",
        database_url=postgres_url_factory(),
        keystore_url=postgres_url_factory(),
    )
    asyncio.run(init_store(settings, demo=True, customers=5))
    return settings


def _entry(request_id: str, subjects: tuple[str, ...]) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=request_id,
        principal_id="support-desk",
        purpose="customer_service",
        action="read",
        entity="customers",
        record_ids=subjects,
        subject_ids=subjects,
        fields={"name": "shown"},
        policy_version=1,
        outcome=Outcome.ALLOWED,
        status=200,
    )


def test_given_a_governed_statement_then_the_same_rows_as_sqlalchemy(settings: Settings) -> None:
    async def run() -> None:
        db = create_database(settings)
        try:
            assert db.fast is not None
            statement = _by_id_statement("customers", ("id", "name", "erased_at"), "postgresql")
            async with db.reader.connect() as conn:
                first_id = (await conn.execute(select(_customers.c.id).limit(1))).scalar_one()
                params = {"record_id": first_id, "consent_purpose": "marketing"}
                expected = (await conn.execute(statement, params)).one()
            row = await db.fetch_first(statement, params)
            assert row is not None
            assert dict(row._mapping) == dict(expected._mapping)
            assert row.id == first_id  # attribute access, as the pipelines use it
            # The consent history (json) is decoded as SQLAlchemy's dialect decodes it.
            assert type(row._mapping["consent_history"]) is type(
                expected._mapping["consent_history"]
            )
            assert await db.fetch_first(statement, params | {"record_id": "nobody"}) is None
        finally:
            await db.dispose()

    asyncio.run(run())


def test_given_an_erasure_committed_then_the_next_fast_read_sees_it(settings: Settings) -> None:
    """Each statement is its own snapshot: nothing read before a commit is served after."""

    async def run() -> None:
        db = create_database(settings)
        one = select(_customers.c.id, _customers.c.erased_at).where(
            _customers.c.id == bindparam("record_id")
        )
        try:
            async with db.reader.connect() as conn:
                target = (await conn.execute(select(_customers.c.id).limit(1))).scalar_one()
            before = await db.fetch_first(one, {"record_id": target})
            assert before is not None
            assert before.erased_at is None
            async with db.writer.begin() as conn:
                await conn.execute(
                    update(_customers)
                    .where(_customers.c.id == target)
                    .values(erased_at="2026-12-03T00:00:00+00:00")
                )
            after = await db.fetch_first(one, {"record_id": target})
            assert after is not None
            assert after.erased_at == "2026-12-03T00:00:00+00:00"
        finally:
            await db.dispose()

    asyncio.run(run())


def test_given_the_fast_connection_terminated_then_the_read_is_served(settings: Settings) -> None:
    async def run() -> None:
        db = create_database(settings)
        one = select(_customers.c.id).where(_customers.c.id == bindparam("record_id"))
        try:
            assert db.fast is not None
            assert await db.fetch_all(one, {"record_id": "x"}) == []
            pool = await db.fast.pool.pool()
            async with pool.acquire() as conn:
                pid = await conn.fetchval("SELECT pg_backend_pid()")
            admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            # Whether the pool noticed first or the read ran into it: served, no error.
            for _ in range(3):
                assert await db.fetch_all(one, {"record_id": "x"}) == []
        finally:
            await db.dispose()

    asyncio.run(run())


def test_given_an_audit_batch_then_one_transaction_with_the_values_given(
    settings: Settings,
) -> None:
    """A batch with one value the schema refuses (over-long) leaves the log as it was,
    and is refused, not truncated; a good batch is stored as the SQL layer stores it."""

    async def run() -> None:
        db = create_database(settings)
        try:
            assert db.audit_fast is not None
            async with db.reader.connect() as conn:
                size = (await conn.execute(select(audit_tree.c.size))).scalar_one()
            bad = [_entry("ok-1", ("c1",)), _entry("x" * 200, ("c2",))]
            with pytest.raises(DBAPIError) as refused:
                await db.audit_fast.transaction(lambda conn: append_entries_asyncpg(conn, bad))
            assert isinstance(refused.value.orig, asyncpg.StringDataRightTruncationError)
            async with db.reader.connect() as conn:
                assert (await conn.execute(select(audit_tree.c.size))).scalar_one() == size
                events = await conn.execute(select(audit_events.c.seq))
                assert len(events.all()) == size
            good = [_entry("ok-2", ("c3", "c4")), _entry("ok-3", ())]
            seqs = await db.audit_fast.transaction(lambda conn: append_entries_asyncpg(conn, good))
            assert seqs == [size, size + 1]
            async with db.reader.connect() as conn:
                stored = (
                    await conn.execute(
                        text(
                            "SELECT subject_ids::text, fields::text FROM audit_events"
                            " WHERE seq = :s"
                        ),
                        {"s": size},
                    )
                ).one()
                assert tuple(stored) == ('["c3","c4"]', '{"name":"shown"}')  # canonical text
                subjects = await conn.execute(
                    select(audit_subjects.c.subject_id).where(audit_subjects.c.seq == size)
                )
                assert sorted(s for (s,) in subjects) == ["c3", "c4"]
        finally:
            await db.dispose()

    asyncio.run(run())
