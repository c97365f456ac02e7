"""`wardgate policy export/apply/test`: policy as code, end to end on a real store.

Export then apply changes nothing; an edit applies as ONE new, audited version that
the running gateway serves; invalid files are refused with every problem named by
file and line; expectation cases pass on the default policy, from the store or from
files alone, and a wrong one fails with a readable message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar.testing import TestClient

from gateway.app import WardgateApp
from gateway.db.init_store import init_store
from gateway.settings import Settings, get_settings
from policies.principals_file import load_principals_file
from tests.helpers.cli import demo_data_dir, invoke, store_rows

SHIPPED_POLICY = Path(__file__).resolve().parents[3] / "policies"
SHIPPED_EXPECTATIONS = SHIPPED_POLICY / "expectations.yaml"
DEMO_PRINCIPALS_FILE = SHIPPED_POLICY / "demo_principals.yaml"
MASKED_PHONE = "  - [customer_service, customer_service, contact.*, 'read:mask']"
CLEAR_PHONE = "  - [customer_service, customer_service, contact.phone, 'read:clear']"


pytestmark = pytest.mark.usefixtures("isolated_settings")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return demo_data_dir(tmp_path / "data")


def versions(data_dir: Path) -> list[int]:
    return [
        r[0] for r in store_rows(data_dir, "SELECT version FROM policy_versions ORDER BY version")
    ]


def audit_entries(data_dir: Path, action: str) -> list[dict[str, Any]]:
    found = store_rows(
        data_dir,
        "SELECT principal_id, fields, subject_ids, policy_version, outcome, reason, status "
        "FROM audit_events "
        "WHERE action = ? ORDER BY seq",
        (action,),
    )
    return [
        {
            "principal_id": r[0],
            "fields": json.loads(r[1]),
            "subject_ids": json.loads(r[2]),
            "policy_version": r[3],
            "outcome": r[4],
            "reason": r[5],
            "status": r[6],
        }
        for r in found
    ]


def export(data_dir: Path, target: Path, *extra: str) -> Path:
    result = invoke("policy", "export", str(target), "--data-dir", str(data_dir), *extra)
    assert result.exit_code == 0, result.output
    return target


def edit(policy: Path, old: str, new: str) -> None:
    text = policy.read_text(encoding="utf-8")
    assert old in text
    policy.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- export and apply -----------------------------------------------------------------------


def test_given_export_then_apply_without_edits_then_nothing_changes(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    header = (exported / "policy.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# Wardgate policy version 1, by wardgate init at ")
    assert audit_entries(data_dir, "policy.export")[0]["fields"] == {"policy:version": "1"}

    result = invoke("policy", "apply", str(exported), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "(no change)" in result.output
    assert "no changes: policy version 1 already says this" in result.output
    assert versions(data_dir) == [1]
    # Nothing applied, and one entry says so.
    [entry] = audit_entries(data_dir, "policy.apply")
    assert (entry["outcome"], entry["reason"], entry["status"]) == ("allowed", "no_change", 0)
    assert entry["fields"] == {}


def test_given_an_edit_and_dry_run_then_the_diff_is_printed_and_nothing_applied(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    edit(exported / "policy.yaml", MASKED_PHONE, f"{MASKED_PHONE}\n{CLEAR_PHONE}")
    result = invoke("policy", "apply", str(exported), "--dry-run", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "diff against policy version 1:" in result.output
    assert (
        "+ rule [customer_service, customer_service, contact.phone, read:clear, allow]"
        in result.output
    )
    assert "dry run: nothing applied" in result.output
    assert versions(data_dir) == [1]


def test_given_an_edit_then_it_applies_as_one_audited_version_the_gateway_serves(
    data_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=data_dir)
    keys = json.loads((data_dir / "demo-keys.json").read_text())
    headers = {"Authorization": f"Bearer {keys['support-desk']}", "X-Purpose": "customer_service"}
    customer = store_rows(data_dir, "SELECT min(id) FROM customers")[0][0]
    exported = export(data_dir, tmp_path / "policy")
    edit(exported / "policy.yaml", MASKED_PHONE, f"{MASKED_PHONE}\n{CLEAR_PHONE}")
    # Remove a rule too: one version carries both changes.
    lookup = "  - [marketing, marketing, contact.email, lookup]\n"
    edit(exported / "policy.yaml", lookup, "")

    with TestClient(app=WardgateApp(settings)) as client:  # type: ignore[arg-type]
        before = client.get(f"/v1/customers/{customer}", headers=headers).json()["governance"]
        assert before["fields"]["phone"] == "masked"
        result = invoke(
            "policy",
            "apply",
            str(exported),
            "--comment",
            "desk needs to dial",
            "--author",
            "alice",
            "--data-dir",
            str(data_dir),
        )
        assert result.exit_code == 0, result.output
        assert "applied as policy version 2 (was 1)" in result.output
        assert versions(data_dir) == [1, 2]
        wait_until(
            lambda: (
                client.get(f"/v1/customers/{customer}", headers=headers).json()["governance"][
                    "policy_version"
                ]
                == 2
            )
        )
        after = client.get(f"/v1/customers/{customer}", headers=headers).json()["governance"]
        assert after["fields"]["phone"] == "clear"

    author, comment, diff = store_rows(
        data_dir, "SELECT author, comment, diff FROM policy_versions WHERE version = 2"
    )[0]
    assert (author, comment) == ("alice", "desk needs to dial")
    assert json.loads(diff)["rules"] == {
        "added": [["customer_service", "customer_service", "contact.phone", "read:clear", "allow"]],
        "removed": [["marketing", "marketing", "contact.email", "lookup", "allow"]],
    }
    [entry] = audit_entries(data_dir, "policy.apply")
    assert entry["principal_id"].startswith("cli:")
    assert (entry["outcome"], entry["reason"], entry["status"]) == ("allowed", None, 0)
    assert entry["fields"]["policy:version"] == "1 -> 2"
    assert (
        entry["fields"]["rule:customer_service|customer_service|contact.phone|read:clear|allow"]
        == "added"
    )


def wait_until(predicate: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def test_given_invalid_files_then_every_problem_is_named_by_file_and_line_and_nothing_applied(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    policy = exported / "policy.yaml"
    bad = "  - [ghost, customer_service, contact.fax, 'read:mask:nope']"
    edit(policy, MASKED_PHONE, f"{MASKED_PHONE}\n{bad}")
    edit(policy, "purposes: [customer_service]", "purposes: [customer_service, gossip]")
    lines = policy.read_text(encoding="utf-8").splitlines()
    rule_line = lines.index(bad) + 1
    principal_line = next(i for i, line in enumerate(lines) if "gossip" in line) + 1

    result = invoke("policy", "apply", str(exported), "--data-dir", str(data_dir))
    assert result.exit_code == 1, result.output
    output = result.output
    assert "4 problem(s); nothing was applied:" in output
    assert f"{policy} line {rule_line}: rules[" in output
    assert "unknown role 'ghost' [unknown_role]" in output
    assert "'contact.fax': unknown category or field [unknown_category]" in output
    assert "unknown masking operator 'nope' [unknown_operator]" in output
    assert f"{policy} line {principal_line}: principals.support-desk.purposes" in output
    assert "unknown purpose 'gossip'" in output
    assert versions(data_dir) == [1]


def test_given_sensitive_data_in_clear_then_it_needs_acknowledging(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    risky = "  - [compliance, compliance_audit, identity.national_id, 'read:clear']"
    edit(exported / "purposes.yaml", "categories: [identity.customer_id]", "categories: ['*']")
    edit(exported / "policy.yaml", MASKED_PHONE, f"{MASKED_PHONE}\n{risky}")
    token = "sensitive_clear:compliance:compliance_audit:identity.national_id"

    refused = invoke("policy", "apply", str(exported), "--data-dir", str(data_dir))
    assert refused.exit_code == 1, refused.output
    assert f"acknowledge {token!r}" in refused.output
    assert "[sensitive_clear_unacknowledged]" in refused.output
    assert versions(data_dir) == [1]

    applied = invoke(
        "policy", "apply", str(exported), "--acknowledge", token, "--data-dir", str(data_dir)
    )
    assert applied.exit_code == 0, applied.output
    assert versions(data_dir) == [1, 2]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "policy.yaml").write_text("rules: [\n"), "not valid YAML"),
        (lambda d: (d / "purposes.yaml").unlink(), "purposes.yaml: no such file"),
        (lambda d: (d / "policy.yaml").write_text("- just a list\n"), "expected a mapping"),
    ],
)
def test_given_unusable_files_then_exit_2_naming_the_file(
    data_dir: Path, tmp_path: Path, damage: Callable[[Path], object], message: str
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    damage(exported)
    result = invoke("policy", "apply", str(exported), "--data-dir", str(data_dir))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert versions(data_dir) == [1]


def test_given_an_older_version_then_it_is_exported_and_unknown_ones_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    edit(exported / "policy.yaml", MASKED_PHONE, f"{MASKED_PHONE}\n{CLEAR_PHONE}")
    assert invoke("policy", "apply", str(exported), "--data-dir", str(data_dir)).exit_code == 0

    old = export(data_dir, tmp_path / "v1", "--version", "1")
    assert "read:clear']" not in (old / "policy.yaml").read_text().split(MASKED_PHONE)[1][:80]
    back = invoke("policy", "apply", str(old), "--dry-run", "--data-dir", str(data_dir))
    assert back.exit_code == 0
    assert "- rule [customer_service, customer_service, contact.phone, read:clear" in back.output

    missing = invoke(
        "policy", "export", str(tmp_path / "v9"), "--version", "9", "--data-dir", str(data_dir)
    )
    assert missing.exit_code == 2
    assert "there is no policy version 9" in missing.output


# --- test ----------------------------------------------------------------------------------


def test_given_the_shipped_expectations_then_the_default_policy_passes_from_the_store(
    data_dir: Path,
) -> None:
    result = invoke("policy", "test", str(SHIPPED_EXPECTATIONS), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "judged against the store's policy" in result.output
    assert "0 failed" in result.output
    assert "FAIL" not in result.output


def test_given_policy_files_then_expectations_run_without_any_store(
    data_dir: Path, tmp_path: Path
) -> None:
    exported = export(data_dir, tmp_path / "policy")
    nowhere = tmp_path / "no-store"
    result = invoke(
        "policy",
        "test",
        str(SHIPPED_EXPECTATIONS),
        "--policy",
        str(exported),
        "--data-dir",
        str(nowhere),
    )
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    assert not nowhere.exists()  # nothing was opened or created


def test_given_the_shipped_directory_and_demo_principals_then_every_shipped_case_passes(
    tmp_path: Path,
) -> None:
    """The README's CI check, as written: no store, the shipped files, the demo fixture."""
    nowhere = tmp_path / "no-store"
    args = ["policy", "test", str(SHIPPED_EXPECTATIONS), "--policy", str(SHIPPED_POLICY)]
    result = invoke(*args, "--principals", str(DEMO_PRINCIPALS_FILE), "--data-dir", str(nowhere))
    assert result.exit_code == 0, result.output
    cases = len(yaml.safe_load(SHIPPED_EXPECTATIONS.read_text(encoding="utf-8")))
    assert cases >= 19
    assert f"{cases} cases: {cases} passed, 0 failed" in result.output
    assert not nowhere.exists()
    # Without the fixture the shipped directory names no principal: every case says so.
    bare = invoke(*args, "--data-dir", str(nowhere))
    assert bare.exit_code == 1
    assert "got 'not in the policy'" in bare.output


