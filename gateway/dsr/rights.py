"""Who may do what with requests: rights from policy (`api:dsr`), asked before any
parameter or body is looked at."""

from __future__ import annotations

from gateway.governance.call import GovernedCall
from gateway.http.errors import Forbidden

FILE_RIGHT = "dsr:file"
HANDLE_RIGHT = "dsr:handle"


def require_file_right(call: GovernedCall) -> None:
    if FILE_RIGHT not in call.plan.policy.api_rights:
        msg = f"your roles may not file data subject requests for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="dsr_not_allowed")


def require_handle_right(call: GovernedCall) -> None:
    if HANDLE_RIGHT not in call.plan.policy.api_rights:
        msg = f"your roles may not handle data subject requests for purpose {call.purpose.id!r}"
        raise Forbidden(msg, reason="dsr_not_allowed")
