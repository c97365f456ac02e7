"""Hot-path reads and audit batches of PostgreSQL on asyncpg directly.

Through SQLAlchemy's async engine a primary-key read on PostgreSQL cost about 0.65 ms
of CPU (issue 16's profile): a `SELECT 1`-style ping on every checkout
(`pool_pre_ping`), the greenlet adaptation of every step, the per-statement execution
context and, under a burst beyond the pool's size, overflow connections opened and
closed per request. The statement itself is a few dozen microseconds in asyncpg.

Here the read pipelines' statements (`Database.fetch_first/fetch_all`) and the audit
group commit run on asyncpg pools of their own:

- each SQLAlchemy statement is compiled once for the asyncpg dialect (`compiled.py`,
  cached by the statement object, which the pipelines already cache), and asyncpg
  prepares it once per connection (its own statement cache);
- rows come back as SQLAlchemy `Row`s, through the same result processors, so the
  pipelines cannot tell the difference (`row._mapping`, `row.id`);
- one pool acquire per statement and no reset query on release (nothing here sets
  session state; an open transaction is still rolled back by asyncpg);
- instead of a ping per checkout: asyncpg sees a connection whose backend went away
  while idle (the server's goodbye and EOF arrive on the loop) and the pool replaces
  it, and a read that loses its connection mid-statement runs once more on a fresh one
  (as `gateway.db.reads` does), never a write;
- reads stay autocommit (each statement its own snapshot, so an erasure committed
  before a read is seen by it); an audit batch is one transaction.

Driver errors are raised as SQLAlchemy's `DBAPIError` around the asyncpg exception,
with parameters hidden, so the store-fault mapping (`gateway.db.faults`, the 503
handler) sees what it saw before. asyncpg's logger is silenced by `engine.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg
import orjson
import structlog
from sqlalchemy import Executable
from sqlalchemy.engine.row import Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.compiled import CompiledRead, Params, compile_read
from gateway.db.faults import StoreFault, store_fault

T = TypeVar("T")

log = structlog.get_logger("wardgate.db")

# Connect arguments SQLAlchemy's asyncpg dialect understands but asyncpg does not.
_DIALECT_ONLY = frozenset(
    {"async_creator_fn", "prepared_statement_cache_size", "prepared_statement_name_func"}
)
# Errors of the driver and the network, wrapped for the store-fault mapping.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class _NoResetConnection(asyncpg.Connection):  # type: ignore[misc]
    """Given back to the pool without `RESET ALL; UNLISTEN *; ...` (a round trip per
    release): these connections never set session state, listen or take advisory locks.
    asyncpg still rolls back a transaction left open."""

    def get_reset_query(self) -> str:
        return ""


async def _decode_json_like_sqlalchemy(conn: asyncpg.Connection) -> None:
    """`json` values as Python objects, as SQLAlchemy's asyncpg dialect sets up on its
    own connections (the consent history column of the read statements is `json`)."""
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )


def _wrapped(exc: BaseException, sql: str) -> DBAPIError:
    """The driver's error as SQLAlchemy would raise it (parameters never shown)."""
    return DBAPIError(
        sql,
        None,
        exc,
        hide_parameters=True,
        connection_invalidated=store_fault(exc) is StoreFault.CONNECTION_LOST,
    )


class AsyncpgPool:
    """An asyncpg pool on the URL of a SQLAlchemy engine, opened lazily on the running
    loop (a forked worker or a second `asyncio.run` gets a pool of its own)."""

    def __init__(self, engine: AsyncEngine, max_size: int, *, decode_json: bool) -> None:
        self.dialect = engine.dialect
        _, connect_args = engine.dialect.create_connect_args(engine.url)
        self._connect_args = {k: v for k, v in connect_args.items() if k not in _DIALECT_ONLY}
        self._max_size = max_size
        self._init = _decode_json_like_sqlalchemy if decode_json else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Task[asyncpg.Pool] | None = None

    def __repr__(self) -> str:
        return f"AsyncpgPool(max_size={self._max_size})"

    async def pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._pool is not None:
            return self._pool
        if self._loop is not loop or self._opening is None:
            # A pool of another loop is left alone: its loop (or its process's parent)
            # owns those sockets.
            self._loop, self._pool = loop, None
            self._opening = loop.create_task(self._open())
        opening = self._opening
        try:
            self._pool = await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._opening is opening:
                self._opening = None
            raise
        return self._pool

    async def _open(self) -> asyncpg.Pool:
        # min_size=0: no connection is opened here, so a store that is down fails the
        # first statement (a 503), not this call. Connections idle for 5 minutes close.
        pool = await asyncpg.create_pool(
            min_size=0,
            max_size=self._max_size,
            connection_class=_NoResetConnection,
            init=self._init,
            **self._connect_args,
        )
        assert pool is not None  # noqa: S101 - create_pool awaited returns the pool
        return pool

    async def close(self) -> None:
        pool, self._pool, self._opening = self._pool, None, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()


