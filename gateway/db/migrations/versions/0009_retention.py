"""Retention: each customer's last activity, legal holds, and job leases.

- `customers.last_activity_at`: the latest of the customer's creation, writes,
  interactions, orders and consent changes (`gateway.retention.activity`). Existing
  rows are filled in from what the store already holds: the record's `created_at` and
  `updated_at`, the latest `occurred_at` of its interactions, `ordered_at` of its
  orders and `at` of its consent events — four grouped queries, the latest taken in
  Python so that times written with different offsets compare as instants.
- `legal_holds`: one row per hold; append-only except for its one release (triggers).
- `job_leases`: one row per job that runs in one process at a time (`retention`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BATCH = 1000
_MESSAGE = "legal_holds is append-only: a hold may only be released, once"
_KEPT = ("id", "customer_id", "reason", "note", "set_by", "set_at")

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER legal_holds_release_only BEFORE UPDATE ON legal_holds
        WHEN OLD.released_at IS NOT NULL OR NEW.released_at IS NULL
          OR NEW.released_by IS NULL OR NEW.release_reason IS NULL
          OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _KEPT)}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
    f"""CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
)
_POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION wardgate_legal_hold_release_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
             AND NEW.released_by IS NOT NULL AND NEW.release_reason IS NOT NULL
             AND ({", ".join(f"NEW.{c}" for c in _KEPT)})
                 IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _KEPT)}) THEN
            RETURN NEW;
          END IF;
          RAISE EXCEPTION '{_MESSAGE}';
        END $$""",
    """CREATE TRIGGER legal_holds_release_only BEFORE UPDATE OR DELETE ON legal_holds
        FOR EACH ROW EXECUTE FUNCTION wardgate_legal_hold_release_only()""",
    """CREATE TRIGGER legal_holds_no_truncate BEFORE TRUNCATE ON legal_holds
        FOR EACH STATEMENT EXECUTE FUNCTION wardgate_legal_hold_release_only()""",
)


def _instant(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None  # a time that does not parse tells nothing about activity
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _latest(pairs: Iterable[tuple[str, object]], into: dict[str, dt.datetime]) -> None:
    for customer_id, value in pairs:
        at = _instant(value)
        if at is not None and (customer_id not in into or at > into[customer_id]):
            into[customer_id] = at


def _backfill() -> None:
    bind = op.get_bind()
    latest: dict[str, dt.datetime] = {}
    customers = sa.table(
        "customers",
        sa.column("id"),
        sa.column("created_at"),
        sa.column("updated_at"),
        sa.column("last_activity_at"),
    )
    for row in bind.execute(sa.select(customers.c.id, customers.c.created_at)):
        _latest([(row.id, row.created_at)], latest)
    for row in bind.execute(sa.select(customers.c.id, customers.c.updated_at)):
        _latest([(row.id, row.updated_at)], latest)
    for name, column in (("interactions", "occurred_at"), ("orders", "ordered_at")):
        related = sa.table(name, sa.column("customer_id"), sa.column(column))
        # Times of one customer may carry different offsets: every distinct one is
        # compared as an instant (few per customer), not the text's maximum.
        query = sa.select(related.c.customer_id, related.c[column]).distinct()
        _latest(((r[0], r[1]) for r in bind.execute(query)), latest)
    consents = sa.table("consents", sa.column("customer_id"), sa.column("at"))
    query = sa.select(consents.c.customer_id, consents.c.at).distinct()
    _latest(((r[0], r[1]) for r in bind.execute(query)), latest)
    rows = [
        {"cid": customer_id, "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds")}
        for customer_id, at in latest.items()
    ]
    statement = (
        sa.update(customers)
        .where(customers.c.id == sa.bindparam("cid"))
        .values(last_activity_at=sa.bindparam("at"))
    )
    for start in range(0, len(rows), _BATCH):
        bind.execute(statement, rows[start : start + _BATCH])


def upgrade() -> None:
    op.add_column("customers", sa.Column("last_activity_at", sa.String(40)))
    op.create_index("ix_customers_last_activity_at", "customers", ["last_activity_at"])
    _backfill()
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
        sa.Column("released_by", sa.String(128)),
        sa.Column("released_at", sa.String(40)),
        sa.Column("release_reason", sa.String(32)),
        sa.Column("release_note", sa.Text),
    )
    op.create_index("ix_legal_holds_customer_id", "legal_holds", ["customer_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_TRIGGERS if sqlite else _POSTGRES_TRIGGERS:
        op.execute(statement)
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128)),
        sa.Column("expires_at", sa.String(40)),
        sa.Column("last_completed_at", sa.String(40)),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS legal_holds_no_delete")
        op.execute("DROP TRIGGER IF EXISTS legal_holds_release_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS legal_holds_no_truncate ON legal_holds")
        op.execute("DROP TRIGGER IF EXISTS legal_holds_release_only ON legal_holds")
        op.execute("DROP FUNCTION IF EXISTS wardgate_legal_hold_release_only()")
    op.drop_index("ix_legal_holds_customer_id", "legal_holds")
    op.drop_table("legal_holds")
    op.drop_index("ix_customers_last_activity_at", "customers")
    op.drop_column("customers", "last_activity_at")
