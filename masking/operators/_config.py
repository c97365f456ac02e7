"""Typed operator configurations: the frozen dataclass every operator declares."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from masking.errors import InvalidOperatorConfigError

__all__ = ["MaskConfig", "build_config"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class MaskConfig:
    """Base of every operator config.

    Dataclasses do not check types, and configs also arrive from presidio's untyped
    params dicts and from policy files, so the base checks each field against its
    annotation before the subclass checks ranges in `check`.
    """

    def __post_init__(self) -> None:
        _check_field_types(self)
        self.check()

    def check(self) -> None:
        """Check value ranges; raise `InvalidOperatorConfigError`. Types are already right."""


ConfigT = TypeVar("ConfigT", bound=MaskConfig)


def build_config(operator: str, model: type[ConfigT], params: Mapping[str, object]) -> ConfigT:
    """Build `model` from keyword parameters, naming the operator in every error."""
    known = {field.name for field in dataclasses.fields(model) if field.init}
    unknown = sorted(str(key) for key in params if key not in known)
    if unknown:
        msg = f"operator {operator!r}: unknown parameter(s): {', '.join(unknown)}"
        raise InvalidOperatorConfigError(msg)
    missing = sorted(
        field.name
        for field in dataclasses.fields(model)
        if field.init
        and field.name not in params
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    )
    if missing:
        msg = f"operator {operator!r}: missing parameter(s): {', '.join(missing)}"
        raise InvalidOperatorConfigError(msg)
    try:
        return model(**params)
    except InvalidOperatorConfigError as exc:
        msg = f"operator {operator!r}: {exc}"
        raise InvalidOperatorConfigError(msg) from exc


_FIELD_TYPES: dict[type[MaskConfig], tuple[tuple[str, Any], ...]] = {}


def _field_types(model: type[MaskConfig]) -> tuple[tuple[str, Any], ...]:
    # Resolving annotations is slow; configs are built once per bind, but presidio
    # builds one per free-text span.
    types = _FIELD_TYPES.get(model)
    if types is None:
        hints = get_type_hints(model)
        types = tuple((field.name, hints[field.name]) for field in dataclasses.fields(model))
        _FIELD_TYPES[model] = types
    return types


def _check_field_types(config: MaskConfig) -> None:
    for name, expected in _field_types(type(config)):
        value = getattr(config, name)
        if not _matches(value, expected):
            # The value itself stays out of the message: it may be a key.
            msg = f"{name} must be {_describe(expected)}, not {type(value).__name__}"
            raise InvalidOperatorConfigError(msg)


def _matches(value: object, expected: Any) -> bool:
    if get_origin(expected) is Literal:
        return any(type(value) is type(arg) and value == arg for arg in get_args(expected))
    if expected is int:
        # bool is an int subclass; `keep_first=True` is a mistake, not a 1.
        return type(value) is int
    if isinstance(expected, type):
        return isinstance(value, expected)
    msg = f"unsupported config annotation {expected!r}"
    raise TypeError(msg)


def _describe(expected: Any) -> str:
    if get_origin(expected) is Literal:
        return "one of " + ", ".join(repr(arg) for arg in get_args(expected))
    return getattr(expected, "__name__", repr(expected))
