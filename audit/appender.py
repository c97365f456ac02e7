"""Group commit: many requests' audit entries in one transaction, each answered after it.

Every governed request must wait until its entry is committed (no audit, no data), but
one commit per request makes the audit log the bottleneck. The appender queues
entries from concurrent requests and writes whatever has gathered in one INSERT and one
COMMIT; each waiting request gets its own sequence number, or the error, only after
that commit.

On SQLite the batch is taken in the writer thread once it holds the writers' queue, not
before it waits there: what arrived while another worker's batch committed goes with
this one, instead of waiting a whole turn more.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from audit.admission import Admission
from audit.entry import AuditEntry
from audit.store import (
    AuditWriteError,
    SqliteTreeCache,
    append_entries,
    append_entries_asyncpg,
    append_entries_sqlite,
)

_T = TypeVar("_T")
_Pending = tuple[AuditEntry, "Admission | None", "asyncio.Future[int]"]
BatchObserver = Callable[[int, float, bool], None]
"""Told of each batch: its size, seconds from start to commit (or failure), and success."""
PgTransaction = Callable[[Callable[[Any], Awaitable[list[int]]]], Awaitable[list[int]]]
"""Runs its argument on an asyncpg connection in one transaction, committed when it
returns, never retried (`gateway.db.pg_fast.FastWriter.transaction`)."""


class GroupCommitAppender:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_batch: int = 256,
        on_commit: Callable[[int], None] | None = None,
        sync_engine: Engine | None = None,
        observer: BatchObserver | None = None,
        pg_transaction: PgTransaction | None = None,
    ) -> None:
        """With `sync_engine` (a synchronous SQLite engine on the same file), each batch
        runs start to commit in one dedicated thread on its raw connection: one hand-off
        per batch instead of several per statement. With `pg_transaction` (PostgreSQL),
        each batch is one transaction of two statements on asyncpg directly."""
        self._engine = engine
        self._pg_transaction = pg_transaction
        self._sync_engine = sync_engine
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
            if sync_engine is not None
            else None
        )
        self._lock_fd: int | None = None
        """The writers' queue file (SQLite), opened in the writer thread at first use."""
        self._writer_conn: PoolProxiedConnection | None = None
        """The writer thread's connection (SQLite), kept from batch to batch."""
        self._tree = SqliteTreeCache()
        self._on_commit = on_commit
        self.observer = observer
        self.failing = False
        """The last batch failed: nothing is known to be writable until one commits."""
        self._max_batch = max_batch
        self._pending: deque[_Pending] = deque()
        """Entries waiting for a batch; the SQLite writer thread takes them (deque's
        append and popleft are atomic)."""
        self._queue: asyncio.Queue[None] = asyncio.Queue()
        """One token per entry, done once the entry's batch has ended: `close` joins it."""
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.entries = 0

    def __repr__(self) -> str:
        return f"GroupCommitAppender(batches={self.batches}, entries={self.entries})"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-appender")

    async def close(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        await self.reconnect()  # gives the writer's connection back
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    async def reconnect(self) -> None:
        """Drop the connection the SQLite writer keeps from batch to batch: the next batch
        checks one out of the pool afresh (and runs the pool's checkout hooks, e.g. a
        per-connection pragma). In the writer thread, so never during a batch."""
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._release_connection
            )

    async def append(self, entry: AuditEntry, admission: Admission | None = None) -> int:
        """Queue one entry and return its sequence number once it is committed.

        With an `admission`, the batch decides it in its transaction before hashing the
        entry, and writes `admission.refusal` instead if it refuses: the number returned
        is then the refusal's, and `admission.admitted` is False."""
        if self._task is None or self._task.done():
            msg = "the audit appender is not running"
            raise AuditWriteError(msg)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, admission, future))
        self._queue.put_nowait(None)
        return await future

    async def _run(self) -> None:
        while True:
            await self._queue.get()
            tokens = 1
            while not self._queue.empty():
                self._queue.get_nowait()
                tokens += 1
            try:
                # Every entry whose token was taken is in `_pending` or already written
                # (a batch taken in the thread may carry entries whose tokens come later).
                while self._pending:
                    await self._write_next()
            finally:
                for _ in range(tokens):
                    self._queue.task_done()

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while len(batch) < self._max_batch:
            try:
                batch.append(self._pending.popleft())
            except IndexError:
                break
        return batch

    @property
    def writes_in_thread(self) -> bool:
        """SQLite: batches run in the writer thread, and `exclusive` can be used."""
        return self._executor is not None and self.running

    async def exclusive(self, work: Callable[[Any], _T]) -> _T:
        """Run `work(raw sqlite3 connection)` in the writer thread, between two batches and
        in the writers' queue, on the connection the batches use; `work` runs its own
        transaction. For the other writes to the audit tables (checkpoints): outside the
        queue they would take SQLite's write lock behind the writers' backs, and a batch
        that found it taken slept in SQLite's busy handler (up to 25-50 ms a try) long
        after it was free, with every other worker's writer queued behind that batch."""
        if self._executor is None:
            msg = "only the SQLite writer runs in a thread of its own"
            raise AuditWriteError(msg)
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._in_queue, work
        )

    def _in_queue(self, work: Callable[[Any], _T]) -> _T:
        """`work` on the writer's kept connection, in the writers' queue (writer thread)."""
        assert self._sync_engine is not None  # noqa: S101 - only called with one
        if self._writer_conn is None:
            self._writer_conn = self._sync_engine.raw_connection()
        try:
            with self._writers_queue():
                return work(self._writer_conn.driver_connection)
        except BaseException:
            # Whatever state a failed batch left the connection in, the next starts afresh.
            self._release_connection(invalidate=True)
            raise

    def _take_and_write(self) -> tuple[list[_Pending], list[int] | Exception]:
        """One batch in the writer thread, on the connection it keeps from batch to
        batch (no pool checkout, check-in and reset per batch), taken from the pending
        entries once this writer's turn has come. Returns the batch with its sequence
        numbers or its failure."""
        batch: list[_Pending] = []

        def write(raw: Any) -> list[int]:
            batch.extend(self._take())
            if not batch:
                return []
            entries, admissions = _entries_and_admissions(batch)
            return append_entries_sqlite(raw, entries, self._tree, admissions)

        try:
            return batch, self._in_queue(write)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request
            if not batch:  # failed before its turn (the queue's file, a connection)
                batch.extend(self._take())
            return batch, exc

    def _release_connection(self, *, invalidate: bool = False) -> None:
        """Give the writer's connection back (the writer thread only)."""
        conn, self._writer_conn = self._writer_conn, None
        if conn is None:
            return
        if invalidate:
            conn.invalidate()
        conn.close()

    @contextlib.contextmanager
    def _writers_queue(self) -> Iterator[None]:
        """Queue in the kernel behind the other processes' audit writers on this file.

        Several worker processes each run a group commit on one SQLite file. SQLite's
        own wait for its write lock is a sleep-and-retry (up to 100 ms a try), so two
        writers taking turns batch after batch spent most of their time asleep: an
        exclusive flock on a file beside the store is handed to the next waiter the
        moment it is released. SQLite's lock still decides; this only orders the
        queue (and the lock goes with the process if it dies)."""
        if self._lock_fd is None:
            assert self._sync_engine is not None  # noqa: S101 - only called with one
            path = f"{self._sync_engine.url.database}-audit.lock"
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def _write_next(self) -> None:
        started = time.perf_counter()
        result: list[int] | Exception
        if self._executor is not None:
            loop = asyncio.get_running_loop()
            batch, result = await loop.run_in_executor(self._executor, self._take_and_write)
        else:
            batch = self._take()
            entries, admissions = _entries_and_admissions(batch)
            try:
                if self._pg_transaction is not None:

                    async def append(conn: Any) -> list[int]:
                        return await append_entries_asyncpg(conn, entries, admissions)

                    result = await self._pg_transaction(append)
                else:
                    async with self._engine.begin() as conn:
                        result = await append_entries(conn, entries, admissions)
            except Exception as exc:  # noqa: BLE001 - every failure must reach every waiting request
                result = exc
        if batch:
            self._settle(batch, result, started)

    def _settle(self, batch: list[_Pending], result: list[int] | Exception, started: float) -> None:
        """Answer every request of a batch: its sequence number, or the batch's failure."""
        if isinstance(result, Exception):
            error = AuditWriteError("the audit log could not commit this batch")
            error.__cause__ = result
            self.failing = True
            self._observe(len(batch), started, ok=False)
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        seqs = result
        self.batches += 1
        self.entries += len(batch)
        self.failing = False
        self._observe(len(batch), started, ok=True)
        for (_, _, future), seq in zip(batch, seqs, strict=True):
            if not future.done():
                future.set_result(seq)
        if self._on_commit is not None:
            self._on_commit(seqs[-1] + 1)

    def _observe(self, size: int, started: float, *, ok: bool) -> None:
        if self.observer is not None:
            self.observer(size, time.perf_counter() - started, ok)


def _entries_and_admissions(
    batch: list[_Pending],
) -> tuple[list[AuditEntry], list[Admission | None]]:
    """A batch's entries, and their admissions: empty when no entry of the batch has one
    (the batch functions then skip the step)."""
    entries = [entry for entry, _, _ in batch]
    admissions = [admission for _, admission, _ in batch]
    return entries, admissions if any(a is not None for a in admissions) else []
