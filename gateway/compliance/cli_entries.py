"""Audit entries of command-line operations: exactly one per operation, allowed or not.

The CLI is a door to the store too. Every command that reads or changes data, keys,
consents, the policy or the audit log leaves one entry with principal `cli:<os user>`,
status `CLI_STATUS` (0), an outcome and, unless allowed, a reason word:

- `allowed`: done as asked (a reason may qualify it: `rows_rejected`, `no_change`);
- `invalid`: the operator's input was refused (`unknown_principal`, `already_revoked`,
  `rows_rejected` under --all-or-nothing, `unusable_file`, `policy_rejected`, ...);
- `failed`: the operation broke off (`store_failed`, `verification_failed`, ...).

A command that finds no store records nothing: there is no log to record in, and
nothing is created to make one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence

import structlog
from sqlalchemy.exc import SQLAlchemyError

from audit import Outcome
from gateway.compliance.entries import CLI_STATUS, append_in_transaction, cli_audit
from gateway.compliance.request_audit import RequestAudit
from gateway.db.engine import Database, create_database
from gateway.db.opening import StoreNotReadyError, check_schemas
from gateway.settings import Settings
from keys import MASTER_KEY_ENV, CryptoError
from keys.keyring import MASTER_KEY_FILE

log = structlog.get_logger("wardgate.audit")


def store_present(settings: Settings) -> bool:
    """Whether there is a store to record in, told without creating anything."""
    if not (settings.data_dir / MASTER_KEY_FILE).is_file() and not os.environ.get(MASTER_KEY_ENV):
        return False
    return settings.database_url is not None or settings.sqlite_path.is_file()


async def record_cli_audit(db: Database, audit: RequestAudit) -> int:
    """Append a command-line entry in a transaction of its own."""
    async with db.writer.begin() as conn:
        return await append_in_transaction(conn, audit, CLI_STATUS)


async def record_cli(
    db: Database,
    action: str,
    *,
    outcome: Outcome = Outcome.ALLOWED,
    fields: Mapping[str, str] | None = None,
    reason: str | None = None,
    subject_ids: Sequence[str] = (),
    policy_version: int | None = None,
) -> int:
    audit = cli_audit(action)
    audit.outcome = outcome
    audit.fields = dict(fields or {})
    audit.reason = reason
    audit.subject_ids = tuple(subject_ids)
    audit.policy_version = policy_version
    return await record_cli_audit(db, audit)


async def record_refusal(
    settings: Settings,
    action: str,
    reason: str,
    *,
    entity: str | None = None,
    request_id: str | None = None,
) -> None:
    """The one entry of an operation refused before it opened the store: recorded if
    there is a store to record it in (nothing is created to do so)."""
    if not store_present(settings):
        return
    audit = cli_audit(action, request_id=request_id)
    audit.entity = entity
    refuse(audit, reason)
    db = create_database(settings)
    try:
        with contextlib.suppress(SQLAlchemyError, OSError, CryptoError, StoreNotReadyError):
            await check_schemas(db)
            await record_cli_audit(db, audit)
    finally:
        await db.dispose()


def refuse(audit: RequestAudit, reason: str, outcome: Outcome = Outcome.INVALID) -> None:
    """Mark the operation refused: its entry says so when the door closes."""
    audit.outcome = outcome
    audit.reason = reason


def failure_reason(exc: BaseException) -> str:
    """A stable word for why an operation broke off; never the exception's message."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason.isidentifier():
        return reason
    if isinstance(exc, SQLAlchemyError):
        return "store_failed"
    if isinstance(exc, CryptoError):
        return "key_failed"
    if isinstance(exc, OSError):
        return "io_failed"
    return "unexpected_error"


def _ended_as_told(audit: RequestAudit, exc: BaseException) -> bool:
    """The operation stopped on purpose: it was marked refused, or it exited with 0."""
    return audit.outcome is not Outcome.ALLOWED or getattr(exc, "exit_code", None) == 0


@contextlib.asynccontextmanager
async def cli_door(db: Database, action: str) -> AsyncIterator[RequestAudit]:
    """The audit context of one command-line operation on an open store.

    The body fills it in (fields, subject ids; `refuse` for a refusal) and may append
    the entry itself inside its own transaction (`append_in_transaction`) so that a
    change and its entry commit together. Otherwise the entry is appended when the
    door closes: as filled in, or `failed` with a reason word if the body raised.
    """
    audit = cli_audit(action)
    try:
        yield audit
    except BaseException as exc:
        if isinstance(exc, SQLAlchemyError):
            audit.seq = None  # an entry appended in the body's transaction went with it
        if not audit.written and isinstance(exc, Exception):
            if not _ended_as_told(audit, exc):
                refuse(audit, failure_reason(exc), Outcome.FAILED)
            try:
                await record_cli_audit(db, audit)
            except (SQLAlchemyError, OSError) as lost:
                # The store may be what failed; the operation's own error is reported.
                log.error(
                    "command-line operation could not be audited",
                    action=action,
                    error=type(lost).__name__,
                )
        raise
    if not audit.written:
        await record_cli_audit(db, audit)
