"""Domain exceptions of the masking package.

Messages name operators and parameters, never a masked value or a key: the gateway
may surface them in a 4xx body or a log line.
"""


class MaskingError(Exception):
    """Base class for every error raised by `masking`."""


class UnknownOperatorError(MaskingError, LookupError):
    """No operator is registered under the requested name."""


class InvalidOperatorConfigError(MaskingError, ValueError):
    """Parameters do not build a valid configuration for the operator."""


class DuplicateOperatorError(MaskingError, ValueError):
    """A different operator class is already registered under the same name."""