def test_given_demo_principals_file_then_it_names_who_init_demo_creates(data_dir: Path) -> None:
    stored = store_rows(
        data_dir, "SELECT document FROM policy_versions ORDER BY version DESC LIMIT 1"
    )[0][0]
    fixture = load_principals_file(DEMO_PRINCIPALS_FILE)
    assert json.loads(stored)["principals"] == {
        pid: spec.to_document() for pid, spec in fixture.items()
    }


def test_given_principals_naming_unknown_roles_then_exit_2_naming_the_file_and_audited(
    data_dir: Path, tmp_path: Path
) -> None:
    fixture = tmp_path / "principals.yaml"
    fixture.write_text(
        "principals:\n  helper: {roles: [wizard], purposes: [marketing]}\n", encoding="utf-8"
    )
    nowhere = tmp_path / "no-store"
    from_files = invoke(
        "policy",
        "test",
        str(SHIPPED_EXPECTATIONS),
        "--policy",
        str(SHIPPED_POLICY),
        "--principals",
        str(fixture),
        "--data-dir",
        str(nowhere),
    )
    assert from_files.exit_code == 2
    assert f"{fixture}: principals.helper.roles: unknown role 'wizard'" in from_files.output
    assert "Traceback" not in from_files.output
    assert not nowhere.exists()
    from_store = invoke(
        "policy",
        "test",
        str(SHIPPED_EXPECTATIONS),
        "--principals",
        str(fixture),
        "--data-dir",
        str(data_dir),
    )
    assert from_store.exit_code == 2
    [entry] = audit_entries(data_dir, "policy.test")
    assert (entry["outcome"], entry["reason"]) == ("invalid", "unusable_file")


