"""`wardgate retention …` as an operator runs it: one audit entry per operation, one
line and a documented exit code for a mistake, counts that agree."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.helpers.cli import wardgate
from tests.helpers.retention import FAR_FUTURE, entries, erased_ids
from tests.helpers.store import Store

NOW = ("--now", FAR_FUTURE.isoformat())


def test_given_a_dry_run_then_it_prints_counts_changes_nothing_and_leaves_one_entry(
    fresh_store: Store, tmp_path: Path
) -> None:
    ids_file = tmp_path / "lapsed.txt"

    result = wardgate(
        fresh_store.settings, "retention", "run", "--dry-run", *NOW, "--ids-out", str(ids_file)
    )

    assert result.exit_code == 0, result.stderr
    assert "customer_service" in result.stdout
    assert "inactive" in result.stdout
    listed = ids_file.read_text(encoding="ascii").split()
    assert listed
    assert len(listed) == len(set(listed))
    assert stat.S_IMODE(os.stat(ids_file).st_mode) == 0o600
    assert f"would erase {len(listed)}" in result.stdout
    assert erased_ids(fresh_store) == set()
    (entry,) = entries(fresh_store, "retention.dry_run")
    assert entry["principal_id"].startswith("cli:")
    assert entry["fields"]["lapsed"] == str(len(listed))
    assert entries(fresh_store, "retention.erase") == []


def test_given_a_real_run_then_it_erases_what_the_dry_run_listed(
    fresh_store: Store, tmp_path: Path
) -> None:
    planned = tmp_path / "planned.txt"
    wardgate(fresh_store.settings, "retention", "run", "--dry-run", *NOW, "--ids-out", str(planned))

    result = wardgate(fresh_store.settings, "retention", "run", *NOW, "--batch", "5")

    assert result.exit_code == 0, result.stderr
    listed = set(planned.read_text(encoding="ascii").split())
    assert erased_ids(fresh_store) == listed
    (run,) = entries(fresh_store, "retention.run")
    batches = entries(fresh_store, "retention.erase")
    assert {b["request_id"] for b in batches} == {run["request_id"]}
    assert run["fields"]["erased"] == str(len(listed))


def test_given_a_hold_set_by_the_cli_then_the_run_keeps_the_customer(
    fresh_store: Store, tmp_path: Path
) -> None:
    planned = tmp_path / "planned.txt"
    wardgate(fresh_store.settings, "retention", "run", "--dry-run", *NOW, "--ids-out", str(planned))
    held = planned.read_text(encoding="ascii").split()[0]

    set_result = wardgate(
        fresh_store.settings,
        "retention",
        "hold",
        "set",
        held,
        "--reason",
        "litigation",
        "--note",
        "court order 17",
    )
    run = wardgate(fresh_store.settings, "retention", "run", *NOW)
    release = wardgate(
        fresh_store.settings, "retention", "hold", "release", held, "--reason", "case_closed"
    )

    assert set_result.exit_code == 0, set_result.stderr
    assert "kept under legal hold 1" in run.stdout
    assert held not in erased_ids(fresh_store)
    assert release.exit_code == 0, release.stderr
    (set_entry,) = entries(fresh_store, "retention.hold.set")
    assert set_entry["subject_ids"] == [held]
    assert set_entry["fields"] == {"legal_hold": "set:litigation"}
    assert "court order" not in str(fresh_store.sql("SELECT * FROM audit_events"))


def test_given_operator_mistakes_then_one_line_a_code_and_a_refusal_entry(
    fresh_store: Store,
) -> None:
    customer = fresh_store.sql("SELECT id FROM customers ORDER BY id LIMIT 1")[0][0]

    unknown = wardgate(
        fresh_store.settings,
        "retention",
        "hold",
        "set",
        "cus_nobody",
        "--reason",
        "litigation",
        "--note",
        "n",
    )
    bad_reason = wardgate(
        fresh_store.settings,
        "retention",
        "hold",
        "set",
        customer,
        "--reason",
        "whim",
        "--note",
        "n",
    )
    not_held = wardgate(
        fresh_store.settings, "retention", "hold", "release", customer, "--reason", "other"
    )
    bad_now = wardgate(fresh_store.settings, "retention", "run", "--dry-run", "--now", "soon")

    assert (unknown.exit_code, bad_reason.exit_code, not_held.exit_code) == (2, 2, 1)
    assert bad_now.exit_code == 2
    for result in (unknown, bad_reason, not_held, bad_now):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    refusals = entries(fresh_store, "retention.hold.set") + entries(
        fresh_store, "retention.hold.release"
    )
    assert sorted(e["outcome"] for e in refusals) == ["invalid", "invalid", "invalid"]
