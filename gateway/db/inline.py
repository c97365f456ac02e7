"""Hot-path reads of the embedded store on the event loop's own thread, on sqlite3.

aiosqlite runs each connection in a thread of its own, and SQLAlchemy's async adapter
hands every step of a statement to it (pool checkout, execute, fetch, cursor close)
and waits for the loop to be woken each time: in the profile of issue 16 those
hand-offs were over half of a governed single read. A read of the embedded store in
WAL mode never waits for a writer, and a primary-key read costs tens of microseconds,
so the read pipelines run their statements synchronously here instead.

Through SQLAlchemy's Connection, execution context and Result a primary-key read still
cost about twice the statement itself. So, as `pg_fast.py` does on asyncpg, each
statement is compiled once for SQLite (`compiled.py`: positional SQL, bind order, the
same result processors) and run on a raw `sqlite3` connection, whose own statement
cache prepares it once per connection; rows come back as SQLAlchemy `Row`s.

- A connection is taken from a short list of idle ones and given back with no await
  in between (no other task ever sees it mid-statement), its rows fully fetched and
  its statement reset first. A thread that finds none idle opens one; more than
  `idle` given back are closed.
- Reads are autocommit (`isolation_level=None`) and each statement is reset before
  its connection goes back, so each statement is its own snapshot: an erasure
  committed before a read is seen by it, and no idle connection pins an old snapshot.
- Connections get the store's pragmas (WAL, busy timeout...) and the file is created
  private, by the same hooks as the engines' connections.
- sqlite3's errors are raised as SQLAlchemy's `DBAPIError` subclasses, parameters
  hidden, as the engine raised them: the store-fault mapping sees what it saw before.

Only reads come here, on SQLite only; writes, the audit log and PostgreSQL keep their
own engines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Dialect, Executable, Row
from sqlalchemy.exc import DBAPIError

from gateway.db.compiled import CompiledRead, Params, compile_read

# sqlite3 keeps this many prepared statements per connection (128 by default): the
# pipelines' statement shapes (entity x columns x purpose's consent) stay prepared.
_PREPARED_STATEMENTS = 512


class InlineReader:
    """Synchronous reads on the caller's thread (the event loop's); see the module."""

    def __init__(
        self,
        path: Path,
        dialect: Dialect,
        *,
        before_connect: Callable[[], None],
        on_connect: Callable[[sqlite3.Connection, Any], None],
        idle: int = 2,
    ) -> None:
        self.path = path
        self.dialect = dialect
        self._before_connect = before_connect
        self._on_connect = on_connect
        self._max_idle = idle
        self._idle: list[sqlite3.Connection] = []
        self.observers: list[Callable[[str], None]] = []
        """Told of each statement's SQL (the query-count tests); never of parameters."""

    def __repr__(self) -> str:
        return f"InlineReader({str(self.path)!r})"

    def _open(self) -> sqlite3.Connection:
        self._before_connect()
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=_PREPARED_STATEMENTS,
        )
        try:
            self._on_connect(conn, None)
        except BaseException:
            conn.close()
            raise
        return conn

    def _fetch(
        self, statement: Executable, params: Params, *, first: bool
    ) -> tuple[CompiledRead, list[Any]]:
        compiled = compile_read(statement, self.dialect)
        arguments = compiled.arguments(params)
        for observe in self.observers:
            observe(compiled.sql)
        idle = self._idle
        try:
            # list.pop and list.append are atomic: a read from a worker thread takes
            # another connection, never this one.
            conn = idle.pop() if idle else self._open()
            try:
                cursor = conn.execute(compiled.sql, arguments)
                if first:
                    record = cursor.fetchone()
                    cursor.close()  # resets the statement: its snapshot ends here
                    records = [] if record is None else [record]
                else:
                    records = cursor.fetchall()
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                compiled.sql, None, exc, sqlite3.Error, hide_parameters=True, dialect=self.dialect
            ) from exc
        if len(idle) < self._max_idle:
            idle.append(conn)
        else:
            conn.close()
        return compiled, records

    def first(self, statement: Executable, params: Params) -> Row[Any] | None:
        compiled, records = self._fetch(statement, params, first=True)
        return compiled.row(records[0]) if records else None

    def all(self, statement: Executable, params: Params) -> Sequence[Row[Any]]:
        compiled, records = self._fetch(statement, params, first=False)
        row = compiled.row
        return [row(record) for record in records]

    def dispose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
