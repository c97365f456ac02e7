"""The console's screens, as one list: the navigation bar and the home page are drawn
from it, each screen shown only to viewers whose rights open it. A new screen is one
more entry here (and its labels in both message files); the security admin's screens
name `rights.ADMIN_RIGHT`."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.approvals.service import APPROVE_RIGHT
from gateway.console.rights import ADMIN_RIGHT, AUDIT_RIGHT, ConsoleAccess
from gateway.dsr.rights import HANDLE_RIGHT


@dataclass(frozen=True, slots=True)
class Screen:
    path: str
    key: str
    """Message key stem: `nav.<key>` is its label, `home.<key>` its one-line summary."""
    right: str


SCREENS: tuple[Screen, ...] = (
    Screen("/console/audit", "audit", AUDIT_RIGHT),
    Screen("/console/log", "log", AUDIT_RIGHT),
    Screen("/console/access-report", "access_report", AUDIT_RIGHT),
    Screen("/console/consents", "consents", AUDIT_RIGHT),
    Screen("/console/charts", "charts", AUDIT_RIGHT),
    Screen("/console/export", "export", AUDIT_RIGHT),
    # Export approvals (gateway.console.approvals): whoever may decide them.
    Screen("/console/approvals", "approvals", APPROVE_RIGHT),
    # Security admin screens (gateway.console.admin).
    Screen("/console/admin/principals", "admin_principals", ADMIN_RIGHT),
    Screen("/console/admin/roles", "admin_roles", ADMIN_RIGHT),
    Screen("/console/admin/purposes", "admin_purposes", ADMIN_RIGHT),
    Screen("/console/admin/rules", "admin_rules", ADMIN_RIGHT),
    Screen("/console/admin/versions", "admin_versions", ADMIN_RIGHT),
    Screen("/console/admin/keys", "admin_keys", ADMIN_RIGHT),
    # Explaining is both roles' question (for one customer: the compliance officer's).
    Screen("/console/explain", "explain", ADMIN_RIGHT),
    Screen("/console/explain", "explain", AUDIT_RIGHT),
    Screen("/console/dsr", "dsr", HANDLE_RIGHT),
)


def screens_for(access: ConsoleAccess) -> tuple[Screen, ...]:
    shown = [screen for screen in SCREENS if screen.right in access.rights]
    # A screen opened by either of two rights is listed twice above: show it once.
    return tuple(
        screen for i, screen in enumerate(shown) if screen.path not in {s.path for s in shown[:i]}
    )
