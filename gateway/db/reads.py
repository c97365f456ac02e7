"""Idempotent reads that survive one lost connection.

When PostgreSQL terminates a backend (`pg_terminate_backend`, a failover, a restart),
every pooled connection to it is dead. `pool_pre_ping` finds the ones that died while
idle before they are handed out; a connection that dies while a read is running still
fails that read. A read changes nothing, so it is run once more on a fresh connection
(the pool has invalidated the dead one) instead of answering 503 for a fault that is
already over. Only once: a store that stays away is reported as it is.

Writes are never retried here: whether a transaction cut at its COMMIT took effect is
unknown, and the audit chain must not get an entry twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db.faults import StoreFault, store_fault

T = TypeVar("T")

log = structlog.get_logger("wardgate.db")


async def read_retrying_once(
    engine: AsyncEngine, read: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """`read` on a connection of `engine`; again on a new one if the first was lost.

    `read` must only read (and set what it sets the same way each time)."""
    try:
        async with engine.connect() as conn:
            return await read(conn)
    except DBAPIError as exc:
        if store_fault(exc) is not StoreFault.CONNECTION_LOST:
            raise
        # The type only: the message of a driver error may quote a value.
        log.warning(
            "read retried on a new connection",
            fault=StoreFault.CONNECTION_LOST.value,
            error_type=type(exc).__name__,
        )
    async with engine.connect() as conn:
        return await read(conn)
