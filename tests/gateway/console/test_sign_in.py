"""Signing in to the console: sessions, refusals and their audit entries, the rate
limit, timeouts, revocation, sign-out, and the redirect after sign-in."""

from __future__ import annotations

import json
import logging
import time

import pytest
from structlog.testing import capture_logs

from gateway.console.sessions import hash_session_id
from tests.helpers.console import Console
from tests.helpers.policy import (
    ADMIN_PURPOSE,
    admin_delete,
    admin_post,
    restored_policy,
    rule_id,
)


def session_stored(console: Console, session_id: str) -> bool:
    rows = console.api.store.sql(
        "SELECT 1 FROM console_sessions WHERE id_hash = :h", {"h": hash_session_id(session_id)}
    )
    return bool(rows)


def test_given_compliance_officer_key_then_signed_in_with_session_cookie(console: Console) -> None:
    response = console.sign_in("compliance-officer")

    assert response.headers["location"] == "/console"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    key = console.api.store.keys["compliance-officer"]
    assert key not in cookie
    home = console.get("/console")
    assert home.status_code == 200
    assert "compliance-officer" in home.text
    assert key not in home.text


def test_given_security_admin_key_then_signed_in(console: Console) -> None:
    console.sign_in("security-admin")

    home = console.get("/console")

    assert home.status_code == 200
    assert 'data-testid="principal">security-admin<' in home.text
    # Compliance screens are not offered to a role without the audit right.
    assert 'href="/console/audit"' not in home.text


def test_given_session_then_only_its_hash_is_stored(console: Console) -> None:
    response = console.sign_in("compliance-officer")
    session_id = console.client.cookies["wg_console"]

    stored = console.api.store.sql("SELECT id_hash, key_hash FROM console_sessions")

    assert session_id not in json.dumps([list(row) for row in stored])
    assert response.status_code == 303


def test_given_data_principal_then_refused_with_403_and_audited(console: Console) -> None:
    before = console.audit_count()

    response = console.sign_in_response("support-desk")

    assert response.status_code == 403
    assert "wg_console=" not in response.headers.get("set-cookie", "")
    assert console.audit_count() == before + 1
    action, outcome, principal, reason, *_ = console.last_entry()
    assert (action, outcome, principal, reason) == (
        "console.sign_in",
        "denied",
        "support-desk",
        "console_not_allowed",
    )


def test_given_wrong_key_then_401_audited_without_the_key(console: Console) -> None:
    wrong = "wg_" + "x" * 43
    before = console.audit_count()

    response = console.sign_in_response(key=wrong)

    assert response.status_code == 401
    assert console.audit_count() == before + 1
    action, outcome, principal, reason, *_ = console.last_entry()
    assert (action, outcome, principal, reason) == (
        "console.sign_in",
        "denied",
        None,
        "invalid_api_key",
    )
    everything = json.dumps(console.api.store.sql("SELECT * FROM audit_events"), default=str)
    assert wrong not in everything


def test_given_five_failed_sign_ins_then_even_the_right_key_is_refused(console: Console) -> None:
    for _ in range(5):
        assert console.sign_in_response(key="wg_wrong").status_code == 401

    response = console.sign_in_response("compliance-officer")

    assert response.status_code == 429
    assert console.last_entry()[3] == "sign_in_rate_limited"
    assert console.api.store.count("console_sign_in_failures") == 5


def test_given_sign_in_without_csrf_token_then_refused(console: Console) -> None:
    console.client.get("/console/sign-in")
    key = console.api.store.keys["compliance-officer"]

    response = console.client.post(
        "/console/sign-in", data={"api_key": key}, follow_redirects=False
    )

    assert response.status_code == 403
    assert console.last_entry()[3] == "csrf_token_invalid"


def test_given_form_posted_without_csrf_token_then_refused_and_nothing_changed(
    console: Console,
) -> None:
    console.sign_in("compliance-officer")
    before = console.audit_count()

    response = console.client.post("/console/language", data={"lang": "en"}, follow_redirects=False)

    assert response.status_code == 403
    assert console.audit_count() == before + 1
    assert console.last_entry()[:4] == (
        "console.language",
        "denied",
        "compliance-officer",
        "csrf_token_invalid",
    )
    assert console.api.store.sql("SELECT DISTINCT language FROM console_sessions") != [("en",)]


