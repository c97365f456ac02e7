"""Key operations on a live store: status, data-key rotation, purge of retired keys.

All of them run while the gateway serves. Rotation adds each customer's new key, then
re-encrypts that customer's fields (customers, interactions, orders) in one
transaction per batch, then retires the old key; reads in flight still find the old
key until it is purged. Purging first re-encrypts any field that still names a retired
key (a write racing the rotation may have used it), so an old version disappears only
when nothing uses it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db.engine import Database
from gateway.db.schema import store_tables
from gateway.encryption.protection import Protector
from keys import CiphertextIntegrityError, DataKey, token_key_version

Progress = Callable[[int], None]
_ENTITIES = ("customers", "interactions", "orders")


@dataclass(frozen=True, slots=True)
class RotationReport:
    target_version: int
    customers_rotated: int
    fields_reencrypted: int
    undecryptable_fields: int
    seconds: float


def _owner_column(table: Table) -> str:
    return "id" if table.name == "customers" else "customer_id"


def _encrypted_columns(protector: Protector, entity: str) -> tuple[str, ...]:
    return tuple(s.name for s in protector.catalog.entity(entity).fields if s.encrypted)


async def ciphertexts_by_version(db: Database, protector: Protector) -> Counter[int]:
    """How many stored values each data-key version encrypted (scans every row)."""
    counts: Counter[int] = Counter()
    isolation = "SERIALIZABLE" if db.is_sqlite else "READ COMMITTED"
    async with db.reader.connect() as reader:
        # A transaction (the reader autocommits): PostgreSQL streams through a
        # server-side cursor, which needs one.
        conn = await reader.execution_options(isolation_level=isolation)
        async with conn.begin():
            for entity in _ENTITIES:
                table = store_tables()[entity]
                columns = _encrypted_columns(protector, entity)
                result = await conn.stream(select(*(table.c[c] for c in columns)))
                async for row in result:
                    for token in row:
                        if isinstance(token, str):
                            try:
                                counts[token_key_version(token)] += 1
                            except CiphertextIntegrityError:
                                counts[-1] += 1
    return counts


async def _reencrypt(
    conn: AsyncConnection, protector: Protector, keys: dict[str, DataKey]
) -> tuple[int, int]:
    """Re-encrypt every field of these owners not already under their given key."""
    changed = failed = 0
    owners = sorted(keys)
    for entity in _ENTITIES:
        table = store_tables()[entity]
        columns = _encrypted_columns(protector, entity)
        owner_column = _owner_column(table)
        query = select(
            table.c.id, table.c[owner_column].label("owner"), *(table.c[c] for c in columns)
        )
        query = query.where(table.c[owner_column].in_(owners))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = (await conn.execute(query)).all()
        stale = [
            row
            for row in rows
            if any(
                isinstance(row._mapping[c], str)
                and _version(row._mapping[c]) != keys[row.owner].version
                for c in columns
            )
        ]
        if not stale:
            continue
        revealed = await protector.reveal(
            entity, [dict(r._mapping) | {"customer_id": r.owner} for r in stale], columns
        )
        updates = []
        for plain, original in zip(revealed.rows, stale, strict=True):
            present = {c: plain[c] for c in columns if c in plain and plain[c] is not None}
            failed += sum(
                1 for c in columns if isinstance(original._mapping[c], str) and c not in plain
            )
            sealed = protector.protect(entity, present, str(original.id), keys[original.owner])
            values = {c: sealed[c] for c in present}
            changed += len(values)
            if values:
                updates.append({"_id": original.id, **{f"_{c}": v for c, v in values.items()}})
        # One statement shape per column set; rows of an entity mostly share it.
        by_shape: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for item in updates:
            shape = tuple(sorted(k[1:] for k in item if k != "_id"))
            by_shape.setdefault(shape, []).append(item)
        for shape, items in by_shape.items():
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(f"_{c}") for c in shape})
            )
            await conn.execute(statement, items)
    return changed, failed


def _version(token: str) -> int:
    try:
        return token_key_version(token)
    except CiphertextIntegrityError:
        return -1


async def _live_customer_batches(db: Database, batch: int) -> list[list[str]]:
    table = store_tables()["customers"]
    async with db.reader.connect() as conn:
        ids = list(
            (
                await conn.execute(
                    select(table.c.id).where(table.c.erased_at.is_(None)).order_by(table.c.id)
                )
            ).scalars()
        )
    return [ids[i : i + batch] for i in range(0, len(ids), batch)]


async def rotation_target(protector: Protector) -> int:
    """The version to rotate to. Mixed versions mean an interrupted run: finish it."""
    status = await protector.keystore.status()
    versions = sorted(status.data_keys_by_version)
    if not versions:
        return 1
    return versions[-1] if len(versions) > 1 else versions[-1] + 1


async def rotate_data_keys(
    db: Database, protector: Protector, *, batch: int = 200, progress: Progress = lambda _: None
) -> RotationReport:
    started = dt.datetime.now(dt.UTC)
    target = await rotation_target(protector)
    keystore = protector.keystore
    rotated = changed = failed = 0
    for owners in await _live_customer_batches(db, batch):
        current = await keystore.current_keys(owners)
        todo = [key for key in current.values() if key.version < target]
        if todo:
            new_keys = await keystore.add_versions(todo, version=target)
            async with db.writer.begin() as conn:
                done, bad = await _reencrypt(conn, protector, new_keys)
            await keystore.retire((key.owner_id, key.version) for key in todo)
            rotated += len(todo)
            changed += done
            failed += bad
        progress(len(owners))
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return RotationReport(target, rotated, changed, failed, seconds)


async def purge_retired_keys(
    db: Database, protector: Protector, *, grace: dt.timedelta, batch: int = 200
) -> tuple[int, int]:
    """Heal fields still under retired keys, then delete those keys. (purged, healed)"""
    keystore = protector.keystore
    retired = await keystore.retired_keys(grace)
    purged = healed = 0
    owners = sorted({owner for owner, _ in retired})
    for start in range(0, len(owners), batch):
        chunk = owners[start : start + batch]
        current = await keystore.current_keys(chunk)
        async with db.writer.begin() as conn:
            done, _ = await _reencrypt(conn, protector, current)
        healed += done
        purged += await keystore.delete_keys(pair for pair in retired if pair[0] in current)
    return purged, healed
