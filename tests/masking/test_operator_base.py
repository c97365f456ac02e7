"""MaskingOperator: presidio's Operator interface on top of typed configs, and the
presidio `Operator` adapter over each operator."""

import dataclasses

import pytest
from presidio_anonymizer.operators import Operator, OperatorType

from masking import BUILTIN_OPERATORS, InvalidOperatorConfigError, MaskConfig
from masking.engine import presidio_operator
from masking.operators import MobileConfig, MobileMask, PartialConfig


def test_given_builtin_operators_then_each_has_a_presidio_anonymize_operator() -> None:
    for cls in BUILTIN_OPERATORS:
        assert cls().operator_name() == cls.name
        adapter = presidio_operator(cls)
        assert presidio_operator(cls) is adapter  # one class per operator
        operator = adapter()  # presidio builds one per span, with no arguments
        assert isinstance(operator, Operator)
        assert operator.operator_name() == cls.name
        assert operator.operator_type() is OperatorType.Anonymize
        assert adapter.masking_operator.name == cls.name
        assert type(adapter.masking_operator) is cls


@pytest.mark.parametrize(
    "params",
    [None, {}, {"entity_type": "X"}, {"keep_first": 2, "keep_last": 2, "min_masked": 1}],
)
def test_given_presidio_adapter_then_it_masks_and_validates_as_the_operator(
    params: dict[str, object] | None,
) -> None:
    adapter = presidio_operator(MobileMask)()
    adapter.validate(params)  # type: ignore[arg-type]
    assert adapter.operate("13812345678", params) == MobileMask().operate("13812345678", params)  # type: ignore[arg-type]
    with pytest.raises(InvalidOperatorConfigError, match="keep_frist"):
        adapter.validate({"keep_frist": 3})
    with pytest.raises(InvalidOperatorConfigError):
        adapter.operate("13812345678", {"keep_first": "all"})


def test_given_builtin_operators_then_configs_are_frozen_dataclasses() -> None:
    for cls in BUILTIN_OPERATORS:
        assert issubclass(cls.config_model, MaskConfig)
        assert dataclasses.is_dataclass(cls.config_model)
        assert cls.config_model.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_given_config_then_it_cannot_be_changed() -> None:
    config = MobileConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.keep_first = 0  # type: ignore[misc]


def test_given_presidio_params_then_operate_masks_with_them() -> None:
    params = {"keep_first": 2, "keep_last": 2, "min_masked": 1}
    assert MobileMask().operate("13812345678", params) == "13*******78"


def test_given_no_params_then_operate_uses_config_defaults() -> None:
    assert MobileMask().operate("13812345678") == "138****5678"
    assert MobileMask().operate("13812345678", {}) == "138****5678"


def test_given_presidio_entity_type_key_then_it_is_ignored() -> None:
    """presidio adds `entity_type` to every params dict; it is not a config field."""
    MobileMask().validate({"entity_type": "PHONE_NUMBER"})
    assert MobileMask().operate("13812345678", {"entity_type": "PHONE_NUMBER"}) == "138****5678"


def test_given_unknown_param_then_validate_names_it() -> None:
    with pytest.raises(
        InvalidOperatorConfigError, match=r"'mobile'.*unknown parameter.*keep_frist"
    ):
        MobileMask().validate({"keep_frist": 3})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"keep_first": "3"}, "keep_first must be int, not str"),
        ({"keep_first": True}, "keep_first must be int, not bool"),
        ({"keep_first": -1}, "keep_first and keep_last must be >= 0"),
        ({"mask_char": "**"}, "mask_char must be exactly one character"),
        ({"mask_char": ""}, "mask_char must be exactly one character"),
        ({"min_masked": 0}, "min_masked must be >= 1"),
    ],
)
def test_given_bad_param_then_validate_raises_a_clear_error(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidOperatorConfigError, match=message):
        MobileMask().validate(params)


def test_given_bad_param_then_operate_raises_instead_of_masking_less() -> None:
    with pytest.raises(InvalidOperatorConfigError):
        MobileMask().operate("13812345678", {"keep_first": "all"})


def test_given_literal_field_then_only_listed_values_are_accepted() -> None:
    from masking.operators import AddressMask

    with pytest.raises(InvalidOperatorConfigError, match="keep must be one of"):
        AddressMask().validate({"keep": "street"})


def test_given_config_built_directly_then_it_is_checked_too() -> None:
    with pytest.raises(InvalidOperatorConfigError, match="keep_first"):
        PartialConfig(keep_first=-2)


def test_given_invalid_config_error_then_it_is_a_value_error() -> None:
    """Callers that only know ValueError (presidio, argument parsing) still catch it."""
    assert issubclass(InvalidOperatorConfigError, ValueError)