def test_given_a_principals_file_with_other_sections_then_exit_2_with_its_line(
    tmp_path: Path,
) -> None:
    fixture = tmp_path / "principals.yaml"
    fixture.write_text("principals: {}\nrules: []\n", encoding="utf-8")
    result = invoke(
        "policy",
        "test",
        str(SHIPPED_EXPECTATIONS),
        "--policy",
        str(SHIPPED_POLICY),
        "--principals",
        str(fixture),
        "--data-dir",
        str(tmp_path / "no-store"),
    )
    assert result.exit_code == 2
    assert f"{fixture} line 2: unknown key 'rules'" in result.output


def test_given_a_wrong_expectation_then_it_fails_with_a_readable_message(
    data_dir: Path, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: desk sees the phone\n"
        "  principal: support-desk\n"
        "  purpose: customer_service\n"
        "  expect: {phone: mask:mobile}\n"
        "- name: desk dials in clear\n"
        "  principal: support-desk\n"
        "  purpose: customer_service\n"
        "  expect:\n"
        "    phone: clear\n"
        "    id_number: masked\n",
        encoding="utf-8",
    )
    result = invoke("policy", "test", str(cases), "--data-dir", str(data_dir))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "PASS desk sees the phone" in lines
    assert f"FAIL desk dials in clear  ({cases} line 5)" in lines
    assert "     phone: expected 'clear', got 'masked'" in lines
    assert (
        "       effect mask:mobile by rule "
        "[customer_service, customer_service, contact.*, read:mask, allow]" in lines
    )
    assert "2 cases: 1 passed, 1 failed" in lines


