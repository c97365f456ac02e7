"""Driving the web console through the Litestar test client, as a browser would: forms
with their CSRF tokens, the session cookie the gateway sets, audit entries counted."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.api import Api

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


class Console:
    """One browser: its own cookies, signed in as one principal at a time."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.client = api.client
        self.client.cookies.clear()

    def sign_in_response(
        self, principal: str | None = None, *, key: str | None = None, **fields: str
    ) -> Any:
        form_page = self.client.get("/console/sign-in")
        form = {
            "csrf_token": csrf_of(form_page.text),
            "api_key": key if key is not None else self.api.store.keys[str(principal)],
            **fields,
        }
        return self.client.post("/console/sign-in", data=form, follow_redirects=False)

    def sign_in(self, principal: str, **fields: str) -> Any:
        response = self.sign_in_response(principal, **fields)
        assert response.status_code == 303, response.text
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kw)

    def csrf_token(self, page: str = "/console") -> str:
        """The CSRF token of the form on `page` (fetching the page is a request of its own,
        with its own audit entry)."""
        return csrf_of(self.client.get(page).text)

    def post(
        self,
        path: str,
        data: dict[str, str],
        *,
        token: str | None = None,
        token_from: str = "/console",  # noqa: S107 - a page path, not a secret
    ) -> Any:
        """Post a form as a browser would: with `token`, else with the CSRF token of the
        page `token_from`. A test that counts audit entries takes the token first
        (`csrf_token`), so that the count sees only the post."""
        csrf = token if token is not None else self.csrf_token(token_from)
        return self.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)

    def post_counted(
        self,
        path: str,
        data: dict[str, str],
        *,
        token_from: str = "/console",  # noqa: S107 - a page path, not a secret
    ) -> tuple[Any, int]:
        """`post`, and how many audit entries the post alone added (the token is taken
        before counting)."""
        token = self.csrf_token(token_from)
        before = self.audit_count()
        response = self.post(path, data, token=token)
        return response, self.audit_count() - before

    def audit_count(self) -> int:
        return int(self.api.store.sql("SELECT count(*) FROM audit_events")[0][0])

    def last_entry(self) -> Any:
        rows = self.api.store.sql(
            "SELECT action, outcome, principal_id, reason, purpose, status, subject_ids "
            "FROM audit_events ORDER BY seq DESC LIMIT 1"
        )
        return rows[0]
