"""The canonical form of an audit entry: RFC 8785 (JSON Canonicalization Scheme).

What is logged, in one sentence: for every request, who (principal, on behalf of whom),
when, for which purpose and legal basis, did what (action, entity, record and subject
ids), under which policy version, with what outcome, and what happened to each field —
identifiers and effect words only, never a field value.

Entries hold only strings, integers, null, lists of strings and string-to-string maps.
For that subset orjson with sorted keys produces exactly the RFC 8785 bytes (keys are
ASCII, so UTF-16 and code-point order agree; no floats, so no number formatting), at a
twentieth of the pure-Python encoder's cost — verification must run at 100,000
entries/s. `tests/audit/test_canonical.py` holds the two encoders to the same output.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

ENTRY_FIELDS = (
    "seq",
    "occurred_at",
    "request_id",
    "principal_id",
    "on_behalf_of",
    "purpose",
    "legal_basis",
    "action",
    "entity",
    "record_ids",
    "subject_ids",
    "fields",
    "policy_version",
    "outcome",
    "status",
    "reason",
)


def canonical_entry(entry: Mapping[str, object]) -> bytes:
    """The bytes that are hashed into the log for this entry (its ENTRY_FIELDS only)."""
    return orjson.dumps({name: entry[name] for name in ENTRY_FIELDS}, option=orjson.OPT_SORT_KEYS)
