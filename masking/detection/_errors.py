"""Domain exceptions of PII detection."""

from masking.errors import MaskingError

__all__ = ["DetectionError", "UnsupportedLanguageError"]


class DetectionError(MaskingError):
    """Base class for errors raised by `masking.detection`."""


class UnsupportedLanguageError(DetectionError, ValueError):
    """The caller asked for a language the detector has no recognizers for."""
