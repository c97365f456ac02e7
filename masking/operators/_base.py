"""The abstract masking operator, shaped as a presidio-anonymizer `Operator`."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from presidio_anonymizer.operators import Operator, OperatorType

from masking.operators._config import MaskConfig, build_config

__all__ = ["PRESIDIO_BOOKKEEPING_KEYS", "MaskingOperator"]

# presidio's engine adds these to every params dict before validate/operate; they
# describe the span, not the operator, so they never reach a config.
PRESIDIO_BOOKKEEPING_KEYS: frozenset[str] = frozenset({"entity_type"})

ConfigT = TypeVar("ConfigT", bound=MaskConfig)


class MaskingOperator(Operator, Generic[ConfigT]):
    """A masking or pseudonymization operator with a typed config.

    Subclasses set `name` and `config_model` and implement `mask`. The presidio methods
    (`operate`, `validate`, ...) are built on top, so the same class serves the
    structured-field hot path (through `prepare`) and presidio's free-text engine.
    Instances are stateless: presidio builds one per span with no arguments.
    """

    name: ClassVar[str]
    # ClassVar cannot mention ConfigT, so `config_for` casts once; the registry tests
    # check every operator's config_model against the configs it masks with.
    config_model: ClassVar[type[MaskConfig]]

    @abstractmethod
    def mask(self, value: str, config: ConfigT) -> str:
        """Return the masked form of `value`; never raise on an unusual string."""

    def config_for(self, params: Mapping[str, object] | None = None) -> ConfigT:
        """Build this operator's config, raising `InvalidOperatorConfigError` if bad."""
        kwargs = {
            key: value
            for key, value in (params or {}).items()
            if key not in PRESIDIO_BOOKKEEPING_KEYS
        }
        return cast("ConfigT", build_config(self.name, self.config_model, kwargs))

    def prepare(self, config: ConfigT) -> Callable[[str], str]:
        """Return `value -> masked` for one config; override to precompute per config."""
        mask = self.mask

        def bound(value: str) -> str:
            return mask(value, config)

        return bound

    # presidio-anonymizer's Operator interface.

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        """Mask `text` with a config built from presidio's params dict."""
        return self.mask(text, self.config_for(params))

    def validate(self, params: dict[str, Any] | None = None) -> None:
        """Raise `InvalidOperatorConfigError` if `params` do not build a config."""
        self.config_for(params)

    def operator_name(self) -> str:
        """Return the registry name, which is also presidio's operator name."""
        return self.name

    def operator_type(self) -> OperatorType:
        """All our operators anonymize; none of them can be reversed by presidio."""
        return OperatorType.Anonymize
