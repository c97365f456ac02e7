"""Tables of the customer store, derived from the data catalog, plus the gateway's own.

The Alembic migrations are the history of record; `tests/gateway/test_schema.py`
checks that the migrated database has a column for every catalog field.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from policies.catalog import Catalog, FieldSpec, default_catalog

metadata = MetaData()

# Formats stored as integers; everything else is text (ISO dates sort as text, and
# encrypted fields will hold ciphertext).
_INTEGER_FORMATS = frozenset({"rating"})

# Principals (roles, allowed purposes) live in the versioned policy document; a key
# names its principal by id, and a key whose principal the document lacks opens nothing.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("principal_id", String(64), nullable=False, index=True),
    # SHA-256 of the whole key: keys are 256-bit random, so a fast hash is enough and
    # the plaintext is never stored.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

# PIPL consent history: append-only (database triggers); the current state is derived.
consents = Table(
    "consents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", String(40), nullable=False),
    Column("channel", String(64)),
    Column("notice_version", String(64)),
    Column("evidence_hash", String(128)),
    Column("expires_at", String(40)),
    Column("separate", JSON, nullable=False),
    Column("guardian_ref", String(128)),
    Column("recorded_by", String(128), nullable=False),
    Column("request_id", String(128), nullable=False),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("created_at", String(40), nullable=False),
    Column("author", String(64), nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("document", JSON, nullable=False),
    # What changed from the version before (policies.diff), null for versions saved
    # before diffs were recorded. Derived data, kept so the history reads without
    # recomputing it; the audit entry of the change carries the same diff.
    Column("diff", JSON),
)


# Differential privacy budgets, per principal, purpose and period: ε spent in millionths
# (integers add exactly), debited by one conditional UPDATE (gateway.aggregates.budget).
privacy_budget = Table(
    "privacy_budget",
    metadata,
    Column("principal_id", String(128), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("period_start", String(40), primary_key=True),
    Column("spent_micro", BigInteger, nullable=False, default=0),
)

# Exact aggregate answers released (differential privacy off), for the differencing
# rule: each released position as its population predicate and its cohort then.
aggregate_answers = Table(
    "aggregate_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal_id", String(128), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("answered_at", String(40), nullable=False),
    Column("cells", JSON, nullable=False),
    Index("ix_aggregate_answers_principal", "principal_id", "purpose", "answered_at"),
)

# Dual control for bulk export: a request, its decision, and its single-use token
# (stored as a SHA-256 hash only), bound to the SHA-256 of the exact scope.
export_requests = Table(
    "export_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("requester", String(128), nullable=False, index=True),
    Column("purpose", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("scope", JSON, nullable=False),
    Column("scope_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", String(40), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", String(40)),
    Column("decision_reason", Text),
    Column("token_hash", String(64), unique=True),
    Column("token_expires_at", String(40)),
    Column("used_at", String(40)),
)

# Records read per principal, purpose and UTC day, against the purpose's export
# threshold: one conditional UPDATE per read request.
read_counters = Table(
    "read_counters",
    metadata,
    Column("principal_id", String(128), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("records", Integer, nullable=False, default=0),
)


def _column(spec: FieldSpec, parent: str | None) -> Column[object]:
    if spec.name == "id":
        return Column("id", String(40), primary_key=True)
    if spec.name == "customer_id" and parent is not None:
        return Column(
            "customer_id", String(40), ForeignKey(f"{parent}.id"), nullable=False, index=True
        )
    column_type = Integer if spec.format in _INTEGER_FORMATS else Text
    return Column(spec.name, column_type, nullable=not spec.required)


def blind_index_column(field: str) -> str:
    return f"{field}_bidx"


# What PII detection found in a record's `scan_pii` fields: {field: {entity type: count}}.
PII_CLASSES_COLUMN = "pii_classes"


@cache
def store_tables(catalog: Catalog | None = None) -> dict[str, Table]:
    """One table per catalog entity, columns in catalog order, plus bookkeeping times."""
    catalog = catalog or default_catalog()
    tables: dict[str, Table] = {}
    for entity in catalog.entities.values():
        columns = [_column(spec, entity.parent) for spec in entity.fields]
        columns.extend(
            Column(blind_index_column(spec.name), String(64), index=True)
            for spec in entity.fields
            if spec.blind_index
        )
        if any(spec.scan_pii for spec in entity.fields):
            columns.append(Column(PII_CLASSES_COLUMN, JSON(none_as_null=True)))
        if entity.parent is None:
            # Erased subjects keep their (undecryptable) ciphertext; this marks them.
            columns.append(Column("erased_at", String(40)))
        columns.append(Column("created_at", String(40), nullable=False))
        columns.append(Column("updated_at", String(40), nullable=False))
        tables[entity.name] = Table(entity.name, metadata, *columns)
    return tables


def customers_table() -> Table:
    return store_tables()["customers"]


__all__ = [
    "PII_CLASSES_COLUMN",
    "aggregate_answers",
    "api_keys",
    "customers_table",
    "export_requests",
    "metadata",
    "policy_versions",
    "privacy_budget",
    "read_counters",
    "store_tables",
]
