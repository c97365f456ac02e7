"""The fast canonical encoder agrees byte for byte with the RFC 8785 reference encoder."""

from __future__ import annotations

import random
import string

import pytest
import rfc8785

from audit.canonical import ENTRY_FIELDS, OPTIONAL_ENTRY_FIELDS, canonical_entry

# Characters that stress escaping: controls, quotes, backslash, DEL, BMP and astral
# code points, line/paragraph separators, lone high-plane CJK.
_ALPHABET = (
    string.printable
    + "".join(chr(c) for c in range(0x20))
    + '"\\\x7f\u00e9\u2028\u2029\u4e2d\u6587\ufeff\U0001f600\U00020000'
)


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 24)))


def _entry(rng: random.Random) -> dict[str, object]:
    return {
        "seq": rng.randint(0, 2**53),
        "occurred_at": _text(rng),
        "request_id": _text(rng),
        "principal_id": rng.choice([None, _text(rng)]),
        "on_behalf_of": rng.choice([None, _text(rng)]),
        "purpose": rng.choice([None, _text(rng)]),
        "legal_basis": rng.choice([None, "consent", "contract"]),
        "action": _text(rng),
        "entity": rng.choice([None, "customers"]),
        "record_ids": [_text(rng) for _ in range(rng.randint(0, 4))],
        "subject_ids": [_text(rng) for _ in range(rng.randint(0, 4))],
        "fields": {_text(rng): _text(rng) for _ in range(rng.randint(0, 6))},
        "policy_version": rng.choice([None, rng.randint(0, 10_000)]),
        "outcome": rng.choice(["allowed", "denied", "invalid", "failed"]),
        "status": rng.randint(100, 599),
        "reason": rng.choice([None, _text(rng)]),
    }


@pytest.mark.parametrize("seed", range(40))
def test_given_random_entries_then_fast_encoder_equals_rfc8785(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        entry = _entry(rng)
        assert canonical_entry(entry) == rfc8785.dumps(entry)


def _name(rng: random.Random) -> str:
    # Field names and entity types: ASCII identifiers, as the canonical form assumes.
    return "".join(rng.choice(string.ascii_letters + "_") for _ in range(rng.randint(1, 16)))


def _classification(rng: random.Random) -> dict[str, dict[str, int]]:
    return {
        _name(rng): {_name(rng): rng.randint(0, 2**31) for _ in range(rng.randint(0, 4))}
        for _ in range(rng.randint(0, 3))
    }


@pytest.mark.parametrize("seed", range(10))
def test_given_entries_with_classification_then_fast_encoder_equals_rfc8785(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        entry = _entry(rng) | {"classification": _classification(rng)}
        assert canonical_entry(entry) == rfc8785.dumps(entry)


def test_given_no_or_null_classification_then_entry_is_hashed_as_before() -> None:
    entry = _entry(random.Random(3))
    before = rfc8785.dumps(entry)

    assert canonical_entry(entry) == before
    assert canonical_entry(entry | {"classification": None}) == before
    assert canonical_entry(entry | {"classification": {"notes": {}}}) != before
    assert OPTIONAL_ENTRY_FIELDS == ("classification",)


def test_given_extra_keys_then_only_entry_fields_are_hashed() -> None:
    entry = _entry(random.Random(1))
    assert canonical_entry(entry | {"leaf_hash": "x"}) == canonical_entry(entry)
    assert set(ENTRY_FIELDS) == set(entry)


def test_given_missing_field_then_refused() -> None:
    entry = _entry(random.Random(2))
    del entry["reason"]
    with pytest.raises(KeyError):
        canonical_entry(entry)
