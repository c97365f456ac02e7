"""What every console page carries: security headers, escaping, both languages, and
one audit entry per request that reads something (none for assets)."""

from __future__ import annotations

import pytest

from gateway.console.i18n import catalog, negotiate
from tests.helpers.console import Console

HEADERS = {
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


def assert_secure(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self'" in policy
    for name, value in HEADERS.items():
        assert headers[name] == value


def test_given_anonymous_pages_then_security_headers_on_each(console: Console) -> None:
    for path in ("/console/sign-in", "/console", "/console/static/console.css"):
        assert_secure(console.get(path))


def test_given_signed_in_pages_and_refusals_then_security_headers_on_each(
    console: Console,
) -> None:
    console.sign_in("compliance-officer")
    assert_secure(console.get("/console"))
    assert_secure(console.client.post("/console/language", data={}, follow_redirects=False))


def test_given_page_then_no_inline_script_or_style(console: Console) -> None:
    console.sign_in("compliance-officer")
    page = console.get("/console").text

    assert "<script>" not in page
    assert "style=" not in page
    assert "<style" not in page
    assert " on" + "click=" not in page


def test_given_every_message_then_both_languages_have_it() -> None:
    assert set(catalog("en")) == set(catalog("zh-CN"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.2, zh-TW;q=0.8", "zh-CN"),
        ("", "zh-CN"),
    ],
)
def test_given_accept_language_then_best_supported_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_given_english_browser_then_sign_in_page_in_english(console: Console) -> None:
    page = console.get("/console/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"}).text

    assert 'lang="en"' in page
    assert "Sign in to the console" in page


def test_given_chinese_browser_then_sign_in_page_in_chinese(console: Console) -> None:
    page = console.get("/console/sign-in", headers={"Accept-Language": "zh-CN"}).text

    assert 'lang="zh-CN"' in page
    assert "登录控制台" in page


def test_given_language_switched_then_it_sticks_for_the_session(console: Console) -> None:
    console.sign_in("compliance-officer", lang="zh-CN")
    assert "当前登录" in console.get("/console").text

    switched = console.post("/console/language", {"lang": "en", "next": "/console"})

    assert switched.status_code == 303
    english = console.get("/console", headers={"Accept-Language": "zh-CN"}).text
    assert "Signed in as" in english
    assert 'lang="en"' in english


def test_given_signed_in_page_then_one_audit_entry_and_none_for_assets(console: Console) -> None:
    console.sign_in("compliance-officer")
    before = console.audit_count()

    console.get("/console")
    console.get("/console/static/console.css")
    console.get("/console/static/htmx.min.js")

    assert console.audit_count() == before + 1
    action, outcome, principal, _, purpose, status, _ = console.last_entry()
    assert (action, outcome, principal, purpose, status) == (
        "console.home",
        "allowed",
        "compliance-officer",
        "compliance_audit",
        200,
    )


def test_given_times_then_shown_in_the_viewers_zone_with_offset() -> None:
    from gateway.console.dates import local_time

    assert local_time("2026-12-03T01:02:03+00:00", "Asia/Shanghai") == (
        "2026-12-03 09:02:03 UTC+08:00"
    )
    assert local_time("2026-12-03T01:02:03+00:00", "America/New_York").endswith("UTC-05:00")
    assert local_time("2026-12-03T01:02:03+00:00", "Not/AZone").endswith("UTC+00:00")


def test_given_templates_then_every_text_they_name_is_in_both_languages() -> None:
    import re
    from pathlib import Path

    from gateway.console.navigation import SCREENS
    from gateway.console.rendering import TEMPLATES

    named = {
        key
        for template in Path(TEMPLATES).glob("*.html")
        for key in re.findall(r"""\bt\(\s*["']([a-z_][\w.-]*)["']""", template.read_text())
        # `t("nav." ~ screen.key)`: the stems of composed keys are listed below instead.
        if not key.endswith((".", "_"))
    }
    named |= {f"{stem}.{screen.key}" for screen in SCREENS for stem in ("nav", "home")}
    named |= {f"outcome.{o}" for o in ("allowed", "denied", "invalid", "failed")}
    named |= {"consents.kind_grant", "consents.kind_withdraw", "lang.en", "lang.zh-CN"}

    assert len(named) > 60
    for language in ("en", "zh-CN"):
        assert named - set(catalog(language)) == set(), language
