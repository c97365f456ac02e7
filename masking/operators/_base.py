"""The abstract masking operator, shaped as a presidio-anonymizer `Operator`.

Shaped, not derived: importing presidio-anonymizer imports presidio-analyzer and spaCy
(about a second), and the structured-field hot path needs none of it. `masking.engine`
wraps each operator in a presidio `Operator` on demand.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

from masking.operators._config import MaskConfig, build_config

__all__ = ["PRESIDIO_BOOKKEEPING_KEYS", "MaskingOperator"]

# presidio's engine (through the adapter) adds these to every params dict before
# validate/operate; they describe the span, not the operator, so never reach a config.
PRESIDIO_BOOKKEEPING_KEYS: frozenset[str] = frozenset({"entity_type"})

ConfigT = TypeVar("ConfigT", bound=MaskConfig)


class MaskingOperator(Generic[ConfigT]):
    """A masking or pseudonymization operator with a typed config.

    Subclasses set `name` and `config_model` and implement `mask`. presidio's methods
    (`operate`, `validate`, `operator_name`) are built on top, so the same class serves
    the structured-field hot path (through `prepare`) and, through the adapter in
    `masking.engine`, presidio's free-text engine. Instances are stateless.
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

    # presidio-anonymizer's Operator interface, which the adapter forwards to.

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        """Mask `text` with a config built from presidio's params dict."""
        return self.mask(text, self.config_for(params))

    def validate(self, params: dict[str, Any] | None = None) -> None:
        """Raise `InvalidOperatorConfigError` if `params` do not build a config."""
        self.config_for(params)

    def operator_name(self) -> str:
        """Return the registry name, which is also presidio's operator name."""
        return self.name
