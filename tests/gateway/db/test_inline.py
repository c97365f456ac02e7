"""The inline SQLite read path (`gateway.db.inline`) on a real store file: rows and
values as SQLAlchemy gives them for every column type the read pipelines select, every
commit seen by the next read, and driver errors raised as SQLAlchemy raised them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Numeric,
    Select,
    bindparam,
    column,
    create_engine,
    literal,
    literal_column,
    select,
    table,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.consents.store import consent_history_column
from gateway.customers.read import _by_id_statement, _page_statement
from gateway.db.engine import Database, canonical_json, create_database
from gateway.db.init_store import init_store
from gateway.db.schema import consents, customers_table, store_tables
from gateway.settings import Settings

_customers = customers_table()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("inline") / "data")
    asyncio.run(init_store(settings, demo=True, customers=6))
    return settings


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    db = create_database(settings)
    try:
        yield db
    finally:
        asyncio.run(db.dispose())


@pytest.fixture(scope="module")
def sqlalchemy_engine(settings: Settings) -> Iterator[Engine]:
    """What the inline path used before: SQLAlchemy's own engine on the same file."""
    engine = create_engine(
        f"sqlite:///{settings.sqlite_path}",
        json_serializer=canonical_json,
        isolation_level="AUTOCOMMIT",
    )
    try:
        yield engine
    finally:
        engine.dispose()


