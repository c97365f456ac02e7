"""The policy change service: review, check the base version, store, audit — atomically.

A change is either a whole document (the CLI's `policy apply`, a rollback) or an edit
of the newest document (the API's "add this rule"). It is reviewed outside the write
transaction — compiling plans takes a moment and SQLite's write lock is shared with the
audit log — and then stored only if the newest version is still the one it was
reviewed against. If another change got in first, an edit with no `base_version` is
simply prepared again on the newer document; a change that named its `base_version`
is refused with `version_conflict`. The new version and the audit entry of the change
commit in one transaction: there is never a version without its entry.

A change made through the API (an `actor`) may not give access to customer data or the
audit log to a principal that holds active API keys and had no such access before: a
policy administrator may have issued those keys (`gateway.access.api_keys`), and
would then hold a data principal's key after all (GB/T 35273 §7.1).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.access.authentication import active_api_key_holders
from gateway.compliance.entries import append_in_transaction
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database
from gateway.http.errors import AuditUnavailable
from gateway.policy.errors import (
    NoChange,
    PolicyChangeRejected,
    PolicyTargetNotFound,
    SelfGrantRefused,
    SeparationOfDuties,
    VersionConflict,
)
from gateway.policy.history import load_policy_version
from gateway.policy.store import (
    latest_policy_or_none,
    latest_version,
    lock_policy_writes,
    save_policy_version,
)
from masking import default_registry
from policies.catalog import Catalog
from policies.diff import PolicyDiff, diff_documents
from policies.document import PolicyDocument, PolicyProblem
from policies.plan import PolicyEngine
from policies.review import (
    SEPARATION_OF_DUTIES,
    principal_data_access,
    principals_gaining_data_access,
    review_change,
    self_grants,
)

Edit = Callable[[PolicyDocument], PolicyDocument]
Change = PolicyDocument | Edit
InTransaction = Callable[[AsyncConnection, int], Awaitable[Mapping[str, str]]]
"""More work in the change's transaction (given the new version); returns audit fields."""
EngineFor = Callable[[int, PolicyDocument], PolicyEngine]
"""The engine of a stored version (number, document): the caller's own when it has that
version in force, with its plans compiled already; a new one otherwise."""
Guard = Callable[[AsyncConnection], Awaitable[None]]

_ATTEMPTS = 3
EMPTY_DOCUMENT = PolicyDocument(purposes={}, roles={}, rules=())


@dataclass(frozen=True, slots=True)
class PreparedChange:
    """A change reviewed against the newest version, not (yet) applied."""

    base_version: int | None
    base: PolicyDocument | None
    candidate: PolicyDocument
    diff: PolicyDiff
    problems: tuple[PolicyProblem, ...]


@dataclass(frozen=True, slots=True)
class AppliedChange:
    version: int
    base_version: int | None
    diff: PolicyDiff
    document: PolicyDocument
    audit_seq: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "previous_version": self.base_version,
            "diff": self.diff.to_json(),
        }


def _operators(operators: Collection[str] | None) -> Collection[str]:
    return operators if operators is not None else default_registry().names()


async def preview_policy_change(
    db: Database,
    catalog: Catalog,
    *,
    change: Change,
    base_version: int | None = None,
    acknowledged: Collection[str] = (),
    operators: Collection[str] | None = None,
) -> PreparedChange:
    """Review `change` against the newest version: its diff and every problem with it.

    Raises VersionConflict if `base_version` is given and is not the newest version,
    and whatever an edit raises (PolicyTargetNotFound, ...). Stores nothing.
    """
    async with db.reader.connect() as conn:
        latest = await latest_policy_or_none(conn)
    newest = latest[0] if latest else None
    if base_version is not None and base_version != newest:
        raise VersionConflict(base_version, newest)
    base = latest[1] if latest else None
    candidate = change if isinstance(change, PolicyDocument) else change(base or EMPTY_DOCUMENT)
    problems = review_change(
        base, candidate, catalog, _operators(operators), acknowledged=acknowledged
    )
    return PreparedChange(
        base_version=newest,
        base=base,
        candidate=candidate,
        diff=diff_documents(base or EMPTY_DOCUMENT, candidate),
        problems=tuple(problems),
    )


class _Moved(Exception):
    """The newest version changed between review and commit."""


async def apply_policy_change(
    db: Database,
    catalog: Catalog,
    *,
    change: Change,
    base_version: int | None,
    author: str,
    comment: str,
    audit: RequestAudit,
    acknowledged: Collection[str] = (),
    actor: str | None = None,
    operators: Collection[str] | None = None,
    in_transaction: InTransaction | None = None,
    status: int = 200,
    engine_for: EngineFor | None = None,
) -> AppliedChange:
    """Apply `change` as one new policy version, audited in the same transaction.

    `actor` is the principal making the change (None from the CLI): it may not grant
    itself roles, purposes or rights, nor give a key holder data access (see above;
    `engine_for` spares compiling the base version again). `status` is the HTTP status
    the caller will answer with, recorded in the audit entry. Raises
    PolicyChangeRejected (every problem), VersionConflict, SelfGrantRefused,
    SeparationOfDuties, NoChange or PolicyTargetNotFound; nothing is stored then.
    """
    for _ in range(_ATTEMPTS):
        prepared = await preview_policy_change(
            db,
            catalog,
            change=change,
            base_version=base_version,
            acknowledged=acknowledged,
            operators=operators,
        )
        _refuse_if_unacceptable(prepared, catalog, audit, actor)
        guard = (
            None
            if actor is None
            else _no_data_access_for_key_holders(prepared, catalog, audit, engine_for)
        )
        try:
            return await _commit(
                db, prepared, author, comment, audit, in_transaction, status, guard
            )
        except _Moved:
            if base_version is not None:
                async with db.reader.connect() as conn:
                    raise VersionConflict(base_version, await latest_version(conn)) from None
    async with db.reader.connect() as conn:
        raise VersionConflict(None, await latest_version(conn))


