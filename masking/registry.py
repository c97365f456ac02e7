"""The operator registry and the bound masks the gateway calls per field per record."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, TypeVar

from masking.errors import DuplicateOperatorError, InvalidOperatorConfigError, UnknownOperatorError
from masking.operators import BUILTIN_OPERATORS, MaskConfig, MaskingOperator

__all__ = ["BoundMask", "OperatorRegistry", "default_registry"]

OperatorClass = type[MaskingOperator[Any]]
_C = TypeVar("_C", bound=OperatorClass)


@dataclasses.dataclass(frozen=True, slots=True)
class BoundMask:
    """One operator with one config, ready to mask: `bound(value) -> masked`.

    Built once per field plan, called per value: the call is one attribute read and
    one function call, with no dict building or config validation.
    """

    operator_name: str
    config: MaskConfig
    _mask: Callable[[str], str] = dataclasses.field(repr=False, compare=False)

    def __call__(self, value: str) -> str:
        return self._mask(value)

    @property
    def function(self) -> Callable[[str], str]:
        """The same mask without this object's call frame, for loops over many values."""
        return self._mask


class OperatorRegistry:
    """Operators by name, registered explicitly (as presidio's `OperatorsFactory` does)."""

    def __init__(self, operators: Iterable[OperatorClass] = ()) -> None:
        self._classes: dict[str, OperatorClass] = {}
        # Operators are stateless, so one instance per class serves every bind.
        self._instances: dict[str, MaskingOperator[Any]] = {}
        for cls in operators:
            self.register(cls)

    def register(self, cls: _C) -> _C:
        """Add an operator class; usable as a class decorator."""
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            msg = f"operator class {cls.__qualname__} has no name"
            raise InvalidOperatorConfigError(msg)
        if not isinstance(getattr(cls, "config_model", None), type):
            msg = f"operator {name!r} has no config_model"
            raise InvalidOperatorConfigError(msg)
        registered = self._classes.get(name)
        if registered is not None and registered is not cls:
            msg = f"operator {name!r} is already registered by {registered.__qualname__}"
            raise DuplicateOperatorError(msg)
        self._classes[name] = cls
        self._instances[name] = cls()
        return cls

    def names(self) -> tuple[str, ...]:
        """Registered operator names, sorted."""
        return tuple(sorted(self._classes))

    def operator_classes(self) -> tuple[OperatorClass, ...]:
        """Registered operator classes, in name order."""
        return tuple(self._classes[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def operator(self, name: str) -> MaskingOperator[Any]:
        """The operator instance registered under `name`."""
        try:
            return self._instances[name]
        except KeyError:
            known = ", ".join(self.names())
            msg = f"unknown masking operator {name!r}; known: {known}"
            raise UnknownOperatorError(msg) from None

    def config_for(self, name: str, **kwargs: object) -> MaskConfig:
        """Build the typed config of operator `name` from keyword parameters."""
        config: MaskConfig = self.operator(name).config_for(kwargs)
        return config

    def bind(self, name: str, **config: object) -> BoundMask:
        """Validate `config` once and return the callable the hot path uses."""
        operator = self.operator(name)
        built = operator.config_for(config)
        return BoundMask(operator_name=name, config=built, _mask=operator.prepare(built))


@cache
def default_registry() -> OperatorRegistry:
    """The registry of every built-in operator, built once.

    It is shared: register extra operators in a registry of your own
    (`OperatorRegistry(BUILTIN_OPERATORS)`), not in this one.
    """
    return OperatorRegistry(BUILTIN_OPERATORS)
