"""The one door of every security admin screen: the screen's right, then the governed
call of the policy API's use case it stands for (the same `policy:admin` check)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway.console.admin.forms import FormErrors
from gateway.console.errors import ConsoleRefusal
from gateway.console.viewer import Viewer, require
from gateway.governance.call import GovernedCall
from gateway.http.problems import policy_change_status
from gateway.policy import admin as policy_admin
from gateway.policy.errors import PolicyChangeError


def admin_call(viewer: Viewer, action: str) -> GovernedCall:
    """Refuse (403, audited) a viewer without `policy:admin`; else the governed call."""
    require(viewer, admin=True)
    call = viewer.call(action, "policy")
    policy_admin.require_admin(call)
    return call


def note_refusal(viewer: Viewer, errors: FormErrors) -> None:
    """The request's audit entry names why the form was refused (its status decides the
    outcome: 403 denied, other 4xx invalid)."""
    if viewer.audit.reason is None:
        viewer.audit.reason = errors.reason


@contextmanager
def refused_as_page() -> Iterator[None]:
    """A refused policy change outside a form (a removal, a revocation) as the console's
    error page with the change's status and reason, rather than problem+json."""
    try:
        yield
    except PolicyChangeError as exc:
        raise ConsoleRefusal(exc.reason, policy_change_status(exc)[0]) from None
