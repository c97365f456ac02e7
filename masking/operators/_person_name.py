"""Person names: keep the surname (compound surnames whole), mask the given name."""

from __future__ import annotations

import dataclasses
import re

from masking.errors import InvalidOperatorConfigError
from masking.operators._base import MaskingOperator
from masking.operators._config import MaskConfig
from masking.operators._honorifics import HONORIFICS
from masking.operators._surnames import COMPOUND_SURNAMES

__all__ = ["PersonNameConfig", "PersonNameMask"]

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_WHITESPACE = re.compile(r"\s+")
_LONGEST_SURNAME = max(len(surname) for surname in COMPOUND_SURNAMES)
_HONORIFIC_LENGTHS = sorted({len(honorific) for honorific in HONORIFICS}, reverse=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PersonNameConfig(MaskConfig):
    """`张*`, `欧阳**`, `J*** S****`; a surname with an honorific `王*` (王先生)."""

    mask_char: str = "*"

    def check(self) -> None:
        if len(self.mask_char) != 1:
            msg = "mask_char must be exactly one character"
            raise InvalidOperatorConfigError(msg)


class PersonNameMask(MaskingOperator[PersonNameConfig]):
    """Chinese names keep the surname; other names keep each word's first letter."""

    name = "person_name"
    config_model = PersonNameConfig

    def mask(self, value: str, config: PersonNameConfig) -> str:
        if _HAN.search(value):
            return _mask_chinese(_WHITESPACE.sub("", value), config.mask_char)
        words = value.split()
        if sum(len(word) for word in words) <= 1:
            return config.mask_char * len("".join(words))
        return " ".join(word[0] + config.mask_char * (len(word) - 1) for word in words)


def _surname_with_honorific(name: str) -> str | None:
    """The surname of "王先生" or "欧阳女士" (a surname and an honorific, no given name)."""
    # Longest honorific first; at most one honorific of each length ends `name`.
    for length in _HONORIFIC_LENGTHS:
        if len(name) > length and name[-length:] in HONORIFICS:
            head = name[:-length]
            if len(head) == 1 or head in COMPOUND_SURNAMES:
                return head
    return None


def _mask_chinese(name: str, mask_char: str) -> str:
    # Shown as a full name is (王*): the honorific would tell what the mask hides.
    surname = _surname_with_honorific(name)
    if surname is not None:
        return surname + mask_char
    if len(name) <= 1:
        return mask_char * len(name)
    surname_length = 1
    # Longest match first, and only if a given name remains to be masked:
    # a two-character "欧阳" alone is surname 欧 + given name 阳.
    for length in range(min(_LONGEST_SURNAME, len(name) - 1), 1, -1):
        if name[:length] in COMPOUND_SURNAMES:
            surname_length = length
            break
    return name[:surname_length] + mask_char * (len(name) - surname_length)
