"""Our operators inside presidio's AnonymizerEngine, for free text; it masks what the
gateway's own splice (`masking.spans`) masks."""

from collections.abc import Callable

import pytest
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from bench.pii._corpus import generate
from masking import build_anonymizer_engine, default_mask_for, default_registry
from masking.detection import ENTITY_CATEGORY, DetectedEntity, build_detector
from masking.spans import replace_spans

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


# A non-default parameter for each operator the corpus's entity types use.
PARAMS: dict[str, dict[str, object]] = {
    "address": {"keep": "city"},
    "bank_card": {"mask_char": "#", "keep_last": 2},
    "email": {"keep_first": 2},
    "mobile": {"mask_char": "#"},
    "partial": {"keep_first": 1, "mask_char": "x"},
    "person_name": {"mask_char": "#"},
    "redact": {"replacement": "[hidden]"},
    "resident_id": {"keep_first": 6},
}


@pytest.fixture(scope="module")
def corpus_findings() -> list[tuple[str, list[DetectedEntity]]]:
    texts = [sample.text for sample in generate(300, 100, 20240601)]
    return list(zip(texts, build_detector().detect_many(texts), strict=True))


@pytest.mark.parametrize(
    "params_for",
    [
        pytest.param(lambda name: {}, id="defaults"),
        pytest.param(lambda name: PARAMS.get(name, {}), id="params"),
    ],
)
def test_given_detected_corpus_then_engine_masks_exactly_as_replace_spans(
    corpus_findings: list[tuple[str, list[DetectedEntity]]],
    params_for: Callable[[str], dict[str, object]],
) -> None:
    """presidio's engine with our operators, and the gateway's splice with the same
    operators bound (`masking.spans`), give the same text for every corpus note."""
    registry = default_registry()
    names = {entity: default_mask_for(ENTITY_CATEGORY[entity]) for entity in ENTITY_CATEGORY}
    operators = {entity: OperatorConfig(name, params_for(name)) for entity, name in names.items()}
    bound = {entity: registry.bind(name, **params_for(name)) for entity, name in names.items()}
    engine = build_anonymizer_engine()
    masked = 0
    for text, entities in corpus_findings:
        expected = replace_spans(text, entities, lambda e, value: bound[e.entity_type](value))
        result = engine.anonymize(
            text=text,
            analyzer_results=[
                RecognizerResult(e.entity_type, e.start, e.end, e.score) for e in entities
            ],
            operators=operators,
        )
        assert result.text == expected
        masked += len(entities)
    assert masked > 500
    assert {e.entity_type for _, found in corpus_findings for e in found} == set(ENTITY_CATEGORY)


def test_given_pseudonym_for_every_type_then_engine_equals_replace_spans(
    corpus_findings: list[tuple[str, list[DetectedEntity]]],
) -> None:
    params = {"key": KEY, "purpose": "analytics"}
    bound = default_registry().bind("pseudonym", **params)
    engine = build_anonymizer_engine()
    operators = {entity: OperatorConfig("pseudonym", params) for entity in ENTITY_CATEGORY}
    for text, entities in corpus_findings[:100]:
        result = engine.anonymize(
            text=text,
            analyzer_results=[
                RecognizerResult(e.entity_type, e.start, e.end, e.score) for e in entities
            ],
            operators=operators,
        )
        assert result.text == replace_spans(text, entities, lambda _, value: bound(value))
