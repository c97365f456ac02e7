"""Reading the audit log from the store: verification, proofs and export rows.

Rows are streamed with plain SQL and decoded with orjson: verification has to keep up
with 100,000 entries a second, and the ORM-level JSON decoding alone would not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.canonical import ENTRY_FIELDS, OPTIONAL_ENTRY_FIELDS, canonical_entry
from audit.checkpoint import CheckpointError
from audit.merkle import consistency_proof, inclusion_proof, root_of
from audit.schema import audit_events
from audit.store import read_tree
from audit.verify import LogVerifier, VerifyReport
from gateway.compliance.checkpoints import all_checkpoints
from gateway.db.engine import Database
from keys.signing import NoteVerifier

_JSON_FIELDS = frozenset({"record_ids", "subject_ids", "fields", "classification"})
_COLUMNS = (*ENTRY_FIELDS, *OPTIONAL_ENTRY_FIELDS)
_STREAM = text(
    f"SELECT {', '.join(_COLUMNS)}, leaf_hash FROM audit_events ORDER BY seq"  # noqa: S608 - fixed names
)
_CHUNK = 5000


def _entry(row: tuple[object, ...]) -> dict[str, object]:
    entry = dict(zip(_COLUMNS, row, strict=False))
    for name in _JSON_FIELDS:
        value = entry[name]
        if isinstance(value, str | bytes):
            entry[name] = orjson.loads(value)
    return entry


_STREAM_RANGE = text(
    f"SELECT {', '.join(_COLUMNS)}, leaf_hash FROM audit_events "  # noqa: S608 - fixed names
    "WHERE occurred_at >= :since AND occurred_at < :until ORDER BY seq"
)
_BEGINNING = "0000"
_END = "9999"


async def stream_entries(
    conn: AsyncConnection, since: str | None = None, until: str | None = None
) -> AsyncIterator[tuple[int, bytes, str]]:
    """(seq, canonical entry bytes, stored leaf hash) for every row, in sequence order;
    only those that occurred in [since, until) when either is given (UTC ISO times, as
    stored, so they compare as text)."""
    if since is None and until is None:
        result = await conn.stream(_STREAM)
    else:
        bounds = {"since": since or _BEGINNING, "until": until or _END}
        result = await conn.stream(_STREAM_RANGE, bounds)
    async for partition in result.partitions(_CHUNK):
        for row in partition:
            entry = _entry(tuple(row))
            yield int(str(entry["seq"])), canonical_entry(entry), str(row[-1])


def _slow_canonical(row: Any) -> bytes:
    return canonical_entry(_entry(tuple(row)))


def _spliced(row: Any) -> bytes | None:
    """The canonical entry assembled from the stored JSON text without parsing it: the
    writers store those columns canonically (sorted, compact), so for every row they
    wrote this is byte for byte the hashed entry. Keys in RFC 8785 (sorted) order."""
    (seq, occurred_at, request_id, principal_id, on_behalf_of, purpose, legal_basis, action,
     entity, record_ids, subject_ids, fields, policy_version, outcome, status, reason,
     classification, _leaf) = row  # fmt: skip
    texts = (record_ids, subject_ids, fields)
    if not all(isinstance(text, str) for text in texts):
        return None
    if classification is None:
        classified = b""
    elif isinstance(classification, str):
        classified = b',"classification":' + classification.encode()
    else:
        return None
    d = orjson.dumps
    return b"".join((
        b'{"action":', d(action), classified, b',"entity":', d(entity), b',"fields":',
        fields.encode(),
        b',"legal_basis":', d(legal_basis), b',"occurred_at":', d(occurred_at),
        b',"on_behalf_of":', d(on_behalf_of), b',"outcome":', d(outcome),
        b',"policy_version":', d(policy_version), b',"principal_id":', d(principal_id),
        b',"purpose":', d(purpose), b',"reason":', d(reason), b',"record_ids":',
        record_ids.encode(), b',"request_id":', d(request_id), b',"seq":', d(seq),
        b',"status":', d(status), b',"subject_ids":', subject_ids.encode(), b"}",
    ))  # fmt: skip


def _leaves(rows: list[Any]) -> list[tuple[int, bytes, str | None]]:
    """(seq, leaf hash, stored leaf hash). The spliced entry is tried first; a row it
    does not reproduce (older rows, or an edit) is canonicalized the slow, parsing way,
    so the fast path never decides a mismatch on its own."""
    out = []
    sha256 = hashlib.sha256
    for row in rows:
        stored = row[-1]
        fast = _spliced(row)
        digest = sha256(b"\x00" + fast).digest() if fast is not None else b""
        if digest.hex() != stored:
            digest = sha256(b"\x00" + _slow_canonical(row)).digest()
        out.append((row[0], digest, stored))
    return out


async def _leaf_chunks(
    conn: AsyncConnection,
) -> AsyncIterator[list[tuple[int, bytes, str | None]]]:
    """Chunks of (seq, canonical entry, stored leaf hash), the next chunk fetched while
    the current one is hashed (the database thread and the hashing overlap)."""
    result = await conn.stream(_STREAM)
    pending = asyncio.ensure_future(result.fetchmany(_CHUNK))
    while True:
        rows = await pending
        if not rows:
            return
        pending = asyncio.ensure_future(result.fetchmany(_CHUNK))
        yield _leaves(list(rows))


@asynccontextmanager
async def snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """A read-only connection inside one transaction: a consistent view of a growing log,
    and the transaction PostgreSQL's server-side cursors (streaming) require."""
    isolation = "SERIALIZABLE" if db.is_sqlite else "REPEATABLE READ"
    async with db.reader.connect() as conn:
        conn = await conn.execution_options(isolation_level=isolation)
        async with conn.begin():
            yield conn