def test_given_a_stored_customer_then_its_consent_decides_and_the_read_is_audited(
    data_dir: Path, tmp_path: Path
) -> None:
    consented = {
        r[0]
        for r in store_rows(
            data_dir, "SELECT customer_id FROM consents WHERE purpose = 'marketing'"
        )
    }
    customers = [r[0] for r in store_rows(data_dir, "SELECT id FROM customers ORDER BY id")]
    without = next(c for c in customers if c not in consented)
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: marketing and a customer without consent\n"
        "  principal: marketing-app\n"
        "  purpose: marketing\n"
        f"  customer: {without}\n"
        "  expect: {record: withheld:no_consent, phone: withheld:no_consent}\n",
        encoding="utf-8",
    )
    result = invoke("policy", "test", str(cases), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    [entry] = audit_entries(data_dir, "policy.test")
    assert entry["subject_ids"] == [without]
    assert entry["fields"] == {"consents": "read:1", "cases": "passed:1,failed:0"}
    assert (entry["outcome"], entry["status"]) == ("allowed", 0)


def test_given_an_unusable_expectation_file_then_exit_2_with_its_line(
    data_dir: Path, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- name: x\n  purpose: marketing\n  expect: {phone: deny}\n")
    result = invoke("policy", "test", str(cases), "--data-dir", str(data_dir))
    assert result.exit_code == 2
    assert f"{cases} line 1: case 'x': name either a `principal` or its `roles`" in result.output
    missing = invoke("policy", "test", str(tmp_path / "none.yaml"), "--data-dir", str(data_dir))
    assert missing.exit_code == 2
    assert "cannot be read" in missing.output


@pytest.mark.postgres
def test_given_postgres_store_then_export_apply_and_test_work_the_same(
    tmp_path: Path, postgres_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=postgres_url_factory(),
        keystore_url=postgres_url_factory(),
    )
    asyncio.run(init_store(settings, demo=True, customers=3))
    assert settings.database_url is not None
    assert settings.keystore_url is not None
    monkeypatch.setenv("WARDGATE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WARDGATE_KEYSTORE_URL", settings.keystore_url)
    get_settings.cache_clear()
    data = str(settings.data_dir)
    exported = export(settings.data_dir, tmp_path / "policy")
    assert "no changes" in invoke("policy", "apply", str(exported), "--data-dir", data).output
    edit(exported / "policy.yaml", MASKED_PHONE, f"{MASKED_PHONE}\n{CLEAR_PHONE}")
    applied = invoke("policy", "apply", str(exported), "--data-dir", data)
    assert applied.exit_code == 0, applied.output
    assert "applied as policy version 2" in applied.output
    tested = invoke("policy", "test", str(SHIPPED_EXPECTATIONS), "--data-dir", data)
    assert tested.exit_code == 1
    assert "phone: expected 'mask:mobile', got 'clear'" in tested.output
