"""Hot-path reads of the embedded store on the event loop's own thread.

aiosqlite runs each connection in a thread of its own, and SQLAlchemy's async adapter
hands every step of a statement to it (pool checkout, execute, fetch, cursor close)
and waits for the loop to be woken each time: in the profile of issue 16 those
hand-offs were over half of a governed single read. A read of the embedded store in
WAL mode never waits for a writer, and a primary-key read costs tens of microseconds,
so the read pipelines run their statements synchronously here instead: one connection
taken from a small pool of synchronous sqlite3 connections, used and given back
without an await in between (so no other task ever sees it mid-statement), and the
rows fully fetched before it goes back.

Only reads come here, on SQLite only; writes, the audit log and PostgreSQL keep their
own engines. Reads stay autocommit (each statement its own snapshot), as on the async
reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Row

T = TypeVar("T")
Params = Mapping[str, Any]


class InlineReader:
    """Synchronous reads on the caller's thread (the event loop's); see the module."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __repr__(self) -> str:
        return f"InlineReader({self.engine.url.database!r})"

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` on one pooled connection; it must fetch everything it returns."""
        with self.engine.connect() as conn:
            return work(conn)

    def first(self, statement: Executable, params: Params) -> Row[Any] | None:
        return self.run(lambda conn: conn.execute(statement, params).first())

    def all(self, statement: Executable, params: Params) -> Sequence[Row[Any]]:
        return self.run(lambda conn: conn.execute(statement, params).all())

    def dispose(self) -> None:
        self.engine.dispose()
