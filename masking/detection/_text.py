"""Character classes and small text helpers shared by the recognizers.

Chinese text has no spaces, and `\\b` does not separate `号` from `1` (both are word
characters), so recognizers bound their matches with explicit lookarounds on ASCII
classes instead. Texts batched into one analyzer call are joined with `SEPARATOR`;
every recognizer treats it like the edge of the text, so a text's findings do not
depend on its neighbours in the batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "HAN",
    "SEPARATOR",
    "has_cjk",
    "left_window",
    "right_window",
    "trie_regex",
]

SEPARATOR = "\x1e"  # ASCII record separator: never part of any entity or context word

# CJK Unified Ideographs (with extension A and the compatibility block): what a
# Chinese name, address or context word is written in.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{HAN}\u3000-\u303f\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """True if the text holds Chinese characters or full-width punctuation."""
    return _CJK.search(text) is not None


def left_window(text: str, start: int, size: int) -> str:
    """Up to `size` characters before `start`, never reaching into a previous text."""
    window = text[max(0, start - size) : start]
    return window[window.rfind(SEPARATOR) + 1 :]


def right_window(text: str, end: int, size: int) -> str:
    """Up to `size` characters from `end`, never reaching into the next text."""
    window = text[end : end + size]
    cut = window.find(SEPARATOR)
    return window if cut < 0 else window[:cut]


def trie_regex(words: Iterable[str]) -> str:
    """A regex alternation of `words` factored by common prefixes, longest match first.

    Python's `re` tries the branches of a flat alternation one by one at every
    position; factored by prefix, a position that starts no word fails on one test.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_to_regex(trie)


def _trie_to_regex(node: dict[str, Any]) -> str:
    optional = "" in node
    branches = [re.escape(char) + _trie_to_regex(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(sorted(branches)) + ")"
    if optional:
        return f"(?:{body})?"
    return body


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of `text`: word lists kept readable in source."""
    return tuple(text.split())
