"""Who may use the console, and which screens: from policy, never from names.

A principal may sign in when the policy grants its roles the `console` API right under
one of the purposes it may declare; the console then works under that purpose (the
first such purpose by name). Its screens follow from its other API rights under that
purpose: `audit:read` opens the compliance screens, `policy:admin` the administration.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.access.authentication import Principal
from gateway.state import PolicySnapshot

CONSOLE_RIGHT = "console"
AUDIT_RIGHT = "audit:read"
ADMIN_RIGHT = "policy:admin"


@dataclass(frozen=True, slots=True)
class ConsoleAccess:
    """The purpose a console principal works under and its API rights there."""

    purpose: str
    rights: frozenset[str]

    @property
    def compliance(self) -> bool:
        return AUDIT_RIGHT in self.rights

    @property
    def admin(self) -> bool:
        return ADMIN_RIGHT in self.rights


def console_access(snapshot: PolicySnapshot, principal: Principal) -> ConsoleAccess | None:
    """The console access of `principal` under this policy version; None: no console."""
    for purpose in sorted(principal.purposes):
        if purpose not in snapshot.document.purposes:
            continue
        rights = snapshot.engine.api_rights(principal.roles, purpose)
        if CONSOLE_RIGHT in rights:
            return ConsoleAccess(purpose=purpose, rights=rights)
    return None
