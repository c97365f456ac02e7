"""PIPL consent records: an append-only history per customer and purpose.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
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

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("notice_version", sa.String(64)),
        sa.Column("evidence_hash", sa.String(128)),
        sa.Column("expires_at", sa.String(40)),
        sa.Column("separate", sa.JSON, nullable=False),
        sa.Column("guardian_ref", sa.String(128)),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
    )
    op.create_index("ix_consents_customer_purpose", "consents", ["customer_id", "purpose", "at"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in sqlite_triggers("consents") if sqlite else postgres_triggers("consents"):
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (
        sqlite_drop_triggers("consents") if sqlite else postgres_drop_triggers("consents")
    ):
        op.execute(statement)
    op.drop_index("ix_consents_customer_purpose", "consents")
    op.drop_table("consents")
