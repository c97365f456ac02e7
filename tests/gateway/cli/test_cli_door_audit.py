"""Every command-line operation on data, keys, consents, the policy or the audit log
leaves exactly one audit entry — done, refused or failed — by `cli:<os user>`, with
status 0, an outcome and a reason word. Imports that commit rows leave one entry per
batch instead (tests/gateway/customers/test_importer.py); here each file is one batch."""

from __future__ import annotations

import getpass
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from gateway.settings import Settings
from tests.helpers.cli import wardgate
from tests.helpers.store import STORE_PARAMS, Store, new_store

# One store per backend (AES suite): every test adds entries and counts only its own.
BACKENDS = [p for p in STORE_PARAMS if p.id in {"sqlite-aes", "postgres-aes"}]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return new_store(request, tmp_path_factory)


def as_json(value: Any) -> Any:
    return value if isinstance(value, list | dict) else json.loads(str(value))


def door(store: Store, *args: str) -> tuple[Result, list[dict[str, Any]]]:
    """Run `wardgate ARGS` and return what it printed and the audit entries it added."""
    (before,) = store.sql("SELECT coalesce(max(seq), -1) FROM audit_events")[0]
    result = wardgate(store.settings, *args)
    added = store.sql("SELECT * FROM audit_events WHERE seq > :s ORDER BY seq", {"s": before})
    return result, [dict(row._mapping) for row in added]


def one_entry(
    added: list[dict[str, Any]], action: str, outcome: str, reason: str | None = None
) -> dict[str, Any]:
    assert len(added) == 1, [(e["action"], e["outcome"]) for e in added]
    (entry,) = added
    assert entry["action"] == action
    assert entry["principal_id"] == f"cli:{getpass.getuser()}"
    assert (entry["outcome"], entry["reason"], entry["status"]) == (outcome, reason, 0)
    return entry


# --- keys ----------------------------------------------------------------------------------


def test_given_unknown_principal_then_keys_issue_is_refused_in_one_entry(store: Store) -> None:
    result, added = door(store, "keys", "issue", "nobody")

    assert result.exit_code != 0
    entry = one_entry(added, "keys.issue", "invalid", "unknown_principal")
    assert as_json(entry["fields"]) == {}  # the name typed is not a principal: not recorded


def test_given_issue_then_revoke_twice_then_one_entry_each_saying_what_happened(
    store: Store,
) -> None:
    issued, added = door(store, "keys", "issue", "support-desk")
    assert issued.exit_code == 0, issued.output
    entry = one_entry(added, "keys.issue", "allowed")
    (key_field,) = [name for name in as_json(entry["fields"]) if name.startswith("api_key:")]
    key_id = key_field.removeprefix("api_key:")
    assert issued.stdout.strip() not in json.dumps(entry, default=str)  # never the key

    revoked, added = door(store, "keys", "revoke", key_id)
    assert revoked.exit_code == 0, revoked.output
    assert as_json(one_entry(added, "keys.revoke", "allowed")["fields"])[key_field] == "revoked"

    again, added = door(store, "keys", "revoke", key_id)
    assert again.exit_code != 0
    entry = one_entry(added, "keys.revoke", "invalid", "already_revoked")
    assert as_json(entry["fields"]) == {key_field: "revoked_before"}

    unknown, added = door(store, "keys", "revoke", "key_doesnotexist")
    assert unknown.exit_code != 0
    assert as_json(one_entry(added, "keys.revoke", "invalid", "unknown_api_key")["fields"]) == {}


def test_given_key_operations_then_each_leaves_one_entry(store: Store) -> None:
    status, added = door(store, "keys", "status")
    assert status.exit_code == 0, status.output
    one_entry(added, "keys.status", "allowed")

    kept, added = door(store, "keys", "retire-kek", "--version", "1")
    assert kept.exit_code != 0  # version 1 still wraps every key
    entry = one_entry(added, "keys.retire_kek", "invalid", "master_key_in_use")
    assert as_json(entry["fields"]) == {"master_key": "kept:1"}

    purged, added = door(store, "keys", "purge")
    assert purged.exit_code == 0, purged.output
    assert as_json(one_entry(added, "keys.purge", "allowed")["fields"]) == {"data_keys": "purged:0"}


# --- the audit log -------------------------------------------------------------------------


