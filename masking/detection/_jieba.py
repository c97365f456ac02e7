"""jieba, loaded quietly and once.

jieba logs its dictionary loading to stderr at DEBUG level through its own handler;
we keep warnings and errors (a cache file it cannot write is worth a line). Its
dictionary ships inside the package; the prefix dictionary built from it is cached in
the temp directory, so nothing is fetched from anywhere.
"""

from __future__ import annotations

import logging

import jieba

__all__ = ["initialize_jieba"]

jieba.setLogLevel(logging.WARNING)


def initialize_jieba() -> None:
    """Load the dictionary now, so the first request does not pay for it."""
    jieba.initialize()
