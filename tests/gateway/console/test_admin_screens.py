"""The security admin's screens over the policy use cases: tables with the policy
version, rule and principal edits (errors beside their fields, nothing applied; or the
new version with author, comment and diff), versions with a side-by-side diff and a
confirmed rollback, and one audit entry per request carrying the change's diff."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.console.admin.rule_edit import EFFECTS
from gateway.console.i18n import LANGUAGES, catalog
from gateway.console.rendering import TEMPLATES
from policies.explain import CONDITION_PHRASES
from tests.helpers.console import Console, csrf_of

MARKETING_RULE = ("marketing", "marketing", "demographic.*", "read:mask")


@pytest.fixture
def admin(console: Console) -> Console:
    console.sign_in("security-admin", lang="en", tz="Asia/Shanghai")
    return console


def newest_version(console: Console) -> int:
    return int(console.api.store.sql("SELECT max(version) FROM policy_versions")[0][0])


def rule_id_of(console: Console, rule: tuple[str, ...]) -> str:
    listing = console.api.get("/v1/policy/rules", "security-admin", "policy_admin").json()
    for found in listing["rules"]:
        if (found["role"], found["purpose"], found["target"], found["action"]) == rule:
            return str(found["id"])
    pytest.fail(f"no rule {rule}")


def rule_form(rule: tuple[str, str, str, str], effect: str, **more: str) -> dict[str, str]:
    """The rule form's fields: (role, purpose, target, action), the effect, and any others
    (base_version, comment)."""
    role, purpose, target, action = rule
    fields = {"role": role, "purpose": purpose, "target": target, "action": action}
    return fields | {"effect": effect} | more


def last_entry_fields(console: Console) -> dict[str, str]:
    raw = console.api.store.sql("SELECT fields FROM audit_events ORDER BY seq DESC LIMIT 1")[0][0]
    return dict(json.loads(raw) if isinstance(raw, str) else raw)


@pytest.mark.parametrize(
    ("path", "action", "marker"),
    [
        ("/console/admin/principals", "policy.principals.list", "security-admin"),
        ("/console/admin/roles", "policy.roles.list", "customer_service"),
        ("/console/admin/purposes", "policy.purposes.list", "compliance_audit"),
        ("/console/admin/rules", "policy.rules.list", "demographic.*"),
    ],
)
def test_given_admin_then_each_table_with_its_policy_version_and_one_entry(
    admin: Console, path: str, action: str, marker: str
) -> None:
    before = admin.audit_count()

    page = admin.get(path)

    assert page.status_code == 200
    assert f"Newest policy version: {newest_version(admin)}" in page.text
    assert marker in page.text
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:3] == (action, "allowed", "security-admin")


def test_given_invalid_rule_then_every_problem_beside_its_field_and_version_unchanged(
    admin: Console,
) -> None:
    rule_id = rule_id_of(admin, MARKETING_RULE)
    version = newest_version(admin)
    form = {"base_version": str(version), "effect": "allow"}

    page, added = admin.post_counted(
        f"/console/admin/rules/{rule_id}",
        form | {"role": "no_such_role", "purpose": "marketing", "target": "x.y", "action": "fly"},
    )

    assert page.status_code == 422
    assert re.search(r'data-testid="error-role" data-reason="unknown_role"', page.text)
    assert re.search(r'data-testid="error-action" data-reason="unknown_action"', page.text)
    assert re.search(r'data-testid="error-target" data-reason="unknown_category"', page.text)
    assert 'data-testid="error-purpose"' not in page.text
    assert 'value="no_such_role"' in page.text  # what was typed comes back to be corrected
    assert newest_version(admin) == version
    assert added == 1
    assert admin.last_entry()[:4] == (
        "policy.rules.replace",
        "invalid",
        "security-admin",
        "unknown_role",
    )


def test_given_empty_rule_fields_then_each_named_required(admin: Console) -> None:
    version = newest_version(admin)

    page = admin.post("/console/admin/rules", {"effect": "maybe"})

    assert page.status_code == 422
    for field in ("role", "purpose", "target", "action"):
        assert f'data-testid="error-{field}" data-reason="required"' in page.text
    assert 'data-testid="error-effect" data-reason="invalid_effect"' in page.text
    assert newest_version(admin) == version


def test_given_valid_rule_edit_then_new_version_author_comment_and_diff(admin: Console) -> None:
    rule_id = rule_id_of(admin, MARKETING_RULE)
    version = newest_version(admin)
    form = rule_form(
        ("marketing", "marketing", "demographic.birth_date", "read:mask"),
        "allow",
        base_version=str(version),
        comment="marketing needs the birth date only",
    )

    page, added = admin.post_counted(f"/console/admin/rules/{rule_id}", form)

    assert page.status_code == 200, page.text
    assert newest_version(admin) == version + 1
    assert f'data-testid="new-version">{version + 1}<' in page.text
    assert 'data-testid="author">security-admin<' in page.text
    assert "marketing needs the birth date only" in page.text
    assert "+ rule [marketing, marketing, demographic.birth_date, read:mask, allow]" in page.text
    assert "- rule [marketing, marketing, demographic.*, read:mask, allow]" in page.text
    assert added == 1
    assert admin.last_entry()[:3] == ("policy.rules.replace", "allowed", "security-admin")
    fields = last_entry_fields(admin)
    assert fields["policy:version"] == f"{version} -> {version + 1}"
    assert fields["rule:marketing|marketing|demographic.birth_date|read:mask|allow"] == "added"
    assert fields["rule:marketing|marketing|demographic.*|read:mask|allow"] == "removed"


def test_given_stale_base_version_then_version_conflict_and_nothing_applied(
    admin: Console,
) -> None:
    version = newest_version(admin)
    form = rule_form(
        ("marketing", "marketing", "customers.notes", "*"), "deny", base_version=str(version - 1)
    )

    page = admin.post("/console/admin/rules", form)

    assert page.status_code == 409
    assert 'data-reason="version_conflict"' in page.text
    assert newest_version(admin) == version


def test_given_principal_with_unknown_role_then_error_beside_roles(admin: Console) -> None:
    version = newest_version(admin)
    form = {
        "base_version": str(version),
        "roles": "marketing, astronaut",
        "purposes": "marketing",
        "description": "Marketing platform",
    }

    page = admin.post("/console/admin/principals/marketing-app", form)

    assert page.status_code == 422
    assert 'data-testid="error-roles" data-reason="unknown_role"' in page.text
    assert 'data-testid="error-purposes"' not in page.text
    assert newest_version(admin) == version


def test_given_script_in_description_and_comment_then_rendered_inert(admin: Console) -> None:
    script = "<script>alert('x')</script>"
    edit = admin.get("/console/admin/principals/marketing-app/edit")
    assert edit.status_code == 200
    form = {
        "base_version": str(newest_version(admin)),
        "roles": "marketing",
        "purposes": "marketing",
        "description": f"Marketing {script}",
        "comment": f"why {script}",
    }

    applied = admin.post("/console/admin/principals/marketing-app", form, token=csrf_of(edit.text))
    principals = admin.get("/console/admin/principals")
    versions = admin.get("/console/admin/versions")

    assert applied.status_code == 200, applied.text
    for page in (applied, principals, versions):
        assert script not in page.text
        assert "&lt;script&gt;" in page.text


def test_given_rule_posted_without_csrf_token_then_refused_and_nothing_applied(
    admin: Console,
) -> None:
    version = newest_version(admin)
    before = admin.audit_count()

    page = admin.client.post(
        "/console/admin/rules",
        data=rule_form(("marketing", "marketing", "customers.notes", "*"), "deny"),
        follow_redirects=False,
    )

    assert page.status_code == 403
    assert 'data-reason="csrf_token_invalid"' in page.text
    assert newest_version(admin) == version
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:4] == (
        "policy.rules.add",
        "denied",
        "security-admin",
        "csrf_token_invalid",
    )


def test_given_two_versions_then_side_by_side_with_the_changed_rules_marked(
    admin: Console,
) -> None:
    version = newest_version(admin)
    form = rule_form(
        ("analyst", "analytics", "demographic.birth_date", "*"),
        "deny",
        base_version=str(version),
        comment="no birth dates for analysts",
    )
    assert admin.post("/console/admin/rules", form).status_code == 200
    before = admin.audit_count()

    page = admin.get("/console/admin/versions/diff", params={"from": version, "to": version + 1})

    assert page.status_code == 200
    added = re.findall(
        r'<tr class="diff-added" data-kind="added">\s*<td></td>\s*<td><code>([^<]*)</code>',
        page.text,
    )
    assert added == ["analyst · analytics · demographic.birth_date · * · deny"]
    assert page.text.count('data-kind="same"') > 10
    assert "no birth dates for analysts" in page.text
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:3] == ("policy.versions.diff", "allowed", "security-admin")


def test_given_bad_version_numbers_then_a_console_page_without_a_500(admin: Console) -> None:
    pages = [
        admin.get("/console/admin/versions/diff", params={"from": "x", "to": "1"}),
        admin.get("/console/admin/versions/diff", params={"from": "1", "to": "99999999"}),
        admin.get("/console/admin/versions/99999999999/rollback"),
    ]

    assert [page.status_code for page in pages] == [400, 404, 404]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")


def test_given_rule_removed_then_new_version_without_it(admin: Console) -> None:
    version = newest_version(admin)
    form = rule_form(("analyst", "analytics", "customers.id", "*"), "deny")
    assert admin.post("/console/admin/rules", form).status_code == 200
    rule_id = rule_id_of(admin, ("analyst", "analytics", "customers.id", "*"))
    edit = admin.get(f"/console/admin/rules/{rule_id}/edit")
    assert 'data-testid="remove-rule"' in edit.text

    page = admin.post(
        f"/console/admin/rules/{rule_id}/remove",
        {"base_version": str(version + 1)},
        token=csrf_of(edit.text),
    )

    assert page.status_code == 200
    assert newest_version(admin) == version + 2
    assert "- rule [analyst, analytics, customers.id, *, deny]" in page.text
    assert admin.last_entry()[:3] == ("policy.rules.remove", "allowed", "security-admin")


def test_given_each_role_then_home_lists_only_the_screens_its_rights_open(
    console: Console,
) -> None:
    console.sign_in("security-admin", lang="en")
    admin_home = console.get("/console").text
    console.client.cookies.clear()
    console.sign_in("compliance-officer", lang="en")
    officer_home = console.get("/console").text

    for path in ("/console/admin/rules", "/console/admin/versions", "/console/admin/keys"):
        assert f'href="{path}"' in admin_home
        assert f'href="{path}"' not in officer_home
    assert 'href="/console/audit"' not in admin_home
    for home in (admin_home, officer_home):
        assert home.count('<a href="/console/explain"') == 2  # the bar and one tile


def test_given_rollback_then_confirmation_names_the_change_then_new_version_equal_to_target(
    admin: Console,
) -> None:
    target = newest_version(admin)
    form = rule_form(
        ("analyst", "analytics", "customers.tier", "*"), "deny", base_version=str(target)
    )
    assert admin.post("/console/admin/rules", form).status_code == 200
    newest = target + 1

    confirm = admin.get(f"/console/admin/versions/{target}/rollback")

    assert confirm.status_code == 200
    assert "- rule [analyst, analytics, customers.tier, *, deny]" in confirm.text
    assert f'name="base_version" value="{newest}"' in confirm.text
    assert newest_version(admin) == newest  # looking changes nothing

    before = admin.audit_count()
    done = admin.post(
        f"/console/admin/versions/{target}/rollback",
        {"base_version": str(newest), "comment": "undo"},
        token=csrf_of(confirm.text),
    )

    assert done.status_code == 200, done.text
    assert newest_version(admin) == newest + 1
    assert f'data-testid="new-version">{newest + 1}<' in done.text
    assert admin.audit_count() == before + 1
    assert admin.last_entry()[:3] == ("policy.rollback", "allowed", "security-admin")

    def document(version: int) -> Any:
        path = f"/v1/policy/versions/{version}"
        return admin.api.get(path, "security-admin", "policy_admin").json()["document"]

    assert document(newest + 1) == document(target)


def test_given_compliance_officer_then_admin_screens_refused_403(console: Console) -> None:
    console.sign_in("compliance-officer", lang="en")
    for path in (
        "/console/admin/principals",
        "/console/admin/rules",
        "/console/admin/keys",
        "/console/admin/versions",
    ):
        before = console.audit_count()
        page = console.get(path)
        assert page.status_code == 403
        assert console.audit_count() == before + 1
        assert console.last_entry()[1:4] == ("denied", "compliance-officer", "screen_not_allowed")


def test_given_admin_then_admin_screens_in_chinese(console: Console) -> None:
    console.sign_in("security-admin", lang="zh-CN")

    page = console.get("/console/admin/rules").text

    assert 'lang="zh-CN"' in page
    assert "规则" in page
    assert "新建规则" in page


def test_given_every_message_then_none_is_read_as_a_yaml_boolean_or_null() -> None:
    """`yes`, `no`, `on`, `null` unquoted are YAML 1.1 booleans and null: a page would say
    "True" where it means "yes"."""
    for language in LANGUAGES:
        bad = [k for k, v in catalog(language).items() if v in ("True", "False", "None")]
        assert bad == [], language


def test_given_admin_console_changes_then_the_log_still_verifies(admin: Console) -> None:
    form = rule_form(("analyst", "analytics", "customers.tier", "read:mask"), "maybe")
    token = admin.csrf_token()
    admin.post("/console/admin/rules", form, token=token)  # refused: still one entry
    admin.post("/console/admin/rules", form | {"effect": "allow", "action": "*"}, token=token)
    changes = admin.api.store.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'policy.rules.add'"
    )[0][0]

    verified = admin.api.get("/v1/audit/verify", "compliance-officer", "compliance_audit")

    assert int(changes) >= 2
    assert verified.json()["data"]["ok"] is True, verified.text


def test_given_admin_templates_then_every_text_they_name_is_in_both_languages() -> None:
    named = {
        key
        for template in (Path(TEMPLATES) / "admin").glob("*.html")
        for key in re.findall(r"""\bt\(\s*["']([a-z_][\w.-]*)["']""", template.read_text())
        if not key.endswith((".", "_"))
    }
    # Composed keys: `t("admin.effect_" ~ e)`, sections, consent conditions.
    named |= {f"admin.effect_{effect}" for effect in EFFECTS}
    named |= {f"admin.section_{s}" for s in ("principals", "roles", "purposes", "rules")}
    named |= {f"explain.condition_{condition}" for condition in CONDITION_PHRASES}

    assert len(named) > 80
    for language in LANGUAGES:
        assert named - set(catalog(language)) == set(), language
