"""OperatorRegistry: explicit registration, typed configs and bound masks."""

import dataclasses
from typing import ClassVar

import pytest

from masking import (
    BUILTIN_OPERATORS,
    BoundMask,
    DuplicateOperatorError,
    InvalidOperatorConfigError,
    MaskConfig,
    MaskingOperator,
    OperatorRegistry,
    UnknownOperatorError,
    default_registry,
)
from masking.operators import MobileConfig, MobileMask, PseudonymConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpperConfig(MaskConfig):
    suffix: str = ""


class UpperMask(MaskingOperator[UpperConfig]):
    name = "upper"
    config_model = UpperConfig

    def mask(self, value: str, config: UpperConfig) -> str:
        return value.upper() + config.suffix


def test_given_default_registry_then_every_operator_of_the_brief_is_there() -> None:
    assert default_registry().names() == (
        "address",
        "bank_card",
        "date_year",
        "email",
        "mobile",
        "partial",
        "person_name",
        "pseudonym",
        "redact",
        "resident_id",
    )


def test_given_default_registry_then_it_is_built_once() -> None:
    assert default_registry() is default_registry()


def test_given_registered_class_then_it_is_bound_by_name() -> None:
    registry = OperatorRegistry()
    registry.register(UpperMask)
    assert "upper" in registry
    assert registry.names() == ("upper",)
    assert registry.bind("upper", suffix="!")("abc") == "ABC!"


def test_given_register_as_decorator_then_class_is_returned() -> None:
    registry = OperatorRegistry()
    assert registry.register(UpperMask) is UpperMask


def test_given_same_class_twice_then_registration_is_idempotent() -> None:
    registry = OperatorRegistry([UpperMask, UpperMask])
    assert registry.names() == ("upper",)


def test_given_other_class_with_taken_name_then_registration_fails() -> None:
    class OtherUpper(UpperMask):
        pass

    registry = OperatorRegistry([UpperMask])
    with pytest.raises(DuplicateOperatorError, match="'upper'"):
        registry.register(OtherUpper)


def test_given_class_without_name_then_registration_fails() -> None:
    class Nameless(MaskingOperator[UpperConfig]):
        config_model = UpperConfig

        def mask(self, value: str, config: UpperConfig) -> str:
            return value

    with pytest.raises(InvalidOperatorConfigError, match="has no name"):
        OperatorRegistry().register(Nameless)


def test_given_class_without_config_model_then_registration_fails() -> None:
    class Modelless(MaskingOperator[UpperConfig]):
        name: ClassVar[str] = "modelless"

        def mask(self, value: str, config: UpperConfig) -> str:
            return value

    with pytest.raises(InvalidOperatorConfigError, match="no config_model"):
        OperatorRegistry().register(Modelless)


def test_given_unknown_name_then_config_for_and_bind_raise_unknown_operator() -> None:
    registry = default_registry()
    with pytest.raises(UnknownOperatorError, match=r"'hash'.*known: address"):
        registry.config_for("hash")
    with pytest.raises(UnknownOperatorError):
        registry.bind("hash")


def test_given_unknown_operator_error_then_it_is_a_lookup_error() -> None:
    assert issubclass(UnknownOperatorError, LookupError)


def test_given_kwargs_then_config_for_builds_the_typed_config() -> None:
    config = default_registry().config_for("mobile", keep_last=2)
    assert config == MobileConfig(keep_last=2)


def test_given_bad_kwargs_then_config_for_and_bind_raise_invalid_config() -> None:
    with pytest.raises(InvalidOperatorConfigError, match="unknown parameter"):
        default_registry().config_for("mobile", keep=3)
    with pytest.raises(InvalidOperatorConfigError, match="keep_last"):
        default_registry().bind("mobile", keep_last=-1)


def test_given_bind_then_bound_mask_holds_name_and_config() -> None:
    bound = default_registry().bind("mobile")
    assert isinstance(bound, BoundMask)
    assert bound.operator_name == "mobile"
    assert bound.config == MobileConfig()
    assert bound("13812345678") == "138****5678"


def test_given_bound_mask_then_it_is_frozen() -> None:
    bound = default_registry().bind("mobile")
    with pytest.raises(dataclasses.FrozenInstanceError):
        bound.operator_name = "redact"  # type: ignore[misc]


def test_given_two_binds_with_same_config_then_they_compare_equal() -> None:
    assert default_registry().bind("mobile") == default_registry().bind("mobile")


def test_given_builtin_operators_then_bind_builds_their_own_config_model() -> None:
    for cls in BUILTIN_OPERATORS:
        params: dict[str, object] = {}
        if cls.config_model is PseudonymConfig:
            params = {"key": bytes(32), "purpose": "test"}
        assert type(default_registry().bind(cls.name, **params).config) is cls.config_model


def test_given_own_registry_then_builtins_can_be_extended_without_touching_the_default() -> None:
    registry = OperatorRegistry(BUILTIN_OPERATORS)
    registry.register(UpperMask)
    assert "upper" in registry
    assert "upper" not in default_registry()
    assert registry.bind("mobile")("13812345678") == MobileMask().mask(
        "13812345678", MobileConfig()
    )
