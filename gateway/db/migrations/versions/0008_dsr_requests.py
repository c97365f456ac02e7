"""PIPL Art. 44–50 data-subject requests and their append-only transition history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from audit.schema import (
    postgres_drop_triggers,
    postgres_triggers,
    sqlite_drop_triggers,
    sqlite_triggers,
)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("due_date", sa.String(10), nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("filed_by", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("verification_method", sa.String(32)),
        sa.Column("evidence_hash", sa.String(128)),
        sa.Column("refusal_reason", sa.String(32)),
        sa.Column("refusal_text", sa.Text),
        sa.Column("failure", sa.String(64)),
        sa.Column("result", sa.JSON),
        sa.Column("package", sa.Text),
        sa.Column("package_expires_at", sa.String(40)),
        sa.Column("package_downloads", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_dsr_requests_customer_id", "dsr_requests", ["customer_id"])
    op.create_index("ix_dsr_requests_status", "dsr_requests", ["status"])
    op.create_table(
        "dsr_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("dsr_id", sa.String(40), sa.ForeignKey("dsr_requests.id"), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_dsr_events_dsr_id", "dsr_events", ["dsr_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in sqlite_triggers("dsr_events") if sqlite else postgres_triggers("dsr_events"):
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (
        sqlite_drop_triggers("dsr_events") if sqlite else postgres_drop_triggers("dsr_events")
    ):
        op.execute(statement)
    op.drop_index("ix_dsr_events_dsr_id", "dsr_events")
    op.drop_table("dsr_events")
    op.drop_index("ix_dsr_requests_status", "dsr_requests")
    op.drop_index("ix_dsr_requests_customer_id", "dsr_requests")
    op.drop_table("dsr_requests")
