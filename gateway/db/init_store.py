"""`wardgate init`: create the store, the master key, the default policy and demo data."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.access.authentication import issue_api_key
from gateway.compliance.cli_entries import record_cli
from gateway.consents.store import append_consent
from gateway.customers.classification import classify_rows, scanned_fields
from gateway.db.engine import Database, create_database
from gateway.db.migrate import Schema, upgrade_to_head
from gateway.db.opening import open_protector
from gateway.db.schema import LAST_ACTIVITY_COLUMN, PII_CLASSES_COLUMN, store_tables
from gateway.demo import iter_generate
from gateway.demo.consents import demo_consents
from gateway.demo.synthetic import CustomerBundle
from gateway.encryption.protection import Protector
from gateway.pii.detector import shared_detector
from gateway.policy.store import latest_policy_or_none, save_policy_version
from gateway.retention.activity import stamp as activity_stamp
from gateway.settings import Settings
from keys import KeyStore, LocalKeyProvider, MasterKeyError, suite_named
from keys.schema import system_keys
from policies.document import PolicyDocument, default_policy_document
from policies.principals_file import demo_principals, with_principals

DEMO_KEYS_FILE = "demo-keys.json"
BATCH = 500


DEMO_PRINCIPALS = demo_principals()
"""Who `init --demo` creates, by id: `policies/demo_principals.yaml`, the same file the
shipped expectations are judged with (`policy test --principals`)."""


@dataclass(frozen=True, slots=True)
class InitReport:
    policy_version_created: bool
    principals_created: int
    customers_created: int
    interactions_created: int
    orders_created: int
    demo_keys_path: Path | None


def write_secret_json(path: Path, content: dict[str, str]) -> None:
    """Write a file readable by its owner only (created 0600, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    path.chmod(0o600)


async def _count(conn: AsyncConnection, table_name: str) -> int:
    table = store_tables()[table_name]
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def with_demo_principals(document: PolicyDocument) -> PolicyDocument:
    """The document with the demo principals added (their roles and purposes)."""
    return with_principals(document, DEMO_PRINCIPALS)


async def _install_policy(db: Database, *, demo: bool) -> tuple[bool, dict[str, str]]:
    """The default policy if there is none; with `demo`, the demo principals and a key
    each, unless the policy already names any of them. One transaction."""
    keys: dict[str, str] = {}
    async with db.writer.begin() as conn:
        latest = await latest_policy_or_none(conn)
        document = default_policy_document() if latest is None else latest[1]
        seed_principals = demo and not any(pid in document.principals for pid in DEMO_PRINCIPALS)
        if seed_principals:
            document = with_demo_principals(document)
        if latest is None or seed_principals:
            parts = (["default policy"] if latest is None else []) + (
                ["demo principals"] if seed_principals else []
            )
            await save_policy_version(
                conn, document, author="wardgate init", comment=" with ".join(parts)
            )
        if seed_principals:
            for principal_id in DEMO_PRINCIPALS:
                keys[principal_id] = (await issue_api_key(conn, principal_id)).key
    return latest is None, keys


async def _insert_batches(
    db: Database,
    protector: Protector,
    n_customers: int,
    seed: int,
    progress: Callable[[int], None],
) -> tuple[int, int, int]:
    tables = store_tables()
    catalog = protector.catalog
    detector = shared_detector()
    started = dt.datetime.now(dt.UTC)
    now = started.isoformat(timespec="microseconds")
    stamp = {"created_at": now, "updated_at": now}
    counts = [0, 0, 0]
    batch: dict[str, list[dict[str, object]]] = {"customers": [], "interactions": [], "orders": []}

    async def flush() -> None:
        # Keys first, in their own store: a crash in between leaves unused keys, never
        # records without keys.
        owners = [str(row["id"]) for row in batch["customers"]]
        grants = [event for row in batch["customers"] for event in demo_consents(row, started)]
        keys = await protector.keystore.create_data_keys(owners)
        for name, rows in batch.items():
            # The notes and summaries are classified as an API write would classify them.
            entity = catalog.entity(name)
            scanned = bool(scanned_fields(entity))
            classes = classify_rows(detector, entity, rows) if scanned else [{} for _ in rows]
            batch[name] = [
                protector.protect(name, row, str(row["id"]), keys[owner_of_row(name, row)])
                | ({PII_CLASSES_COLUMN: found or None} if scanned else {})
                for row, found in zip(rows, classes, strict=True)
            ]
        async with db.writer.begin() as conn:
            for name in ("customers", "interactions", "orders"):
                if batch[name]:
                    await conn.execute(insert(tables[name]), batch[name])
            for event in grants:
                await append_consent(conn, event, "wardgate-init-demo")
        progress(len(batch["customers"]))
        for rows in batch.values():
            rows.clear()

    for bundle in iter_generate(n_customers, seed=seed):
        activity = {LAST_ACTIVITY_COLUMN: seeded_activity(bundle)}
        batch["customers"].append(bundle.customer | stamp | activity)
        batch["interactions"].extend(row | stamp for row in bundle.interactions)
        batch["orders"].extend(row | stamp for row in bundle.orders)
        counts[0] += 1
        counts[1] += len(bundle.interactions)
        counts[2] += len(bundle.orders)
        if len(batch["customers"]) >= BATCH:
            await flush()
    if batch["customers"]:
        await flush()
    return counts[0], counts[1], counts[2]


def seeded_activity(bundle: CustomerBundle) -> str:
    """A seeded customer's last activity before their consents (which move it on when
    stored): the latest of joining, interactions and orders in the seeded history, so
    that the demo holds dormant customers as a migrated CRM would."""
    times = [bundle.joined]
    times += [str(row["occurred_at"]) for row in bundle.interactions if row.get("occurred_at")]
    times += [str(row["ordered_at"]) for row in bundle.orders if row.get("ordered_at")]
    return activity_stamp(max(dt.datetime.fromisoformat(t) for t in times))


def owner_of_row(entity: str, row: dict[str, object]) -> str:
    return str(row["id"] if entity == "customers" else row["customer_id"])


async def init_store(
    settings: Settings,
    *,
    demo: bool,
    customers: int = 2000,
    seed: int = 20261122,
    progress: Callable[[int], None] = lambda _: None,
) -> InitReport:
    """Idempotent: an existing key, schema, policy, principal or dataset is kept."""
    suite = suite_named(settings.crypto_suite)
    provider = LocalKeyProvider(settings.data_dir)
    new_dir = not settings.data_dir.exists()
    failed = True
    db = create_database(settings)
    try:
        # The databases first: one that cannot be reached or does not exist stops init
        # before a master key is written that would belong to no store.
        await upgrade_to_head(db.writer)
        await upgrade_to_head(db.keys, Schema.KEYSTORE)
        await _refuse_new_key_for_old_keys(db, provider)
        keyring = provider.create()
        await KeyStore(db.keys, provider, keyring).ensure_system_keys(suite)
        report = await _fill(settings, db, provider, demo, customers, seed, progress)
        failed = False
        return report
    finally:
        await db.dispose()
        if failed and new_dir:
            with contextlib.suppress(OSError):
                settings.data_dir.rmdir()  # only when the failure left it empty


async def _fill(
    settings: Settings,
    db: Database,
    provider: LocalKeyProvider,
    demo: bool,
    customers: int,
    seed: int,
    progress: Callable[[int], None],
) -> InitReport:
    protector = await open_protector(settings, db, provider)
    policy_created, keys = await _install_policy(db, demo=demo)
    if not demo:
        return InitReport(policy_created, 0, 0, 0, 0, None)
    async with db.reader.connect() as conn:
        existing_customers = await _count(conn, "customers")
    keys_path = settings.data_dir / DEMO_KEYS_FILE
    created_principals = 0
    if keys:
        write_secret_json(keys_path, keys)
        created_principals = len(keys)
    counts = (0, 0, 0)
    if existing_customers == 0 and customers > 0:
        counts = await _insert_batches(db, protector, customers, seed, progress)
        await record_cli(db, "store.seed_demo", fields={"customers": f"created:{counts[0]}"})
    return InitReport(policy_created, created_principals, *counts, keys_path)


async def _refuse_new_key_for_old_keys(db: Database, provider: LocalKeyProvider) -> None:
    """A key store that already holds keys needs the master key they are wrapped with:
    init restores nothing, and a new key in its place would lock the store for good."""
    if provider.from_environment or provider.path.exists():
        return
    async with db.keys.connect() as conn:
        wrapped = (await conn.execute(select(func.count()).select_from(system_keys))).scalar_one()
    if wrapped:
        msg = (
            f"no master key: {provider.path} does not exist, but the key store already holds "
            "keys wrapped with one; restore the key file (or set WARDGATE_MASTER_KEY)"
        )
        raise MasterKeyError(msg)
