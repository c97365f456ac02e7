"""A model-free NLP engine: tokens for context words, nothing else.

Detection uses tokens and lemmas only to find context words near a match, as presidio
does with its NLP engine (our recognizers bring no model-based NER). So this engine
loads no model: one compiled regex splits text into runs of Han characters, runs of
other letters and digits, and single symbols; a lemma is the lowercased token. A Han run
is a clause ("客户要求退款至银行卡"), and context words match as substrings of lemmas (as
in presidio), so "银行卡" is found inside it without word segmentation. Segmenting
with jieba here would cost more than all recognizers together (jieba.cut runs at
~1.5 MB/s on one core) and would not find more context words.

Tokens are needed only around matches, and most text has none, so `TokenArtifacts`
tokenizes lazily: `context_words` reads a short window around one match; the full
`tokens`/`lemmas`/`keywords` that presidio's own enhancer reads (through the adapter in
`masking.detection.presidio`) are computed on first access only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from masking.detection._text import HAN, SEPARATOR, left_window, right_window, words

__all__ = ["LANGUAGES", "TokenArtifacts", "TokenNlpEngine"]

LANGUAGES: tuple[str, ...] = ("zh", "en")

_TOKEN = re.compile(rf"{SEPARATOR}|[{HAN}]+|[^\W{HAN}]+|[^\s{SEPARATOR}]")
_ENGLISH_STOP_WORDS = frozenset(
    words(
        "a an the and or of to in on at by for with from is are was were be been am it its "
        "this that these those he she his her him they them their we our you your i me my"
    )
)
_WINDOW = 64  # characters around a match that are tokenized for its context
# Context comes from the match's own sentence: "客户持护照E3865…。商品型号E0310…" must not
# lend 护照 to the product code. Only unambiguous terminators ("." ends "Mr." too).
_SENTENCE_END = re.compile("[。！？；!?;]")


def _is_keyword(lemma: str) -> bool:
    if lemma == SEPARATOR:
        return False
    if len(lemma) == 1 and not lemma.isalnum():
        return False  # punctuation
    return lemma not in _ENGLISH_STOP_WORDS


def _keywords(text: str) -> list[str]:
    return [lemma for lemma in map(str.lower, _TOKEN.findall(text)) if _is_keyword(lemma)]


class TokenArtifacts:
    """The tokens of one text, computed on demand (presidio's `NlpArtifacts` shape)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._full: tuple[list[str], list[int], list[str], list[str]] | None = None

    def context_words(self, start: int, end: int, before: int, after: int) -> list[str]:
        """The lemmas of the match's first token and of up to `before` keyword tokens
        before it (in its sentence) and `after` after it, never crossing into a
        neighbouring text."""
        own = _TOKEN.match(self.text, start)
        words = _keywords(own.group()) if own else []
        if before:
            left = left_window(self.text, start, _WINDOW)
            sentence_start = max((m.end() for m in _SENTENCE_END.finditer(left)), default=0)
            words += _keywords(left[sentence_start:])[-before:]
        words += _keywords(right_window(self.text, end, _WINDOW))[:after] if after else []
        return words

    def _tokenized(self) -> tuple[list[str], list[int], list[str], list[str]]:
        if self._full is None:
            matches = list(_TOKEN.finditer(self.text))
            words = [m.group() for m in matches]
            lemmas = [w.lower() for w in words]
            self._full = (
                words,
                [m.start() for m in matches],
                lemmas,
                [lemma for lemma in lemmas if _is_keyword(lemma)],
            )
        return self._full

    # presidio's attribute names, so its own LemmaContextAwareEnhancer can read them.
    @property
    def tokens(self) -> list[str]:
        return self._tokenized()[0]

    @property
    def tokens_indices(self) -> list[int]:
        return self._tokenized()[1]

    @property
    def lemmas(self) -> list[str]:
        return self._tokenized()[2]

    @property
    def keywords(self) -> list[str]:
        return self._tokenized()[3]


class TokenNlpEngine:
    """Regex tokenization for `zh` and `en`; no model, nothing to download."""

    def __init__(self, languages: Iterable[str] = LANGUAGES) -> None:
        self.languages: tuple[str, ...] = tuple(languages)

    def process_text(self, text: str, language: str) -> TokenArtifacts:
        """The artifacts of `text`; tokenization is the same in both languages."""
        return TokenArtifacts(text)

    @staticmethod
    def is_stopword(word: str) -> bool:
        return word.lower() in _ENGLISH_STOP_WORDS

    @staticmethod
    def is_punct(word: str) -> bool:
        return len(word) == 1 and not word.isalnum()