def _same_rows(
    db: Database, engine: Engine, statement: Select[Any], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows of `statement` both ways, asserted equal value for value and type for
    type (a processor skipped would give a str where SQLAlchemy gave a datetime)."""
    with engine.connect() as conn:
        expected = [dict(row._mapping) for row in conn.execute(statement, params).all()]
    assert db.inline is not None
    got = [dict(row._mapping) for row in db.inline.all(statement, params)]
    assert got == expected
    for got_row, expected_row in zip(got, expected, strict=True):
        assert list(got_row) == list(expected_row)
        for name, value in expected_row.items():
            assert type(got_row[name]) is type(value), name
    first = db.inline.first(statement, params)
    if expected:
        assert first is not None
        assert dict(first._mapping) == expected[0]
    else:
        assert first is None
    return got


def test_given_every_store_table_then_every_column_as_sqlalchemy_gives_it(
    db: Database, sqlalchemy_engine: Engine
) -> None:
    for name, stored in store_tables().items():
        rows = _same_rows(db, sqlalchemy_engine, select(stored).order_by(stored.c.id), {})
        assert rows or name != "customers"
    rows = _same_rows(db, sqlalchemy_engine, select(consents).order_by(consents.c.id), {})
    assert rows, "the demo store records consents"
    # JSON columns decoded to Python values, not left as text.
    assert all(not isinstance(row["separate"], str) for row in rows)


def test_given_typed_expressions_then_the_same_python_values(
    db: Database, sqlalchemy_engine: Engine
) -> None:
    """DateTime, Date, Boolean and Numeric processors, and typed bound parameters, as
    on SQLAlchemy's engine (no such column is in the store today; a new one must not
    come back as text)."""
    # SQLite's DateTime stores and returns naive values.
    when = dt.datetime(2026, 12, 4, 10, 30, 15, 123456)  # noqa: DTZ001
    statement = select(
        _customers.c.id,
        type_coerce(literal_column("'2026-12-03 08:00:00.000001'"), DateTime).label("at"),
        type_coerce(literal_column("'2026-12-03'"), Date).label("day"),
        type_coerce(literal_column("1"), Boolean).label("flag"),
        type_coerce(literal_column("12.5"), Numeric(10, 2)).label("amount"),
        type_coerce(bindparam("when"), DateTime).label("bound_at"),
        type_coerce(bindparam("yes"), Boolean).label("bound_flag"),
    ).order_by(_customers.c.id)
    rows = _same_rows(db, sqlalchemy_engine, statement, {"when": when, "yes": True})
    assert rows[0]["at"] == dt.datetime(2026, 12, 3, 8, 0, 0, 1)  # noqa: DTZ001
    assert rows[0]["bound_at"] == when
    assert rows[0]["flag"] is True
    assert rows[0]["amount"] == Decimal("12.50")
    assert rows[0]["bound_flag"] is True


def test_given_the_read_pipelines_statements_then_the_same_rows(
    db: Database, sqlalchemy_engine: Engine
) -> None:
    """The governed single and page statements, with their consent-history column."""
    columns = tuple(column.name for column in _customers.columns)
    with sqlalchemy_engine.connect() as conn:
        ids = list(conn.execute(select(_customers.c.id).order_by(_customers.c.id)).scalars())
    for purpose in ("marketing", "customer_service"):
        single = _by_id_statement("customers", columns, "sqlite")
        for record_id in (ids[0], ids[-1], "nobody"):
            _same_rows(
                db,
                sqlalchemy_engine,
                single,
                {"record_id": record_id, "consent_purpose": purpose},
            )
        page = _page_statement(
            "customers", columns, after=True, scoped=False, consent_dialect="sqlite"
        )
        rows = _same_rows(
            db,
            sqlalchemy_engine,
            page,
            {"after_id": ids[0], "limit": 3, "consent_purpose": purpose},
        )
        assert [row["id"] for row in rows] == ids[1:4]
    history = select(consent_history_column(_customers.c.id, "sqlite"))
    _same_rows(db, sqlalchemy_engine, history, {"consent_purpose": "marketing"})


def test_given_an_erasure_committed_then_the_next_inline_read_sees_it(
    db: Database, settings: Settings
) -> None:
    """Each statement is its own snapshot, also after a `first` that left rows unread:
    nothing read before a commit is served after it."""
    assert db.inline is not None
    everyone = select(_customers.c.id).order_by(_customers.c.id)
    one = select(_customers.c.id, _customers.c.erased_at).where(
        _customers.c.id == bindparam("record_id")
    )
    head = db.inline.first(everyone, {})  # more rows than it reads
    assert head is not None
    target = head.id
    before = db.inline.first(one, {"record_id": target})
    assert before is not None
    assert before.erased_at is None
    erased = "2026-12-04T00:00:00+00:00"

    async def erase() -> None:
        async with db.writer.begin() as conn:
            await conn.execute(
                update(_customers).where(_customers.c.id == target).values(erased_at=erased)
            )

    asyncio.run(erase())
    after = db.inline.first(one, {"record_id": target})
    assert after is not None
    assert after.erased_at == erased
    assert [row.erased_at for row in db.inline.all(one, {"record_id": target})] == [erased]


def test_given_a_failing_statement_then_sqlalchemys_error_without_its_values(
    db: Database,
) -> None:
    assert db.inline is not None
    secret = "13800138000"  # a phone number: a value that must never be quoted
    absent = table("no_such_table", column("phone"))
    statement = select(absent.c.phone).where(absent.c.phone == bindparam("phone"))
    with pytest.raises(OperationalError) as caught:
        db.inline.all(statement, {"phone": secret})
    assert isinstance(caught.value, DBAPIError)
    assert secret not in str(caught.value)
    assert "no such table" in str(caught.value.orig)
    # The connection it failed on is not given back; the next read is served.
    assert db.inline.first(select(literal(1).label("one")), {}) is not None


def test_given_observers_then_each_statement_is_told_without_parameters(db: Database) -> None:
    assert db.inline is not None
    seen: list[str] = []
    db.inline.observers.append(seen.append)
    db.inline.first(select(_customers.c.id).where(_customers.c.id == bindparam("x")), {"x": "v"})
    assert len(seen) == 1
    assert seen[0].startswith("SELECT")
    assert "v" not in seen[0].split("?")[-1]


def test_given_a_new_store_directory_then_the_first_read_creates_the_file_privately(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    db = create_database(settings)
    try:
        assert db.inline is not None
        assert db.inline.first(select(literal(1).label("one")), {}) is not None
        assert settings.sqlite_path.stat().st_mode & 0o777 == 0o600
        assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    finally:
        asyncio.run(db.dispose())
