"""The audit table and the database triggers that make it append-only."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, String, Table, Text

metadata = MetaData()

audit_events = Table(
    "audit_events",
    metadata,
    # BigInteger maps to INTEGER PRIMARY KEY (rowid) on SQLite via the variant.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
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
)

APPEND_ONLY_MESSAGE = "audit_events is append-only"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
)

POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION wardgate_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$""",
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
