"""Tables of the customer store, derived from the data catalog, plus the gateway's own.

The Alembic migrations are the history of record; `tests/gateway/test_schema.py`
checks that the migrated database has a column for every catalog field.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
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

# PIPL Art. 44–50 data-subject requests: the request as it stands now (one row each)...
dsr_requests = Table(
    "dsr_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False, index=True),
    Column("type", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("received_at", String(40), nullable=False),
    Column("due_date", String(10), nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("filed_by", String(128), nullable=False),
    # What the person asked for (a correction's new values): ciphertext under the
    # customer's data key, so erasure shreds it with the rest.
    Column("payload", Text),
    Column("verification_method", String(32)),
    # SHA-256 of the identity evidence; the evidence itself is never stored.
    Column("evidence_hash", String(128)),
    Column("refusal_reason", String(32)),
    Column("refusal_text", Text),
    Column("failure", String(64)),
    # Audit sequence numbers and counts that prove what fulfilment did (no values).
    Column("result", JSON(none_as_null=True)),
    # The access package: ciphertext under the customer's data key.
    Column("package", Text),
    Column("package_expires_at", String(40)),
    Column("package_downloads", Integer, nullable=False, default=0),
    Column("updated_at", String(40), nullable=False),
)

# ... and every transition it went through: append-only (database triggers).
dsr_events = Table(
    "dsr_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("dsr_id", String(40), ForeignKey("dsr_requests.id"), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    # Reason words, methods, hashes, dates, audit ids: never a value of the person's data.
    Column("detail", JSON, nullable=False),
    Column("request_id", String(128), nullable=False),
)


# Legal holds (PIPL Art. 47 exceptions): one row per hold. Append-only history: a row
# is inserted when a hold is set and may change once, when it is released (database
# triggers refuse any other update and every delete).
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", String(40), nullable=False),
    Column("released_by", String(128)),
    Column("released_at", String(40)),
    Column("release_reason", String(32)),
    Column("release_note", Text),
)

# Leases of jobs that must run in one process at a time across every worker and host
# (the retention schedule): a row per job, taken by a conditional UPDATE.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128)),
    Column("expires_at", String(40)),
    Column("last_completed_at", String(40)),
)

LAST_ACTIVITY_COLUMN = "last_activity_at"
"""The customer's last activity (gateway.retention.activity), UTC ISO 8601, microseconds."""


# Console sessions (gateway.console.sessions): the session id is stored hashed, and a
# session is only as good as the API key it signed in with (checked on every request).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("principal_id", String(64), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, index=True),
    # Seconds since the epoch: the timeouts are arithmetic on them.
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("language", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False),
)

# Failed console sign-ins by client address, for the rate limit every process shares.
console_sign_in_failures = Table(
    "console_sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client", String(64), nullable=False, index=True),
    Column("at", Float, nullable=False, index=True),
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
            columns.append(Column(LAST_ACTIVITY_COLUMN, String(40), index=True))
        columns.append(Column("created_at", String(40), nullable=False))
        columns.append(Column("updated_at", String(40), nullable=False))
        tables[entity.name] = Table(entity.name, metadata, *columns)
    return tables


def customers_table() -> Table:
    return store_tables()["customers"]


__all__ = [
    "LAST_ACTIVITY_COLUMN",
    "PII_CLASSES_COLUMN",
    "aggregate_answers",
    "api_keys",
    "console_sessions",
    "console_sign_in_failures",
    "customers_table",
    "dsr_events",
    "dsr_requests",
    "export_requests",
    "job_leases",
    "legal_holds",
    "metadata",
    "policy_versions",
    "privacy_budget",
    "read_counters",
    "store_tables",
]
