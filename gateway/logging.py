"""structlog set-up: JSON lines with the request id bound, never a field value.

Only identifiers, reasons, statuses and timings are logged. Query strings are not
logged (lookups put personal data there), and exceptions are logged by type only.
Third-party libraries log through the same renderer, at WARNING and above, so a
library that chats at INFO (casbin prints its model, Alembic each migration step)
does not flood the gateway's output.

The served gateway (`create_app`, used by `wardgate serve` and its workers) logs as
structlog's performance guide recommends: loggers are cached after their first use and
JSON is rendered by orjson straight to bytes. Everything else (the CLI, tests) keeps
uncached loggers, so `structlog.testing.capture_logs` and swapped streams still work.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _orjson_text(value: object, **options: Any) -> str:
    """orjson for the stdlib handler, whose formatter must return text."""
    return orjson.dumps(value, **options).decode()


class _StderrLoggerFactory:
    def __call__(self, *_args: object) -> structlog.PrintLogger:
        return structlog.PrintLogger(file=sys.stderr)


class _CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler bound to the current sys.stdout rather than the one at set-up."""

    @property
    def stream(self) -> object:
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(
    level: str = "info", *, json_lines: bool = True, to_stderr: bool = False, serving: bool = False
) -> None:
    """Set up structlog and the stdlib root logger. Commands whose stdout is their output
    (a checkpoint note, a verifier key) log to stderr instead. `serving` is the served
    gateway's set-up: cached loggers, orjson rendering to bytes on stdout."""
    renderer: structlog.types.Processor
    foreign_renderer: structlog.types.Processor
    logger_factory: Any
    if not json_lines:
        renderer = foreign_renderer = structlog.dev.ConsoleRenderer(colors=False)
    elif serving:
        # orjson writes UTF-8 as is (no \uXXXX escapes, as ensure_ascii=False did).
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
        foreign_renderer = structlog.processors.JSONRenderer(serializer=_orjson_text)
    else:
        renderer = foreign_renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    if serving and json_lines:
        logger_factory = structlog.BytesLoggerFactory()
    elif to_stderr:
        logger_factory = _StderrLoggerFactory()
    else:
        # No fixed file: each logger writes to whatever sys.stdout is when it is made,
        # so a caller that swaps stdout (a test runner, a CLI harness) is followed.
        logger_factory = structlog.PrintLoggerFactory()
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=logger_factory,
        # Cached loggers keep the processors they were first used with: right for a
        # server, wrong for tests, whose capture_logs swaps the processors per test.
        cache_logger_on_first_use=serving,
    )
    handler = logging.StreamHandler(sys.stderr) if to_stderr else _CurrentStdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                foreign_renderer,
            ],
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                timestamper,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
    for chatty in ("casbin", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
