"""API keys of principals: issue (shown once), revoke, list — each audited.

Keys are not part of the policy document, so issuing or revoking one creates no
policy version and a rollback never brings a revoked key back. The key and its
audit entry commit in one transaction.

Separation of duties (GB/T 35273 §7.1): whoever issues a key can use it, so a policy
administrator issues keys only of principals that reach no customer data and no audit
log (`policies.review.principal_data_access` on the compiled plans of the newest
version) — other policy administrators, say. Keys of data principals are issued by the
operator on the host (`wardgate keys issue`), who holds the master key and the database
anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.access.authentication import IssuedApiKey, api_key_timestamp, issue_api_key
from gateway.compliance.entries import append_in_transaction
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database
from gateway.db.schema import api_keys
from gateway.http.errors import AuditUnavailable
from gateway.policy.change_service import EngineFor
from gateway.policy.errors import ApiKeyRevoked, PolicyTargetNotFound, SeparationOfDuties
from gateway.policy.store import latest_policy_or_none, lock_policy_writes, notify_policy_change
from policies.document import PolicyDocument
from policies.review import SEPARATION_OF_DUTIES, principal_data_access

KEY_ID_PATTERN = "^[A-Za-z0-9]{1,32}$"
"""What a key id may be (issued ids are 16 hex digits): ASCII letters and digits only,
so that the documented pattern and the check are the same rule."""
KEY_ID = re.compile(KEY_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
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


def _api_key_audit(audit: RequestAudit, key_id: str, principal_id: str, what: str) -> None:
    audit.entity = "api_keys"
    audit.record_ids = (key_id,)
    audit.fields = {f"api_key:{key_id}": what, "principal": principal_id}


async def newest_policy_naming(
    conn: AsyncConnection, principal_id: str
) -> tuple[int, PolicyDocument]:
    """The newest policy version, if it names the principal; PolicyTargetNotFound if not."""
    latest = await latest_policy_or_none(conn)
    if latest is None or principal_id not in latest[1].principals:
        msg = f"there is no principal {principal_id!r} in the newest policy version"
        raise PolicyTargetNotFound(msg)
    return latest


async def issue_api_key_for(
    db: Database, principal_id: str, audit: RequestAudit, engine_for: EngineFor
) -> IssuedApiKey:
    """A new key for a principal the newest policy version names and that reaches no
    customer data and no audit log; SeparationOfDuties (nothing stored) for any other."""
    try:
        async with db.writer.begin() as conn:
            # No policy change can commit between the check and the key (see the lock).
            await lock_policy_writes(conn)
            latest = await newest_policy_naming(conn, principal_id)
            access = principal_data_access(engine_for(*latest), principal_id)
            if access:
                audit.entity = "api_keys"
                refused = f"refused:{SEPARATION_OF_DUTIES}"
                audit.fields = {"principal": principal_id, "api_key": refused}
                raise SeparationOfDuties(_data_principal_message(principal_id, access))
            issued = await issue_api_key(conn, principal_id)
            _api_key_audit(audit, issued.key_id, principal_id, "issued")
            await append_in_transaction(conn, audit, 201)
    except SQLAlchemyError as exc:
        audit.seq = None
        msg = "the key could not be stored with its audit entry; no key was issued"
        raise AuditUnavailable(msg) from exc
    except BaseException:
        audit.seq = None
        raise
    return issued


def _data_principal_message(principal_id: str, access: list[str]) -> str:
    shown = ", ".join(access[:3]) + (", ..." if len(access) > 3 else "")
    return (
        f"principal {principal_id!r} has access to customer data or the audit log ({shown}); "
        "a policy administrator may not hold its keys (separation of duties, GB/T 35273 "
        "§7.1). Keys of data principals are issued by the operator on the host: "
        f"`wardgate keys issue {principal_id}`"
    )


async def revoke_api_key(db: Database, key_id: str, audit: RequestAudit) -> ApiKeyInfo:
    """Revoke any principal's key, data principals' included: a revocation only takes
    access away, so it breaks no separation of duties, and an administrator must be able
    to shut a leaked key at once without waiting for the operator."""
    try:
        async with db.writer.begin() as conn:
            info = await revoke_api_key_in(conn, key_id)
            _api_key_audit(audit, key_id, info.principal_id, "revoked")
            await append_in_transaction(conn, audit, 200)
    except SQLAlchemyError as exc:
        audit.seq = None
        msg = "the revocation could not be stored with its audit entry; the key still works"
        raise AuditUnavailable(msg) from exc
    except BaseException:
        audit.seq = None
        raise
    return info


async def revoke_api_key_in(conn: AsyncConnection, key_id: str) -> ApiKeyInfo:
    """Revoke one key inside the caller's transaction (which also takes its audit entry).

    PolicyTargetNotFound for an unknown key id, ApiKeyRevoked for one revoked before.
    """
    row = (await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))).first()
    if row is None:
        msg = "there is no API key with that id"
        raise PolicyTargetNotFound(msg)
    if row.revoked_at is not None:
        msg = "this API key was already revoked"
        raise ApiKeyRevoked(msg)
    revoked_at = api_key_timestamp()
    await conn.execute(
        update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=revoked_at)
    )
    # Every other gateway process refuses the key once this commits.
    await notify_policy_change(conn, "keys")
    return ApiKeyInfo(key_id, row.principal_id, row.created_at, revoked_at)


async def revoke_api_keys_of(conn: AsyncConnection, principal_id: str) -> Mapping[str, str]:
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
            .values(revoked_at=api_key_timestamp())
        )
        await notify_policy_change(conn, "keys")
    return {f"api_key:{row.key_id}": "revoked" for row in active}


async def list_api_keys(conn: AsyncConnection) -> list[ApiKeyInfo]:
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
    return [ApiKeyInfo(r.key_id, r.principal_id, r.created_at, r.revoked_at) for r in rows]
