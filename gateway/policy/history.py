"""Reading the policy history: versions, one version's document, a diff between two."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import policy_versions
from policies.document import PolicyDocument, parse_policy_document


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    created_at: str
    author: str
    comment: str
    changes: int | None
    """How many entries the version's diff names (None: saved before diffs were kept)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "author": self.author,
            "comment": self.comment,
            "changes": self.changes,
        }


def _count(diff: Any) -> int | None:
    if not isinstance(diff, dict):
        return None
    total = 0
    for section in diff.values():
        if isinstance(section, dict):
            total += sum(len(part) for part in section.values() if isinstance(part, dict | list))
    return total


async def list_versions(conn: AsyncConnection) -> list[VersionInfo]:
    """Every version, newest first (versions are few: one per change)."""
    rows = (
        await conn.execute(
            select(
                policy_versions.c.version,
                policy_versions.c.created_at,
                policy_versions.c.author,
                policy_versions.c.comment,
                policy_versions.c.diff,
            ).order_by(policy_versions.c.version.desc())
        )
    ).all()
    return [
        VersionInfo(
            version=int(row.version),
            created_at=row.created_at,
            author=row.author,
            comment=row.comment or "",
            changes=_count(row.diff),
        )
        for row in rows
    ]


MAX_VERSION = 2**31 - 1
"""Versions are a database INTEGER: a larger number names no version (and must not
reach the database, which would refuse the parameter)."""


async def version_row(conn: AsyncConnection, version: int) -> dict[str, Any] | None:
    if not 0 < version <= MAX_VERSION:
        return None
    row = (
        await conn.execute(select(policy_versions).where(policy_versions.c.version == version))
    ).first()
    return None if row is None else dict(row._mapping)


async def load_policy_version(conn: AsyncConnection, version: int) -> PolicyDocument | None:
    row = await version_row(conn, version)
    return None if row is None else parse_policy_document(row["document"])
