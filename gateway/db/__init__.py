"""The store: engines, schema, Alembic migrations, and creating a new store."""
