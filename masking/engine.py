"""presidio-anonymizer's engine with our operators, for masking spans in free text.

The presidio adapter of the masking side: importing it imports presidio-anonymizer
(and through it presidio-analyzer and spaCy), so nothing on the serving path does;
`masking.build_anonymizer_engine` imports it on first call. The gateway masks free text
with `masking.spans.replace_spans` and bound operators, which gives the same text
(tests/masking/test_presidio_engine.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

# First: presidio logs when it is imported (see _quiet).
from masking._quiet import quiet_libraries  # isort: skip

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.operators import Operator, OperatorType

from masking.operators import MaskingOperator
from masking.registry import OperatorRegistry, default_registry

# AnonymizerEngine is presidio's, exported as the type `build_anonymizer_engine` returns.
__all__ = ["AnonymizerEngine", "PresidioOperator", "build_anonymizer_engine", "presidio_operator"]


class PresidioOperator(Operator):
    """A presidio `Operator` forwarding to one of ours.

    presidio registers operator classes and builds one instance per span with no
    arguments, so each of our operators gets a subclass of its own that names it.
    """

    masking_operator: ClassVar[MaskingOperator[Any]]

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        return self.masking_operator.operate(text, params)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        self.masking_operator.validate(params)

    def operator_name(self) -> str:
        return self.masking_operator.operator_name()

    def operator_type(self) -> OperatorType:
        """All our operators anonymize; none of them can be reversed by presidio."""
        return OperatorType.Anonymize


_ADAPTERS: dict[type[MaskingOperator[Any]], type[PresidioOperator]] = {}


def presidio_operator(cls: type[MaskingOperator[Any]]) -> type[PresidioOperator]:
    """The presidio `Operator` class of our operator class `cls` (one per class)."""
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        # A racing first call builds an equal class; setdefault keeps one of them.
        adapter = _ADAPTERS.setdefault(
            cls,
            type(
                f"Presidio{cls.__name__}",
                (PresidioOperator,),
                {
                    "masking_operator": cls(),
                    "__doc__": f"presidio adapter of `{cls.__qualname__}`.",
                },
            ),
        )
    return adapter


def build_anonymizer_engine(registry: OperatorRegistry | None = None) -> AnonymizerEngine:
    """Return an `AnonymizerEngine` that also knows every operator in `registry`.

    Use them as `OperatorConfig("mobile", {...})`. Our names take precedence over
    presidio's built-ins: presidio's own `redact` (which deletes the span) is replaced
    by ours (which writes `****`), so a masked span stays visible as masked. Build the
    engine once, not per request.
    """
    quiet_libraries()
    # presidio's constructor is unannotated; the class itself is typed.
    engine = AnonymizerEngine()  # type: ignore[no-untyped-call]
    for cls in (registry or default_registry()).operator_classes():
        engine.add_anonymizer(presidio_operator(cls))
    return engine
