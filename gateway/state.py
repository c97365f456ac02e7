"""Everything the request path needs, built once at startup (never per request)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from enum import StrEnum

import structlog
from sqlalchemy.exc import SQLAlchemyError

from audit import GroupCommitAppender
from gateway.access.authentication import PrincipalDirectory, load_directory
from gateway.compliance.checkpoints import CheckpointIssuer, log_signer
from gateway.db.engine import Database, create_database
from gateway.db.faults import store_fault
from gateway.db.opening import (
    StoreNotReadyError,
    check_schemas,
    open_keystore,
    protector_for,
    require_writable_data_dir,
    where_store,
)
from gateway.governance.plan_warmup import WARM_BEFORE_SWAP_SECONDS, PlanWarmer, wanted_plans
from gateway.governance.plans import PlanBinder, PlanKey
from gateway.pii.detector import TextScanner, shared_detector
from gateway.policy.store import load_latest_policy
from gateway.settings import Settings
from keys import (
    KeyStore,
    LocalKeyProvider,
    Sealer,
    SystemKeys,
)
from policies.catalog import Catalog, default_catalog
from policies.document import PolicyDocument
from policies.plan import PolicyEngine

log = structlog.get_logger("wardgate.policy")


class PlanWarmUp(StrEnum):
    """When `open_gateway` compiles the plans of every known principal."""

    NOW = "now"
    """Before it returns."""
    LATER = "later"
    """In a worker thread once it has returned (the server: readiness does not wait for
    plans; a request meanwhile compiles its own, the same plan, under the binder's lock)."""
    NONE = "none"
    """Never (a check that throws the state away; a command that needs one plan)."""


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """One policy version and the principals in force with it; a request keeps its snapshot."""

    version: int
    document: PolicyDocument
    engine: PolicyEngine
    directory: PrincipalDirectory


class GatewayState:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        catalog: Catalog,
        keystore: KeyStore,
        system_keys: SystemKeys,
        snapshot: PolicySnapshot,
        scanner: TextScanner,
    ) -> None:
        self.settings = settings
        self.db = db
        self.catalog = catalog
        self.snapshot = snapshot
        self.keystore = keystore
        self.binder = PlanBinder(system_keys.pseudonym)
        self.warmer = PlanWarmer(self.binder)
        self.checkpoints = CheckpointIssuer(
            db.writer,
            log_signer(system_keys.audit_signing),
            every_entries=settings.checkpoint_entries,
            every_seconds=settings.checkpoint_seconds,
        )
        self.appender = GroupCommitAppender(
            db.writer,
            max_batch=settings.audit_max_batch,
            on_commit=self.checkpoints.entries_committed,
            sync_engine=db.audit_writer,
            pg_transaction=None if db.audit_fast is None else db.audit_fast.transaction,
        )
        self.checkpoints.queue_behind(self.appender)
        self.cursors = Sealer(system_keys.cursor)
        self.protector = protector_for(catalog, keystore, system_keys)
        self._reload_lock = asyncio.Lock()
        self._builds = 0
        """Snapshots of a new version built so far."""
        self.scanner = scanner

    def __repr__(self) -> str:
        return f"GatewayState(policy_version={self.snapshot.version})"

    def warm_plans(self, snapshot: PolicySnapshot | None = None) -> int:
        """Compile the plan of every known principal for each of its purposes."""
        snapshot = snapshot or self.snapshot
        hot, rest = wanted_plans(snapshot.engine, snapshot.directory, self.binder.in_use())
        self.warmer.warm(snapshot.engine, hot + rest)
        return len(hot) + len(rest)

    def warm_plans_later(self) -> None:
        """`warm_plans` in a worker thread (on the running loop); it stops early if a
        reload puts another version in force meanwhile (the reload warms its own)."""
        engine = self.snapshot.engine
        hot, rest = wanted_plans(engine, self.snapshot.directory, self.binder.in_use())
        self.warmer.warm_later(engine, hot + rest, lambda: self.snapshot.engine is engine)

    async def reload_policy(self) -> PolicySnapshot:
        """Load the newest policy version and the principals with it, and swap them in.

        Requests in flight keep the snapshot they started with. The new one is built off
        to the side — its casbin enforcers, and as many of the plans requests are asking
        for as fit in `WARM_BEFORE_SWAP_SECONDS`, compiled in a worker thread so the event
        loop keeps serving — and put in force by one assignment; this returns at the swap,
        and the remaining plans are compiled in the background. When only API keys
        changed (same version), the engine and its compiled plans are kept and just the
        directory is new.
        """
        async with self._reload_lock:
            started = time.perf_counter()
            current = self.snapshot
            async with self.db.reader.connect() as conn:
                version, document = await load_latest_policy(conn)
                directory = await load_directory(conn, document)
            if version == current.version:
                self.snapshot = replace(current, directory=directory)
                return self.snapshot
            self._builds += 1  # a warm-up still running for an older version stops
            build = self._builds
            hot = self.binder.in_use()
            snapshot, pending = await asyncio.to_thread(
                self._prepare, version, document, directory, hot
            )
            self.snapshot = snapshot
            log.info(
                "policy reloaded",
                policy_version=snapshot.version,
                previous_version=current.version,
                ms=round((time.perf_counter() - started) * 1000, 1),
                plans_pending=len(pending),
            )
            self.binder.forget_versions_before(snapshot.version)
            if pending:
                self.warmer.warm_later(snapshot.engine, pending, lambda: self._builds == build)
            return snapshot

    def _prepare(
        self,
        version: int,
        document: PolicyDocument,
        directory: PrincipalDirectory,
        hot: list[PlanKey],
    ) -> tuple[PolicySnapshot, list[PlanKey]]:
        snapshot = PolicySnapshot(
            version=version,
            document=document,
            engine=PolicyEngine(document, self.catalog, version),
            directory=directory,
        )
        # A new version waits only briefly, and only for plans requests are asking for;
        # the others are compiled after the swap. The deadline starts after the engine,
        # so the plan in use most recently is always ready at the swap.
        urgent, rest = wanted_plans(snapshot.engine, directory, hot)
        deadline = time.monotonic() + WARM_BEFORE_SWAP_SECONDS
        return snapshot, self.warmer.warm(snapshot.engine, urgent, deadline) + rest


