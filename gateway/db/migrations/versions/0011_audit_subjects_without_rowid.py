"""`audit_subjects` on SQLite as a WITHOUT ROWID table: one B-tree instead of two.

The table is only ever looked up by its primary key (subject_id, seq). As an ordinary
SQLite table every row went into the rowid B-tree and again into the primary key's
separate index, so each subject of a read dirtied pages of both; clustered on the key it
is written once, the access report's lookup reads the same key, and the table is half
the size. PostgreSQL keeps its table (a heap and its key index either way).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

from audit.schema import sqlite_drop_triggers, sqlite_triggers

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _rebuild(*, without_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in sqlite_drop_triggers("audit_subjects"):
        op.execute(statement)
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute(
        "CREATE TABLE audit_subjects_rebuilt ("
        "subject_id VARCHAR(40) NOT NULL, seq BIGINT NOT NULL, "
        f"PRIMARY KEY (subject_id, seq)){suffix}"
    )
    # In key order, so the new B-tree is filled left to right.
    op.execute(
        "INSERT INTO audit_subjects_rebuilt (subject_id, seq) "
        "SELECT subject_id, seq FROM audit_subjects ORDER BY subject_id, seq"
    )
    op.execute("DROP TABLE audit_subjects")
    op.execute("ALTER TABLE audit_subjects_rebuilt RENAME TO audit_subjects")
    for statement in sqlite_triggers("audit_subjects"):
        op.execute(statement)


def upgrade() -> None:
    _rebuild(without_rowid=True)


def downgrade() -> None:
    _rebuild(without_rowid=False)
