"""Bulk import of customers from CSV or JSON Lines: each row validated like an API
create, encrypted, and loaded by the shared import job (gateway/bulk/job.py).

Each batch's data keys are committed in the key store before its rows, as for every
write: a failure in between leaves unused keys, never rows that cannot be decrypted.
Free text is classified as an API write classifies it (one batched detection).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from ulid import ULID

from gateway.bulk.job import DEFAULT_BATCH, Checked, run_import
from gateway.bulk.report import ImportProblem, ImportProgress, ImportReport, ignore_progress
from gateway.bulk.source import SourceRow
from gateway.compliance.request_audit import RequestAudit
from gateway.customers import classification as classes
from gateway.db.engine import Database
from gateway.db.schema import LAST_ACTIVITY_COLUMN, PII_CLASSES_COLUMN, store_tables
from gateway.encryption.protection import Protector
from gateway.pii.detector import shared_detector
from gateway.settings import Settings
from policies.catalog import Entity, default_catalog
from policies.formats import FieldInvalid, check_consistency, validate

ENTITY = "customers"
ACTION = "customers.import"
_CHUNK = 200


@dataclass(frozen=True, slots=True)
class CustomerImportReport(ImportReport):
    @property
    def customers_per_second(self) -> float:
        return self.rows_per_second


def check_row(entity: Entity, row: SourceRow) -> Checked[dict[str, object]]:
    """Validate a row as an API create would: the values to store, or its problems."""
    problems = list(row.problems)
    if row.unreadable:
        return None, problems
    values: dict[str, object] = {}
    for name, raw in row.values.items():
        spec = entity.field(name)
        if not spec.writable:
            problems.append(ImportProblem(row.line, name, "field_not_writable"))
            continue
        try:
            values[name] = validate(spec.format, raw, required=spec.required)
        except FieldInvalid as invalid:
            problems.append(ImportProblem(row.line, name, invalid.reason))
    problems.extend(
        ImportProblem(row.line, spec.name, "required")
        for spec in entity.fields
        if spec.required and spec.name not in row.values
    )
    problems.extend(
        ImportProblem(row.line, name, reason) for name, reason in check_consistency(values)
    )
    return values, problems


@dataclass(frozen=True, slots=True)
class _Batch:
    ids: list[str]
    rows: list[dict[str, object]]
    fields: dict[str, str]
    classification: dict[str, dict[str, int]] | None


class CustomerRows:
    """The customers import's row rules for the bulk job."""

    chunk = _CHUNK

    def __init__(self, protector: Protector) -> None:
        self.protector = protector
        self.layout = protector.catalog.entity(ENTITY)
        self.table = store_tables()[ENTITY]

    async def check(self, rows: Sequence[SourceRow]) -> list[Checked[dict[str, object]]]:
        return [check_row(self.layout, row) for row in rows]

    async def prepare(self, batch: Sequence[dict[str, object]]) -> _Batch:
        protector, entity = self.protector, self.layout
        ids = [f"cus_{ULID()}" for _ in batch]
        keys = await protector.keystore.create_data_keys(ids)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        blank = dict.fromkeys(entity.field_names)
        texts, places = classes.texts_of(entity, list(batch))
        found = shared_detector().detect_many(texts) if texts else []
        classified = classes.classifications(len(batch), places, found)
        rows = [
            protector.protect(
                ENTITY, blank | values | {"id": record_id}, record_id, keys[record_id]
            )
            | {
                "created_at": now,
                "updated_at": now,
                LAST_ACTIVITY_COLUMN: now,
                PII_CLASSES_COLUMN: counts or None,
            }
            for record_id, values, counts in zip(ids, batch, classified, strict=True)
        ]
        present = {name for values in batch for name in values}
        return _Batch(
            ids=ids,
            rows=rows,
            fields={name: "written" for name in entity.field_names if name in present},
            classification=classes.total(classified) if places else None,
        )

    async def store(self, conn: AsyncConnection, prepared: _Batch, audit: RequestAudit) -> None:
        await conn.execute(insert(self.table), prepared.rows)
        audit.record_ids = audit.subject_ids = tuple(prepared.ids)
        audit.fields = prepared.fields
        audit.classification = prepared.classification

    def tally(self, _batch: Sequence[dict[str, object]]) -> Mapping[str, int]:
        return {}

    def restart(self) -> None:
        return None


async def _rules(_db: Database, protector: Protector) -> CustomerRows:
    return CustomerRows(protector)


async def import_customers(
    settings: Settings,
    path: Path,
    *,
    all_or_nothing: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[ImportProgress], None] = ignore_progress,
) -> CustomerImportReport:
    """Import customers from `path` (.csv, .jsonl or .ndjson) into the store of `settings`.

    Raises ImportSourceError if the file is unusable, MasterKeyError or
    StoreNotReadyError if the store is not there, ImportAbortedError if the store
    fails mid-way (with what was committed before).
    """
    return await run_import(
        settings,
        path,
        _rules,
        layout=default_catalog().entity(ENTITY),
        action=ACTION,
        entity=ENTITY,
        report_type=CustomerImportReport,
        all_or_nothing=all_or_nothing,
        batch_size=batch_size,
        progress=progress,
    )
