"""The key store: data keys per customer and the system keys, all wrapped by the KEK.

Reads of a page fetch the keys they miss in one query; unwrapped keys are cached in
memory (bounded) so steady-state reads touch the key store not at all. Destroying a
customer's keys evicts them from this process's cache; other processes refuse erased
customers through the customer store's `erased_at` mark.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from keys.data_keys import DataKey, new_data_key, unwrap, wrap
from keys.errors import CiphertextIntegrityError, DataKeyMissingError, MasterKeyError
from keys.keyring import KeyProvider, Keyring
from keys.schema import data_keys, system_keys
from keys.suites import CipherSuite, suite_named

SYSTEM_KEY_NAMES = ("blind_index", "pseudonym", "cursor", "audit_signing")
_SYSTEM_KEY_BYTES = 32
_CACHE_LIMIT = 100_000


def _pairs(rows: Sequence[Any]) -> dict[int, int]:
    return {int(row[0]): int(row[1]) for row in rows}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class SystemKeys:
    suite: CipherSuite
    blind_index: bytes = field(repr=False)
    pseudonym: bytes = field(repr=False)
    cursor: bytes = field(repr=False)
    audit_signing: bytes = field(repr=False)  # Ed25519 seed of the checkpoint signer


@dataclass(frozen=True, slots=True)
class KeyStatus:
    data_keys_by_kek_version: Mapping[int, int]
    data_keys_by_version: Mapping[int, int]
    retired_data_keys: int
    system_keys_by_kek_version: Mapping[int, int]
    suite: str


class KeyStore:
    def __init__(self, engine: AsyncEngine, provider: KeyProvider, keyring: Keyring) -> None:
        self._engine = engine
        self._provider = provider
        self._keyring = keyring
        self._cache: dict[tuple[str, int], DataKey] = {}
        self.suite: CipherSuite | None = None

    def __repr__(self) -> str:
        return f"KeyStore(keyring={self._keyring!r}, cached={len(self._cache)})"

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def _unwrap(self, wrapped: str, owner: str, version: int) -> DataKey:
        try:
            return unwrap(wrapped, owner, version, self._keyring)
        except MasterKeyError:
            # Another process may have rotated the KEK: take the ring afresh, once.
            self._keyring = self._provider.load()
            return unwrap(wrapped, owner, version, self._keyring)

    # --- system keys ---------------------------------------------------------------
    async def ensure_system_keys(self, suite: CipherSuite) -> None:
        """Create the system keys this key store lacks (first `wardgate init`, or an
        upgrade that introduced a new one), in the suite the store already uses."""
        async with self._engine.begin() as conn:
            rows = (await conn.execute(select(system_keys.c.name, system_keys.c.suite))).all()
            existing = {row.name for row in rows}
            if rows:
                suite = suite_named(rows[0].suite)
            for name in SYSTEM_KEY_NAMES:
                if name in existing:
                    continue
                key = DataKey(f"system:{name}", 0, suite, os.urandom(_SYSTEM_KEY_BYTES))
                await conn.execute(
                    insert(system_keys).values(
                        name=name,
                        suite=suite.name,
                        kek_version=self._keyring.active_version,
                        wrapped=wrap(key, self._keyring.active),
                        created_at=_now(),
                    )
                )

    async def load_system_keys(self) -> SystemKeys:
        """Unwrap the system keys; this is also the check that the master key is right."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(system_keys))).all()
        by_name = {row.name: row for row in rows}
        missing = [name for name in SYSTEM_KEY_NAMES if name not in by_name]
        if missing:
            msg = "the key store has no system keys (run `wardgate init`)"
            raise MasterKeyError(msg)
        try:
            opened = {
                name: self._unwrap(by_name[name].wrapped, f"system:{name}", 0).material
                for name in SYSTEM_KEY_NAMES
            }
        except CiphertextIntegrityError:
            msg = "the master key does not open this store's keys (wrong or replaced key file?)"
            raise MasterKeyError(msg) from None
        self.suite = suite_named(by_name["blind_index"].suite)
        return SystemKeys(suite=self.suite, **opened)

    # --- data keys -----------------------------------------------------------------
    def _require_suite(self) -> CipherSuite:
        if self.suite is None:
            msg = "load_system_keys() first: the deployment's suite is not known yet"
            raise MasterKeyError(msg)
        return self.suite

    async def create_data_keys(self, owners: Iterable[str]) -> dict[str, DataKey]:
        suite = self._require_suite()
        keys = {owner: new_data_key(owner, 1, suite) for owner in owners}
        if not keys:
            return keys
        rows = [self._row(key) for key in keys.values()]
        async with self._engine.begin() as conn:
            await conn.execute(insert(data_keys), rows)
        for key in keys.values():
            self._remember(key)
        return keys

    def _row(self, key: DataKey) -> dict[str, object]:
        return {
            "owner_id": key.owner_id,
            "version": key.version,
            "suite": key.suite.name,
            "kek_version": self._keyring.active_version,
            "wrapped": wrap(key, self._keyring.active),
            "created_at": _now(),
            "retired_at": None,
        }

    def _remember(self, key: DataKey) -> None:
        if len(self._cache) >= _CACHE_LIMIT:
            # Evict the oldest tenth at once: cheaper than LRU bookkeeping per read.
            for stale in list(self._cache)[: _CACHE_LIMIT // 10]:
                del self._cache[stale]
        self._cache[(key.owner_id, key.version)] = key

    async def _read_all(self, query: Select[Any]) -> Sequence[Row[Any]]:
        """The rows of a read; run once more on a new connection if the first one was
        lost under it (a terminated PostgreSQL backend): a read changes nothing, and the
        pool has already dropped the dead connection. Only once: a key store that stays
        away is reported as it is."""
        rows: Sequence[Row[Any]]
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        else:
            return rows
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return rows

    async def keys_for(self, wanted: Iterable[tuple[str, int]]) -> dict[tuple[str, int], DataKey]:
        """The data keys for (owner, version) pairs; absent ones are simply not returned."""
        wanted = set(wanted)
        found = {pair: self._cache[pair] for pair in wanted if pair in self._cache}
        missing = wanted - found.keys()
        if missing:
            query = select(data_keys.c.owner_id, data_keys.c.version, data_keys.c.wrapped).where(
                tuple_(data_keys.c.owner_id, data_keys.c.version).in_(sorted(missing))
            )
            rows = await self._read_all(query)
            for row in rows:
                try:
                    key = self._unwrap(row.wrapped, row.owner_id, row.version)
                except CiphertextIntegrityError:
                    continue  # reported by the caller as an undecryptable field
                self._remember(key)
                found[(row.owner_id, row.version)] = key
        return found

    async def current_keys(self, owners: Iterable[str]) -> dict[str, DataKey]:
        """Each owner's newest unretired data key."""
        owners = sorted(set(owners))
        if not owners:
            return {}
        newest = (
            select(data_keys.c.owner_id, func.max(data_keys.c.version).label("version"))
            .where(data_keys.c.owner_id.in_(owners), data_keys.c.retired_at.is_(None))
            .group_by(data_keys.c.owner_id)
        )
        pairs = [(row.owner_id, int(row.version)) for row in await self._read_all(newest)]
        keys = await self.keys_for(pairs)
        return {owner: key for (owner, _), key in keys.items()}

    async def current_key(self, owner: str) -> DataKey:
        keys = await self.current_keys([owner])
        if owner not in keys:
            msg = "this record has no data key (erased?)"
            raise DataKeyMissingError(msg)
        return keys[owner]

    async def add_versions(
        self, current: Iterable[DataKey], version: int | None = None
    ) -> dict[str, DataKey]:
        """A newer data key for each owner (DEK rotation: `version`, else the next one);
        the old ones stay usable until retired and purged."""
        suite = self._require_suite()
        keys = {
            k.owner_id: new_data_key(k.owner_id, version or k.version + 1, suite) for k in current
        }
        if keys:
            async with self._engine.begin() as conn:
                await conn.execute(insert(data_keys), [self._row(k) for k in keys.values()])
            for key in keys.values():
                self._remember(key)
        return keys

    async def retire(self, pairs: Iterable[tuple[str, int]]) -> None:
        pairs = sorted(set(pairs))
        if not pairs:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                update(data_keys)
                .where(tuple_(data_keys.c.owner_id, data_keys.c.version).in_(pairs))
                .values(retired_at=_now())
            )

    async def retired_keys(self, older_than: dt.timedelta) -> list[tuple[str, int]]:
        """Retired (owner, version) pairs older than the grace period."""
        cutoff = (dt.datetime.now(dt.UTC) - older_than).isoformat(timespec="microseconds")
        query = select(data_keys.c.owner_id, data_keys.c.version).where(
            data_keys.c.retired_at.is_not(None), data_keys.c.retired_at < cutoff
        )
        async with self._engine.connect() as conn:
            return [(row.owner_id, int(row.version)) for row in (await conn.execute(query)).all()]

    async def retired_in_grace(self, grace: dt.timedelta) -> tuple[int, dt.datetime | None]:
        """Retired keys still inside the grace period: how many, and when the first of
        them leaves it (None when there are none)."""
        cutoff = (dt.datetime.now(dt.UTC) - grace).isoformat(timespec="microseconds")
        query = select(func.count(), func.min(data_keys.c.retired_at)).where(
            data_keys.c.retired_at.is_not(None), data_keys.c.retired_at >= cutoff
        )
        async with self._engine.connect() as conn:
            count, first = (await conn.execute(query)).one()
        if not count or first is None:
            return 0, None
        return int(count), dt.datetime.fromisoformat(first) + grace

    async def delete_keys(self, pairs: Iterable[tuple[str, int]]) -> int:
        pairs = sorted(set(pairs))
        if not pairs:
            return 0
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(data_keys).where(
                    tuple_(data_keys.c.owner_id, data_keys.c.version).in_(pairs)
                )
            )
        for pair in pairs:
            self._cache.pop(pair, None)
        return len(pairs)

    async def destroy(self, owner: str) -> int:
        """Crypto-shredding: every version of the owner's key, gone."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(data_keys).where(data_keys.c.owner_id == owner))
        for pair in [pair for pair in self._cache if pair[0] == owner]:
            del self._cache[pair]
        return int(result.rowcount or 0)

    # --- KEK rotation ----------------------------------------------------------------
    async def rewrap_all(
        self,
        keyring: Keyring,
        *,
        batch: int = 1000,
        progress: Callable[[int], None] = lambda _: None,
    ) -> int:
        """Re-wrap every key not yet under the ring's active KEK; resumable, data untouched."""
        self._keyring = keyring
        active = keyring.active_version
        done = 0
        async with self._engine.begin() as conn:
            for row in (await conn.execute(select(system_keys))).all():
                if row.kek_version == active:
                    continue
                key = self._unwrap(row.wrapped, f"system:{row.name}", 0)
                await conn.execute(
                    update(system_keys)
                    .where(system_keys.c.name == row.name)
                    .values(wrapped=wrap(key, keyring.active), kek_version=active)
                )
        while True:
            async with self._engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(data_keys.c.owner_id, data_keys.c.version, data_keys.c.wrapped)
                        .where(data_keys.c.kek_version != active)
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    return done
                for row in rows:
                    key = self._unwrap(row.wrapped, row.owner_id, row.version)
                    await conn.execute(
                        update(data_keys)
                        .where(
                            and_(
                                data_keys.c.owner_id == row.owner_id,
                                data_keys.c.version == row.version,
                            )
                        )
                        .values(wrapped=wrap(key, keyring.active), kek_version=active)
                    )
            done += len(rows)
            progress(len(rows))

    async def status(self) -> KeyStatus:
        async with self._engine.connect() as conn:
            by_kek: dict[int, int] = _pairs(
                (
                    await conn.execute(
                        select(data_keys.c.kek_version, func.count()).group_by(
                            data_keys.c.kek_version
                        )
                    )
                ).all()
            )
            by_version: dict[int, int] = _pairs(
                (
                    await conn.execute(
                        select(data_keys.c.version, func.count())
                        .where(data_keys.c.retired_at.is_(None))
                        .group_by(data_keys.c.version)
                    )
                ).all()
            )
            retired = (
                await conn.execute(select(func.count()).where(data_keys.c.retired_at.is_not(None)))
            ).scalar_one()
            system: dict[int, int] = _pairs(
                (
                    await conn.execute(
                        select(system_keys.c.kek_version, func.count()).group_by(
                            system_keys.c.kek_version
                        )
                    )
                ).all()
            )
            suite = (await conn.execute(select(system_keys.c.suite).limit(1))).scalar()
        return KeyStatus(
            data_keys_by_kek_version=by_kek,
            data_keys_by_version=by_version,
            retired_data_keys=int(retired),
            system_keys_by_kek_version=system,
            suite=str(suite),
        )


def kek_versions_in_use(status: KeyStatus) -> set[int]:
    return set(status.data_keys_by_kek_version) | set(status.system_keys_by_kek_version)
