"""The signed-in viewer of a console request, resolved from its session cookie.

`provide_viewer` is the console's one door: it finds the live session, checks that the
key it signed in with is still active and that the policy still grants the console,
checks the CSRF token of every form posted, and fills in the request's audit context
(principal, purpose, policy version) so that the single entry of the request names
them whether the page is served or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from audit import Outcome
from gateway.access.authentication import Principal
from gateway.compliance.request_audit import RequestAudit
from gateway.console import csrf
from gateway.console.errors import ConsoleRefusal, NotSignedIn
from gateway.console.i18n import Translator
from gateway.console.rights import ConsoleAccess, console_access
from gateway.console.routing import ACTION_OPT
from gateway.console.sessions import ConsoleSession, SessionStore
from gateway.governance.call import GovernedCall
from gateway.state import GatewayState, PolicySnapshot

SESSION_COOKIE = "wg_console"
VIEWER_STATE_KEY = "wardgate_console_viewer"
"""Where the viewer waits in the request scope for an error page drawn after it."""
SAFE_METHODS = frozenset({"GET", "HEAD"})

AnyRequest = Request[Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, under which policy version, in which language and time zone."""

    state: GatewayState
    snapshot: PolicySnapshot
    principal: Principal
    access: ConsoleAccess
    session: ConsoleSession
    csrf_token: str
    audit: RequestAudit
    form: dict[str, str]
    """The fields of a posted form (CSRF checked); empty for a GET."""

    def __repr__(self) -> str:
        return f"Viewer(principal={self.principal.id!r}, purpose={self.access.purpose!r})"

    @property
    def t(self) -> Translator:
        return Translator(self.session.language)

    def call(self, action: str | None = None, entity: str | None = None) -> GovernedCall:
        """The governed call this console request stands for, to hand to a use case of
        the API: the same rights checks, the same audit entry."""
        if action is not None:
            self.audit.action = action
        if entity is not None:
            self.audit.entity = entity
        purpose = self.snapshot.document.purposes[self.access.purpose]
        plan = self.state.binder.plan(self.snapshot.engine, self.principal.roles, purpose.id)
        return GovernedCall(
            state=self.state,
            snapshot=self.snapshot,
            principal=self.principal,
            purpose=purpose,
            plan=plan,
            audit=self.audit,
        )


def console_action(request: AnyRequest) -> str:
    action = request.route_handler.opt.get(ACTION_OPT)
    return str(action) if action else "console.page"


async def form_fields(request: AnyRequest) -> dict[str, str]:
    """A posted form as text fields (files and repeated fields: the last text value)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _refuse_session(audit: RequestAudit, reason: str) -> NotSignedIn:
    audit.outcome = Outcome.DENIED
    audit.reason = reason
    return NotSignedIn(reason)


async def provide_viewer(
    request: AnyRequest,
    gateway: NamedDependency[GatewayState],
    audit: NamedDependency[RequestAudit],
) -> Viewer:
    audit.action = console_action(request)
    snapshot = gateway.snapshot
    audit.policy_version = snapshot.version
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id or len(session_id) > 128:
        raise _refuse_session(audit, "no_session")
    sessions = SessionStore(gateway.db)
    session = await sessions.resume(session_id)
    if session is None:
        raise _refuse_session(audit, "session_expired")
    principal = snapshot.directory.by_key_hash(session.key_hash)
    if principal is None or principal.id != session.principal_id:
        # The key was revoked (or its principal removed): the session ends with it.
        await sessions.end(session.id_hash)
        raise _refuse_session(audit, "session_key_revoked")
    audit.principal_id = principal.id
    access = console_access(snapshot, principal)
    if access is None:
        audit.outcome = Outcome.DENIED
        audit.reason = "console_not_allowed"
        raise ConsoleRefusal("console_not_allowed")
    purpose = snapshot.document.purposes[access.purpose]
    audit.purpose = purpose.id
    audit.legal_basis = purpose.legal_basis.value
    token = csrf.session_token(session_id)
    form: dict[str, str] = {}
    if request.method not in SAFE_METHODS:
        form = await form_fields(request)
        if not csrf.matches(token, form.get(csrf.FIELD)):
            audit.outcome = Outcome.DENIED
            audit.reason = "csrf_token_invalid"
            raise ConsoleRefusal("csrf_token_invalid")
    viewer = Viewer(
        state=gateway,
        snapshot=snapshot,
        principal=principal,
        access=access,
        session=session,
        csrf_token=token,
        audit=audit,
        form=form,
    )
    request.scope["state"][VIEWER_STATE_KEY] = viewer
    return viewer


def require(viewer: Viewer, *, compliance: bool = False, admin: bool = False) -> None:
    """Refuse a screen the viewer's rights do not open (403, audited as denied)."""
    if (compliance and not viewer.access.compliance) or (admin and not viewer.access.admin):
        viewer.audit.outcome = Outcome.DENIED
        viewer.audit.reason = "screen_not_allowed"
        raise ConsoleRefusal("screen_not_allowed")
