"""structlog set-up: JSON lines with the request id bound, never a field value.

Only identifiers, reasons, statuses and timings are logged. Query strings are not
logged (lookups put personal data there), and exceptions are logged by type only.
Third-party libraries log through the same renderer, at WARNING and above, so a
library that chats at INFO (casbin prints its model, Alembic each migration step)
does not flood the gateway's output.
"""

from __future__ import annotations

import logging
import sys

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


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
    level: str = "info", *, json_lines: bool = True, to_stderr: bool = False
) -> None:
    """Set up structlog and the stdlib root logger. Commands whose stdout is their output
    (a checkpoint note, a verifier key) log to stderr instead."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            timestamper,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        # No fixed file: each logger writes to whatever sys.stdout is when it is made,
        # so a caller that swaps stdout (a test runner, a CLI harness) is followed.
        logger_factory=_StderrLoggerFactory() if to_stderr else structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr) if to_stderr else _CurrentStdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
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
