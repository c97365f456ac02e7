"""The DPO's request desk in headless chromium against a real gateway: a request filed
through the API, then verified, started and fulfilled in the console, in English and
with the queue shown in Chinese. Each scenario saves a screenshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.servers import Server

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]
DPO = {"X-Purpose": "data_subject_request"}
SUPPORT = {"X-Purpose": "customer_service"}


def sign_in(page: Page, base: str, key: str, lang: str = "en") -> None:
    page.goto(f"{base}/console/sign-in?lang={lang}")
    page.fill("#api_key", key)
    page.click("form[action='/console/sign-in'] button[type=submit]")
    page.wait_for_load_state()


def file_by_api(base: str, keys: dict[str, str], kind: str) -> str:
    """A request filed by the support desk on a customer's behalf, as the API allows."""
    support = {**SUPPORT, "Authorization": f"Bearer {keys['support-desk']}"}
    listing = httpx.get(f"{base}/v1/customers?limit=1", headers=support, timeout=30).json()
    customer = str(listing["data"][0]["id"])
    filed = httpx.post(
        f"{base}/v1/dsr",
        headers=support,
        json={"customer_id": customer, "type": kind},
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    return str(filed.json()["data"]["id"])


def test_dpo_verifies_starts_and_fulfils_a_request_filed_through_the_api(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    dsr_id = file_by_api(served.base, demo_keys, "access")
    sign_in(page, served.base, demo_keys["privacy-desk"], "en")
    expect(page.get_by_test_id("principal")).to_have_text("privacy-desk")

    page.click("nav.screens a[href='/console/dsr']")
    expect(page.locator("h1")).to_have_text("Data-subject requests")
    page.click(f"a[href='/console/dsr/{dsr_id}']")
    expect(page.get_by_test_id("dsr-status")).to_have_attribute("data-status", "received")
    shot("dsr-detail-received-en")

    # A step the machine does not allow yet is not offered.
    expect(page.get_by_test_id("form-start")).to_have_count(0)
    page.select_option("#method", "id_document")
    page.fill("#evidence", "ticket-20261203-17")
    page.click("[data-testid=form-verify] button[type=submit]")
    expect(page.get_by_test_id("dsr-status")).to_have_attribute("data-status", "verified")

    page.click("[data-testid=form-start] button[type=submit]")
    expect(page.get_by_test_id("dsr-status")).to_have_attribute("data-status", "in_progress")

    page.click("[data-testid=form-fulfil] button[type=submit]")
    expect(page.get_by_test_id("dsr-status")).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("form-download")).to_be_visible()
    expect(page.locator("[data-testid=dsr-history] tr[data-action]")).to_have_count(4)
    assert "ticket-20261203-17" not in page.content()
    shot("dsr-detail-completed-en")

    with page.expect_download() as download:
        page.click("[data-testid=form-download] button[type=submit]")
    assert download.value.suggested_filename == f"{dsr_id}.html"


def test_dpo_queue_in_chinese_and_compliance_officer_sees_no_request_desk(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    dsr_id = file_by_api(served.base, demo_keys, "explanation")
    sign_in(page, served.base, demo_keys["privacy-desk"], "zh-CN")

    page.goto(f"{served.base}/console/dsr")
    expect(page.locator("h1")).to_have_text("个人信息权利请求")
    expect(page.get_by_test_id("dsr-queue")).to_contain_text(dsr_id)
    shot("dsr-queue-zh-CN")

    page.click("[data-testid=sign-out]")
    sign_in(page, served.base, demo_keys["compliance-officer"], "en")
    expect(page.locator("nav.screens a[href='/console/dsr']")).to_have_count(0)
