"""Signing in with an API key, signing out, and the language switch.

The key travels once, in the body of the sign-in form, is checked against the policy
snapshot's key directory and is never stored, shown, logged or put in a cookie: the
browser gets a random session id instead. Every attempt leaves one audit entry; failed
ones count toward the per-address limit (`gateway.console.sign_in_limit`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from audit import Outcome
from gateway.access.authentication import hash_api_key
from gateway.compliance.request_audit import RequestAudit
from gateway.console import csrf
from gateway.console.dates import zone_named
from gateway.console.failures import safe_next, visitor_language
from gateway.console.i18n import DEFAULT_LANGUAGE, LANGUAGES, supported
from gateway.console.rendering import page
from gateway.console.rights import console_access
from gateway.console.routing import audited
from gateway.console.sessions import ABSOLUTE_SECONDS, SessionStore
from gateway.console.sign_in_limit import SignInLimit
from gateway.console.viewer import SESSION_COOKIE, Viewer, console_action, form_fields
from gateway.state import GatewayState

AnyRequest = Request[Any, Any, Any]
COOKIE_PATH = "/console"
DEFAULT_ZONES = {"zh-CN": "Asia/Shanghai", "en": "UTC"}


def _secure(request: AnyRequest) -> bool:
    return request.url.scheme == "https"


def _cookie(request: AnyRequest, name: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        max_age=max_age,
    )


def _sign_in_page(
    request: AnyRequest, language: str, status: int = 200, reason: str | None = None
) -> Template:
    token = request.cookies.get(csrf.PRE_SESSION_COOKIE) or csrf.new_pre_session_token()
    response = page(
        "sign_in.html",
        None,
        language=language,
        status=status,
        csrf_token=token,
        reason=reason,
        next=safe_next(request.query_params.get("next")),
    )
    response.cookies.append(_cookie(request, csrf.PRE_SESSION_COOKIE, token, ABSOLUTE_SECONDS))
    return response


@get("/sign-in", include_in_schema=False)
async def sign_in_form(request: AnyRequest) -> Template:
    return _sign_in_page(request, visitor_language(request))


def _client(request: AnyRequest) -> str:
    return (request.client.host if request.client else "unknown")[:64]


@post("/sign-in", include_in_schema=False, opt=audited("console.sign_in"), status_code=303)
async def sign_in(
    request: AnyRequest,
    gateway: NamedDependency[GatewayState],
    audit: NamedDependency[RequestAudit],
) -> Response[Any]:
    audit.action = console_action(request)
    form = await form_fields(request)
    language = supported(form.get("lang")) or visitor_language(request)
    audit.policy_version = gateway.snapshot.version
    limit = SignInLimit(gateway.db)
    client = _client(request)

    def refuse(reason: str, status: int) -> Template:
        audit.outcome = Outcome.DENIED
        audit.reason = reason
        return _sign_in_page(request, language, status, reason)

    if await limit.blocked(client):
        return refuse("sign_in_rate_limited", 429)
    if not csrf.matches(request.cookies.get(csrf.PRE_SESSION_COOKIE), form.get(csrf.FIELD)):
        return refuse("csrf_token_invalid", 403)
    key = form.get("api_key", "").strip()
    snapshot = gateway.snapshot
    principal = snapshot.directory.authenticate(key) if key else None
    if principal is None:
        await limit.failed(client)
        return refuse("invalid_api_key", 401)
    audit.principal_id = principal.id
    access = console_access(snapshot, principal)
    if access is None:
        await limit.failed(client)
        return refuse("console_not_allowed", 403)
    purpose = snapshot.document.purposes[access.purpose]
    audit.purpose = purpose.id
    audit.legal_basis = purpose.legal_basis.value
    opened = await SessionStore(gateway.db).open(
        principal.id,
        hash_api_key(key),
        language,
        zone_named(form.get("tz"), DEFAULT_ZONES.get(language, "UTC")),
    )
    response = Redirect(safe_next(form.get("next")), status_code=303)
    response.cookies.append(_cookie(request, SESSION_COOKIE, opened.session_id, ABSOLUTE_SECONDS))
    return response


@post("/sign-out", include_in_schema=False, opt=audited("console.sign_out"), status_code=303)
async def sign_out(request: AnyRequest, viewer: NamedDependency[Viewer]) -> Response[Any]:
    await SessionStore(viewer.state.db).end(viewer.session.id_hash)
    language = viewer.session.language
    response = Redirect(f"/console/sign-in?lang={language}", status_code=303)
    response.cookies.append(_cookie(request, SESSION_COOKIE, "", 0))
    return response


@post("/language", include_in_schema=False, opt=audited("console.language"), status_code=303)
async def switch_language(viewer: NamedDependency[Viewer]) -> Response[Any]:
    language = supported(viewer.form.get("lang")) or DEFAULT_LANGUAGE
    if language in LANGUAGES:
        await SessionStore(viewer.state.db).set_language(viewer.session.id_hash, language)
    return Redirect(safe_next(viewer.form.get("next")), status_code=303)
