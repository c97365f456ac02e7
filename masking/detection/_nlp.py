"""A model-free presidio `NlpEngine`: tokens for context words, nothing else.

presidio uses the NLP engine's tokens and lemmas only to find context words near a
match (our recognizers bring no model-based NER). So this engine loads no model: one
compiled regex splits a text into runs of Han characters, runs of other letters and
digits, and single symbols; a lemma is the lowercased token. A Han run is a clause
("客户要求退款至银行卡"), and presidio matches context words as substrings of lemmas,
so "银行卡" is found inside it without word segmentation. Segmenting with jieba here
would cost about as much as everything else together (jieba.cut runs at ~1.5 MB/s on
one core) and would not find more context words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

from masking.detection._text import HAN, SEPARATOR

__all__ = ["LANGUAGES", "TokenArtifacts", "TokenNlpEngine"]

LANGUAGES: tuple[str, ...] = ("zh", "en")

_TOKEN = re.compile(rf"{SEPARATOR}|[{HAN}]+|[^\W{HAN}]+|[^\s{SEPARATOR}]")
_ENGLISH_STOP_WORDS = frozenset(
    "a an the and or of to in on at by for with from is are was were be been am it its "
    "this that these those he she his her him they them their we our you your i me my".split()
)


class TokenArtifacts(NlpArtifacts):
    """presidio's artifacts plus, per token, whether it may count as a context word.

    `tokens`, `tokens_indices`, `lemmas` and `keywords` are filled the way presidio's
    own `LemmaContextAwareEnhancer` reads them, so that enhancer works on them too.
    """

    def __init__(self, words: list[str], starts: list[int], language: str) -> None:
        # presidio's constructor derives keywords by asking the engine per lemma; we
        # pass no engine and fill them below from the flags the tokenizer computed.
        super().__init__(
            entities=[],
            tokens=None,  # type: ignore[arg-type]  # set below: str tokens, not a spaCy Doc
            tokens_indices=starts,
            lemmas=[word.lower() for word in words],
            nlp_engine=None,  # type: ignore[arg-type]
            language=language,
        )
        self.tokens = words  # type: ignore[assignment]
        self.starts = starts
        self.keyword_flags = [_is_keyword(lemma) for lemma in self.lemmas]
        self.keywords = [
            lemma for lemma, flag in zip(self.lemmas, self.keyword_flags, strict=True) if flag
        ]


def _is_keyword(lemma: str) -> bool:
    if lemma == SEPARATOR:
        return False
    if len(lemma) == 1 and not lemma.isalnum():
        return False  # punctuation
    return lemma not in _ENGLISH_STOP_WORDS


def tokenize(text: str, language: str) -> TokenArtifacts:
    words: list[str] = []
    starts: list[int] = []
    for match in _TOKEN.finditer(text):
        words.append(match.group())
        starts.append(match.start())
    return TokenArtifacts(words, starts, language)


class TokenNlpEngine(NlpEngine):
    """Regex tokenization for `zh` and `en`; no model, nothing to download."""

    def __init__(self, languages: Iterable[str] = LANGUAGES) -> None:
        self._languages = tuple(languages)
        self._loaded = False

    def load(self) -> None:
        self._loaded = True

    def is_loaded(self) -> bool:
        return self._loaded

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return tokenize(text, language)

    def process_batch(
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        for text in texts:
            yield text, tokenize(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in _ENGLISH_STOP_WORDS

    def is_punct(self, word: str, language: str) -> bool:
        return len(word) == 1 and not word.isalnum()

    def get_supported_entities(self) -> list[str]:
        return []  # no model-based NER

    def get_supported_languages(self) -> list[str]:
        return list(self._languages)
