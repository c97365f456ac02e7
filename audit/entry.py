"""What the audit log records: who did what to whose data, under which policy — never a value.

One entry per `/v1` request, allowed or not. Field effects name what happened to each
field (`masked`, `withheld:denied`); record and subject ids are identifiers the gateway
minted, not personal information. `classification` says which kinds of personal data
PII detection found in the text a request wrote, scanned or showed, and how many of each
({field: {entity type: count}}) — types and counts, never the text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    INVALID = "invalid"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    occurred_at: dt.datetime
    request_id: str
    action: str
    outcome: Outcome
    status: int
    principal_id: str | None = None
    on_behalf_of: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    entity: str | None = None
    record_ids: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    policy_version: int | None = None
    reason: str | None = None
    classification: Mapping[str, Mapping[str, int]] | None = None