_SAFE_KEY = re.compile(r"[A-Za-z0-9_.:\[\]*-]{1,160}")


def _audit_key(where: str) -> str:
    """A rejected part's place, for the append-only log: names the validator refused
    (a malformed id, say) are recorded as their section only."""
    return where if _SAFE_KEY.fullmatch(where) else where.split(".", 1)[0][:32]


def _refuse_if_unacceptable(
    prepared: PreparedChange, catalog: Catalog, audit: RequestAudit, actor: str | None
) -> None:
    if prepared.problems:
        audit.fields = {_audit_key(p.where): f"rejected:{p.reason}" for p in prepared.problems}
        raise PolicyChangeRejected(prepared.problems)
    if actor is not None:
        grants = self_grants(prepared.base or EMPTY_DOCUMENT, prepared.candidate, catalog, actor)
        if grants:
            raise SelfGrantRefused(actor, grants)
    if prepared.diff.empty:
        msg = "the change leaves the policy as it is; no version was created"
        raise NoChange(msg)


def _no_data_access_for_key_holders(
    prepared: PreparedChange,
    catalog: Catalog,
    audit: RequestAudit,
    engine_for: EngineFor | None,
) -> Guard:
    """A check for the commit transaction, where the set of key holders cannot change
    under it: refuse if a principal holding active keys would gain data access."""
    engine_for = engine_for or (lambda version, doc: PolicyEngine(doc, catalog, version))
    base = (
        engine_for(prepared.base_version, prepared.base)
        if prepared.base is not None and prepared.base_version is not None
        else None
    )
    # Built before the transaction: the writer lock is not held while casbin loads.
    candidate = PolicyEngine(prepared.candidate, catalog, 0)

    async def guard(conn: AsyncConnection) -> None:
        gaining = principals_gaining_data_access(
            base, candidate, await active_api_key_holders(conn)
        )
        if not gaining:
            return
        audit.fields = {f"principals.{pid}": f"refused:{SEPARATION_OF_DUTIES}" for pid in gaining}
        access = principal_data_access(candidate, gaining[0])
        names = ", ".join(repr(pid) for pid in gaining)
        msg = (
            f"principal(s) {names} hold active API keys and would gain access to customer "
            f"data or the audit log ({access[0]}); a policy administrator may have issued "
            "those keys (separation of duties, GB/T 35273 §7.1). Revoke the keys first "
            "(DELETE /v1/policy/keys/{key_id}) and have the operator issue new ones on the "
            "host (`wardgate keys issue`), or have the operator apply the change there "
            "(`wardgate policy apply`)"
        )
        raise SeparationOfDuties(msg)

    return guard


async def _commit(
    db: Database,
    prepared: PreparedChange,
    author: str,
    comment: str,
    audit: RequestAudit,
    in_transaction: InTransaction | None,
    status: int,
    guard: Guard | None = None,
) -> AppliedChange:
    try:
        async with db.writer.begin() as conn:
            # Key issues and other changes wait: the guard sees every key committed.
            await lock_policy_writes(conn)
            if await latest_version(conn) != prepared.base_version:
                raise _Moved
            if guard is not None:
                await guard(conn)
            version = await save_policy_version(
                conn,
                prepared.candidate,
                author=author,
                comment=comment,
                diff=prepared.diff.to_json(),
            )
            audit.entity = "policy"
            audit.record_ids = (f"policy_v{version}",)
            audit.fields = {
                "policy:version": f"{prepared.base_version} -> {version}",
                **prepared.diff.audit_fields(),
            }
            if in_transaction is not None:
                audit.fields |= dict(await in_transaction(conn, version))
            seq = await append_in_transaction(conn, audit, status)
    except sa_exc.IntegrityError:
        # Another process saved the same version number first (PostgreSQL; SQLite's
        # writer lock serialises us before `latest_version` is read).
        audit.seq = None
        raise _Moved from None
    except SQLAlchemyError as exc:
        audit.seq = None
        msg = "the policy change could not be committed with its audit entry; nothing changed"
        raise AuditUnavailable(msg) from exc
    except BaseException:
        audit.seq = None
        raise
    return AppliedChange(
        version=version,
        base_version=prepared.base_version,
        diff=prepared.diff,
        document=prepared.candidate,
        audit_seq=seq,
    )


async def rollback_policy(
    db: Database,
    catalog: Catalog,
    *,
    version: int,
    base_version: int | None,
    author: str,
    comment: str,
    audit: RequestAudit,
    acknowledged: Collection[str] = (),
    actor: str | None = None,
    operators: Collection[str] | None = None,
    engine_for: EngineFor | None = None,
) -> AppliedChange:
    """A new version whose document equals version `version`'s, reviewed like any change."""
    async with db.reader.connect() as conn:
        document = await load_policy_version(conn, version)
    if document is None:
        msg = f"there is no policy version {version}"
        raise PolicyTargetNotFound(msg)
    return await apply_policy_change(
        db,
        catalog,
        change=document,
        base_version=base_version,
        author=author,
        comment=comment or f"rollback to version {version}",
        audit=audit,
        acknowledged=acknowledged,
        actor=actor,
        operators=operators,
        engine_for=engine_for,
    )
