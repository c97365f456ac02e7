"""Policy administration: one change service for the API and the CLI.

Every change — through `/v1/policy/...` or `wardgate policy apply` — goes through
`apply_policy_change`: reviewed as a whole (`policies.review`), refused with every
problem named, checked against the version it was prepared on, stored as a new
immutable version with its diff, and audited in the same transaction.
"""

from gateway.policy_admin.errors import (
    NoChange,
    PolicyChangeError,
    PolicyChangeRejected,
    PolicyTargetExists,
    PolicyTargetNotFound,
    SelfGrantRefused,
    VersionConflict,
)
from gateway.policy_admin.service import (
    AppliedChange,
    apply_policy_change,
    cli_audit,
    preview_policy_change,
    rollback_policy,
)

__all__ = [
    "AppliedChange",
    "NoChange",
    "PolicyChangeError",
    "PolicyChangeRejected",
    "PolicyTargetExists",
    "PolicyTargetNotFound",
    "SelfGrantRefused",
    "VersionConflict",
    "apply_policy_change",
    "cli_audit",
    "preview_policy_change",
    "rollback_policy",
]