def test_given_audit_operations_then_each_leaves_one_entry(store: Store, tmp_path: Path) -> None:
    verified, added = door(store, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    one_entry(added, "audit.verify", "allowed")

    checkpoint, added = door(store, "audit", "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    entry = one_entry(added, "audit.checkpoint", "allowed")
    # The checkpoint was signed with its own entry in the tree.
    assert f"\n{entry['seq'] + 1}\n" in checkpoint.stdout

    exported, added = door(store, "audit", "export", "-o", str(tmp_path / "log.jsonl"))
    assert exported.exit_code == 0, exported.output
    entry = one_entry(added, "audit.export", "allowed")
    last = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(last)["seq"] == entry["seq"]  # the export holds its own entry

    nowhere = tmp_path / "missing-dir" / "log.jsonl"
    failed, added = door(store, "audit", "export", "-o", str(nowhere))
    assert failed.exit_code != 0
    one_entry(added, "audit.export", "failed", "io_failed")


# --- the policy ----------------------------------------------------------------------------


def test_given_policy_operations_then_each_leaves_one_entry(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "policy"
    exported, added = door(store, "policy", "export", str(target))
    assert exported.exit_code == 0, exported.output
    one_entry(added, "policy.export", "allowed")

    unknown, added = door(store, "policy", "export", str(tmp_path / "x"), "--version", "99")
    assert unknown.exit_code != 0
    one_entry(added, "policy.export", "invalid", "unknown_version")

    same, added = door(store, "policy", "apply", str(target))
    assert same.exit_code == 0, same.output
    one_entry(added, "policy.apply", "allowed", "no_change")

    policy = target / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("contact.*, 'read:mask'", "contact.fax, 'read:mask'", 1))
    rejected, added = door(store, "policy", "apply", str(target))
    assert rejected.exit_code == 1, rejected.output
    entry = one_entry(added, "policy.apply", "invalid", "policy_rejected")
    assert as_json(entry["fields"]) == {"policy:problems": "1"}

    broken, added = door(store, "policy", "apply", str(tmp_path / "no-such-dir"))
    assert broken.exit_code != 0
    one_entry(added, "policy.apply", "invalid", "unusable_policy_files")

    shutil.rmtree(target)
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: desk sees masked phones\n"
        "  principal: support-desk\n"
        "  purpose: customer_service\n"
        "  expect: {phone: mask}\n",
        encoding="utf-8",
    )
    tested, added = door(store, "policy", "test", str(cases))
    assert tested.exit_code == 0, tested.output
    entry = one_entry(added, "policy.test", "allowed")
    assert as_json(entry["fields"]) == {"cases": "passed:1,failed:0"}


# --- imports -------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return tmp_path


def customers_csv(path: Path, *phones: str) -> Path:
    lines = ["name,phone", *(f"测试{i},{phone}" for i, phone in enumerate(phones))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_given_imports_then_each_leaves_one_entry_saying_how_it_ended(
    store: Store, files: Path
) -> None:
    clean, added = door(store, "import", str(customers_csv(files / "a.csv", "13812345678")))
    assert clean.exit_code == 0, clean.output
    entry = one_entry(added, "customers.import", "allowed")
    assert as_json(entry["fields"])["import:rows"] == "loaded:1,rejected:0"
    assert len(as_json(entry["record_ids"])) == 1

    partial_file = customers_csv(files / "b.csv", "13812345679", "12345678901")
    partial, added = door(store, "import", str(partial_file))
    assert partial.exit_code == 1, partial.output
    entry = one_entry(added, "customers.import", "allowed", "rows_rejected")
    assert as_json(entry["fields"])["import:rows"] == "loaded:1,rejected:1"

    refused, added = door(store, "import", str(partial_file), "--all-or-nothing")
    assert refused.exit_code != 0
    entry = one_entry(added, "customers.import", "invalid", "rows_rejected")
    assert as_json(entry["fields"]) == {"import:rows": "loaded:0,rejected:1"}
    assert as_json(entry["record_ids"]) == []

    unusable = files / "c.xlsx"
    unusable.write_text("name\n", encoding="utf-8")
    refused, added = door(store, "import", str(unusable))
    assert refused.exit_code == 2
    one_entry(added, "customers.import", "invalid", "unusable_file")


def test_given_consent_import_refused_then_one_entry_says_so(store: Store, files: Path) -> None:
    path = files / "consents.csv"
    path.write_text(
        "customer_id,purpose,at,channel,notice_version\n"
        "cus_doesnotexist,marketing,2025-01-01T00:00:00+00:00,web,n-1\n",
        encoding="utf-8",
    )

    refused, added = door(store, "consents", "import", str(path), "--all-or-nothing")

    assert refused.exit_code != 0
    entry = one_entry(added, "consents.import", "invalid", "rows_rejected")
    assert as_json(entry["fields"]) == {"import:rows": "loaded:0,rejected:1"}


# --- no store ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("import", "x.csv"), ("import", "x.txt")])
def test_given_no_store_then_an_import_records_nothing_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Without a store there is no log to record in, and none is made to record in:
    a usable file stops at the missing master key, an unusable one at the file."""
    empty = tmp_path / "empty"
    (tmp_path / "x.csv").write_text("name\n张三\n", encoding="utf-8")
    (tmp_path / "x.txt").write_text("name\n张三\n", encoding="utf-8")

    result = wardgate(Settings(data_dir=empty), *args[:1], str(tmp_path / args[1]))

    assert result.exit_code == 2
    assert not empty.exists()
