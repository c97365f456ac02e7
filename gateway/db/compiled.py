"""A read statement compiled once for a driver, and its rows built as SQLAlchemy's.

Both fast read paths (`pg_fast.py` on asyncpg, `inline.py` on sqlite3) run the read
pipelines' statements on the driver's connection directly, without SQLAlchemy's
Connection, execution context and Result around each one. What they keep of
SQLAlchemy is here: the SQL the dialect compiles, the order of its positional
parameters with their bind processors, and rows built as SQLAlchemy `Row`s through the
same result processors (DateTime, Boolean, JSON...), so the pipelines cannot tell the
difference (`row._mapping`, `row.id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ClauseElement, Dialect, Executable
from sqlalchemy.engine.result import RMKeyView, SimpleResultMetaData
from sqlalchemy.engine.row import Row
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]


class _ReadMetadata(SimpleResultMetaData):
    """A statement's column names, with its keys view built once: SQLAlchemy builds a
    new one (a list of the names) on every `row._mapping.keys()`, i.e. for every row
    the pipelines turn into a dict."""

    __slots__ = ("_keys_view",)

    def __init__(self, keys: Sequence[str]) -> None:
        super().__init__(keys)
        self._keys_view = RMKeyView(self)

    @property
    def keys(self) -> RMKeyView:
        return self._keys_view


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """A statement compiled for one dialect, with what turns its rows into `Row`s."""

    sql: str
    bind_names: tuple[str, ...]
    bind_processors: tuple[Any, ...] | None
    metadata: SimpleResultMetaData
    result_processors: Any
    """The processors `Row` applies per column, or None when no column needs one."""
    bound_values: Mapping[str, Any]
    """Values the statement carries itself (`literal(1)`), used where `params` names none."""

    def arguments(self, params: Params) -> list[Any]:
        if self.bound_values:
            params = {**self.bound_values, **params}
        if self.bind_processors is None:
            return [params[name] for name in self.bind_names]
        return [
            params[name] if process is None else process(params[name])
            for name, process in zip(self.bind_names, self.bind_processors, strict=True)
        ]

    def row(self, record: Sequence[Any]) -> Row[Any]:
        # Row(parent, processors, key_to_index, data): what SQLAlchemy's own result
        # objects build, without a Result around each statement (~18 µs a read).
        metadata = self.metadata
        return Row(metadata, self.result_processors, metadata._key_to_index, record)


@lru_cache(maxsize=1024)
def compile_read(statement: Executable, dialect: Dialect) -> CompiledRead:
    """`statement` in the dialect's positional SQL, with its bind order and result map.

    Keyed by the statement object: the pipelines build each statement once
    (`lru_cache` in `gateway.customers.read`), so this compiles each once too."""
    if not isinstance(statement, ClauseElement):
        msg = f"not a SQL expression: {type(statement).__name__}"
        raise TypeError(msg)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # noqa: S101 - a SELECT compiles with SQL's
    if compiled.literal_execute_params or compiled.post_compile_params:
        # Expanding IN lists are rendered per execution; not on the hot path.
        msg = "statements with expanding parameters are not supported on the fast path"
        raise ValueError(msg)
    if not compiled.positional:
        msg = f"the {dialect.name} dialect does not compile positional parameters"
        raise ValueError(msg)
    names = tuple(compiled.positiontup or ())
    carried = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if not bind.required and name in names
    }
    binds = tuple(compiled._bind_processors.get(name) for name in names)
    columns = compiled._result_columns or []
    results = [column.type._cached_result_processor(dialect, None) for column in columns]
    return CompiledRead(
        sql=compiled.string,
        bind_names=names,
        bind_processors=binds if any(binds) else None,
        metadata=_ReadMetadata([column.keyname for column in columns]),
        result_processors=results if any(results) else None,
        bound_values=carried,
    )
