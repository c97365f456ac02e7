"""The libraries under masking and PII detection log at warning and above only.

presidio logs at INFO when it is imported (the device it found) and for every recognizer
and operator it loads (only its adapters, `masking.engine` and
`masking.detection.presidio`, import it); jieba at DEBUG while it loads its
dictionary. Under a server whose logging lets INFO through (Litestar's default
configuration sets the root logger to INFO, so plain `uvicorn gateway.app:...` does)
that is dozens of lines per start. Their loggers are set
here, when `masking` is imported and before presidio is (presidio-anonymizer imports the
analyzer), and again each time a detector or adapter is built, whoever configured
logging since.
"""

from __future__ import annotations

import logging

__all__ = ["QUIET_LOGGERS", "quiet_libraries"]

QUIET_LOGGERS = ("presidio-analyzer", "presidio-anonymizer", "jieba")


def quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


quiet_libraries()
