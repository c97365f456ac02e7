"""Policy versions in the database: immutable, numbered, the newest in force."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import policy_versions
from policies.document import PolicyDocument, parse_policy_document


class NoPolicyError(Exception):
    """The store holds no policy version: the gateway must not serve (fail closed)."""


async def save_policy_version(
    conn: AsyncConnection, document: PolicyDocument, *, author: str, comment: str
) -> int:
    latest = (await conn.execute(select(func.max(policy_versions.c.version)))).scalar()
    version = int(latest or 0) + 1
    await conn.execute(
        insert(policy_versions).values(
            version=version,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            author=author,
            comment=comment,
            document=document.to_document(),
        )
    )
    return version


async def load_latest_policy(conn: AsyncConnection) -> tuple[int, PolicyDocument]:
    row = (
        await conn.execute(
            select(policy_versions.c.version, policy_versions.c.document)
            .order_by(policy_versions.c.version.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        msg = "no policy version in the store (run `wardgate init`)"
        raise NoPolicyError(msg)
    return int(row.version), parse_policy_document(row.document)
