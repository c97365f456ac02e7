"""The console's two languages: every label and message in zh-CN and English.

The texts live in `messages/<language>.yaml` and in one file per domain,
`messages/<domain>.<language>.yaml` (e.g. `dsr.en.yaml`), one key per text; a key missing from
either file fails the tests (`tests/gateway/console/test_i18n.py`), so no page shows a
raw key. The language comes from the session once chosen, else `Accept-Language`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

import yaml

LANGUAGES: Final = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final = "zh-CN"


@cache
def catalog(language: str) -> dict[str, str]:
    """All texts of one language: `messages/<language>.yaml`, then every
    `messages/<domain>.<language>.yaml` (domains keep their texts apart)."""
    folder = resources.files("gateway.console") / "messages"
    names = sorted(
        entry.name for entry in folder.iterdir() if entry.name.endswith(f".{language}.yaml")
    )
    texts: dict[str, str] = {}
    for name in (f"{language}.yaml", *names):
        loaded = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        texts.update({str(key): str(value) for key, value in loaded.items()})
    return texts


def supported(language: str | None) -> str | None:
    """The supported language this tag names (`zh`, `zh-cn`, `en-GB` ...), or None."""
    if not language:
        return None
    tag = language.strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str:
    """The best supported language of an `Accept-Language` header (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = supported(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE


class Translator:
    """`t(key, **values)` in one language; a value is formatted into the text, never
    the other way round (a text is never built from user input)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._texts = catalog(self.language)

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts.get(key)
        if text is None:
            # Fall back to the other language rather than show a bare key.
            text = catalog(DEFAULT_LANGUAGE).get(key, key)
        return text.format(**values) if values else text

    def reason(self, word: str) -> str:
        """The message for a reason word; a word without its own text gets the general
        one, naming the word (use cases answer with many stable reasons)."""
        key = f"reason.{word}"
        if key in self._texts:
            return self._texts[key]
        return self("reason.other", reason=word)
