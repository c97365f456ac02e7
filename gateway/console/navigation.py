"""The console's screens, as one list: the navigation bar and the home page are drawn
from it, each screen shown only to viewers whose rights open it. A new screen is one
more entry here (and its labels in both message files); the security admin's screens
name `rights.ADMIN_RIGHT`."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.console.rights import AUDIT_RIGHT, ConsoleAccess
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
    Screen("/console/dsr", "dsr", HANDLE_RIGHT),
)


def screens_for(access: ConsoleAccess) -> tuple[Screen, ...]:
    return tuple(screen for screen in SCREENS if screen.right in access.rights)
