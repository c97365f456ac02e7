"""API keys of principals: issue (shown once), revoke, list — each audited.

Keys are not part of the policy document, so issuing or revoking one creates no
policy version and a rollback never brings a revoked key back. The key and its
audit entry commit in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit_log import append_in_transaction
from gateway.auth import IssuedKey, issue_key
from gateway.context import RequestAudit
from gateway.db.engine import Database
from gateway.db.schema import api_keys
from gateway.errors import AuditUnavailable
from gateway.policy_admin.errors import KeyRevoked, PolicyTargetNotFound
from gateway.policy_store import latest_policy_or_none, notify_policy_change


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    principal_id: str
    created_at: str
    revoked_at: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "principal": self.principal_id,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "active": self.revoked_at is None,
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _key_audit(audit: RequestAudit, key_id: str, principal_id: str, what: str) -> None:
    audit.entity = "api_keys"
    audit.record_ids = (key_id,)
    audit.fields = {f"api_key:{key_id}": what, "principal": principal_id}


async def issue_key_for(db: Database, principal_id: str, audit: RequestAudit) -> IssuedKey:
    """A new key for a principal the newest policy version names."""
    try:
        async with db.writer.begin() as conn:
            latest = await latest_policy_or_none(conn)
            if latest is None or principal_id not in latest[1].principals:
                msg = f"there is no principal {principal_id!r} in the newest policy version"
                raise PolicyTargetNotFound(msg)
            issued = await issue_key(conn, principal_id)
            _key_audit(audit, issued.key_id, principal_id, "issued")
            await append_in_transaction(conn, audit, 201)
    except SQLAlchemyError as exc:
        audit.seq = None
        msg = "the key could not be stored with its audit entry; no key was issued"
        raise AuditUnavailable(msg) from exc
    except BaseException:
        audit.seq = None
        raise
    return issued


async def revoke_key(db: Database, key_id: str, audit: RequestAudit) -> KeyInfo:
    try:
        async with db.writer.begin() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
            if row is None:
                msg = "there is no API key with that id"
                raise PolicyTargetNotFound(msg)
            if row.revoked_at is not None:
                msg = "this API key was already revoked"
                raise KeyRevoked(msg)
            revoked_at = _now()
            await conn.execute(
                update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=revoked_at)
            )
            # Other gateway processes drop the key when this commits.
            await notify_policy_change(conn, "keys")
            _key_audit(audit, key_id, row.principal_id, "revoked")
            await append_in_transaction(conn, audit, 200)
            # Every other gateway process refuses the key once this commits.
            await notify_policy_change(conn, "keys")
    except SQLAlchemyError as exc:
        audit.seq = None
        msg = "the revocation could not be stored with its audit entry; the key still works"
        raise AuditUnavailable(msg) from exc
    except BaseException:
        audit.seq = None
        raise
    return KeyInfo(key_id, row.principal_id, row.created_at, revoked_at)


async def revoke_keys_of(conn: AsyncConnection, principal_id: str) -> Mapping[str, str]:
    """Revoke every active key of a principal inside the caller's transaction."""
    active = (
        await conn.execute(
            select(api_keys.c.key_id).where(
                api_keys.c.principal_id == principal_id, api_keys.c.revoked_at.is_(None)
            )
        )
    ).all()
    if active:
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.principal_id == principal_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        await notify_policy_change(conn, "keys")
    return {f"api_key:{row.key_id}": "revoked" for row in active}


async def list_keys(conn: AsyncConnection) -> list[KeyInfo]:
    rows = (
        await conn.execute(
            select(
                api_keys.c.key_id,
                api_keys.c.principal_id,
                api_keys.c.created_at,
                api_keys.c.revoked_at,
            ).order_by(api_keys.c.principal_id, api_keys.c.created_at)
        )
    ).all()
    return [KeyInfo(r.key_id, r.principal_id, r.created_at, r.revoked_at) for r in rows]
