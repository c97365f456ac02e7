"""The security admin's console in headless chromium against a real gateway: change a
rule with an invalid value (errors beside the fields, version unchanged) then a valid
one (new version and its diff); diff two versions side by side; roll back after a
confirmation; explain; issue a key (shown once) and revoke it. Each scenario saves a
screenshot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.helpers.servers import Server

pytestmark = pytest.mark.browser

Shot = Callable[[str], Path]
ADMIN = "security-admin"


def sign_in(page: Page, base: str, key: str, lang: str = "en") -> None:
    page.goto(f"{base}/console/sign-in?lang={lang}")
    page.fill("#api_key", key)
    page.click("form[action='/console/sign-in'] button[type=submit]")
    page.wait_for_load_state()


def newest_version(base: str, keys: dict[str, str]) -> int:
    headers = {"Authorization": f"Bearer {keys[ADMIN]}", "X-Purpose": "policy_admin"}
    listing = httpx.get(f"{base}/v1/policy/versions", headers=headers, timeout=30).json()
    return int(listing["versions"][0]["version"])


def open_rule(page: Page, base: str, role: str, target: str) -> None:
    page.goto(f"{base}/console/admin/rules?role={role}")
    row = page.locator("tr[data-rule]", has_text=target).first
    row.get_by_role("link").click()
    page.wait_for_load_state()


def test_change_a_rule_with_an_invalid_value_then_a_valid_one(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys[ADMIN])
    version = newest_version(served.base, demo_keys)
    open_rule(page, served.base, "marketing", "demographic.*")

    page.fill("#action", "read:sparkle")
    page.fill("#role", "marketeers")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("error-action")).to_contain_text("Unknown action")
    expect(page.get_by_test_id("error-role")).to_contain_text("Unknown role")
    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was applied")
    assert newest_version(served.base, demo_keys) == version
    shot("admin-rule-invalid-en")

    page.fill("#role", "marketing")
    page.fill("#action", "read:mask")
    page.fill("#target", "demographic.birth_date")
    page.fill("#comment", "marketing needs the birth date only")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("new-version")).to_have_text(str(version + 1))
    expect(page.get_by_test_id("author")).to_have_text(ADMIN)
    expect(page.get_by_test_id("comment")).to_have_text("marketing needs the birth date only")
    expect(page.get_by_test_id("diff")).to_contain_text(
        "+ rule [marketing, marketing, demographic.birth_date, read:mask, allow]"
    )
    assert newest_version(served.base, demo_keys) == version + 1
    shot("admin-rule-applied-en")


def test_diff_two_versions_side_by_side(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys[ADMIN])
    open_rule(page, served.base, "analyst", "free_text")
    page.fill("#target", "customers.notes")
    page.fill("#comment", "only the notes field")
    page.get_by_test_id("save").click()
    newest = newest_version(served.base, demo_keys)

    page.goto(f"{served.base}/console/admin/versions")
    page.select_option("#from", str(newest - 1))
    page.select_option("#to", str(newest))
    page.get_by_test_id("compare").click()

    expect(page.locator("h1")).to_have_text(f"Version {newest - 1} → version {newest}")
    rows = page.get_by_test_id("rule-rows")
    expect(rows.locator("tr.diff-added")).to_contain_text("analyst · analytics · customers.notes")
    expect(rows.locator("tr.diff-removed")).to_contain_text("analyst · analytics · free_text")
    shot("admin-versions-diff-en")


def test_roll_back_after_a_confirmation_naming_the_change(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys[ADMIN], "zh-CN")
    open_rule(page, served.base, "analyst", "commercial.*")
    page.fill("#action", "*")
    page.select_option("#effect", "deny")
    page.get_by_test_id("save").click()
    newest = newest_version(served.base, demo_keys)
    target = newest - 1

    page.goto(f"{served.base}/console/admin/versions")
    expect(page.get_by_test_id("versions")).to_contain_text(ADMIN)
    shot("admin-versions-zh-CN")
    page.get_by_test_id(f"rollback-{target}").click()
    confirm = page.get_by_test_id("rollback-confirm")
    expect(confirm).to_contain_text("+ rule [analyst, analytics, commercial.*, read:clear, allow]")
    expect(confirm).to_contain_text("- rule [analyst, analytics, commercial.*, *, deny]")
    assert newest_version(served.base, demo_keys) == newest
    shot("admin-rollback-confirm-zh-CN")

    page.fill("#comment", "回滚：分析人员仍需商业数据")
    page.get_by_test_id("confirm-rollback").click()
    expect(page.get_by_test_id("new-version")).to_have_text(str(newest + 1))
    assert newest_version(served.base, demo_keys) == newest + 1
    shot("admin-rollback-done-zh-CN")


def test_explain_a_principal_under_a_purpose(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys[ADMIN])
    page.goto(f"{served.base}/console/explain")
    page.select_option("#principal", "support-desk")
    page.select_option("#purpose", "customer_service")
    page.get_by_test_id("explain").click()

    expect(page.get_by_test_id("answer")).to_be_visible()
    expect(page.get_by_test_id("effect-customers-phone")).to_contain_text("mask:")
    expect(page.locator("tr[data-field='phone']")).to_contain_text(
        "customer_service · customer_service · contact.* · read:mask · allow"
    )
    shot("admin-explain-en")

    # Naming a customer is the compliance officer's question: refused beside the field.
    page.fill("#customer_id", "cus_anyone")
    page.get_by_test_id("explain").click()
    expect(page.get_by_test_id("error-customer_id")).to_contain_text("compliance officer")
    shot("admin-explain-customer-refused-en")


def test_issue_a_key_shown_once_then_revoke_it(
    page: Page, served: Server, demo_keys: dict[str, str], shot: Shot
) -> None:
    sign_in(page, served.base, demo_keys[ADMIN])
    page.goto(f"{served.base}/console/admin/keys")
    page.select_option("#principal", "support-desk")
    page.get_by_test_id("issue").click()
    expect(page.get_by_test_id("error-principal")).to_contain_text("Separation of duties")
    shot("admin-key-refused-for-data-principal-en")

    page.select_option("#principal", ADMIN)
    page.get_by_test_id("issue").click()
    key = page.get_by_test_id("new-key").inner_text().strip()
    key_id = page.get_by_test_id("key-id").inner_text().strip()
    assert key.startswith("wg_")
    expect(page.get_by_test_id("copy")).to_be_visible()
    shot("admin-key-issued-en")
    headers = {"Authorization": f"Bearer {key}", "X-Purpose": "policy_admin"}
    assert httpx.get(f"{served.base}/v1/policy/roles", headers=headers, timeout=30).is_success

    page.goto(f"{served.base}/console/admin/keys")
    assert key not in page.content()
    page.get_by_test_id(f"revoke-{key_id}").click()
    expect(page.get_by_test_id("revoked")).to_contain_text(key_id)
    response = httpx.get(f"{served.base}/v1/policy/roles", headers=headers, timeout=30)
    assert response.status_code == 401
    shot("admin-key-revoked-en")
