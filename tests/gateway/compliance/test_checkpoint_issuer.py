"""Checkpoints signed in the SQLite audit writer's thread, in the writers' queue.

Outside that queue a checkpoint's transaction took SQLite's write lock behind the audit
writers' backs, and a batch that found it taken slept in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
from pathlib import Path

from sqlalchemy import func, select

from audit import AuditEntry, GroupCommitAppender, Outcome
from audit.checkpoint import open_signed_checkpoint
from audit.schema import audit_checkpoints
from gateway.compliance.checkpoints import CheckpointIssuer, log_signer
from gateway.db.engine import create_database
from gateway.db.migrate import upgrade_to_head
from gateway.settings import Settings


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=dt.datetime.now(dt.UTC),
        request_id=f"req-{n}",
        action="customers.read",
        outcome=Outcome.ALLOWED,
        status=200,
        record_ids=(f"cus_{n:026d}",),
    )


async def test_given_an_sqlite_writer_thread_then_checkpoints_wait_in_the_writers_queue(
    tmp_path: Path,
) -> None:
    db = create_database(Settings(data_dir=tmp_path))
    await upgrade_to_head(db.writer)
    signer = log_signer(b"\x07" * 32)
    issuer = CheckpointIssuer(db.writer, signer)
    appender = GroupCommitAppender(db.writer, sync_engine=db.audit_writer)
    issuer.queue_behind(appender)
    appender.start()
    queue = os.open(f"{tmp_path / 'wardgate.db'}-audit.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert appender.writes_in_thread
        await asyncio.gather(*(appender.append(_entry(n)) for n in range(5)))

        # Another process's writer holds the queue: the checkpoint waits for its turn.
        fcntl.flock(queue, fcntl.LOCK_EX)
        pending = asyncio.ensure_future(issuer.issue())
        await asyncio.sleep(0.3)
        assert not pending.done()
        fcntl.flock(queue, fcntl.LOCK_UN)
        first = await asyncio.wait_for(pending, timeout=30)

        again = await issuer.issue()
    finally:
        os.close(queue)
        await appender.close()

    assert first.tree_size == 5
    signed = open_signed_checkpoint(first.note, signer.verifier())
    assert signed.tree_size == 5
    assert signed.root_hash.hex() == first.root_hash
    assert again == first, "a head already signed is not signed twice"
    async with db.reader.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(audit_checkpoints))).one()
    assert stored[0] == 1
    # Once the writer has stopped, the issuer signs on its own connection, as before.
    assert not appender.writes_in_thread
    assert (await issuer.issue()) == first
    await db.dispose()
