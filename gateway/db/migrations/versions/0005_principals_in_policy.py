"""Principals' roles and allowed purposes move into the versioned policy document.

Until now a principal's roles and purposes lived in the `principals` table, outside the
policy versions, so a diff or a rollback did not cover who holds which role. Existing
principals are copied into a new policy version (author "migration") and the table is
dropped: one place for that state. API keys stay in `api_keys` (never in the document,
so a rollback cannot bring a revoked key back) and keep naming their principal by id.

Policy versions also get a `diff` column (what changed from the version before), and
become immutable: the database refuses UPDATE and DELETE on them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

IMMUTABLE_MESSAGE = "policy versions are immutable"
MIGRATION_AUTHOR = "migration"

# Lightweight table shapes as of this revision (never the live schema module, which
# moves on with later revisions).
_principals = sa.table(
    "principals",
    sa.column("id", sa.String),
    sa.column("description", sa.Text),
    sa.column("roles", sa.JSON),
    sa.column("purposes", sa.JSON),
    sa.column("created_at", sa.String),
)
_versions = sa.table(
    "policy_versions",
    sa.column("version", sa.Integer),
    sa.column("created_at", sa.String),
    sa.column("author", sa.String),
    sa.column("comment", sa.Text),
    sa.column("document", sa.JSON),
)
_keys = sa.table("api_keys", sa.column("principal_id", sa.String))


def _latest(bind: sa.Connection) -> tuple[int, dict[str, Any]] | None:
    row = bind.execute(
        sa.select(_versions.c.version, _versions.c.document)
        .order_by(_versions.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.version), dict(row.document))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _move_principals_into_policy(bind: sa.Connection) -> None:
    rows = bind.execute(sa.select(_principals).order_by(_principals.c.id)).all()
    latest = _latest(bind)
    if not rows or latest is None:
        # No principal to move, or no policy to move it into (a store is only ever
        # given principals after its policy, by `wardgate init --demo`).
        return
    version, document = latest
    document["principals"] = {
        row.id: {
            "description": row.description or "",
            "roles": sorted(row.roles or []),
            "purposes": sorted(row.purposes or []),
        }
        for row in rows
    }
    bind.execute(
        sa.insert(_versions).values(
            version=version + 1,
            created_at=_now(),
            author=MIGRATION_AUTHOR,
            comment="principals' roles and purposes moved into the policy document",
            document=document,
        )
    )


def _sqlite_triggers() -> tuple[str, ...]:
    return tuple(
        f"""CREATE TRIGGER policy_versions_no_{verb.lower()} BEFORE {verb} ON policy_versions
            BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END"""
        for verb in ("UPDATE", "DELETE")
    )


_POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION wardgate_policy_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{IMMUTABLE_MESSAGE}'; END $$""",
    """CREATE TRIGGER policy_versions_no_update_delete BEFORE UPDATE OR DELETE
        ON policy_versions FOR EACH ROW EXECUTE FUNCTION wardgate_policy_immutable()""",
    """CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
        FOR EACH STATEMENT EXECUTE FUNCTION wardgate_policy_immutable()""",
)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("policy_versions", sa.Column("diff", sa.JSON))
    _move_principals_into_policy(bind)
    # api_keys loses its foreign key to principals (SQLite: by copying the table).
    api_keys = sa.Table(
        "api_keys",
        sa.MetaData(),
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    if sqlite:
        with op.batch_alter_table("api_keys", copy_from=api_keys, recreate="always"):
            pass
    else:
        op.drop_constraint("api_keys_principal_id_fkey", "api_keys", type_="foreignkey")
    op.create_index("ix_api_keys_principal_id", "api_keys", ["principal_id"])
    op.drop_table("principals")
    for statement in _sqlite_triggers() if sqlite else _POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS policy_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS policy_versions_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS policy_versions_no_truncate ON policy_versions")
        op.execute("DROP TRIGGER IF EXISTS policy_versions_no_update_delete ON policy_versions")
        op.execute("DROP FUNCTION IF EXISTS wardgate_policy_immutable()")
    op.create_table(
        "principals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("purposes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    latest = _latest(bind)
    specs: dict[str, Any] = dict((latest[1] if latest else {}).get("principals") or {})
    # Keys of principals the document no longer names get a principal without roles,
    # so the foreign key holds and those keys still open nothing.
    for (owner,) in bind.execute(sa.select(_keys.c.principal_id).distinct()).all():
        specs.setdefault(owner, {})
    rows = [
        {
            "id": pid,
            "description": spec.get("description", ""),
            "roles": list(spec.get("roles", [])),
            "purposes": list(spec.get("purposes", [])),
            "created_at": _now(),
        }
        for pid, spec in sorted(specs.items())
    ]
    if rows:
        bind.execute(sa.insert(_principals), rows)
    op.drop_index("ix_api_keys_principal_id", "api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.create_foreign_key(
            "api_keys_principal_id_fkey", "principals", ["principal_id"], ["id"]
        )
    with op.batch_alter_table("policy_versions") as batch:
        batch.drop_column("diff")
