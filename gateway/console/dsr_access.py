"""Who sees the data-subject request screens: viewers whose policy grants `dsr:handle`
under the purpose they work in (default policy: role `dpo`), never a name."""

from __future__ import annotations

from audit import Outcome
from gateway.console.errors import ConsoleRefusal
from gateway.console.viewer import Viewer
from gateway.dsr.rights import HANDLE_RIGHT


def require_dsr(viewer: Viewer) -> None:
    """Refuse the DSR screens to a viewer without `dsr:handle` (403, audited)."""
    if HANDLE_RIGHT not in viewer.access.rights:
        viewer.audit.outcome = Outcome.DENIED
        viewer.audit.reason = "screen_not_allowed"
        raise ConsoleRefusal("screen_not_allowed")