def test_given_sign_out_then_session_gone_and_cookie_opens_nothing(console: Console) -> None:
    console.sign_in("compliance-officer")
    session_id = console.client.cookies["wg_console"]

    response = console.post("/console/sign-out", {})

    assert response.status_code == 303
    assert not session_stored(console, session_id)
    console.client.cookies.set("wg_console", session_id, path="/console")
    again = console.get("/console")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/console/sign-in")
    assert console.last_entry()[1:4] == ("denied", None, "session_expired")


@pytest.mark.parametrize(
    ("column", "age"), [("last_seen_at", 15 * 60 + 5), ("created_at", 8 * 3600 + 5)]
)
def test_given_idle_or_old_session_then_it_has_ended(
    console: Console, column: str, age: int
) -> None:
    console.sign_in("compliance-officer")
    session_id = console.client.cookies["wg_console"]
    console.api.store.sql(
        f"UPDATE console_sessions SET {column} = :t WHERE id_hash = :h",  # noqa: S608
        {"t": time.time() - age, "h": hash_session_id(session_id)},
    )

    response = console.get("/console")

    assert response.status_code == 303
    assert not session_stored(console, session_id)


def test_given_key_revoked_then_its_session_ends(console: Console) -> None:
    api = console.api
    with restored_policy(api):
        body = {"id": "second-admin", "roles": ["security_admin"], "purposes": [ADMIN_PURPOSE]}
        assert admin_post(api, "/v1/policy/principals", body).status_code == 201
        issued = admin_post(api, "/v1/policy/principals/second-admin/keys").json()
        console.sign_in_response(key=issued["key"])
        assert console.get("/console").status_code == 200

        revoked = admin_delete(api, f"/v1/policy/keys/{issued['key_id']}")
        assert revoked.status_code == 200

        response = console.get("/console")
        assert response.status_code == 303
        assert console.last_entry()[3] == "session_key_revoked"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/console", "//evil.example/console", "/\\evil.example", "/v1/audit"],
)
def test_given_foreign_next_then_sign_in_lands_on_the_console(
    console: Console, target: str
) -> None:
    response = console.sign_in("compliance-officer", next=target)

    assert response.headers["location"] == "/console"


def test_given_console_next_then_sign_in_returns_there(console: Console) -> None:
    response = console.sign_in("compliance-officer", next="/console/audit?outcome=denied")

    assert response.headers["location"] == "/console/audit?outcome=denied"


def test_given_page_without_session_then_sent_to_sign_in_and_audited(console: Console) -> None:
    before = console.audit_count()

    response = console.get("/console/audit")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/audit"
    assert console.audit_count() == before + 1
    assert console.last_entry()[1:4] == ("denied", None, "no_session")


def test_given_sign_in_then_no_key_in_any_log(
    console: Console, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    key = console.api.store.keys["compliance-officer"]
    with capture_logs() as structured:
        console.sign_in("compliance-officer")
        console.get("/console")
        console.sign_in_response(key=key[:-2] + "zz")
    captured = capsys.readouterr()
    everything = "\n".join(
        [
            json.dumps(structured, default=str),
            *(r.getMessage() for r in caplog.records if r.name != "httpx"),
            captured.out,
            captured.err,
        ]
    )
    assert structured
    assert key not in everything
    assert key[:-2] not in everything


def test_given_tls_then_session_cookie_is_secure(console: Console) -> None:
    plain = console.client.base_url
    console.client.base_url = "https://testserver"  # type: ignore[assignment]
    try:
        response = console.sign_in("compliance-officer")
    finally:
        console.client.base_url = plain

    assert "secure" in response.headers["set-cookie"].lower()


def test_given_plain_http_then_session_cookie_is_not_marked_secure(console: Console) -> None:
    response = console.sign_in("compliance-officer")

    assert "secure" not in response.headers["set-cookie"].lower()


def test_given_console_right_removed_from_policy_then_open_session_gets_403(
    console: Console,
) -> None:
    api = console.api
    console.sign_in("compliance-officer")
    with restored_policy(api):
        rule = rule_id(api, "compliance", "compliance_audit", "api:console", "console")
        assert admin_delete(api, f"/v1/policy/rules/{rule}").status_code == 200

        response = console.get("/console")

        assert response.status_code == 403
        assert 'data-reason="console_not_allowed"' in response.text
        assert console.last_entry()[1:4] == ("denied", "compliance-officer", "console_not_allowed")
