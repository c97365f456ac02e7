"""API keys and the principals they authenticate.

Keys are 256-bit random strings shown once; only their SHA-256 is stored. The
directory of principals is loaded into memory with the policy version, so
authentication on the request path is one hash and one dict lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.schema import api_keys, principals

API_KEY_PREFIX = "wg_"


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    roles: frozenset[str]
    purposes: frozenset[str]


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

    def authenticate(self, presented: str) -> Principal | None:
        if not presented.startswith(API_KEY_PREFIX) or len(presented) > 128:
            return None
        return self._by_key_hash.get(hash_api_key(presented))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


async def load_directory(conn: AsyncConnection) -> PrincipalDirectory:
    query = (
        select(api_keys.c.key_hash, principals.c.id, principals.c.roles, principals.c.purposes)
        .join(principals, principals.c.id == api_keys.c.principal_id)
        .where(api_keys.c.revoked_at.is_(None))
    )
    rows = (await conn.execute(query)).all()
    return PrincipalDirectory(
        {
            row.key_hash: Principal(
                id=row.id, roles=frozenset(row.roles), purposes=frozenset(row.purposes)
            )
            for row in rows
        }
    )


async def create_principal(
    conn: AsyncConnection,
    principal_id: str,
    roles: Iterable[str],
    purposes: Iterable[str],
    description: str = "",
) -> None:
    await conn.execute(
        insert(principals).values(
            id=principal_id,
            description=description,
            roles=sorted(roles),
            purposes=sorted(purposes),
            created_at=_now(),
        )
    )


async def issue_api_key(conn: AsyncConnection, principal_id: str) -> str:
    """Store a new key's hash and return the key itself: the only time it is seen."""
    key = new_api_key()
    key_hash = hash_api_key(key)
    await conn.execute(
        insert(api_keys).values(
            key_id=key_hash[:16],
            principal_id=principal_id,
            key_hash=key_hash,
            created_at=_now(),
        )
    )
    return key
