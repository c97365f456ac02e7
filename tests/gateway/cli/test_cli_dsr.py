"""`wardgate dsr …`: the request's whole path from the command line, one audit entry per
command by `cli:<os user>` with status 0, one-line errors with documented exit codes."""

from __future__ import annotations

import getpass
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.helpers.cli import wardgate
from tests.helpers.store import STORE_PARAMS, Store, new_store

BACKENDS = [p for p in STORE_PARAMS if p.id in {"sqlite-aes", "postgres-aes"}]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Store:
    return new_store(request, tmp_path_factory)


def door(store: Store, *args: str) -> tuple[Result, list[dict[str, Any]]]:
    (before,) = store.sql("SELECT coalesce(max(seq), -1) FROM audit_events")[0]
    result = wardgate(store.settings, "dsr", *args)
    added = store.sql("SELECT * FROM audit_events WHERE seq > :s ORDER BY seq", {"s": before})
    return result, [dict(row._mapping) for row in added]


def one_entry(added: list[dict[str, Any]], action: str, outcome: str) -> dict[str, Any]:
    assert len(added) == 1, [(e["action"], e["outcome"]) for e in added]
    (entry,) = added
    assert entry["action"] == action
    assert entry["principal_id"] == f"cli:{getpass.getuser()}"
    assert (entry["outcome"], entry["status"]) == (outcome, 0)
    return entry


def test_an_access_request_from_filing_to_package(store: Store, tmp_path: Path) -> None:
    customer = store.sql("SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id")[0][0]
    filed, added = door(store, "file", customer, "access")
    assert filed.exit_code == 0, filed.output
    one_entry(added, "dsr.file", "allowed")
    request = json.loads(filed.stdout)["data"]
    assert request["status"] == "received"
    assert request["filed_by"] == f"cli:{getpass.getuser()}"
    dsr_id = request["id"]
    verified, added = door(store, "verify", dsr_id, "--method", "in_person", "--evidence", "x1")
    assert verified.exit_code == 0, verified.output
    one_entry(added, "dsr.verify", "allowed")
    for step in ("start", "fulfil"):
        result, added = door(store, step, dsr_id)
        assert result.exit_code == 0, result.output
        one_entry(added, f"dsr.{step}", "allowed")
    target = tmp_path / "package.html"
    result, added = door(store, "package", dsr_id, "--format", "html", "-o", str(target))
    assert result.exit_code == 0, result.output
    one_entry(added, "dsr.download", "allowed")
    assert "个人信息查阅、复制请求答复" in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    shown, _ = door(store, "show", dsr_id)
    assert json.loads(shown.stdout)["data"]["status"] == "completed"


def test_a_move_the_machine_forbids_is_one_line_and_exit_1(store: Store) -> None:
    customer = store.sql("SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id")[1][0]
    dsr_id = json.loads(door(store, "file", customer, "explanation")[0].stdout)["data"]["id"]
    result, added = door(store, "fulfil", dsr_id)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "wrong_status" in result.stderr
    entry = one_entry(added, "dsr.fulfil", "invalid")
    assert entry["reason"] == "wrong_status"


def test_bad_input_is_exit_2_and_refusal_needs_a_reason_word(store: Store) -> None:
    result, added = door(store, "show", "dsr_nothing")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    one_entry(added, "dsr.read", "invalid")
    customer = store.sql("SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id")[2][0]
    dsr_id = json.loads(door(store, "file", customer, "deletion")[0].stdout)["data"]["id"]
    result, _ = door(store, "refuse", dsr_id, "--reason", "because", "--text", "no")
    assert result.exit_code == 2
    assert "invalid_reason" in result.stderr


def test_a_role_without_the_right_is_denied_by_policy(store: Store) -> None:
    result, added = door(store, "list", "--role", "marketing")
    assert result.exit_code == 2
    entry = one_entry(added, "dsr.list", "denied")
    assert entry["reason"] == "dsr_not_allowed"


def test_listing_has_days_left(store: Store) -> None:
    result, added = door(store, "list", "--status", "received")
    assert result.exit_code == 0, result.output
    one_entry(added, "dsr.list", "allowed")
    rows = json.loads(result.stdout)["data"]
    assert rows
    assert all(isinstance(row["days_left"], int) for row in rows)
