"""The labelled corpus: texts with exact gold spans, generated from a fixed seed."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from bench.pii import _templates, _values

__all__ = ["Sample", "Span", "generate"]


@dataclass(frozen=True, slots=True)
class Span:
    entity_type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sample:
    language: str
    text: str
    gold: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class _Fakers:
    rng: random.Random
    zh: Faker
    en: Faker


Generator = Callable[[_Fakers], str]

# slot -> (entity type or None for a hard negative, generator)
SLOTS: dict[str, tuple[str | None, Generator]] = {
    "name": ("PERSON", lambda f: _values.zh_name(f.zh)),
    "sname": ("PERSON", lambda f: _values.zh_surname(f.zh)),
    "en_name": ("PERSON", lambda f: _values.en_name(f.en)),
    "en_first": ("PERSON", lambda f: str(f.en.first_name())),
    "en_last": ("PERSON", lambda f: str(f.en.last_name())),
    "phone": ("CN_MOBILE", lambda f: _values.mobile(f.rng)),
    "landline": ("CN_LANDLINE", lambda f: _values.landline(f.rng)),
    "id": ("CN_RESIDENT_ID", lambda f: _values.valid_resident_id(f.rng)),
    "card": ("BANK_CARD", lambda f: _values.card(f.rng)),
    "uscc": ("CN_USCC", lambda f: _values.valid_uscc(f.rng)),
    "passport": ("CN_PASSPORT", lambda f: _values.passport(f.rng)),
    "hk": ("CN_HK_MACAU_PERMIT", lambda f: _values.hk_macau_permit(f.rng)),
    "exit": ("CN_EXIT_ENTRY_PERMIT", lambda f: _values.exit_entry_permit(f.rng)),
    "plate": ("CN_VEHICLE_PLATE", lambda f: _values.plate(f.rng, f.zh)),
    "email": ("EMAIL_ADDRESS", lambda f: _values.email(f.zh if f.rng.random() < 0.5 else f.en)),
    "ip": ("IP_ADDRESS", lambda f: _values.ip(f.rng, f.en)),
    "addr": ("CN_ADDRESS", lambda f: _values.address(f.rng, f.zh)),
    "order": (None, lambda f: _values.order_number(f.rng)),
    "track": (None, lambda f: _values.tracking_number(f.rng)),
    "ts": (None, lambda f: _values.timestamp(f.rng)),
    "amount": (None, lambda f: _values.amount(f.rng)),
    "bad_id": (None, lambda f: _values.id_wrong_check(f.rng)),
    "bad_date_id": (None, lambda f: _values.id_bad_date(f.rng)),
    "bad_card": (None, lambda f: _values.card_wrong_check(f.rng)),
    "bad_uscc": (None, lambda f: _values.uscc_wrong_check(f.rng)),
    "nonmobile": (None, lambda f: _values.not_a_mobile(f.rng)),
    "doc_like": (None, lambda f: _values.passport(f.rng)),
}
_FORMATTER = string.Formatter()


def _render(template: str, fakers: _Fakers, text: list[str], gold: list[Span]) -> None:
    position = sum(len(part) for part in text)
    for literal, field, suffix, _ in _FORMATTER.parse(template):
        text.append(literal)
        position += len(literal)
        if field is None:
            continue
        entity_type, generate_value = SLOTS[field]
        # `{sname:先生}`: the suffix belongs to the value's span ("王先生" is one name).
        value = generate_value(fakers) + (suffix or "")
        if entity_type is not None:
            gold.append(Span(entity_type, position, position + len(value)))
        text.append(value)
        position += len(value)


def _sample(
    language: str,
    fakers: _Fakers,
    pii: tuple[str, ...],
    plain: tuple[str, ...],
    negative: tuple[str, ...],
) -> Sample:
    rng = fakers.rng
    text: list[str] = []
    gold: list[Span] = []
    for index in range(rng.randint(1, 3)):
        if index and language == "en":
            text.append(" ")
        draw = rng.random()
        pool = pii if draw < 0.6 else plain if draw < 0.82 else negative
        _render(rng.choice(pool), fakers, text, gold)
    return Sample(language, "".join(text), tuple(gold))


def generate(zh_samples: int, en_samples: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    zh, en = Faker("zh_CN"), Faker("en_US")
    zh.seed_instance(seed)
    en.seed_instance(seed + 1)
    fakers = _Fakers(rng, zh, en)
    t = _templates
    samples = [
        _sample("zh", fakers, t.ZH_PII, t.ZH_PLAIN, t.ZH_NEGATIVE) for _ in range(zh_samples)
    ]
    samples += [
        _sample("en", fakers, t.EN_PII, t.EN_PLAIN, t.EN_NEGATIVE) for _ in range(en_samples)
    ]
    return samples
