"""Why a policy change was not applied. `gateway.http.problems` turns these into HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from policies.document import PolicyProblem


class PolicyChangeError(Exception):
    """A policy change that was not applied; nothing of it was stored."""

    reason = "policy_change_refused"


class PolicyChangeRejected(PolicyChangeError):
    """The candidate document is invalid or unsafe: every problem, each with its place."""

    reason = "invalid_policy"

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
        # One stable reason for the whole refusal: the first problem's, as writes do.
        self.reason = self.problems[0].reason if self.problems else "invalid_policy"


class VersionConflict(PolicyChangeError):
    """The change was prepared against a version that is no longer the newest."""

    reason = "version_conflict"

    def __init__(self, base_version: int | None, latest: int | None) -> None:
        self.base_version = base_version
        self.latest = latest
        super().__init__(
            f"the change was made against policy version {base_version}, "
            f"but the newest version is {latest}: reload and try again"
        )


class SelfGrantRefused(PolicyChangeError):
    """The change would give the acting principal roles, purposes or rights of its own."""

    reason = "self_grant"

    def __init__(self, actor: str, grants: Sequence[str]) -> None:
        self.actor = actor
        self.grants = tuple(grants)
        super().__init__(
            f"principal {actor!r} may not grant itself: {', '.join(self.grants)}; "
            "another administrator must make this change"
        )


class SeparationOfDuties(PolicyChangeError):
    """The request would put a key of a principal that reaches customer data or the audit
    log in the hands of a policy administrator (GB/T 35273 §7.1)."""

    reason = "separation_of_duties"


class NoChange(PolicyChangeError):
    """The change leaves the policy exactly as it is: no version is created."""

    reason = "no_change"


class PolicyTargetNotFound(PolicyChangeError):
    """A version, role, principal, rule, purpose or key named by the change does not exist."""

    reason = "not_found"


class PolicyTargetExists(PolicyChangeError):
    """The change would create a role, principal, purpose or rule that already exists."""

    reason = "already_exists"


class ApiKeyRevoked(PolicyChangeError):
    """The key was revoked before; a revocation cannot be undone or repeated."""

    reason = "key_revoked"
