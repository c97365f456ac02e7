"""Policy versions in the database: immutable, numbered, the newest in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import policy_versions
from policies.document import PolicyDocument, parse_policy_document

POLICY_CHANNEL = "wardgate_policy"
"""PostgreSQL NOTIFY channel: a new policy version (payload: its number) or changed API
keys (payload: `keys`). Every gateway process listens and reloads (gateway/policy/reload.py)."""


class NoPolicyError(Exception):
    """The store holds no policy version: the gateway must not serve (fail closed)."""


async def latest_version(conn: AsyncConnection) -> int | None:
    latest = (await conn.execute(select(func.max(policy_versions.c.version)))).scalar()
    return None if latest is None else int(latest)


async def save_policy_version(
    conn: AsyncConnection,
    document: PolicyDocument,
    *,
    author: str,
    comment: str,
    diff: Mapping[str, Any] | None = None,
) -> int:
    """Insert the next version. Two writers racing for the same number: the primary key
    refuses the second one (SQLAlchemy's `IntegrityError`), so no version is ever overwritten."""
    version = (await latest_version(conn) or 0) + 1
    await conn.execute(
        insert(policy_versions).values(
            version=version,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            author=author,
            comment=comment,
            document=document.to_document(),
            diff=None if diff is None else dict(diff),
        )
    )
    await notify_policy_change(conn, str(version))
    return version


async def notify_policy_change(conn: AsyncConnection, payload: str) -> None:
    """Tell every gateway process on this PostgreSQL that policy or keys changed.

    NOTIFY is transactional: listeners hear it when (and only if) the transaction that
    made the change commits. SQLite has no such thing; processes there poll.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": POLICY_CHANNEL, "payload": payload},
        )


# Any fixed 64-bit number works; this one spells "WGpolicy".
_POLICY_LOCK = 0x5747_706F_6C69_6379


async def lock_policy_writes(conn: AsyncConnection) -> None:
    """Serialise policy changes and API key issues until this transaction ends.

    A key issue checks the newest version and a change checks the keys that exist; two
    concurrent transactions under PostgreSQL's READ COMMITTED could each miss the
    other's uncommitted work and together hand a policy administrator a key that reads
    customer data. Statements after this lock see whatever the other one committed.
    SQLite's writer transactions already serialise (BEGIN IMMEDIATE).
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POLICY_LOCK})


async def latest_policy_or_none(conn: AsyncConnection) -> tuple[int, PolicyDocument] | None:
    row = (
        await conn.execute(
            select(policy_versions.c.version, policy_versions.c.document)
            .order_by(policy_versions.c.version.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (int(row.version), parse_policy_document(row.document))


async def load_latest_policy(conn: AsyncConnection) -> tuple[int, PolicyDocument]:
    latest = await latest_policy_or_none(conn)
    if latest is None:
        msg = "no policy version in the store (run `wardgate init`)"
        raise NoPolicyError(msg)
    return latest
