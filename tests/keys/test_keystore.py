"""The key store (keys/keystore.py) on a real, migrated SQLite key store."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.db.migrate import Schema, upgrade_to_head
from keys import (
    AES256GCM,
    MASTER_KEY_ENV,
    SM4GCM,
    CipherSuite,
    DataKey,
    DataKeyMissingError,
    KeyStore,
    LocalKeyProvider,
    MasterKeyError,
    SystemKeys,
    kek_versions_in_use,
)
from keys.keystore import SYSTEM_KEY_NAMES
from keys.schema import data_keys, system_keys

SUITES = [pytest.param(AES256GCM, id="aes256gcm"), pytest.param(SM4GCM, id="sm4gcm")]
OWNERS = [f"cust-{n:04d}" for n in range(12)]


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    await upgrade_to_head(engine, Schema.KEYSTORE)
    yield engine
    await engine.dispose()


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyProvider:
    provider = LocalKeyProvider(tmp_path / "data", environ={})
    provider.create()
    return provider


@pytest.fixture
async def store(engine: AsyncEngine, provider: LocalKeyProvider, suite: CipherSuite) -> KeyStore:
    store = KeyStore(engine, provider, provider.load())
    await store.ensure_system_keys(suite)
    await store.load_system_keys()
    return store


async def fresh(engine: AsyncEngine, provider: LocalKeyProvider) -> KeyStore:
    """Another process's view: the same key store and provider, an empty cache."""
    store = KeyStore(engine, provider, provider.load())
    await store.load_system_keys()
    return store


