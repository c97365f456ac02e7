"""The audit log: one entry per request, append-only, never a field value."""

from audit.appender import GroupCommitAppender
from audit.entry import AuditEntry, Outcome
from audit.schema import audit_events
from audit.store import AuditWriteError, append_entry

__all__ = [
    "AuditEntry",
    "AuditWriteError",
    "GroupCommitAppender",
    "Outcome",
    "append_entry",
    "audit_events",
]
