"""PII classification of free text: entity types and counts per record, and in audit entries.

`pii_classes` ({field: {entity type: count}}, never a value) on every table with a
`scan_pii` field; `classification` on audit entries, null on every earlier entry (an
entry without it is hashed exactly as before, so the log still verifies). Plain ADD
COLUMN on both backends: no table is rebuilt, so the append-only triggers stay.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SCANNED_TABLES = ("customers", "interactions")


def upgrade() -> None:
    for table in _SCANNED_TABLES:
        op.add_column(table, sa.Column("pii_classes", sa.JSON))
    op.add_column("audit_events", sa.Column("classification", sa.JSON))


def downgrade() -> None:
    op.drop_column("audit_events", "classification")
    for table in _SCANNED_TABLES:
        op.drop_column(table, "pii_classes")
