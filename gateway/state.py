"""Everything the request path needs, built once at startup (never per request)."""

from __future__ import annotations

from dataclasses import dataclass

from audit import GroupCommitAppender
from gateway.auth import PrincipalDirectory, load_directory
from gateway.db.engine import Database, create_database
from gateway.db.migrate import current_revision, head_revision
from gateway.pipeline.plans import PlanBinder
from gateway.policy_store import load_latest_policy
from gateway.settings import Settings
from keys import LocalKeyProvider, MasterKey, Sealer
from policies.catalog import Catalog, default_catalog
from policies.document import PolicyDocument
from policies.plan import PolicyEngine


class StoreNotReadyError(Exception):
    """The store is missing or its schema is not at the current migration."""


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
        master_key: MasterKey,
        snapshot: PolicySnapshot,
    ) -> None:
        self.settings = settings
        self.db = db
        self.catalog = catalog
        self.snapshot = snapshot
        self.binder = PlanBinder(master_key.derive("wardgate/pseudonym/v1"))
        self.appender = GroupCommitAppender(db.writer)
        self.cursors = Sealer(master_key.derive("wardgate/cursor/v1"))

    def __repr__(self) -> str:
        return f"GatewayState(policy_version={self.snapshot.version})"

    def warm_plans(self) -> int:
        """Compile the plan of every known principal for each of its purposes."""
        compiled = 0
        snapshot = self.snapshot
        for principal in snapshot.directory.principals():
            for purpose in principal.purposes:
                if purpose in snapshot.document.purposes:
                    self.binder.plan(snapshot.engine, principal.roles, purpose)
                    compiled += 1
        return compiled

    async def reload_policy(self) -> PolicySnapshot:
        self.snapshot = await load_snapshot(self.db, self.catalog)
        self.binder.forget_versions_before(self.snapshot.version)
        return self.snapshot


async def load_snapshot(db: Database, catalog: Catalog) -> PolicySnapshot:
    async with db.reader.connect() as conn:
        version, document = await load_latest_policy(conn)
        directory = await load_directory(conn)
    return PolicySnapshot(
        version=version,
        document=document,
        engine=PolicyEngine(document, catalog, version),
        directory=directory,
    )


async def open_gateway(settings: Settings) -> GatewayState:
    """Load keys, check the schema, load policy; raise with a clear message on any gap."""
    master_key = LocalKeyProvider(settings.data_dir).load()
    db = create_database(settings)
    try:
        current = await current_revision(db.reader)
        head = head_revision()
        if current != head:
            msg = (
                f"store schema is at {current or 'nothing'}, expected {head}: "
                "run `wardgate init` (new store) or `wardgate db upgrade`"
            )
            raise StoreNotReadyError(msg)
        catalog = default_catalog()
        snapshot = await load_snapshot(db, catalog)
    except BaseException:
        await db.dispose()
        raise
    state = GatewayState(settings, db, catalog, master_key, snapshot)
    state.warm_plans()
    return state
