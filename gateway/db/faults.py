"""Which store fault an exception is: the one classification the error mapping, the
readiness probe and startup share.

A fault is something wrong with the store's reach or room, not with the request: a
lost or refused PostgreSQL connection, a locked, full or read-only SQLite file, a disk
that fails. Each becomes a 503 that names the fault with one word; anything else (a
constraint violated, a malformed statement) is a bug and stays a 500. Only the
exception's type and codes are read, never its message: a message may quote a value.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator
from enum import StrEnum

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class StoreFault(StrEnum):
    CONNECTION_LOST = "connection_lost"
    """A connection died under us (backend terminated, server restarted, network cut)."""
    UNREACHABLE = "unreachable"
    """No connection can be opened (refused, not accepting connections, cannot open file)."""
    LOCKED = "locked"
    """The store is busy: a lock not granted in time, or no pooled connection free."""
    FULL = "full"
    """No room: disk full, SQLite's page limit, PostgreSQL out of disk or memory."""
    READ_ONLY = "read_only"
    """The file system or the database refuses writes."""
    IO_ERROR = "io_error"
    """The disk failed to read or write."""


# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xff).
_SQLITE_CODES = {
    5: StoreFault.LOCKED,  # SQLITE_BUSY
    6: StoreFault.LOCKED,  # SQLITE_LOCKED
    8: StoreFault.READ_ONLY,  # SQLITE_READONLY
    10: StoreFault.IO_ERROR,  # SQLITE_IOERR
    13: StoreFault.FULL,  # SQLITE_FULL
    14: StoreFault.UNREACHABLE,  # SQLITE_CANTOPEN
    15: StoreFault.LOCKED,  # SQLITE_PROTOCOL (WAL lock contention)
}

# PostgreSQL SQLSTATEs, exact codes first, then by class (the first two characters).
_PG_STATES = {
    "57P01": StoreFault.CONNECTION_LOST,  # admin_shutdown (pg_terminate_backend)
    "57P02": StoreFault.CONNECTION_LOST,  # crash_shutdown
    "57P03": StoreFault.UNREACHABLE,  # cannot_connect_now (starting up, shutting down)
    "57P05": StoreFault.CONNECTION_LOST,  # idle_session_timeout
    "53100": StoreFault.FULL,  # disk_full
    "53200": StoreFault.FULL,  # out_of_memory
    "53300": StoreFault.LOCKED,  # too_many_connections
    "55P03": StoreFault.LOCKED,  # lock_not_available
    "25006": StoreFault.READ_ONLY,  # read_only_sql_transaction (a standby)
    "58030": StoreFault.IO_ERROR,  # io_error
}
_PG_CLASSES = {
    "08": StoreFault.CONNECTION_LOST,  # connection exception
    "53": StoreFault.FULL,  # insufficient resources
}

_OS_ERRNOS = {
    errno.ENOSPC: StoreFault.FULL,
    errno.EDQUOT: StoreFault.FULL,
    errno.EROFS: StoreFault.READ_ONLY,
    errno.EACCES: StoreFault.READ_ONLY,
    errno.EPERM: StoreFault.READ_ONLY,
    errno.EIO: StoreFault.IO_ERROR,
}

# asyncpg's errors for a connection that is gone, by name: importing asyncpg here would
# make the SQLite-only path load it, and the names are stable across its releases.
_LOST_CONNECTION_TYPES = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ConnectionRejectionError",
        "InterfaceError",
    }
)
_CONNECT_REFUSED_TYPES = frozenset({"CannotConnectNowError", "InvalidCatalogNameError"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what SQLAlchemy wrapped (`orig`) and its causes, each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                todo.append(linked)


def _one(exc: BaseException) -> StoreFault | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_CODES:
        return _SQLITE_CODES[code & 0xFF]
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state:
        return _PG_STATES.get(state) or _PG_CLASSES.get(state[:2])
    name = type(exc).__name__
    module = type(exc).__module__
    if module.startswith("asyncpg"):
        if name in _CONNECT_REFUSED_TYPES:
            return StoreFault.UNREACHABLE
        if name in _LOST_CONNECTION_TYPES:
            return StoreFault.CONNECTION_LOST
    if isinstance(exc, ConnectionError):
        return (
            StoreFault.UNREACHABLE
            if isinstance(exc, ConnectionRefusedError)
            else StoreFault.CONNECTION_LOST
        )
    if isinstance(exc, OSError) and exc.errno in _OS_ERRNOS:
        return _OS_ERRNOS[exc.errno]
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return StoreFault.UNREACHABLE
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | PoolTimeoutError):
        return StoreFault.LOCKED if isinstance(exc, PoolTimeoutError) else StoreFault.UNREACHABLE
    return None


def store_fault(exc: BaseException) -> StoreFault | None:
    """The store fault `exc` reports, or None when it is not one (then it is a bug)."""
    for linked in _chain(exc):
        fault = _one(linked)
        if fault is not None:
            return fault
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StoreFault.CONNECTION_LOST
    return None
