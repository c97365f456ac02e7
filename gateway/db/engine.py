"""Database engines: a reader pool and a writer, tuned per backend.

Reads run in autocommit mode: each SELECT is its own snapshot, no BEGIN is sent and
nothing needs rolling back when the connection returns to the pool — two round trips
saved on every read. Writes (changes with their audit entry, audit batches) go
through the writer engine in real transactions. SQLite allows one writer at a time,
and a read transaction that later writes can fail with SQLITE_BUSY under WAL, so on
SQLite the writer is a single connection.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.db.compiled import Params
from gateway.db.inline import InlineReader
from gateway.db.reads import read_retrying_once
from gateway.settings import Settings

if TYPE_CHECKING:
    # Imported where PostgreSQL is opened: the SQLite-only path never loads asyncpg.
    from gateway.db.pg_fast import FastReader, FastWriter

# Drivers that log statement parameters (field values) at DEBUG: never let them.
_VALUE_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg")


def silence_value_loggers() -> None:
    """Cap loggers that would print statement parameters, whatever the root level is."""
    for name in _VALUE_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        logger.propagate = True


def canonical_json(value: object) -> str:
    """JSON columns are stored canonically (sorted keys, compact, RFC 8785 for the
    audit entry's value types): verification can then splice an entry from the stored
    text instead of parsing and re-encoding it."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def sqlite_pragmas(synchronous: str = "full") -> Callable[[Any, Any], None]:
    """The connect hook of every SQLite connection.

    WAL lets readers run while the writer commits. `synchronous`: FULL (default) syncs
    the WAL at every commit, so what a response acknowledged — a change, its audit entry
    — survives a power loss, not only a crash of the gateway; NORMAL syncs only at WAL
    checkpoints (faster; a power loss may take the last commits). The cost of FULL is
    measured by `bench.audit`.
    """
    level = {"full": "FULL", "normal": "NORMAL"}[synchronous]

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event decide how a transaction starts (below).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Any) -> None:
    # Take SQLite's write lock when the transaction starts, not at its first write: two
    # writers (processes, or a write after a read) can then never deadlock on the
    # lock upgrade, and the audit tree state read under it is current.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True, slots=True)
class Database:
    reader: AsyncEngine
    writer: AsyncEngine
    keys: AsyncEngine
    is_sqlite: bool
    audit_writer: Engine | None = None
    """SQLite only: a synchronous engine for the audit group commit's writer thread."""
    inline: InlineReader | None = None
    """SQLite only: the read pipelines' statements on the loop's thread (`inline.py`)."""
    fast: FastReader | None = None
    """PostgreSQL only: the read pipelines' statements on asyncpg directly (`pg_fast.py`)."""
    audit_fast: FastWriter | None = None
    """PostgreSQL only: the audit group commit's transactions on asyncpg directly."""

    async def fetch_first(self, statement: Executable, params: Params) -> Row[Any] | None:
        """The first row of a read on the hot path (inline on SQLite)."""
        if self.inline is not None:
            return self.inline.first(statement, params)
        if self.fast is not None:
            return await self.fast.first(statement, params)

        async def first(conn: AsyncConnection) -> Row[Any] | None:
            return (await conn.execute(statement, params)).first()

        return await read_retrying_once(self.reader, first)

    async def fetch_all(self, statement: Executable, params: Params) -> Sequence[Row[Any]]:
        """Every row of a read on the hot path (inline on SQLite)."""
        if self.inline is not None:
            return self.inline.all(statement, params)
        if self.fast is not None:
            return await self.fast.all(statement, params)

        async def every(conn: AsyncConnection) -> Sequence[Row[Any]]:
            return (await conn.execute(statement, params)).all()

        return await read_retrying_once(self.reader, every)

    async def dispose(self) -> None:
        for engine in {id(e): e for e in (self.reader, self.writer, self.keys)}.values():
            await engine.dispose()
        if self.audit_writer is not None:
            self.audit_writer.dispose()
        if self.inline is not None:
            self.inline.dispose()
        for fast in (self.fast, self.audit_fast):
            if fast is not None:
                await fast.close()


