"""Initial schema: customer store, principals, API keys, policy versions, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from audit.schema import (
    POSTGRES_DROP_TRIGGERS,
    POSTGRES_TRIGGERS,
    SQLITE_DROP_TRIGGERS,
    SQLITE_TRIGGERS,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _times() -> list[sa.Column[str]]:
    return [
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("purposes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("principal_id", sa.String(64), sa.ForeignKey("principals.id"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("id_number", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("address", sa.Text),
        sa.Column("bank_card", sa.Text),
        sa.Column("birth_date", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("tier", sa.Text),
        sa.Column("notes", sa.Text),
        *_times(),
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("occurred_at", sa.Text),
        sa.Column("summary", sa.Text),
        sa.Column("satisfaction", sa.Integer),
        *_times(),
    )
    op.create_index("ix_interactions_customer_id", "interactions", ["customer_id", "id"])
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("ordered_at", sa.Text),
        sa.Column("amount", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("delivery_address", sa.Text),
        *_times(),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id", "id"])
    op.create_table(
        "audit_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("principal_id", sa.String(128)),
        sa.Column("on_behalf_of", sa.String(128)),
        sa.Column("purpose", sa.String(64)),
        sa.Column("legal_basis", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64)),
        sa.Column("record_ids", sa.JSON, nullable=False),
        sa.Column("subject_ids", sa.JSON, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("policy_version", sa.Integer),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text),
    )
    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    drops = (
        SQLITE_DROP_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_DROP_TRIGGERS
    )
    for statement in drops:
        op.execute(statement)
    for table in (
        "audit_events",
        "orders",
        "interactions",
        "customers",
        "policy_versions",
        "api_keys",
        "principals",
    ):
        op.drop_table(table)
