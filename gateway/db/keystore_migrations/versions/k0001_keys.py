"""Key store: wrapped data keys per customer and the system keys.

Revision ID: k0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("owner_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("suite", sa.String(16), nullable=False),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("wrapped", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("retired_at", sa.String(40)),
        sa.PrimaryKeyConstraint("owner_id", "version"),
    )
    op.create_index("ix_data_keys_kek_version", "data_keys", ["kek_version"])
    op.create_table(
        "system_keys",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("suite", sa.String(16), nullable=False),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("wrapped", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("system_keys")
    op.drop_index("ix_data_keys_kek_version", "data_keys")
    op.drop_table("data_keys")
