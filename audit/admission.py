"""An admission: a check-and-add decided inside the audit batch's transaction.

Some entries may only stand if a counter kept beside the log still has room (the
export threshold of a purpose). Deciding that in a transaction of its own costs a
commit and an fsync per request and competes with the audit writer for the store's
write lock; deciding it in the batch that writes the entry, before the entry is hashed,
makes the counter and the entry commit together. When the admission refuses, the batch
writes its `refusal` entry instead, and the request answers with the refusal: it waits
for that commit anyway, so nothing is released before the decision is durable.

The audit package knows nothing of what is counted: each admission brings its own
statement for each of the writer's three transaction kinds (the raw SQLite connection
of the group-commit thread, asyncpg, and the SQL layer), run after the tree state is
read (and locked, on PostgreSQL), so every batch takes its locks in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from audit.entry import AuditEntry


class Admission(Protocol):
    @property
    def refusal(self) -> AuditEntry:
        """The entry written instead when the admission refuses."""
        ...

    admitted: bool | None
    """Set by the batch that decided it (None before). Read only once the entry's
    append returned: a batch that failed rolled the decision back with everything else."""

    def admit_sqlite(self, cursor: Any) -> bool:
        """On the writer thread's raw sqlite3 cursor, inside the batch's transaction."""
        ...

    async def admit_asyncpg(self, conn: Any) -> bool:
        """On the batch's asyncpg connection, inside its transaction."""
        ...

    async def admit_sql(self, conn: AsyncConnection) -> bool:
        """On the batch's SQLAlchemy connection, inside its transaction."""
        ...


def _written(
    entries: Sequence[AuditEntry], admissions: Sequence[Admission | None], decided: list[bool]
) -> Sequence[AuditEntry]:
    """The entries to hash and write: each refused one replaced by its refusal."""
    written = list(entries)
    for index, (admission, ok) in enumerate(zip(admissions, decided, strict=True)):
        if admission is not None:
            admission.admitted = ok
            if not ok:
                written[index] = admission.refusal
    return written


def admit_sqlite(
    cursor: Any, entries: Sequence[AuditEntry], admissions: Sequence[Admission | None]
) -> Sequence[AuditEntry]:
    """Decide a batch's admissions in order (`admissions` is empty or one per entry)."""
    if not admissions:
        return entries
    return _written(entries, admissions, [a is None or a.admit_sqlite(cursor) for a in admissions])


async def admit_asyncpg(
    conn: Any, entries: Sequence[AuditEntry], admissions: Sequence[Admission | None]
) -> Sequence[AuditEntry]:
    if not admissions:
        return entries
    return _written(
        entries, admissions, [a is None or await a.admit_asyncpg(conn) for a in admissions]
    )


async def admit_sql(
    conn: AsyncConnection, entries: Sequence[AuditEntry], admissions: Sequence[Admission | None]
) -> Sequence[AuditEntry]:
    if not admissions:
        return entries
    return _written(entries, admissions, [a is None or await a.admit_sql(conn) for a in admissions])
