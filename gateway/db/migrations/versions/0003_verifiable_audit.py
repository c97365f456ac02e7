"""Verifiable audit log: sequence numbers from 0, leaf hashes, tree state, checkpoints.

Existing entries are renumbered from 0, hashed (RFC 8785 entry, RFC 6962 leaf) and
folded into the tree state, so a store keeps one continuous log across the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from audit.canonical import canonical_entry
from audit.merkle import Frontier, leaf_hash
from audit.schema import (
    APPEND_ONLY_TABLES,
    POSTGRES_DROP_TRIGGERS,
    POSTGRES_FUNCTION,
    SQLITE_DROP_TRIGGERS,
    audit_events,
    postgres_drop_triggers,
    postgres_triggers,
    sqlite_drop_triggers,
    sqlite_triggers,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Columns the table had before this revision (later revisions add more).
_LATER_COLUMNS = frozenset({"leaf_hash", "classification"})


def _existing_entries(bind: sa.Connection) -> list[dict[str, object]]:
    columns = [c for c in audit_events.c if c.name not in _LATER_COLUMNS]
    rows = bind.execute(sa.select(*columns).order_by(audit_events.c.seq)).all()
    return [dict(row._mapping) for row in rows]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for statement in SQLITE_DROP_TRIGGERS if sqlite else POSTGRES_DROP_TRIGGERS[:2]:
        op.execute(statement)
    op.add_column("audit_events", sa.Column("leaf_hash", sa.String(64)))
    if not sqlite:
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_events_seq_seq")
    op.create_table(
        "audit_subjects",
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "seq"),
    )
    op.create_table(
        "audit_tree",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.JSON, nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    # Renumber from 0 (0001 counted from 1) through negatives, so no step collides.
    op.execute("UPDATE audit_events SET seq = -seq")
    op.execute("UPDATE audit_events SET seq = -seq - 1")
    frontier = Frontier()
    leaves: list[dict[str, object]] = []
    subjects: list[dict[str, object]] = []
    for entry in _existing_entries(bind):
        digest = leaf_hash(canonical_entry(entry))
        frontier.append(digest)
        leaves.append({"_seq": entry["seq"], "_leaf": digest.hex()})
        ids = entry["subject_ids"]
        assert isinstance(ids, list)  # noqa: S101 - JSON column of the schema
        subjects.extend({"s": subject, "q": entry["seq"]} for subject in dict.fromkeys(ids))
    if leaves:
        bind.execute(
            sa.update(audit_events)
            .where(audit_events.c.seq == sa.bindparam("_seq"))
            .values(leaf_hash=sa.bindparam("_leaf")),
            leaves,
        )
    if subjects:
        bind.execute(
            sa.text("INSERT INTO audit_subjects (subject_id, seq) VALUES (:s, :q)"), subjects
        )
    bind.execute(
        sa.text("INSERT INTO audit_tree (id, size, frontier) VALUES (1, :size, :frontier)"),
        {"size": frontier.size, "frontier": json.dumps(frontier.to_json())},
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("leaf_hash", existing_type=sa.String(64), nullable=False)
    if not sqlite:
        op.execute(POSTGRES_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        for statement in sqlite_triggers(table) if sqlite else postgres_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table in APPEND_ONLY_TABLES:
        for statement in sqlite_drop_triggers(table) if sqlite else postgres_drop_triggers(table):
            op.execute(statement)
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree")
    op.drop_table("audit_subjects")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("leaf_hash")
