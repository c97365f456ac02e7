"""The audit tables and the database triggers that make them append-only.

`audit_events` is the log (one row per entry, `seq` from 0 without gaps, with its RFC
6962 leaf hash); `audit_subjects` indexes entries by the customers they concern (for
access reports); `audit_checkpoints` holds the signed tree heads. `audit_tree` is the
one row that may change: the tree size and right-edge frontier, so appends never rehash
the log. It is a cache — verification recomputes everything from the entries and checks
it against the signed checkpoints.

`audit_tree.indexed` is the subject index's watermark: every entry below it has all its
subjects in `audit_subjects`. An entry about many people (a list read) is indexed later,
in bulk with the entries after it (`audit.subjects`); until then readers find it through
the `subject_ids` it carries, so "who read my data" is exact at every moment.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("occurred_at", String(40), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("principal_id", String(128)),
    Column("on_behalf_of", String(128)),
    Column("purpose", String(64)),
    Column("legal_basis", String(32)),
    Column("action", String(64), nullable=False),
    Column("entity", String(64)),
    Column("record_ids", JSON, nullable=False),
    Column("subject_ids", JSON, nullable=False),
    Column("fields", JSON, nullable=False),
    Column("policy_version", Integer),
    Column("outcome", String(16), nullable=False),
    Column("status", Integer, nullable=False),
    Column("reason", Text),
    Column("leaf_hash", String(64), nullable=False),
    # PII types and counts found in the text a request wrote, scanned or showed; null otherwise.
    # none_as_null: SQL NULL, not the JSON text `null`, so the fast verification splice
    # reproduces such rows as they were hashed (without the key).
    Column("classification", JSON(none_as_null=True)),
)

audit_subjects = Table(
    "audit_subjects",
    metadata,
    Column("subject_id", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("subject_id", "seq"),
    # Looked up only by its key: clustered on it, one B-tree to write (migration 0011).
    sqlite_with_rowid=False,
)

audit_tree = Table(
    "audit_tree",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", JSON, nullable=False),
    # Entries below this sequence number have all their subjects in `audit_subjects`.
    Column("indexed", BigInteger, nullable=False, server_default="0"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

APPEND_ONLY_MESSAGE = "audit tables are append-only"
APPEND_ONLY_TABLES = ("audit_events", "audit_subjects", "audit_checkpoints")


def sqlite_triggers(table: str) -> tuple[str, ...]:
    return tuple(
        f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"""
        for verb in ("UPDATE", "DELETE")
    )


def sqlite_drop_triggers(table: str) -> tuple[str, ...]:
    return tuple(f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete"))


POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION wardgate_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"""


def postgres_triggers(table: str) -> tuple[str, ...]:
    return (
        f"""CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION wardgate_audit_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION wardgate_audit_append_only()""",
    )


def postgres_drop_triggers(table: str) -> tuple[str, ...]:
    return (
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
    )


# Kept for migration 0001, which created the first triggers with these statements.
SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
)
POSTGRES_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION wardgate_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION wardgate_audit_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION wardgate_audit_append_only()""",
)
POSTGRES_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    "DROP FUNCTION IF EXISTS wardgate_audit_append_only()",
)
