"""Console sessions in the database, shared by every gateway process.

A session id is 256 random bits, given to the browser once in an HttpOnly cookie; the
store keeps only its SHA-256, so a copy of the table opens no session. A session ends
after 15 minutes without a request (idle), 8 hours after sign-in (absolute), at sign-out,
and as soon as the API key it signed in with is revoked (checked by the caller on every
request against the policy snapshot's key directory).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.engine import Database
from gateway.db.schema import console_sessions

IDLE_SECONDS = 15 * 60
ABSOLUTE_SECONDS = 8 * 60 * 60
Clock = Callable[[], float]


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A live session as the store holds it (never the session id itself)."""

    id_hash: str
    principal_id: str
    key_hash: str
    created_at: float
    language: str
    time_zone: str


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: `session_id` goes into the cookie and nowhere else."""

    session_id: str
    session: ConsoleSession

    def __repr__(self) -> str:
        return f"NewSession(session_id=***, principal_id={self.session.principal_id!r})"


class SessionStore:
    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def open(
        self, principal_id: str, key_hash: str, language: str, time_zone: str
    ) -> NewSession:
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = ConsoleSession(
            id_hash=hash_session_id(session_id),
            principal_id=principal_id,
            key_hash=key_hash,
            created_at=now,
            language=language,
            time_zone=time_zone,
        )
        async with self._db.writer.begin() as conn:
            await conn.execute(
                insert(console_sessions).values(
                    id_hash=session.id_hash,
                    principal_id=principal_id,
                    key_hash=key_hash,
                    created_at=now,
                    last_seen_at=now,
                    language=language,
                    time_zone=time_zone,
                )
            )
            await self._sweep(conn, now)
        return NewSession(session_id=session_id, session=session)

    async def resume(self, session_id: str) -> ConsoleSession | None:
        """The live session of this id, its idle clock restarted; None when it is
        unknown, timed out or ended (a timed-out row is deleted on the way)."""
        id_hash = hash_session_id(session_id)
        now = self._clock()
        async with self._db.writer.begin() as conn:
            row = (
                await conn.execute(
                    select(console_sessions).where(console_sessions.c.id_hash == id_hash)
                )
            ).first()
            if row is None:
                return None
            if _expired(row.created_at, row.last_seen_at, now):
                await conn.execute(
                    delete(console_sessions).where(console_sessions.c.id_hash == id_hash)
                )
                return None
            await conn.execute(
                update(console_sessions)
                .where(console_sessions.c.id_hash == id_hash)
                .values(last_seen_at=now)
            )
        return ConsoleSession(
            id_hash=row.id_hash,
            principal_id=row.principal_id,
            key_hash=row.key_hash,
            created_at=row.created_at,
            language=row.language,
            time_zone=row.time_zone,
        )

    async def set_language(self, id_hash: str, language: str) -> None:
        async with self._db.writer.begin() as conn:
            await conn.execute(
                update(console_sessions)
                .where(console_sessions.c.id_hash == id_hash)
                .values(language=language)
            )

    async def end(self, id_hash: str) -> None:
        async with self._db.writer.begin() as conn:
            await conn.execute(
                delete(console_sessions).where(console_sessions.c.id_hash == id_hash)
            )

    async def _sweep(self, conn: AsyncConnection, now: float) -> None:
        """Delete timed-out sessions (each sign-in tidies up; no scheduler needed)."""
        await conn.execute(
            delete(console_sessions).where(
                or_(
                    console_sessions.c.last_seen_at < now - IDLE_SECONDS,
                    console_sessions.c.created_at < now - ABSOLUTE_SECONDS,
                )
            )
        )


def _expired(created_at: float, last_seen_at: float, now: float) -> bool:
    return now - last_seen_at > IDLE_SECONDS or now - created_at > ABSOLUTE_SECONDS
