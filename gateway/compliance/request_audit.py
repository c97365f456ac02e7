"""Per-request audit context: what the single audit entry of this request will say.

The audit guard creates it before the application sees the request; the pipeline
fills it in as it learns who is calling and what happens. Whoever writes the entry
sets `seq`, so exactly one entry is written per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit import Outcome

AUDIT_STATE_KEY = "wardgate_audit"


@dataclass(slots=True)
class RequestAudit:
    request_id: str
    method: str
    path: str
    action: str = ""
    principal_id: str | None = None
    on_behalf_of: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    entity: str | None = None
    record_ids: tuple[str, ...] = ()
    subject_ids: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    policy_version: int | None = None
    outcome: Outcome | None = None
    reason: str | None = None
    classification: dict[str, dict[str, int]] | None = None
    """PII types and counts found in the text written, scanned or shown (never the text)."""
    seq: int | None = None

    @property
    def written(self) -> bool:
        return self.seq is not None


def request_audit(scope_state: dict[str, Any]) -> RequestAudit:
    audit = scope_state.get(AUDIT_STATE_KEY)
    if not isinstance(audit, RequestAudit):
        # Fail closed: a /v1 handler running without the guard must not serve data.
        msg = "request reached a /v1 handler without an audit context"
        raise RuntimeError(msg)
    return audit
