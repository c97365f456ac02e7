"""Alembic environment of the key store (its own history and version table)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    msg = "run migrations through `wardgate db upgrade`, which provides the connection"
    raise RuntimeError(msg)

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=True,
    version_table="wardgate_keystore_version",
)
with context.begin_transaction():
    context.run_migrations()
