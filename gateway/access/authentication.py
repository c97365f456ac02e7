"""API keys and the principals they authenticate.

Keys are 256-bit random strings shown once; only their SHA-256 is stored, in the
`api_keys` table. Who a principal is — its roles and allowed purposes — is part of the
versioned policy document. The directory joins the two in memory with each policy
version, so authentication on the request path is one hash and one dict lookup. A key
whose principal the document does not name authenticates nobody (fail closed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import api_keys
from gateway.policy.store import notify_policy_change
from policies.document import PolicyDocument

API_KEY_PREFIX = "wg_"


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    roles: frozenset[str]
    purposes: frozenset[str]
    require_on_behalf_of: bool = False
    """Every call must name its end user in X-On-Behalf-Of (400 otherwise)."""


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


class PrincipalDirectory:
    """In-memory map from key hash to principal."""

    def __init__(self, by_key_hash: Mapping[str, Principal]) -> None:
        self._by_key_hash = dict(by_key_hash)

    def __repr__(self) -> str:
        return f"PrincipalDirectory(keys={len(self._by_key_hash)})"

    def principals(self) -> tuple[Principal, ...]:
        return tuple({p.id: p for p in self._by_key_hash.values()}.values())

    def by_key_hash(self, key_hash: str) -> Principal | None:
        """The principal of an active key, by its hash (a console session holds the hash
        of the key it signed in with: a revoked key drops out of the directory)."""
        return self._by_key_hash.get(key_hash)

    def authenticate(self, presented: str) -> Principal | None:
        if not presented.startswith(API_KEY_PREFIX) or len(presented) > 128:
            return None
        return self._by_key_hash.get(hash_api_key(presented))


def api_key_timestamp() -> str:
    """The time an API key row records (issued, revoked): UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def build_directory(
    key_owners: Iterable[tuple[str, str]], document: PolicyDocument
) -> PrincipalDirectory:
    """Active keys (key hash, principal id) joined with the document's principals."""
    principals = {
        pid: Principal(
            id=pid,
            roles=spec.roles,
            purposes=spec.purposes,
            require_on_behalf_of=spec.require_on_behalf_of,
        )
        for pid, spec in document.principals.items()
    }
    return PrincipalDirectory(
        {
            key_hash: principals[owner]
            for key_hash, owner in key_owners
            # A key of a principal the document does not name opens nothing.
            if owner in principals
        }
    )


async def load_directory(conn: AsyncConnection, document: PolicyDocument) -> PrincipalDirectory:
    query = select(api_keys.c.key_hash, api_keys.c.principal_id).where(
        api_keys.c.revoked_at.is_(None)
    )
    rows = (await conn.execute(query)).all()
    return build_directory(((row.key_hash, row.principal_id) for row in rows), document)


async def active_api_key_holders(conn: AsyncConnection) -> frozenset[str]:
    """Principals with at least one key not revoked."""
    query = select(api_keys.c.principal_id).where(api_keys.c.revoked_at.is_(None)).distinct()
    return frozenset((await conn.execute(query)).scalars())


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A new API key. `key` is shown once, in the response that issued it."""

    key_id: str
    principal_id: str
    key: str

    def __repr__(self) -> str:
        return f"IssuedApiKey(key_id={self.key_id!r}, principal_id={self.principal_id!r}, key=***)"


async def issue_api_key(conn: AsyncConnection, principal_id: str) -> IssuedApiKey:
    """Store a new key's hash; the key itself is returned once and never stored."""
    key = new_api_key()
    key_hash = hash_api_key(key)
    key_id = key_hash[:16]
    await conn.execute(
        insert(api_keys).values(
            key_id=key_id,
            principal_id=principal_id,
            key_hash=key_hash,
            created_at=api_key_timestamp(),
        )
    )
    # Other gateway processes reload their directory when this commits.
    await notify_policy_change(conn, "keys")
    return IssuedApiKey(key_id=key_id, principal_id=principal_id, key=key)