class _BeginLostError(Exception):
    """BEGIN found its connection gone: nothing of the transaction reached the server."""


async def _unless_unusable(conn: asyncpg.Connection, step: Awaitable[T]) -> T:
    """`step` on `conn`; a connection asyncpg reports in an impossible protocol state
    is closed and reported as lost.

    When PostgreSQL terminates an idle backend it sends its FATAL message, then closes
    the socket; a statement started between the two fails with asyncpg's
    InternalClientError ("cannot switch to state ..."), not a connection error. The
    connection is unusable either way, so it is terminated (the pool opens a new one)
    and the failure is what it is: a lost connection (a read is run once more, a
    write fails as such)."""
    try:
        return await step
    except asyncpg.InternalClientError as exc:
        conn.terminate()
        lost = asyncpg.ConnectionDoesNotExistError("connection left in an unusable state")
        raise lost from exc


async def _fetch_on(pool: asyncpg.Pool, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        records: list[asyncpg.Record] = await _unless_unusable(conn, conn.fetch(sql, *arguments))
        return records


def _log_lost(event: str, exc: BaseException | None) -> None:
    # The type only: the message of a driver error may quote a value.
    log.warning(event, fault=StoreFault.CONNECTION_LOST.value, error_type=type(exc).__name__)


class FastReader:
    """Hot-path reads on asyncpg: see the module."""

    def __init__(self, engine: AsyncEngine, max_size: int) -> None:
        self.pool = AsyncpgPool(engine, max_size, decode_json=True)
        self.observers: list[Callable[[str], None]] = []
        """Told of each statement's SQL (the query-count tests); never of parameters."""

    def __repr__(self) -> str:
        return f"FastReader({self.pool!r})"

    async def _fetch(
        self, statement: Executable, params: Params
    ) -> tuple[CompiledRead, list[asyncpg.Record]]:
        compiled = compile_read(statement, self.pool.dialect)
        arguments = compiled.arguments(params)
        for observe in self.observers:
            observe(compiled.sql)
        try:
            return compiled, await self._retrying_once(compiled.sql, arguments)
        except _DRIVER_ERRORS as exc:
            raise _wrapped(exc, compiled.sql) from exc

    async def _retrying_once(self, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
        pool = await self.pool.pool()
        try:
            return await _fetch_on(pool, sql, arguments)
        except _DRIVER_ERRORS as exc:
            if store_fault(exc) is not StoreFault.CONNECTION_LOST:
                raise
            _log_lost("read retried on a new connection", exc)
        return await _fetch_on(pool, sql, arguments)

    async def first(self, statement: Executable, params: Params) -> Row[Any] | None:
        compiled, records = await self._fetch(statement, params)
        return compiled.row(records[0]) if records else None

    async def all(self, statement: Executable, params: Params) -> Sequence[Row[Any]]:
        compiled, records = await self._fetch(statement, params)
        row = compiled.row
        return [row(record) for record in records]

    async def close(self) -> None:
        await self.pool.close()


class FastWriter:
    """Transactions on an asyncpg connection of their own (the audit group commit)."""

    def __init__(self, engine: AsyncEngine, max_size: int = 2) -> None:
        self.pool = AsyncpgPool(engine, max_size, decode_json=False)

    def __repr__(self) -> str:
        return f"FastWriter({self.pool!r})"

    async def transaction(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work` in one transaction, committed when it returns.

        Never run twice once `work` has started: whether a transaction cut at its
        COMMIT took effect is unknown, and the audit chain must not get an entry twice.
        Only a BEGIN that finds its connection lost (nothing sent but BEGIN) is tried
        once more on a fresh one, which is what a ping before it would have found."""
        pool = await self.pool.pool()
        try:
            try:
                return await self._once(pool, work)
            except _BeginLostError as lost:
                _log_lost("transaction begun again on a new connection", lost.__cause__)
            return await self._once(pool, work)
        except _BeginLostError as lost:
            raise _wrapped(lost.__cause__ or lost, "BEGIN") from lost.__cause__
        except _DRIVER_ERRORS as exc:
            raise _wrapped(exc, "audit batch") from exc

    async def _once(
        self, pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]]
    ) -> T:
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            try:
                await _unless_unusable(conn, transaction.start())
            except _DRIVER_ERRORS as exc:
                if store_fault(exc) is StoreFault.CONNECTION_LOST:
                    raise _BeginLostError from exc
                raise
            try:
                result = await _unless_unusable(conn, work(conn))
            except BaseException:
                if not conn.is_closed():
                    with contextlib.suppress(*_DRIVER_ERRORS, asyncpg.InternalClientError):
                        await transaction.rollback()
                raise
            await _unless_unusable(conn, transaction.commit())
            return result

    async def close(self) -> None:
        await self.pool.close()
