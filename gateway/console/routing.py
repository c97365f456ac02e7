"""The `opt` a console route handler declares: that its request leaves an audit entry,
under which action (read by the audit guard and by `gateway.console.viewer`)."""

from __future__ import annotations

from typing import Any

from gateway.http.audit_guard import AUDITED_OPT

ACTION_OPT = "wardgate_console_action"


def audited(action: str) -> dict[str, Any]:
    """Every request to this handler leaves one audit entry naming `action`."""
    return {AUDITED_OPT: True, ACTION_OPT: action}
