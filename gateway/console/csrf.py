"""CSRF tokens for every console form.

Signed in, a form's token is derived from the session id (HMAC-SHA256 with a fixed
label), so it is stable for the session, different for every session and useless
without the HttpOnly cookie it comes from. Before sign-in (the sign-in form itself), a
random token is set in its own SameSite=Strict cookie and must come back in the form
(double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

FIELD = "csrf_token"
PRE_SESSION_COOKIE = "wg_console_csrf"


def session_token(session_id: str) -> str:
    return hmac.new(session_id.encode(), b"wardgate-console-csrf", hashlib.sha256).hexdigest()


def new_pre_session_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, presented: str | None) -> bool:
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
