"""Exit codes and the one line an operator sees when a command cannot do its work.

Every command exits with one of four codes (the README's CLI section has the table):

- 0 done;
- 1 the command ran and found problems: rows rejected (an all-or-nothing import
  refused included), a verification or an expectation case failed, a policy change
  refused, a key revoked before;
- 2 unusable input: a bad option, a missing or malformed file, no store in the data
  directory, a missing or wrong master key, a name the store does not know;
- 3 a service the command needs is unavailable: the database cannot be reached, the
  port is in use, the store failed part-way.

An operator's mistake is one line on stderr and one of these codes, never a
traceback. `WardgateGroup` catches what a command lets through and maps it here, in
one place; a genuine bug still shows its traceback (without local variables).
"""

from __future__ import annotations

import errno
import socket
from enum import IntEnum
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from gateway.db.opening import StoreNotReadyError
from gateway.policy.store import NoPolicyError
from keys import MasterKeyError


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    UNUSABLE = 2
    UNAVAILABLE = 3


def exit_codes(
    problems: str | None = None,
    *,
    unusable: str = "unusable input, no store in the data directory or no master key",
    unavailable: str = "the database is unreachable",
) -> str:
    """The `Exit codes:` paragraph of a command's --help."""
    parts = ["0 done"]
    if problems:
        parts.append(f"1 {problems}")
    parts.append(f"2 {unusable}")
    if unavailable:
        parts.append(f"3 {unavailable}")
    return "Exit codes: " + "; ".join(parts) + "."


class OperatorError(Exception):
    """A command cannot do its work for a reason the operator can fix: one line, one code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.UNUSABLE) -> None:
        super().__init__(message)
        self.code = code


_UNAVAILABLE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EADDRINUSE}
# PostgreSQL SQLSTATE classes and codes met while connecting (Appendix A of its manual).
_PG_MISSING_DATABASE = "3D000"
_PG_UNAVAILABLE_PREFIXES = ("08", "28", "53", "57")


def _sqlstate(exc: DBAPIError) -> str | None:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


def _sqlite_error(exc: DBAPIError) -> str | None:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        name = getattr(candidate, "sqlite_errorname", None)
        if isinstance(name, str):
            return name
    return None


def _driver_message(exc: DBAPIError) -> str:
    """The driver's own first line for a connection failure. Never used for a failed
    statement: such a message may quote the statement, and a statement a value."""
    cause = getattr(exc.orig, "__cause__", None) or exc.orig
    return str(cause).splitlines()[0] if str(cause) else type(cause).__name__


def _database_error(exc: DBAPIError) -> tuple[ExitCode, str]:
    state = _sqlstate(exc)
    if state == _PG_MISSING_DATABASE:
        return ExitCode.UNUSABLE, (
            f"{_driver_message(exc)}: create it first (e.g. `createdb`), then run `wardgate init`"
        )
    if state is not None and state.startswith(_PG_UNAVAILABLE_PREFIXES):
        return ExitCode.UNAVAILABLE, f"PostgreSQL refused the connection: {_driver_message(exc)}"
    sqlite = _sqlite_error(exc)
    if sqlite in {"SQLITE_NOTADB", "SQLITE_CORRUPT"}:
        return ExitCode.UNUSABLE, f"the store file is not a Wardgate store ({sqlite})"
    if sqlite == "SQLITE_CANTOPEN":
        return ExitCode.UNUSABLE, "the store file cannot be opened (SQLITE_CANTOPEN)"
    what = sqlite or (f"SQLSTATE {state}" if state else type(exc.orig).__name__)
    return ExitCode.UNAVAILABLE, f"the store failed ({what})"


def describe(exc: BaseException) -> tuple[ExitCode, str] | None:
    """The code and the one line for an error the operator can act on; None for a bug."""
    if isinstance(exc, OperatorError):
        return exc.code, str(exc)
    if isinstance(exc, MasterKeyError | StoreNotReadyError | NoPolicyError):
        return ExitCode.UNUSABLE, str(exc)
    if isinstance(exc, DBAPIError):
        return _database_error(exc)
    if isinstance(exc, socket.gaierror):
        return ExitCode.UNAVAILABLE, f"cannot reach the database: {exc.strerror or exc}"
    if isinstance(exc, ConnectionError | TimeoutError):
        detail = exc.args[-1] if exc.args else type(exc).__name__
        return ExitCode.UNAVAILABLE, f"cannot reach the database: {detail}"
    if isinstance(exc, OSError) and exc.errno is not None:
        where = f"{exc.filename}: " if exc.filename else ""
        code = ExitCode.UNAVAILABLE if exc.errno in _UNAVAILABLE_ERRNOS else ExitCode.UNUSABLE
        return code, f"{where}{exc.strerror or errno.errorcode.get(exc.errno, 'error')}"
    return None


def one_line(text: str) -> str:
    return " ".join(text.split())


_stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def report(message: str, code: ExitCode) -> typer.Exit:
    """Print `message` as one line on stderr; the Exit to raise with `code`."""
    _stderr.print(one_line(message), markup=False)
    return typer.Exit(int(code))


class WardgateGroup(TyperGroup):
    """The root command group: operator errors from any command end as one line."""

    # `Any`: typer's context class lives in its private vendored click.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # typer's Exit, Abort and usage errors pass: describe() -> None
            described = describe(exc)
            if described is None:
                raise
            code, message = described
            if not isinstance(exc, OperatorError):
                message = f"error: {message}"
            raise report(message, code) from None
