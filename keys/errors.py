"""Domain exceptions of the key layer. Messages never carry key material."""

from __future__ import annotations


class KeyError_(Exception):
    """Base class for key problems."""


class MasterKeyError(KeyError_):
    """The master key is missing, unreadable or malformed: the gateway must not start."""


class InvalidToken(KeyError_):
    """A sealed token failed to open: tampered, truncated or sealed under another key."""
