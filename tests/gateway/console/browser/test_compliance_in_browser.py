"""The compliance officer's console in headless chromium against a real gateway: sign
in (and refusal), audit search and an entry's verified proof, a tampered copy whose
verification names the first bad entry, the access report and its CSV, language
switch, CSRF refusal, and sign-out. Each scenario saves a screenshot."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import copy_store
from tests.helpers.servers import Server, one_server
from tests.helpers.store import tamper_log

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]
SUPPORT = {"X-Purpose": "customer_service"}


def sign_in(page: Page, base: str, key: str, lang: str = "en") -> None:
    page.goto(f"{base}/console/sign-in?lang={lang}")
    page.fill("#api_key", key)
    page.click("form[action='/console/sign-in'] button[type=submit]")
    page.wait_for_load_state()


def read_a_customer(base: str, keys: dict[str, str]) -> str:
    """A data request through the API, so the log has an access to show."""
    headers = {**SUPPORT, "Authorization": f"Bearer {keys['support-desk']}"}
    listing = httpx.get(f"{base}/v1/customers?limit=1", headers=headers, timeout=30).json()
    customer = str(listing["data"][0]["id"])
    assert httpx.get(f"{base}/v1/customers/{customer}", headers=headers, timeout=30).is_success
    return customer


def test_compliance_officer_signs_in_in_english_and_chinese(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys["compliance-officer"], "en")
    expect(page.get_by_test_id("principal")).to_have_text("compliance-officer")
    expect(page.locator("h1")).to_contain_text("Signed in as")
    shot("sign-in-compliance-officer-en")

    page.click("button.lang[value='zh-CN']")
    expect(page.locator("h1")).to_contain_text("当前登录")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    shot("home-compliance-officer-zh-CN")
    # The switch sticks for the session: a new page load stays in Chinese.
    page.goto(f"{served.base}/console/audit")
    expect(page.locator("h1")).to_have_text("审计事件")
    shot("audit-events-zh-CN")


def test_security_admin_signs_in_and_data_principal_is_refused(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys["security-admin"])
    expect(page.get_by_test_id("principal")).to_have_text("security-admin")
    shot("sign-in-security-admin-en")

    page.context.clear_cookies()
    sign_in(page, served.base, demo_keys["support-desk"])
    expect(page.get_by_test_id("error")).to_contain_text("may not use the console")
    assert page.context.cookies() == [] or all(
        c["name"] != "wg_console" for c in page.context.cookies()
    )
    shot("sign-in-data-principal-refused-en")


def test_search_audit_events_and_open_one_with_its_proof_verified(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    customer = read_a_customer(served.base, demo_keys)
    sign_in(page, served.base, demo_keys["compliance-officer"])
    page.goto(f"{served.base}/console/audit")
    page.fill("#principal", "support-desk")
    page.fill("#customer_id", customer)
    page.click("[data-testid=audit-filters] button[type=submit]")
    rows = page.locator("[data-testid=events] tbody tr")
    expect(rows.first).to_contain_text("customers.read")
    shot("audit-events-search-en")

    page.get_by_test_id("entry-link").first.click()
    expect(page.get_by_test_id("proof-result")).to_have_attribute("data-verified", "true")
    expect(page.get_by_test_id("entry-fields")).to_contain_text("support-desk")
    shot("audit-entry-proof-verified-en")


def test_tampered_copy_fails_verification_naming_the_first_bad_entry(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot, tmp_path: Path
) -> None:
    read_a_customer(served.base, demo_keys)
    copy = copy_store(Path(served.log_path).parent, tmp_path / "copy")
    tamper_log(copy.data_dir, "UPDATE audit_events SET principal_id = 'nobody' WHERE seq = 3")
    with one_server(copy, tmp_path / "copy.log") as tampered:
        sign_in(page, tampered.base, demo_keys["compliance-officer"])
        page.goto(f"{tampered.base}/console/log")
        expect(page.get_by_test_id("checkpoint-size")).to_be_visible()
        page.get_by_test_id("verify").click()
        result = page.get_by_test_id("verify-result")
        expect(result).to_have_attribute("data-ok", "false", timeout=60_000)
        expect(page.get_by_test_id("first-bad-seq")).to_have_text("3")
        shot("log-verify-tampered-en")

        page.goto(f"{tampered.base}/console/audit/3")
        expect(page.get_by_test_id("proof-result")).to_have_attribute("data-verified", "false")
        shot("audit-entry-proof-failed-en")


def test_log_health_verifies_the_untouched_log(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys["compliance-officer"])
    page.goto(f"{served.base}/console/log")
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("verify-result")).to_have_attribute(
        "data-ok", "true", timeout=60_000
    )
    shot("log-health-verified-en")


def test_access_report_and_its_csv(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot, tmp_path: Path
) -> None:
    customer = read_a_customer(served.base, demo_keys)
    sign_in(page, served.base, demo_keys["compliance-officer"])
    page.goto(f"{served.base}/console/access-report")
    page.fill("#customer_id", customer)
    page.click("form.filters button[type=submit]")
    expect(page.get_by_test_id("accesses")).to_contain_text("support-desk")
    shot("access-report-en")

    with page.expect_download() as download_info:
        page.get_by_test_id("csv-link").click()
    saved = tmp_path / "report.csv"
    download_info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("seq,time,principal")
    assert "support-desk" in text


def test_charts_consents_and_export_pages(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    customer = read_a_customer(served.base, demo_keys)
    sign_in(page, served.base, demo_keys["compliance-officer"], "zh-CN")
    page.goto(f"{served.base}/console/charts")
    expect(page.locator("svg.chart")).to_have_count(3)
    shot("charts-zh-CN")
    page.goto(f"{served.base}/console/consents?customer_id={customer}")
    expect(page.get_by_test_id("consent-history")).to_be_visible()
    shot("consent-history-zh-CN")
    page.goto(f"{served.base}/console/export")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-jsonl").click()
    assert download_info.value.suggested_filename == "wardgate-audit.jsonl"


def test_form_without_its_csrf_token_is_refused(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys["compliance-officer"])
    page.goto(f"{served.base}/console/log")
    # What a forged form would send: the same request, without the token.
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/console/log/verify";
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    page.wait_for_load_state()
    expect(page.get_by_test_id("error")).to_have_attribute("data-reason", "csrf_token_invalid")
    shot("csrf-refused-en")


def test_sign_out_ends_the_session(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys["compliance-officer"])
    session = next(c for c in page.context.cookies() if c["name"] == "wg_console")
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    shot("signed-out-en")

    # The old cookie, put back by hand, opens nothing any more.
    page.context.add_cookies([session])
    page.goto(f"{served.base}/console/audit")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
