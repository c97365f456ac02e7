"""Store faults are told apart from bugs by real errors from real stores, never by
their messages: SQLite's result codes, PostgreSQL's SQLSTATEs, errno."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db.faults import StoreFault, store_fault
from tests.helpers.postgres import PG_ADMIN_URL


def _sqlite_error(path: Path, *statements: str, uri: bool = False) -> sqlite3.Error:
    conn = sqlite3.connect(str(path), uri=uri, timeout=0, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    pytest.fail("expected an error")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (v BLOB)")
    conn.close()
    return path


def test_given_sqlite_full_then_full(db: Path) -> None:
    pages = int(sqlite3.connect(str(db)).execute("PRAGMA page_count").fetchone()[0])
    exc = _sqlite_error(
        db,
        f"PRAGMA max_page_count = {pages}",
        "INSERT INTO t VALUES (zeroblob(100000))",
    )
    assert store_fault(exc) is StoreFault.FULL


def test_given_sqlite_write_lock_held_then_locked(db: Path) -> None:
    holder = sqlite3.connect(str(db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        exc = _sqlite_error(db, "BEGIN IMMEDIATE")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store_fault(exc) is StoreFault.LOCKED


def test_given_sqlite_opened_read_only_then_read_only(db: Path) -> None:
    exc = _sqlite_error(Path(f"file:{db}?mode=ro"), "INSERT INTO t VALUES (1)", uri=True)
    assert store_fault(exc) is StoreFault.READ_ONLY


def test_given_sqlite_file_cannot_be_opened_then_unreachable(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.Error) as caught:
        sqlite3.connect(str(tmp_path / "missing" / "store.db"))
    assert store_fault(caught.value) is StoreFault.UNREACHABLE


def test_given_constraint_violation_then_not_a_store_fault(db: Path) -> None:
    exc = _sqlite_error(
        db,
        "CREATE TABLE u (id INTEGER PRIMARY KEY)",
        "INSERT INTO u VALUES (1)",
        "INSERT INTO u VALUES (1)",
    )
    assert store_fault(exc) is None


def test_given_full_store_through_sqlalchemy_then_the_wrapped_fault_is_found(db: Path) -> None:
    async def run() -> SQLAlchemyError:
        engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
        try:
            async with engine.begin() as conn:
                pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
                await conn.execute(text(f"PRAGMA max_page_count = {pages}"))
                await conn.execute(text("INSERT INTO t VALUES (zeroblob(100000))"))
        except SQLAlchemyError as exc:
            return exc
        finally:
            await engine.dispose()
        pytest.fail("expected an error")

    assert store_fault(asyncio.run(run())) is StoreFault.FULL


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (OSError(errno.ENOSPC, "no space"), StoreFault.FULL),
        (OSError(errno.EROFS, "read-only"), StoreFault.READ_ONLY),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), StoreFault.UNREACHABLE),
        (ConnectionResetError(errno.ECONNRESET, "reset"), StoreFault.CONNECTION_LOST),
        (ValueError("a bug"), None),
    ],
)
def test_given_os_errors_then_by_errno(error: BaseException, fault: StoreFault | None) -> None:
    assert store_fault(error) is fault


@pytest.mark.postgres
def test_given_terminated_postgres_backend_then_connection_lost(postgres_url: str) -> None:
    async def run() -> SQLAlchemyError:
        import asyncpg

        engine = create_async_engine(postgres_url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                admin = await asyncpg.connect(PG_ADMIN_URL)
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
                await admin.close()
                await asyncio.sleep(0.2)
                await conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return exc
        finally:
            await engine.dispose()
        pytest.fail("expected an error")

    assert store_fault(asyncio.run(run())) is StoreFault.CONNECTION_LOST
