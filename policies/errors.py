"""Domain exceptions of the policy layer; the gateway maps them to HTTP in one place."""

from __future__ import annotations


class PolicyError(Exception):
    """Base class for policy problems."""


class PolicyFileError(PolicyError):
    """A catalog, purpose or policy file does not load; the message names where and why."""


class UnknownPurposeError(PolicyError):
    """A purpose id that the policy does not declare."""


class UnknownEntityError(PolicyError):
    """An entity name that the catalog does not declare."""