class _StartupEngine:
    """The policy engine start-up built last in this process, to build it only once.

    `wardgate serve` opens the gateway twice in one process — the pre-flight check, then
    the app's lifespan (in each forked worker too) — and most of an open is compiling
    the plans of every principal (~0.1 s each). The second open takes the first one's
    engine, with the plans it compiled. Only for the same version *and* an equal
    document and the same catalog: a version's document never changes in a store, but
    a process may open another store (tests re-initialize one at version 1).
    """

    def __init__(self) -> None:
        self._engine: PolicyEngine | None = None

    def __repr__(self) -> str:
        version = None if self._engine is None else self._engine.version
        return f"_StartupEngine(version={version})"

    def get(self, document: PolicyDocument, catalog: Catalog, version: int) -> PolicyEngine:
        engine = self._engine
        if not (
            engine is not None
            and engine.version == version
            and engine.catalog is catalog
            and engine.document == document
        ):
            engine = PolicyEngine(document, catalog, version)
            self._engine = engine
        return engine


startup_engine = _StartupEngine()


async def load_snapshot(db: Database, catalog: Catalog) -> PolicySnapshot:
    async with db.reader.connect() as conn:
        version, document = await load_latest_policy(conn)
        directory = await load_directory(conn, document)
    return PolicySnapshot(
        version=version,
        document=document,
        engine=startup_engine.get(document, catalog, version),
        directory=directory,
    )


async def open_gateway(settings: Settings, *, warm: PlanWarmUp = PlanWarmUp.NOW) -> GatewayState:
    """Load keys, check the schemas, load policy and build the PII detector; raise with a
    clear message on any gap. `warm`: when the plans are compiled."""
    provider = LocalKeyProvider(settings.data_dir)
    provider.load()  # a missing or malformed key stops us before touching any database
    require_writable_data_dir(settings)
    db = create_database(settings)
    try:
        try:
            await check_schemas(db)
        except (SQLAlchemyError, OSError) as exc:
            fault = store_fault(exc)
            if fault is None:
                raise
            msg = f"the store cannot be opened ({fault.value}): {where_store(settings)}"
            raise StoreNotReadyError(msg) from None
        keystore, system_keys = await open_keystore(settings, db, provider)
        catalog = default_catalog()
        snapshot = await load_snapshot(db, catalog)
        # Offline and under 2 s; once per process.
        scanner = TextScanner(shared_detector(), cache_entries=settings.scan_cache_entries)
    except BaseException:
        await db.dispose()
        raise
    state = GatewayState(settings, db, catalog, keystore, system_keys, snapshot, scanner)
    if warm is PlanWarmUp.NOW:
        state.warm_plans()
    elif warm is PlanWarmUp.LATER:
        state.warm_plans_later()
    return state
