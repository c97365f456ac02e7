"""Masking and pseudonymization of personal data.

`default_registry().bind("mobile")` gives the callable the read pipeline applies per
value; `default_mask_for(category)` names the operator a category gets by default;
`build_anonymizer_engine()` makes the same operators available to presidio for free text
(importing presidio on first call only: nothing else here imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# First: presidio logs when it is imported (see _quiet).
import masking._quiet  # noqa: F401
from masking.defaults import DEFAULT_MASK_BY_CATEGORY, FALLBACK_MASK, default_mask_for
from masking.errors import (
    DuplicateOperatorError,
    InvalidOperatorConfigError,
    MaskingError,
    UnknownOperatorError,
)
from masking.operators import BUILTIN_OPERATORS, MaskConfig, MaskingOperator
from masking.registry import BoundMask, OperatorRegistry, default_registry

if TYPE_CHECKING:
    from masking import engine

__all__ = [
    "BUILTIN_OPERATORS",
    "DEFAULT_MASK_BY_CATEGORY",
    "FALLBACK_MASK",
    "BoundMask",
    "DuplicateOperatorError",
    "InvalidOperatorConfigError",
    "MaskConfig",
    "MaskingError",
    "MaskingOperator",
    "OperatorRegistry",
    "UnknownOperatorError",
    "build_anonymizer_engine",
    "default_mask_for",
    "default_registry",
]


def build_anonymizer_engine(registry: OperatorRegistry | None = None) -> engine.AnonymizerEngine:
    """presidio's `AnonymizerEngine` with our operators (`masking.engine`'s builder)."""
    # Imported here: presidio-anonymizer imports presidio-analyzer and spaCy (about a
    # second), which the serving path never needs.
    from masking.engine import build_anonymizer_engine as build

    return build(registry)