async def verify_store(db: Database, verifier: NoteVerifier) -> tuple[VerifyReport, float]:
    started = dt.datetime.now(dt.UTC)
    async with snapshot(db) as conn:
        try:
            checkpoints = await all_checkpoints(conn, verifier)
        except CheckpointError as exc:
            report = VerifyReport(
                ok=False,
                entries=0,
                root_hash="",
                checkpoints_verified=0,
                latest_checkpoint=None,
                problem=f"a stored checkpoint does not verify: {exc}",
            )
            return report, 0.0
        log = LogVerifier(checkpoints)
        async for chunk in _leaf_chunks(conn):
            if not log.feed_leaves(chunk):
                break
        report = log.finish()
        if report.ok:
            frontier = await read_tree(conn)
            if frontier.size != report.entries or frontier.root().hex() != report.root_hash:
                report = VerifyReport(
                    ok=False,
                    entries=report.entries,
                    root_hash=report.root_hash,
                    checkpoints_verified=report.checkpoints_verified,
                    latest_checkpoint=report.latest_checkpoint,
                    first_bad_seq=min(frontier.size, report.entries),
                    problem="the stored tree head disagrees with the entries",
                )
    return report, (dt.datetime.now(dt.UTC) - started).total_seconds()


async def leaf_hashes(conn: AsyncConnection, size: int) -> list[bytes]:
    rows = await conn.execute(
        select(audit_events.c.leaf_hash)
        .where(audit_events.c.seq < size)
        .order_by(audit_events.c.seq)
    )
    return [bytes.fromhex(value) for value in rows.scalars()]


async def tree_size(conn: AsyncConnection) -> int:
    return (await read_tree(conn)).size


async def entry_leaf_hash(conn: AsyncConnection, seq: int) -> bytes | None:
    """The leaf hash of entry `seq` recomputed from what its row holds now (not the stored
    hash): an edited row no longer matches the proof of the entry that was signed."""
    query = text(
        f"SELECT {', '.join(_COLUMNS)} FROM audit_events WHERE seq = :seq"  # noqa: S608
    )
    row = (await conn.execute(query, {"seq": seq})).first()
    if row is None:
        return None
    return hashlib.sha256(b"\x00" + canonical_entry(_entry(tuple(row)))).digest()


async def inclusion(conn: AsyncConnection, seq: int, size: int) -> dict[str, object]:
    hashes = await leaf_hashes(conn, size)
    proof = inclusion_proof(hashes, seq, size)
    return {
        "seq": seq,
        "tree_size": size,
        "leaf_hash": hashes[seq].hex(),
        "root_hash": root_of(hashes[:size]).hex(),
        "proof": [node.hex() for node in proof],
    }


async def consistency(conn: AsyncConnection, first: int, second: int) -> dict[str, object]:
    hashes = await leaf_hashes(conn, second)
    proof = consistency_proof(hashes, first, second)
    return {
        "first": first,
        "second": second,
        "first_root_hash": root_of(hashes[:first]).hex(),
        "second_root_hash": root_of(hashes[:second]).hex(),
        "proof": [node.hex() for node in proof],
    }


def export_line(seq: int, canonical: bytes, stored_leaf: str) -> bytes:
    """One JSONL line: the sequence number, the entry exactly as hashed, its leaf hash."""
    return (
        orjson.dumps({"seq": seq, "entry": canonical.decode("utf-8"), "leaf_hash": stored_leaf})
        + b"\n"
    )
