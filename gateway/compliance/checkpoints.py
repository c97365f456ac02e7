"""Signed checkpoints of the audit log, issued every N entries or T seconds, and on demand.

A checkpoint is the tree head (origin, size, root) signed with the gateway's Ed25519
key as a C2SP signed note. Anyone holding one and the verifier key can check the log,
or a proof, without trusting the database. Checkpoints are stored append-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.checkpoint import Checkpoint, open_signed_checkpoint, sign_checkpoint
from audit.merkle import Frontier
from audit.schema import audit_checkpoints
from audit.store import read_tree, read_tree_sqlite
from keys.signing import NoteSigner, NoteVerifier

log = structlog.get_logger("wardgate.audit")

TASK_NAMES = ("checkpoints", "checkpoint-issue")
"""The timer's and an entry-count checkpoint's background tasks."""


def log_signer(seed: bytes) -> NoteSigner:
    """The checkpoint signer. Its name (the log's origin) is derived from its public key,
    so two deployments never share an origin."""
    provisional = NoteSigner.from_seed("wardgate-audit", seed)
    suffix = hashlib.sha256(provisional.verifier_key.encode()).hexdigest()[:8]
    return NoteSigner.from_seed(f"wardgate-audit-{suffix}", seed)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: str
    note: str
    created_at: str

    def to_json(self, verifier_key: str) -> dict[str, object]:
        return {
            "checkpoint": self.note,
            "verifier_key": verifier_key,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "created_at": self.created_at,
        }


async def latest_checkpoint(conn: AsyncConnection) -> StoredCheckpoint | None:
    row = (
        await conn.execute(
            select(audit_checkpoints).order_by(audit_checkpoints.c.tree_size.desc()).limit(1)
        )
    ).first()
    return None if row is None else StoredCheckpoint(**row._mapping)


async def all_checkpoints(conn: AsyncConnection, verifier: NoteVerifier) -> list[Checkpoint]:
    """Every stored checkpoint, each opened with its signature checked (CheckpointError)."""
    rows = (await conn.execute(select(audit_checkpoints.c.note))).scalars().all()
    return [open_signed_checkpoint(note, verifier) for note in rows]


InTransaction = Callable[[AsyncConnection], Awaitable[object]]
_T = TypeVar("_T")


class WriterThread(Protocol):
    """The SQLite audit writer's thread (`audit.appender.GroupCommitAppender`)."""

    @property
    def writes_in_thread(self) -> bool: ...

    async def exclusive(self, work: Callable[[Any], _T]) -> _T: ...


_LATEST_SQLITE = (
    "SELECT tree_size, root_hash, note, created_at FROM audit_checkpoints "
    "ORDER BY tree_size DESC LIMIT 1"
)
_INSERT_SQLITE = (
    "INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)"
)


class CheckpointIssuer:
    def __init__(
        self,
        writer: AsyncEngine,
        signer: NoteSigner,
        *,
        every_entries: int = 1000,
        every_seconds: float = 60.0,
    ) -> None:
        self._writer = writer
        self.signer = signer
        self._every_entries = every_entries
        self._every_seconds = every_seconds
        self._last_size = -1
        self._pending: asyncio.Task[object] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._writer_thread: WriterThread | None = None

    def queue_behind(self, writer_thread: WriterThread) -> None:
        """SQLite: sign in the audit writer's thread, in the writers' queue (see
        `GroupCommitAppender.exclusive`), while that writer runs."""
        self._writer_thread = writer_thread

    def __repr__(self) -> str:
        return f"CheckpointIssuer(origin={self.signer.name}, last_size={self._last_size})"

    @property
    def verifier_key(self) -> str:
        return self.signer.verifier_key

    async def issue(self, first: InTransaction | None = None) -> StoredCheckpoint:
        """Sign the current tree head (or return the checkpoint that already covers it).

        `first` runs in the same transaction before the tree is read: an operator's
        request for a checkpoint appends its audit entry there, so the checkpoint
        covers it and neither exists without the other.
        """
        writer_thread = self._writer_thread
        if first is None and writer_thread is not None and writer_thread.writes_in_thread:
            async with self._lock:
                stored, new = await writer_thread.exclusive(self._issue_sqlite)
            self._last_size = stored.tree_size
            if new:
                log.info("audit checkpoint issued", tree_size=stored.tree_size)
            return stored
        async with self._lock, self._writer.begin() as conn:
            if first is not None:
                await first(conn)
            frontier = await read_tree(conn, lock=True)
            latest = await latest_checkpoint(conn)
            if latest is not None and latest.tree_size == frontier.size:
                self._last_size = frontier.size
                return latest
            stored = self._signed(frontier)
            await conn.execute(insert(audit_checkpoints).values(_values(stored)))
        self._last_size = stored.tree_size
        log.info("audit checkpoint issued", tree_size=stored.tree_size)
        return stored

    def _signed(self, frontier: Frontier) -> StoredCheckpoint:
        checkpoint = Checkpoint(self.signer.name, frontier.size, frontier.root())
        return StoredCheckpoint(
            tree_size=frontier.size,
            root_hash=frontier.root().hex(),
            note=sign_checkpoint(checkpoint, self.signer),
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )

    def _issue_sqlite(self, raw: Any) -> tuple[StoredCheckpoint, bool]:
        """`issue` on the audit writer's raw sqlite3 connection (its thread): the same
        transaction, and whether a checkpoint was made (else the latest covers the head)."""
        cursor = raw.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            frontier = read_tree_sqlite(cursor)
            latest = cursor.execute(_LATEST_SQLITE).fetchone()
            if latest is not None and latest[0] == frontier.size:
                cursor.execute("COMMIT")
                return StoredCheckpoint(*latest), False
            stored = self._signed(frontier)
            cursor.execute(_INSERT_SQLITE, tuple(_values(stored).values()))
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        return stored, True

    def entries_committed(self, size: int) -> None:
        """Called after each committed batch: issue once N entries have gathered."""
        if self._last_size < 0:
            self._last_size = 0
        if size - self._last_size >= self._every_entries and (
            self._pending is None or self._pending.done()
        ):
            self._pending = asyncio.get_running_loop().create_task(
                self._issue_quietly(), name=TASK_NAMES[1]
            )

    async def _issue_quietly(self) -> None:
        try:
            await self.issue()
        except Exception as exc:  # noqa: BLE001 - a missed checkpoint is retried by the timer
            log.error("audit checkpoint failed", error_type=type(exc).__name__)

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().create_task(self._tick(), name=TASK_NAMES[0])

    async def stop(self) -> None:
        for task in (self._timer, self._pending):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._every_seconds)
            await self._issue_quietly()


def _values(stored: StoredCheckpoint) -> dict[str, object]:
    return {
        "tree_size": stored.tree_size,
        "root_hash": stored.root_hash,
        "note": stored.note,
        "created_at": stored.created_at,
    }
