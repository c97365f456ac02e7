"""Key store tables. The key store is a database of its own (by default `keys.db` next to
the customer store), so a backup of the customer store holds no data key: erasing a
customer's key makes their ciphertext undecryptable in every earlier backup too."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

metadata = MetaData()

data_keys = Table(
    "data_keys",
    metadata,
    Column("owner_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("suite", String(16), nullable=False),
    Column("kek_version", Integer, nullable=False),
    Column("wrapped", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("retired_at", String(40)),
    PrimaryKeyConstraint("owner_id", "version"),
)

system_keys = Table(
    "system_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("suite", String(16), nullable=False),
    Column("kek_version", Integer, nullable=False),
    Column("wrapped", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)
