"""Encryption at rest: blind-index columns and the erasure mark.

Encrypted fields keep their TEXT columns, which now hold ciphertext. Stores seeded
before this revision hold plaintext there; re-create them (`wardgate init`) — there
were no deployments before it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BLIND_INDEXED = ("phone", "email", "id_number")


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("erased_at", sa.String(40)))
        for field in _BLIND_INDEXED:
            batch.add_column(sa.Column(f"{field}_bidx", sa.String(64)))
    for field in _BLIND_INDEXED:
        op.create_index(f"ix_customers_{field}_bidx", "customers", [f"{field}_bidx"])


def downgrade() -> None:
    for field in _BLIND_INDEXED:
        op.drop_index(f"ix_customers_{field}_bidx", "customers")
    with op.batch_alter_table("customers") as batch:
        for field in _BLIND_INDEXED:
            batch.drop_column(f"{field}_bidx")
        batch.drop_column("erased_at")
