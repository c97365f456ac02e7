"""Audit entries for command-line operations that touch data or keys.

The CLI is a door to the store too: key rotations, imports, exports and verifications
leave an entry, with principal `cli:<os user>` so a compliance officer sees who ran it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from audit import AuditEntry, Outcome, append_entry
from gateway.db.engine import Database


def cli_principal() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


async def record_cli(
    db: Database,
    action: str,
    *,
    outcome: Outcome = Outcome.ALLOWED,
    fields: Mapping[str, str] | None = None,
    reason: str | None = None,
    subject_ids: Sequence[str] = (),
    policy_version: int | None = None,
) -> int:
    async with db.writer.begin() as conn:
        return await record_cli_in(
            conn,
            action,
            outcome=outcome,
            fields=fields,
            reason=reason,
            subject_ids=subject_ids,
            policy_version=policy_version,
        )


async def record_cli_in(
    conn: AsyncConnection,
    action: str,
    *,
    outcome: Outcome = Outcome.ALLOWED,
    fields: Mapping[str, str] | None = None,
    reason: str | None = None,
    subject_ids: Sequence[str] = (),
    policy_version: int | None = None,
) -> int:
    """The entry inside the caller's transaction: for a change that commits with it."""
    entry = AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=uuid.uuid4().hex,
        action=action,
        outcome=outcome,
        status=0,
        principal_id=cli_principal(),
        fields=dict(fields or {}),
        reason=reason,
        subject_ids=tuple(subject_ids),
        policy_version=policy_version,
    )
    return await append_entry(conn, entry)