def private_sqlite_file(settings: Settings, path: Path) -> None:
    """Create the data directory (0700) and an empty SQLite file (0600) if missing.

    SQLite gives its -wal and -shm files the mode of the database file, so they are
    private too, whatever the process's umask; an empty file is an empty database.
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _created_privately(engine: Engine, settings: Settings, path: Path) -> None:
    """Create the file just before the first connection, not when the engine is built:
    an engine that never connects (a failed `init` against PostgreSQL) leaves nothing."""

    def create(*_: object) -> None:
        private_sqlite_file(settings, path)

    event.listen(engine, "do_connect", create)


KEYSTORE_POOL_SIZE = 4
KEYSTORE_POOL_OVERFLOW = 4
WRITER_POOL_OVERFLOW = 4


@dataclass(frozen=True, slots=True)
class PostgresConnections:
    """The most connections one gateway process (one worker) opens to PostgreSQL, by
    pool; every pool opens lazily and keeps what it opened (idle asyncpg connections
    close after 5 minutes). The engines below are built from these figures, so the
    operator's formula in the README and the pools cannot drift apart.

    With `db_pool_size` P: P fast reads + P other reads + max(2, P // 2) + 4 writes + 1
    audit writer + 1 policy listener on the store's database, and 8 on the key store's
    when that is PostgreSQL too (`WARDGATE_KEYSTORE_URL`)."""

    fast_reads: int
    reads: int
    writes: int
    audit: int
    policy_listener: int
    keystore: int

    @classmethod
    def of(cls, settings: Settings) -> PostgresConnections:
        pool = settings.db_pool_size
        keystore_on_postgres = not settings.async_keystore_url.startswith("sqlite")
        return cls(
            fast_reads=pool,
            reads=pool,
            writes=max(2, pool // 2) + WRITER_POOL_OVERFLOW,
            audit=1,
            policy_listener=1,
            keystore=KEYSTORE_POOL_SIZE + KEYSTORE_POOL_OVERFLOW if keystore_on_postgres else 0,
        )

    @property
    def store(self) -> int:
        """To the store's database (the key store's are counted apart: it may live on
        another server)."""
        return self.fast_reads + self.reads + self.writes + self.audit + self.policy_listener


def _keystore_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_keystore_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url, hide_parameters=True, pool_size=2, max_overflow=0)
        if settings.keystore_url is None:
            _created_privately(engine.sync_engine, settings, settings.keystore_path)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas(settings.sqlite_synchronous))
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_size=KEYSTORE_POOL_SIZE,
        max_overflow=KEYSTORE_POOL_OVERFLOW,
        pool_pre_ping=True,
    )


def create_database(settings: Settings) -> Database:
    silence_value_loggers()
    url = settings.async_database_url
    # hide_parameters: a failed statement's message must never carry a field value.
    if settings.is_sqlite:
        # Every aiosqlite connection is a thread; overflow connections would be opened
        # and closed per burst (a new thread each time), so the pool is fixed and
        # requests beyond it wait their turn.
        reader = create_async_engine(
            url,
            hide_parameters=True,
            json_serializer=canonical_json,
            pool_size=settings.db_pool_size,
            max_overflow=0,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
        )
        writer = create_async_engine(
            url,
            hide_parameters=True,
            json_serializer=canonical_json,
            pool_size=1,
            max_overflow=0,
        )
        pragmas = sqlite_pragmas(settings.sqlite_synchronous)
        for engine in (reader, writer):
            event.listen(engine.sync_engine, "connect", pragmas)
            _created_privately(engine.sync_engine, settings, settings.sqlite_path)
        audit_writer = create_engine(
            f"sqlite:///{settings.sqlite_path}",
            hide_parameters=True,
            json_serializer=canonical_json,
            pool_size=1,
            max_overflow=0,
        )
        for sync_writer in (writer.sync_engine, audit_writer):
            event.listen(sync_writer, "connect", _driver_autocommit)
            event.listen(sync_writer, "begin", _begin_immediate)
        event.listen(audit_writer, "connect", pragmas)
        _created_privately(audit_writer, settings, settings.sqlite_path)
        # No await while a connection is out (inline.py): one at a time is in use per
        # process; the second covers a read started from a worker thread.
        inline = InlineReader(
            settings.sqlite_path,
            sqlite_dialect(json_serializer=canonical_json),
            before_connect=lambda: private_sqlite_file(settings, settings.sqlite_path),
            on_connect=pragmas,
            idle=2,
        )
        return Database(
            reader=reader,
            writer=writer,
            keys=_keystore_engine(settings),
            is_sqlite=True,
            audit_writer=audit_writer,
            inline=inline,
        )
    from gateway.db.pg_fast import FastReader, FastWriter  # see TYPE_CHECKING above

    budget = PostgresConnections.of(settings)
    # The read pipelines' statements run on the fast reader's asyncpg pool; what is left
    # on this engine (policy and key checks, audit and console queries) needs no
    # overflow on top of its steady size: a burst beyond it waits for a connection.
    reader = create_async_engine(
        url,
        hide_parameters=True,
        pool_size=budget.reads,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        pool_pre_ping=True,
    )
    writer = create_async_engine(
        url,
        hide_parameters=True,
        json_serializer=canonical_json,
        pool_size=budget.writes - WRITER_POOL_OVERFLOW,
        max_overflow=WRITER_POOL_OVERFLOW,
        pool_pre_ping=True,
    )
    return Database(
        reader=reader,
        writer=writer,
        keys=_keystore_engine(settings),
        is_sqlite=False,
        # The reader engine's steady size, kept open (no overflow connections opened
        # and closed per burst: a request holds one only for its statement); the audit
        # group commit writes one batch at a time.
        fast=FastReader(reader, max_size=budget.fast_reads),
        audit_fast=FastWriter(writer, max_size=budget.audit),
    )
