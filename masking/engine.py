"""presidio-anonymizer's engine with our operators, for masking spans in free text."""

from __future__ import annotations

from presidio_anonymizer import AnonymizerEngine

from masking.registry import OperatorRegistry, default_registry

__all__ = ["build_anonymizer_engine"]


def build_anonymizer_engine(registry: OperatorRegistry | None = None) -> AnonymizerEngine:
    """Return an `AnonymizerEngine` that also knows every operator in `registry`.

    Use them as `OperatorConfig("mobile", {...})`. Our names take precedence over
    presidio's built-ins: presidio's own `redact` (which deletes the span) is replaced
    by ours (which writes `****`), so a masked span stays visible as masked. Build the
    engine once (in the lifespan), not per request.
    """
    # presidio's constructor is unannotated; the class itself is typed.
    engine = AnonymizerEngine()  # type: ignore[no-untyped-call]
    for cls in (registry or default_registry()).operator_classes():
        engine.add_anonymizer(cls)
    return engine
