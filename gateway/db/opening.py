"""Opening an existing store and its key store: the checks every command and the server
make before touching data (schemas at the current migration, a writable data directory,
the master key that opens the key store).

Apart from `gateway.state`, so that a command needing only these does not import what
the server builds at start-up (the PII detector, the plan compiler, jieba).
"""

from __future__ import annotations

import os

from gateway.db.engine import Database
from gateway.db.revisions import HEADS, Schema, stored_revision
from gateway.encryption.protection import Protector
from gateway.settings import Settings
from keys import BlindIndexer, FieldCipher, KeyProvider, KeyStore, LocalKeyProvider, SystemKeys
from policies.catalog import Catalog, default_catalog

__all__ = [
    "StoreNotReadyError",
    "check_schemas",
    "open_keystore",
    "open_protector",
    "protector_for",
    "require_writable_data_dir",
    "where_store",
]


class StoreNotReadyError(Exception):
    """The store is missing or its schema is not at the current migration."""


async def check_schemas(db: Database) -> None:
    """Refuse a store or key store whose schema is not at this build's head.

    A read of the version tables against the heads recorded in the build: no alembic
    on the start-up path (see `gateway.db.revisions`)."""
    for schema, engine, what in (
        (Schema.STORE, db.reader, "store"),
        (Schema.KEYSTORE, db.keys, "key store"),
    ):
        current = await stored_revision(engine, schema)
        head = HEADS[schema]
        if current != head:
            msg = (
                f"{what} schema is at {current or 'nothing'}, expected {head}: "
                "run `wardgate init` (new store) or `wardgate db upgrade`"
            )
            raise StoreNotReadyError(msg)


async def open_keystore(
    settings: Settings, db: Database, provider: KeyProvider | None = None
) -> tuple[KeyStore, SystemKeys]:
    """The key store with its system keys open: proof that the master key is the right one."""
    provider = provider or LocalKeyProvider(settings.data_dir)
    keystore = KeyStore(db.keys, provider, provider.load())
    return keystore, await keystore.load_system_keys()


def protector_for(catalog: Catalog, keystore: KeyStore, system_keys: SystemKeys) -> Protector:
    return Protector(
        catalog,
        FieldCipher(),
        BlindIndexer(system_keys.blind_index, system_keys.suite),
        keystore,
    )


async def open_protector(
    settings: Settings, db: Database, provider: KeyProvider | None = None
) -> Protector:
    """Field encryption outside the HTTP app (CLI, import, seeding): the key store opened
    with the master key, which also proves the key is the right one."""
    keystore, system_keys = await open_keystore(settings, db, provider)
    return protector_for(default_catalog(), keystore, system_keys)


def where_store(settings: Settings) -> str:
    return "the PostgreSQL store" if settings.database_url else str(settings.sqlite_path)


def require_writable_data_dir(settings: Settings) -> None:
    """The embedded store (and its key store) write next to the files: the WAL, its
    index, the audit log. A read-only data directory would fail at the first request."""
    if not (settings.is_sqlite or settings.keystore_url is None):
        return
    where = settings.data_dir
    try:
        read_only = bool(os.statvfs(where).f_flag & os.ST_RDONLY) or not os.access(where, os.W_OK)
    except OSError:
        return  # missing: creating it is the store's business, with its own message
    if read_only:
        msg = f"the data directory {where} is read-only; the store and its audit log write there"
        raise StoreNotReadyError(msg)
