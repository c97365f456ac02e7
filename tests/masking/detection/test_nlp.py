"""The model-free NLP engine's tokens and the context window."""

from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from masking.detection._nlp import TokenArtifacts, TokenNlpEngine
from masking.detection._text import SEPARATOR
from masking.detection.presidio import PresidioNlpEngine, PresidioTokenArtifacts


def artifacts(text: str) -> TokenArtifacts:
    result = TokenNlpEngine().process_text(text, "zh")
    assert isinstance(result, TokenArtifacts)
    return result


def test_given_mixed_text_then_han_runs_words_digits_and_symbols_are_tokens() -> None:
    text = "客户邮箱Zhang@Example.com，手机13912345678"
    tokens = artifacts(text)
    assert tokens.tokens == [
        "客户邮箱",
        "Zhang",
        "@",
        "Example",
        ".",
        "com",
        "，",
        "手机",
        "13912345678",
    ]
    assert all(
        text.startswith(t, i) for t, i in zip(tokens.tokens, tokens.tokens_indices, strict=True)
    )
    assert tokens.lemmas[1] == "zhang"
    assert "，" not in tokens.keywords
    assert "@" not in tokens.keywords


def test_given_match_then_context_words_are_own_token_and_keywords_before() -> None:
    text = "客户要求退款至银行卡，卡号6222021234567890123"
    start = text.index("6222")
    words = artifacts(text).context_words(start, len(text), before=5, after=0)
    assert "6222021234567890123" in words
    assert "客户要求退款至银行卡" in words
    assert "卡号" in words


def test_given_separator_then_context_stops_there() -> None:
    text = f"客户要求退款至银行卡{SEPARATOR}6222021234567890123"
    start = text.index("6222")
    words = artifacts(text).context_words(start, len(text), before=5, after=3)
    assert words == ["6222021234567890123"]


def test_given_presidio_lemma_enhancer_then_it_reads_our_artifacts() -> None:
    # Our artifacts stay usable by presidio's own enhancer (tokens, lemmas, keywords),
    # through the adapter; test_presidio_adapter compares whole scores.
    text = "手机13912345678"
    presidio_artifacts = PresidioNlpEngine(TokenNlpEngine()).process_text(text, "zh")
    assert isinstance(presidio_artifacts, PresidioTokenArtifacts)
    assert presidio_artifacts.tokens == artifacts(text).tokens
    surrounding = LemmaContextAwareEnhancer()._extract_surrounding_words(
        presidio_artifacts, "13912345678", 2
    )
    assert "手机" in surrounding


def test_engine_loads_no_model_and_knows_both_languages() -> None:
    assert TokenNlpEngine().languages == ("zh", "en")
    engine = PresidioNlpEngine(TokenNlpEngine())
    engine.load()
    assert engine.is_loaded()
    assert engine.get_supported_languages() == ["zh", "en"]
    assert engine.get_supported_entities() == []
    assert engine.is_stopword("The", "en")
    assert engine.is_punct("，", "zh")
    assert not engine.is_punct("手", "zh")
