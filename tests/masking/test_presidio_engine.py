"""Our operators inside presidio's AnonymizerEngine, for free text."""

from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from masking import build_anonymizer_engine

KEY = bytes(range(32))


def span(text: str, part: str, entity_type: str) -> RecognizerResult:
    start = text.index(part)
    return RecognizerResult(entity_type=entity_type, start=start, end=start + len(part), score=0.9)


def test_given_phone_span_and_mobile_operator_then_span_is_masked_in_the_sentence() -> None:
    text = "客户电话13812345678，请回电。"
    result = build_anonymizer_engine().anonymize(
        text=text,
        analyzer_results=[span(text, "13812345678", "PHONE_NUMBER")],
        operators={"PHONE_NUMBER": OperatorConfig("mobile")},
    )
    assert result.text == "客户电话138****5678，请回电。"
    assert [item.operator for item in result.items] == ["mobile"]


def test_given_several_entities_then_each_gets_its_operator_and_params() -> None:
    text = "Call John Smith on +86 138 1234 5678 or mail zhang.wei@example.com."
    result = build_anonymizer_engine().anonymize(
        text=text,
        analyzer_results=[
            span(text, "John Smith", "PERSON"),
            span(text, "+86 138 1234 5678", "PHONE_NUMBER"),
            span(text, "zhang.wei@example.com", "EMAIL_ADDRESS"),
        ],
        operators={
            "PERSON": OperatorConfig("person_name", {"mask_char": "#"}),
            "PHONE_NUMBER": OperatorConfig("mobile"),
            "EMAIL_ADDRESS": OperatorConfig("email"),
        },
    )
    assert result.text == "Call J### S#### on 138****5678 or mail z***@example.com."


def test_given_pseudonym_params_then_engine_pseudonymizes_the_span() -> None:
    text = "ID 11010519491231002X"
    params = {"key": KEY, "purpose": "analytics"}
    first = build_anonymizer_engine().anonymize(
        text=text,
        analyzer_results=[span(text, "11010519491231002X", "CN_ID")],
        operators={"CN_ID": OperatorConfig("pseudonym", params)},
    )
    assert first.text.startswith("ID psn_")
    assert len(first.text) == len("ID psn_") + 16


def test_given_our_redact_then_it_replaces_presidios_redact() -> None:
    """presidio's redact deletes the span; ours leaves a visible ****."""
    text = "secret: abc"
    result = build_anonymizer_engine().anonymize(
        text=text,
        analyzer_results=[span(text, "abc", "SECRET")],
        operators={"SECRET": OperatorConfig("redact")},
    )
    assert result.text == "secret: ****"


def test_given_presidio_builtin_operator_then_it_still_works() -> None:
    text = "name: Bond"
    result = build_anonymizer_engine().anonymize(
        text=text,
        analyzer_results=[span(text, "Bond", "PERSON")],
        operators={"PERSON": OperatorConfig("replace", {"new_value": "<PERSON>"})},
    )
    assert result.text == "name: <PERSON>"
