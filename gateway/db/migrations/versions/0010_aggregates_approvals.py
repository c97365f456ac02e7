"""Privacy-preserving aggregates and export approval: the differential privacy budget
ledger, the history of exact aggregate answers (differencing rule), export requests
with their single-use tokens, and per-day read counters against export thresholds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_budget",
        sa.Column("principal_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(64), primary_key=True),
        sa.Column("period_start", sa.String(40), primary_key=True),
        sa.Column("spent_micro", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "aggregate_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("principal_id", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("answered_at", sa.String(40), nullable=False),
        sa.Column("cells", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_aggregate_answers_principal",
        "aggregate_answers",
        ["principal_id", "purpose", "answered_at"],
    )
    op.create_table(
        "export_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("scope_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decided_at", sa.String(40)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("token_expires_at", sa.String(40)),
        sa.Column("used_at", sa.String(40)),
    )
    op.create_index("ix_export_requests_requester", "export_requests", ["requester"])
    op.create_index("ix_export_requests_status", "export_requests", ["status"])
    op.create_table(
        "read_counters",
        sa.Column("principal_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("records", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("read_counters")
    op.drop_index("ix_export_requests_status", "export_requests")
    op.drop_index("ix_export_requests_requester", "export_requests")
    op.drop_table("export_requests")
    op.drop_index("ix_aggregate_answers_principal", "aggregate_answers")
    op.drop_table("aggregate_answers")
    op.drop_table("privacy_budget")
