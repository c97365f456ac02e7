"""Retention runs on a seeded store, on SQLite and PostgreSQL, at a fixed instant.

At `FAR_FUTURE` every demo customer's last activity is years past every non-consent
retention period, so exactly the customers without a valid consent for any consent
purpose have lapsed: a mix the demo seeds deterministically.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

from litestar.testing import TestClient

from gateway.app import WardgateApp
from tests.helpers.retention import FAR_FUTURE, entries, erased_ids, run_retention_at, set_hold
from tests.helpers.servers import server_env
from tests.helpers.store import DEMO_CUSTOMERS, Store


def test_given_a_dry_run_then_nothing_changes_and_the_real_run_erases_what_it_counted(
    fresh_store: Store,
) -> None:
    before = fresh_store.count("audit_events")

    planned = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)

    assert 0 < planned.lapsed < DEMO_CUSTOMERS
    assert planned.erased == 0
    assert erased_ids(fresh_store) == set()
    assert fresh_store.count("audit_events") == before

    done = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False, batch_size=4)

    assert done.lapsed == done.erased == planned.lapsed
    assert erased_ids(fresh_store) == set(planned.lapsed_ids)
    assert done.by_purpose == planned.by_purpose
    assert len(erased_ids(fresh_store)) == planned.lapsed
    # Every purpose of the policy names a reason for every lapsed customer.
    assert all(sum(r.values()) == planned.lapsed for r in planned.by_purpose.values())
    assert planned.by_purpose["customer_service"] == {"inactive": planned.lapsed}


def test_given_a_real_run_then_each_erasure_is_in_exactly_one_batch_entry(
    fresh_store: Store,
) -> None:
    report = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False, batch_size=3)

    batches = entries(fresh_store, "retention.erase")
    audited = [cid for entry in batches for cid in entry["subject_ids"]]
    assert sorted(audited) == sorted(erased_ids(fresh_store))
    assert len(batches) == report.batches > 1
    assert [entry["seq"] for entry in batches] == report.audit_ids
    for entry in batches:
        assert entry["purpose"] == "erasure"
        assert entry["outcome"] == "allowed"
        assert entry["fields"]["*"] == "erased:retention_lapsed"


def test_given_an_interrupted_or_repeated_run_then_the_next_finds_only_what_is_left(
    fresh_store: Store,
) -> None:
    first = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False)

    again = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False)

    assert first.erased > 0
    assert (again.lapsed, again.erased, again.batches) == (0, 0, 0)


def test_given_an_active_customer_then_retention_keeps_them_until_their_days_pass(
    fresh_store: Store,
) -> None:
    lapsed = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)
    total = lapsed.lapsed
    # Activity a little more than three years before FAR_FUTURE: customer_service
    # (1095 days, the longest non-consent period) still holds, so nobody lapses.
    fresh_store.sql(
        "UPDATE customers SET last_activity_at = :at",
        {"at": (FAR_FUTURE - dt.timedelta(days=1095)).isoformat(timespec="microseconds")},
    )

    assert run_retention_at(fresh_store, FAR_FUTURE, dry_run=True).lapsed == 0
    later = FAR_FUTURE + dt.timedelta(seconds=1)
    assert run_retention_at(fresh_store, later, dry_run=True).lapsed == total


def test_given_a_legal_hold_then_retention_keeps_the_customer_until_it_is_released(
    fresh_store: Store,
) -> None:
    planned = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)
    held_id = planned.lapsed_ids[0]
    set_hold(fresh_store, held_id)

    report = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False)

    assert (report.held, report.erased) == (1, planned.lapsed - 1)
    assert held_id not in erased_ids(fresh_store)

    fresh_store.sql(
        "UPDATE legal_holds SET released_by = 'test', released_at = :at, "
        "release_reason = 'case_closed' WHERE customer_id = :cid",
        {"at": "2027-01-01T00:00:00+00:00", "cid": held_id},
    )
    after = run_retention_at(fresh_store, FAR_FUTURE, dry_run=False)

    assert (after.held, after.erased) == (0, 1)
    assert held_id in erased_ids(fresh_store)


def test_given_erased_by_retention_then_reads_of_the_customer_get_410(
    fresh_store: Store,
) -> None:
    run_retention_at(fresh_store, FAR_FUTURE, dry_run=False)
    gone = sorted(erased_ids(fresh_store))
    keys = fresh_store.keys

    with TestClient(app=WardgateApp(fresh_store.settings)) as client:  # type: ignore[arg-type]
        headers = {
            "Authorization": f"Bearer {keys['support-desk']}",
            "X-Purpose": "customer_service",
        }
        responses = [client.get(f"/v1/customers/{cid}", headers=headers) for cid in gone]

    assert gone
    assert {r.status_code for r in responses} == {410}
    assert {r.json()["reason"] for r in responses} == {"erased"}


def test_given_two_processes_running_at_once_then_each_customer_is_erased_once(
    fresh_store: Store,
) -> None:
    planned = run_retention_at(fresh_store, FAR_FUTURE, dry_run=True)
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "retention",
        "run",
        "--now",
        FAR_FUTURE.isoformat(),
        "--batch",
        "2",
    ]
    env = server_env(fresh_store.settings)
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs: list[Any] = [run.communicate(timeout=300) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    batches = entries(fresh_store, "retention.erase")
    audited = [cid for entry in batches for cid in entry["subject_ids"]]
    assert len(audited) == len(set(audited)) == planned.lapsed
    assert set(audited) == erased_ids(fresh_store)
    # One entry per operation as well: each process's run, with what it erased.
    runs_audited = entries(fresh_store, "retention.run")
    assert len(runs_audited) == 2
    assert sum(int(e["fields"]["erased"]) for e in runs_audited) == planned.lapsed