class Statements:
    """The SQL statements an engine runs while recording."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, *args: Any) -> None:
        self.seen.append(str(args[2]))

    def __enter__(self) -> Statements:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._record)


async def system_rows(engine: AsyncEngine) -> dict[str, tuple[str, int, str]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(system_keys))).all()
    return {row.name: (row.suite, row.kek_version, row.wrapped) for row in rows}


async def data_key_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(data_keys))).scalar_one())


def material_of(keys: dict[tuple[str, int], DataKey]) -> dict[tuple[str, int], bytes]:
    return {pair: key.material for pair, key in keys.items()}


# --- system keys ----------------------------------------------------------------------


async def test_given_new_key_store_then_ensure_system_keys_creates_every_wrapped_key(
    store: KeyStore, engine: AsyncEngine, suite: CipherSuite
) -> None:
    rows = await system_rows(engine)

    assert set(rows) == set(SYSTEM_KEY_NAMES)
    assert {(s, v) for s, v, _ in rows.values()} == {(suite.name, 1)}
    loaded = await store.load_system_keys()
    assert loaded.suite is suite
    secrets = [loaded.blind_index, loaded.pseudonym, loaded.cursor, loaded.audit_signing]
    assert all(len(secret) == 32 for secret in secrets)
    assert len(set(secrets)) == len(SYSTEM_KEY_NAMES)
    for _, _, wrapped in rows.values():
        assert all(secret not in base64.b64decode(wrapped) for secret in secrets)


async def test_given_system_keys_then_ensure_system_keys_again_changes_nothing(
    store: KeyStore, engine: AsyncEngine, suite: CipherSuite
) -> None:
    before_rows = await system_rows(engine)
    before = await store.load_system_keys()
    other_suite = SM4GCM if suite is AES256GCM else AES256GCM

    await store.ensure_system_keys(suite)
    await store.ensure_system_keys(other_suite)

    assert await system_rows(engine) == before_rows
    assert await store.load_system_keys() == before


async def test_given_a_second_process_then_it_loads_the_same_system_keys(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    other = KeyStore(engine, provider, provider.load())

    assert await other.load_system_keys() == await store.load_system_keys()
    assert other.suite is store.suite


async def test_given_wrong_master_key_ring_then_load_system_keys_says_the_master_key_is_wrong(
    store: KeyStore, engine: AsyncEngine, tmp_path: Path
) -> None:
    wrong_provider = LocalKeyProvider(tmp_path / "elsewhere", environ={})
    wrong_ring = wrong_provider.create()
    impostor = KeyStore(engine, wrong_provider, wrong_ring)

    with pytest.raises(MasterKeyError, match="master key") as caught:
        await impostor.load_system_keys()

    message = str(caught.value)
    assert "does not open" in message
    assert wrong_ring.active.material.hex() not in message
    assert store.keyring.active.material.hex() not in message
    assert caught.value.__cause__ is None
    assert impostor.suite is None


async def test_given_no_system_keys_then_load_system_keys_asks_for_init(
    engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    store = KeyStore(engine, provider, provider.load())

    with pytest.raises(MasterKeyError, match="wardgate init"):
        await store.load_system_keys()


async def test_given_suite_not_loaded_then_creating_data_keys_is_refused(
    engine: AsyncEngine, provider: LocalKeyProvider, suite: CipherSuite
) -> None:
    store = KeyStore(engine, provider, provider.load())
    await store.ensure_system_keys(suite)

    with pytest.raises(MasterKeyError, match="load_system_keys"):
        await store.create_data_keys(["cust-0001"])

    assert await data_key_count(engine) == 0


# --- data keys ---------------------------------------------------------------------------


async def test_given_owners_then_create_data_keys_makes_one_version_1_key_each(
    store: KeyStore, engine: AsyncEngine, suite: CipherSuite
) -> None:
    created = await store.create_data_keys(OWNERS)

    assert set(created) == set(OWNERS)
    assert all(key.version == 1 and key.suite is suite for key in created.values())
    assert all(len(key.material) == suite.key_bytes for key in created.values())
    assert len({key.material for key in created.values()}) == len(OWNERS)
    assert await data_key_count(engine) == len(OWNERS)
    assert await store.create_data_keys([]) == {}


async def test_given_many_pairs_then_keys_for_reads_them_in_one_query_and_skips_missing(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(OWNERS)
    cold = await fresh(engine, provider)
    wanted = [(owner, 1) for owner in OWNERS] + [("cust-unknown", 1), (OWNERS[0], 2)]

    with Statements(engine) as first:
        found = await cold.keys_for(wanted)
    with Statements(engine) as second:
        again = await cold.keys_for(found)

    assert material_of(found) == {(o, 1): k.material for o, k in created.items()}
    assert len(first.seen) == 1
    assert "data_keys" in first.seen[0]
    # The keys just read are cached: asking for them again touches the key store not at all.
    assert material_of(again) == material_of(found)
    assert second.seen == []


async def test_given_cached_keys_then_keys_for_runs_no_query(
    store: KeyStore, engine: AsyncEngine
) -> None:
    await store.create_data_keys(OWNERS)

    with Statements(engine) as recorded:
        found = await store.keys_for([(owner, 1) for owner in OWNERS])

    assert len(found) == len(OWNERS)
    assert recorded.seen == []


async def test_given_a_wrapped_key_copied_onto_another_owner_then_keys_for_leaves_it_out(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(OWNERS[:3])
    async with engine.begin() as conn:
        stolen = (
            await conn.execute(select(data_keys.c.wrapped).where(data_keys.c.owner_id == OWNERS[0]))
        ).scalar_one()
        await conn.execute(
            update(data_keys).where(data_keys.c.owner_id == OWNERS[1]).values(wrapped=stolen)
        )

    found = await (await fresh(engine, provider)).keys_for([(o, 1) for o in OWNERS[:3]])

    assert material_of(found) == {(o, 1): created[o].material for o in (OWNERS[0], OWNERS[2])}


async def test_given_owners_then_current_keys_returns_each_owners_key_and_skips_unknown(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(OWNERS[:3])

    current = await (await fresh(engine, provider)).current_keys([*OWNERS[:3], "cust-unknown"])

    assert {owner: key.material for owner, key in current.items()} == {
        owner: key.material for owner, key in created.items()
    }
    assert await store.current_keys([]) == {}


async def test_given_owner_then_current_key_returns_it_and_a_missing_one_raises(
    store: KeyStore,
) -> None:
    created = await store.create_data_keys(["cust-0001"])

    assert (await store.current_key("cust-0001")).material == created["cust-0001"].material
    with pytest.raises(DataKeyMissingError):
        await store.current_key("cust-unknown")


async def test_given_add_versions_then_new_keys_are_current_and_old_ones_still_open(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(OWNERS[:2])

    added = await store.add_versions(created.values())

    assert {owner: key.version for owner, key in added.items()} == {o: 2 for o in OWNERS[:2]}
    assert all(added[o].material != created[o].material for o in OWNERS[:2])
    cold = await fresh(engine, provider)
    current = await cold.current_keys(OWNERS[:2])
    assert {o: k.material for o, k in current.items()} == {o: added[o].material for o in added}
    old = await cold.keys_for([(o, 1) for o in OWNERS[:2]])
    assert {o: k.material for (o, _), k in old.items()} == {o: created[o].material for o in created}
    assert await store.add_versions([]) == {}


async def test_given_retired_old_version_then_current_is_the_new_one_and_the_old_still_opens(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(["cust-0001"])
    added = await store.add_versions(created.values())

    await store.retire([("cust-0001", 1)])

    cold = await fresh(engine, provider)
    assert (await cold.current_key("cust-0001")).version == 2
    assert (await cold.current_key("cust-0001")).material == added["cust-0001"].material
    old = await cold.keys_for([("cust-0001", 1)])
    assert old[("cust-0001", 1)].material == created["cust-0001"].material


async def test_given_newest_version_retired_then_current_falls_back_to_the_older_one(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(["cust-0001"])
    await store.add_versions(created.values())

    await store.retire([("cust-0001", 2)])

    current = await (await fresh(engine, provider)).current_key("cust-0001")
    assert (current.version, current.material) == (1, created["cust-0001"].material)


async def test_given_every_version_retired_then_current_key_raises(store: KeyStore) -> None:
    await store.create_data_keys(["cust-0001"])

    await store.retire([("cust-0001", 1)])

    with pytest.raises(DataKeyMissingError):
        await store.current_key("cust-0001")


async def test_given_retired_keys_then_purge_removes_only_those_older_than_the_age(
    store: KeyStore, engine: AsyncEngine
) -> None:
    created = await store.create_data_keys(OWNERS[:3])
    await store.retire([(OWNERS[0], 1), (OWNERS[1], 1)])
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(timespec="microseconds")
    async with engine.begin() as conn:
        await conn.execute(
            update(data_keys).where(data_keys.c.owner_id == OWNERS[0]).values(retired_at=long_ago)
        )

    assert await store.retired_keys(dt.timedelta(days=3)) == []
    doomed = await store.retired_keys(dt.timedelta(days=1))
    purged = await store.delete_keys(doomed)

    assert doomed == [(OWNERS[0], 1)]
    assert purged == 1
    # The purged key leaves this process's cache too; the young retired one stays.
    found = await store.keys_for([(owner, 1) for owner in OWNERS[:3]])
    assert set(found) == {(OWNERS[1], 1), (OWNERS[2], 1)}
    assert found[(OWNERS[1], 1)].material == created[OWNERS[1]].material
    assert await data_key_count(engine) == 2


async def test_given_owner_then_destroy_removes_every_version_and_evicts_the_cache(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    created = await store.create_data_keys(OWNERS[:2])
    await store.add_versions([created[OWNERS[0]]])
    await store.keys_for([(OWNERS[0], 1), (OWNERS[0], 2)])

    destroyed = await store.destroy(OWNERS[0])

    assert destroyed == 2
    assert await store.keys_for([(OWNERS[0], 1), (OWNERS[0], 2)]) == {}
    assert await (await fresh(engine, provider)).keys_for([(OWNERS[0], 1)]) == {}
    with pytest.raises(DataKeyMissingError):
        await store.current_key(OWNERS[0])
    assert (await store.current_key(OWNERS[1])).material == created[OWNERS[1]].material
    assert await store.destroy(OWNERS[0]) == 0


# --- KEK rotation ----------------------------------------------------------------------


async def populate(store: KeyStore) -> dict[tuple[str, int], bytes]:
    """Twelve owners, two of them with a second version, one retired key."""
    created = await store.create_data_keys(OWNERS)
    added = await store.add_versions([created[OWNERS[0]], created[OWNERS[1]]])
    await store.retire([(OWNERS[0], 1)])
    keys = {(owner, 1): key.material for owner, key in created.items()}
    keys.update({(owner, 2): key.material for owner, key in added.items()})
    return keys


async def test_given_rotated_ring_then_rewrap_all_moves_every_key_to_the_new_kek(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    keys = await populate(store)
    system_before = await store.load_system_keys()
    rotated = provider.load().with_new_version()
    provider.save(rotated)
    progress: list[int] = []

    count = await store.rewrap_all(rotated, batch=5, progress=progress.append)

    assert count == len(keys) == 14
    assert sum(progress) == count
    assert progress == [5, 5, 4]
    status = await store.status()
    assert status.data_keys_by_kek_version == {2: 14}
    assert status.system_keys_by_kek_version == {2: len(SYSTEM_KEY_NAMES)}
    assert kek_versions_in_use(status) == {2}
    assert await store.rewrap_all(rotated) == 0
    # The same keys, only wrapped anew: a cold reader unwraps the same material.
    cold = await fresh(engine, provider)
    assert await cold.load_system_keys() == system_before
    assert material_of(await cold.keys_for(keys)) == keys


async def test_given_rewrapped_store_then_a_ring_without_the_old_version_opens_everything(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider, tmp_path: Path
) -> None:
    keys = await populate(store)
    system_before = await store.load_system_keys()
    rotated = provider.load().with_new_version()
    provider.save(rotated)
    await store.rewrap_all(rotated)

    trimmed = rotated.without_version(1)
    only_new = LocalKeyProvider(tmp_path / "unused", environ={MASTER_KEY_ENV: trimmed.to_json()})
    reader = KeyStore(engine, only_new, only_new.load())

    assert await reader.load_system_keys() == system_before
    assert material_of(await reader.keys_for(keys)) == keys
    assert {o: k.material for o, k in (await reader.current_keys(OWNERS)).items()} == {
        o: keys[(o, 2)] if (o, 2) in keys else keys[(o, 1)] for o in OWNERS
    }


async def test_given_rewrapped_store_then_the_old_kek_alone_opens_nothing(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider, tmp_path: Path
) -> None:
    keys = await populate(store)
    old_ring = provider.load()
    rotated = old_ring.with_new_version()
    provider.save(rotated)
    await store.rewrap_all(rotated)

    only_old = LocalKeyProvider(tmp_path / "unused", environ={MASTER_KEY_ENV: old_ring.to_json()})
    reader = KeyStore(engine, only_old, old_ring)

    with pytest.raises(MasterKeyError, match="master key version 2"):
        await reader.load_system_keys()
    with pytest.raises(MasterKeyError, match="master key version 2"):
        await reader.keys_for(list(keys)[:1])


async def test_given_stale_ring_in_memory_then_the_store_reloads_the_rotated_ring_itself(
    store: KeyStore, engine: AsyncEngine, provider: LocalKeyProvider
) -> None:
    keys = await populate(store)
    stale = await fresh(engine, provider)  # holds the version-1 ring, cache empty
    rotated = provider.load().with_new_version()
    provider.save(rotated.without_version(1))
    await store.rewrap_all(rotated)
    assert stale.keyring.versions == (1,)

    found = await stale.keys_for(keys)

    assert material_of(found) == keys
    assert stale.keyring.versions == (2,)
    assert stale.keyring.active_version == 2
    # New keys from the refreshed store are wrapped under the new KEK.
    await stale.create_data_keys(["cust-new"])
    assert (await stale.status()).data_keys_by_kek_version == {2: len(keys) + 1}


async def test_given_store_then_status_counts_keys_by_kek_version_and_key_version(
    store: KeyStore, suite: CipherSuite
) -> None:
    empty = await store.status()
    assert empty.data_keys_by_kek_version == {}
    assert empty.data_keys_by_version == {}
    assert empty.retired_data_keys == 0
    assert empty.system_keys_by_kek_version == {1: len(SYSTEM_KEY_NAMES)}

    await populate(store)

    status = await store.status()
    assert status.data_keys_by_kek_version == {1: 14}
    assert status.data_keys_by_version == {1: 11, 2: 2}
    assert status.retired_data_keys == 1
    assert status.system_keys_by_kek_version == {1: len(SYSTEM_KEY_NAMES)}
    assert status.suite == suite.name
    assert kek_versions_in_use(status) == {1}


# --- nothing prints key material ---------------------------------------------------------


async def test_given_loaded_store_then_its_repr_and_the_system_keys_repr_hold_no_key(
    store: KeyStore,
) -> None:
    created = await store.create_data_keys(OWNERS[:2])
    loaded: SystemKeys = await store.load_system_keys()
    secrets = [
        store.keyring.active.material,
        loaded.blind_index,
        loaded.pseudonym,
        loaded.cursor,
        *(key.material for key in created.values()),
    ]

    for text in (repr(store), str(store), repr(loaded), str(loaded)):
        for secret in secrets:
            assert secret.hex() not in text
            assert secret.hex().upper() not in text
            assert base64.b64encode(secret).decode().rstrip("=") not in text
            assert base64.urlsafe_b64encode(secret).decode().rstrip("=") not in text
            assert repr(secret) not in text
