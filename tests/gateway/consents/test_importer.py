"""`wardgate consents import`: consents checked like the API's, appended in audited batches."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import Result
from sqlalchemy import insert
from typer.testing import CliRunner

from gateway.bulk.report import ImportAbortedError, ImportProblem, ImportProgress, ImportSourceError
from gateway.cli.main import app
from gateway.compliance.entries import cli_principal
from gateway.consents.importer import ConsentImportReport, consent_rows, import_consents
from gateway.consents.store import append_consent
from gateway.customers.importer import import_customers
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.db.schema import consents
from gateway.demo import generate
from gateway.settings import Settings
from policies.consent import ConsentEvent, ConsentState, SeparateScope, age_of
from tests.helpers import imports
from tests.helpers.consents import consent_states
from tests.helpers.imports import Row, as_json, audit_entries, imported_ids, write_jsonl
from tests.helpers.store import Store

HEADER = (
    *("customer_id", "purpose", "kind", "at", "channel", "notice_version"),
    *("evidence", "expires_at", "separate", "guardian"),
)
NOTICE = "notice-2026.2"
DEMO_NOTICE = "privacy-notice-2026.1"  # what `wardgate init --demo` grants carry
EVIDENCE = "录音：客户张三 13812345678 同意接收营销信息"  # a value: never echoed, never audited
GUARDIAN = "guardian:ref-7f3a"
runner = CliRunner()


# --- stores, customers and times ------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Store:
    """A fresh demo store of eight customers for this test alone (SQLite)."""
    settings = Settings(data_dir=tmp_path / "store")
    asyncio.run(init_store(settings, demo=True, customers=8))
    return Store(backend="sqlite", settings=settings)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ago(**delta: float) -> str:
    return (now() - dt.timedelta(**delta)).isoformat()


def later(**delta: float) -> str:
    return (now() + dt.timedelta(**delta)).isoformat()


def minor(row: Row) -> bool:
    return age_of(row.get("birth_date"), row.get("id_number")).minor_on(now().date())


def adults(store: Store) -> list[str]:
    live = store.customers("erased_at IS NULL")
    return [str(row["id"]) for row in live if not minor(row)]


def states(store: Store, ids: Sequence[str], purpose: str) -> dict[str, ConsentState]:
    async def read() -> dict[str, ConsentState]:
        db = create_database(store.settings)
        try:
            async with db.reader.connect() as conn:
                return await consent_states(conn, ids, purpose)
        finally:
            await db.dispose()

    return asyncio.run(read())


def granted(store: Store, customer_id: str, purpose: str) -> bool:
    state = states(store, [customer_id], purpose).get(customer_id)
    return state is not None and state.granted and state.withdrawn_at is None


def add_customers(store: Store, rows: Sequence[Row], tmp_path: Path) -> list[str]:
    """New customers, through the customers import; their ids in order."""
    path = write_jsonl(tmp_path / "new-customers.jsonl", rows)
    report = asyncio.run(import_customers(store.settings, path))
    assert report.loaded == len(rows)
    return imported_ids(store, report)


def people(n: int, *, minors: bool) -> list[Row]:
    """Synthetic customers as a file holds them: minors under 14 only, or adults only."""
    found = [
        {k: v for k, v in c.items() if k != "id"}
        for c in generate(300, seed=4242, today=now().date()).customers
        if minor(c) == minors
    ]
    assert len(found) >= n
    return found[:n]


# --- files and runs -------------------------------------------------------------------------


def write_csv(path: Path, rows: Sequence[Row], header: Sequence[str] = HEADER) -> Path:
    return imports.write_csv(path, rows, header)


def grant(customer_id: str, purpose: str, at: str, **more: Any) -> Row:
    return {
        "customer_id": customer_id,
        "purpose": purpose,
        "at": at,
        "channel": "call-center",
        "notice_version": NOTICE,
    } | more


def withdraw(customer_id: str, purpose: str, at: str, **more: Any) -> Row:
    row = {"customer_id": customer_id, "purpose": purpose, "kind": "withdraw", "at": at}
    return row | {"channel": "call-center"} | more


def run(store: Store, path: Path, **options: Any) -> ConsentImportReport:
    return asyncio.run(import_consents(store.settings, path, **options))


def imported_rows(store: Store, report: ConsentImportReport) -> list[dict[str, Any]]:
    rows = store.sql(
        "SELECT * FROM consents WHERE request_id = :r ORDER BY id", {"r": report.request_id}
    )
    return [dict(row._mapping) for row in rows]


# --- loading and the derived state ----------------------------------------------------------


def test_given_csv_grants_and_withdrawals_then_they_load_and_change_the_derived_state(
    demo: Store, tmp_path: Path
) -> None:
    a, b, c = adults(demo)[:3]
    service = next(i for i in adults(demo) if granted(demo, i, "customer_service"))
    assert not granted(demo, a, "partner_sharing")
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at_local = (now() - dt.timedelta(days=3)).astimezone(shanghai)
    expires = (now() + dt.timedelta(days=365)).isoformat()
    rows = [
        grant(a, "partner_sharing", at_local.isoformat(), separate="third_party; sensitive"),
        grant(b, "analytics", ago(days=2), evidence=EVIDENCE, expires_at=expires),
        grant(c, "marketing", ago(days=2), separate="sensitive"),
        withdraw(c, "marketing", ago(days=1)),  # withdraws the line above
        withdraw(service, "customer_service", ago(hours=1)),  # withdraws the demo grant
    ]

    report = run(demo, write_csv(tmp_path / "consents.csv", rows))

    assert (report.rows_read, report.loaded, report.rejected, report.problems) == (5, 5, 0, ())
    assert (report.grants, report.withdrawals) == (3, 2)
    assert report.consents_per_second > 0
    partner = states(demo, [a], "partner_sharing")[a]
    assert partner.granted
    assert partner.withdrawn_at is None
    assert partner.granted_at == at_local
    assert partner.separate == {SeparateScope.THIRD_PARTY, SeparateScope.SENSITIVE}
    assert (partner.channel, partner.notice_version) == ("call-center", NOTICE)
    analytics = states(demo, [b], "analytics")[b]
    assert analytics.granted
    assert analytics.notice_version == NOTICE
    assert analytics.expires_at == dt.datetime.fromisoformat(expires)
    marketing = states(demo, [c], "marketing")[c]
    assert not marketing.granted
    assert marketing.withdrawn_at is not None
    service_state = states(demo, [service], "customer_service")[service]
    assert not service_state.granted
    assert service_state.withdrawn_at is not None

    stored = imported_rows(demo, report)
    assert len(stored) == 5
    assert all(row["at"].endswith("+00:00") for row in stored)  # UTC: text order is time order
    assert all(row["recorded_by"] == cli_principal() for row in stored)
    by_purpose = {(row["customer_id"], row["purpose"], row["kind"]): row for row in stored}
    evidence_hash = hashlib.sha256(EVIDENCE.encode()).hexdigest()
    assert by_purpose[(b, "analytics", "grant")]["evidence_hash"] == evidence_hash
    # A withdrawal without a notice version carries the one of the grant it ends.
    assert by_purpose[(service, "customer_service", "withdraw")]["notice_version"] == DEMO_NOTICE
    assert EVIDENCE not in json.dumps(stored, ensure_ascii=False, default=str)


def test_given_jsonl_with_a_minor_then_a_guardians_grant_loads_and_lists_are_scopes(
    demo: Store, tmp_path: Path
) -> None:
    (child,) = add_customers(demo, people(1, minors=True), tmp_path)
    adult = adults(demo)[0]
    lines: list[Row | str] = [
        grant(child, "marketing", ago(minutes=5), separate=["sensitive"], guardian=GUARDIAN),
        grant(adult, "marketing", ago(minutes=5), separate=[], guardian={"ref": "guardian:x"}),
        "",  # blank lines are skipped
        grant(adult, "analytics", ago(minutes=5), separate=None, evidence=None),  # null: absent
    ]

    report = run(demo, write_jsonl(tmp_path / "consents.jsonl", lines))

    assert (report.loaded, report.rejected, report.problems) == (3, 0, ())
    state = states(demo, [child], "marketing")[child]
    assert state.granted
    assert (state.guardian_ref, state.separate) == (GUARDIAN, {SeparateScope.SENSITIVE})
    assert states(demo, [adult], "marketing")[adult].guardian_ref == "guardian:x"


def test_given_bad_lines_then_each_is_reported_by_line_and_field_and_the_rest_load(
    demo: Store, tmp_path: Path
) -> None:
    a, b, c, gone = adults(demo)[:4]
    (child,) = add_customers(demo, people(1, minors=True), tmp_path)
    demo.sql("UPDATE customers SET erased_at = :t WHERE id = :i", {"t": ago(days=1), "i": gone})
    assert not granted(demo, a, "partner_sharing")
    assert not granted(demo, c, "partner_sharing")
    rows = [
        grant(a, "partner_sharing", ago(days=2)),  # line 2: loads
        grant("cus_01HZZZZZZZZZZZZZZZZZZZZZZZ", "marketing", ago(days=1)),
        grant(a, "telemarketing", ago(days=1)),
        grant(a, "marketing", "2026-13-01T00:00:00+08:00"),  # line 5
        grant(a, "marketing", "2026-01-01T10:00:00"),  # no time zone
        grant(a, "marketing", later(days=1)),
        grant(a, "marketing", ago(days=1), separate="sensitive;everything"),  # line 8
        grant(child, "marketing", ago(minutes=5)),  # a child under 14, no guardian
        withdraw(b, "partner_sharing", ago(days=1)),  # line 10: never granted
        withdraw(a, "partner_sharing", ago(days=3)),  # before line 2's grant
        withdraw(a, "partner_sharing", ago(days=1)),  # line 12: loads
        withdraw(a, "partner_sharing", ago(hours=1)),  # already withdrawn on line 12
        grant(c, "partner_sharing", ago(days=2), channel="call center"),  # line 14
        withdraw(c, "partner_sharing", ago(days=1)),  # its grant was rejected
        grant(gone, "marketing", ago(days=1)),  # line 16: erased
        {k: v for k, v in grant(a, "marketing", ago(days=1)).items() if k != "notice_version"},
        withdraw(b, "partner_sharing", ago(days=1), separate="sensitive", guardian=GUARDIAN)
        | {"expires_at": later(days=1)},  # line 18: four problems at once
        grant(a, "marketing", ago(days=1), evidence="x" * 4097, expires_at=ago(days=2)),
        grant(a, "marketing", ago(days=1), kind="revoke"),  # line 20
        {"customer_id": a, "purpose": "marketing", "at": ago(days=1)},
    ]
    path = write_csv(tmp_path / "consents.csv", rows)

    report = run(demo, path)

    assert report.problems == (
        ImportProblem(3, "customer_id", "unknown_customer"),
        ImportProblem(4, "purpose", "unknown_purpose"),
        ImportProblem(5, "at", "invalid_time"),
        ImportProblem(6, "at", "invalid_time"),
        ImportProblem(7, "at", "future_time"),
        ImportProblem(8, "separate", "invalid_scope"),
        ImportProblem(9, "guardian", "guardian_required"),
        ImportProblem(10, "purpose", "not_granted"),
        ImportProblem(11, "purpose", "not_granted"),
        ImportProblem(13, "purpose", "not_granted"),
        ImportProblem(14, "channel", "invalid_channel"),
        ImportProblem(15, "purpose", "not_granted"),
        ImportProblem(16, "customer_id", "erased"),
        ImportProblem(17, "notice_version", "required"),
        ImportProblem(18, "purpose", "not_granted"),
        ImportProblem(18, "expires_at", "not_for_withdraw"),
        ImportProblem(18, "separate", "not_for_withdraw"),
        ImportProblem(18, "guardian", "not_for_withdraw"),
        ImportProblem(19, "evidence", "invalid_evidence"),
        ImportProblem(19, "expires_at", "invalid_expiry"),
        ImportProblem(20, "kind", "invalid_kind"),
        ImportProblem(21, "channel", "required"),
        ImportProblem(21, "notice_version", "required"),
    )
    assert (report.rows_read, report.loaded, report.rejected) == (20, 2, 18)
    assert report.problems_total == 23
    assert not granted(demo, a, "partner_sharing")
    assert [(r["purpose"], r["kind"]) for r in imported_rows(demo, report)] == [
        ("partner_sharing", "grant"),
        ("partner_sharing", "withdraw"),
    ]


def test_given_jsonl_shape_problems_then_they_are_named_without_echoing_keys(
    demo: Store, tmp_path: Path
) -> None:
    a = adults(demo)[0]
    lines: list[Row | str] = [
        grant(a, "marketing", ago(days=1)) | {"13812345678": "x"},  # a key that is a value
        grant(a, "marketing", ago(days=1), separate="sensitive"),  # a string, not a list
        grant(a, "marketing", ago(days=1), separate=["sensitive", 3]),
        grant(12345, "marketing", ago(days=1)),  # not a string
        grant(a, "marketing", ago(days=1), guardian={"name": "李四"}),  # line 5
        '{"customer_id": "x", "customer_id": "y"}',
        "[1, 2]",
        '{"purpose": "marketing',
    ]

    report = run(demo, write_jsonl(tmp_path / "consents.jsonl", lines))

    assert report.problems == (
        ImportProblem(1, "?", "unknown_field"),
        ImportProblem(2, "separate", "invalid_scope"),
        ImportProblem(3, "separate", "invalid_scope"),
        ImportProblem(4, "customer_id", "invalid_customer_id"),
        ImportProblem(5, "guardian", "invalid_guardian"),
        ImportProblem(6, "customer_id", "duplicate_field"),
        ImportProblem(7, "*", "invalid_body"),
        ImportProblem(8, "*", "invalid_json"),
    )
    assert report.loaded == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("cus_01HZZZZZZZZZZZZZZZZZZZZZZZ,marketing,2026-01-01T00:00:00Z\n", "header"),
        ("customer_id,purpose,at\n", "required fields: channel"),
    ],
)
def test_given_unusable_csv_header_then_the_file_is_refused(
    demo: Store, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "consents.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImportSourceError, match=message) as refused:
        run(demo, path)

    assert "cus_01HZZZZZZZZZZZZZZZZZZZZZZZ" not in str(refused.value)


def test_given_an_imported_event_then_its_row_is_the_one_append_consent_writes(
    demo: Store,
) -> None:
    """The import inserts a batch in one statement; its rows must not drift from the API's."""
    event = ConsentEvent(
        customer_id=adults(demo)[0],
        purpose="marketing",
        kind="grant",
        at=now() - dt.timedelta(days=1),
        channel="call-center",
        notice_version=NOTICE,
        evidence_hash=hashlib.sha256(EVIDENCE.encode()).hexdigest(),
        expires_at=now() + dt.timedelta(days=30),
        separate=frozenset({SeparateScope.SENSITIVE, SeparateScope.CROSS_BORDER}),
        guardian_ref=GUARDIAN,
        recorded_by="cli:someone",
    )

    async def write_both() -> None:
        db = create_database(demo.settings)
        try:
            async with db.writer.begin() as conn:
                await append_consent(conn, event, "drift-api")
                await conn.execute(insert(consents), consent_rows([event], "drift-import"))
        finally:
            await db.dispose()

    asyncio.run(write_both())

    rows = demo.sql(
        "SELECT * FROM consents WHERE request_id IN ('drift-api', 'drift-import') ORDER BY id"
    )
    api_row, import_row = ({**r._mapping, "id": None, "request_id": None} for r in rows)
    assert import_row == api_row
    assert str(rows[1]._mapping["id"]).startswith("cns_")


# --- all or nothing -------------------------------------------------------------------------


def test_given_all_or_nothing_and_one_bad_line_then_nothing_is_loaded(
    demo: Store, tmp_path: Path
) -> None:
    ids = adults(demo)
    rows = [grant(i, "partner_sharing", ago(days=1)) for i in ids]
    rows.append(withdraw(ids[0], "cross_border_support", ago(hours=1)))  # never granted
    consents, entries = demo.count("consents"), demo.count("audit_events")

    report = run(demo, write_csv(tmp_path / "c.csv", rows), all_or_nothing=True, batch_size=2)

    assert report.refused
    assert (report.rows_read, report.loaded, report.rejected) == (len(rows), 0, 1)
    assert report.problems == (ImportProblem(len(rows) + 1, "purpose", "not_granted"),)
    assert demo.count("consents") == consents
    # One entry says the import was refused and why; it names no record.
    assert demo.count("audit_events") == entries + 1
    (entry,) = audit_entries(demo, report)
    assert (entry["action"], entry["outcome"], entry["reason"]) == (
        "consents.import",
        "invalid",
        "rows_rejected",
    )
    assert (entry["principal_id"], entry["status"]) == (cli_principal(), 0)
    assert as_json(entry["fields"]) == {"import:rows": "loaded:0,rejected:1"}
    assert as_json(entry["record_ids"]) == []


def test_given_all_or_nothing_and_a_clean_file_then_every_batch_loads(
    demo: Store, tmp_path: Path
) -> None:
    a, b = adults(demo)[:2]
    service = next(i for i in adults(demo) if granted(demo, i, "customer_service"))
    rows = [
        withdraw(service, "customer_service", ago(hours=2)),  # the store's grant, once
        grant(a, "partner_sharing", ago(days=2)),
        grant(b, "partner_sharing", ago(days=2)),
        withdraw(a, "partner_sharing", ago(days=1)),  # a grant two batches back
        grant(a, "partner_sharing", ago(hours=1)),
    ]

    report = run(demo, write_csv(tmp_path / "c.csv", rows), all_or_nothing=True, batch_size=2)

    assert (report.rows_read, report.loaded, report.rejected, report.refused) == (5, 5, 0, False)
    assert [len(as_json(e["record_ids"])) for e in audit_entries(demo, report)] == [2, 2, 1]
    assert granted(demo, a, "partner_sharing")
    assert granted(demo, b, "partner_sharing")
    assert not granted(demo, service, "customer_service")


def with_failing_consents(store: Store) -> None:
    """Make the store refuse any consent recorded through channel `boom`."""
    with sqlite3.connect(store.settings.sqlite_path) as conn:
        conn.execute(
            """CREATE TRIGGER consents_boom BEFORE INSERT ON consents
                WHEN NEW.channel = 'boom'
                BEGIN SELECT RAISE(ABORT, 'consents refused'); END"""
        )
    conn.close()


def test_given_store_failure_in_all_or_nothing_then_nothing_is_stored(
    demo: Store, tmp_path: Path
) -> None:
    with_failing_consents(demo)
    ids = adults(demo)
    rows = [grant(i, "partner_sharing", ago(days=1)) for i in ids[:4]]
    rows.append(grant(ids[4], "partner_sharing", ago(days=1), channel="boom"))
    consents, entries = demo.count("consents"), demo.count("audit_events")

    with pytest.raises(ImportAbortedError, match="nothing was stored") as aborted:
        run(demo, write_csv(tmp_path / "c.csv", rows), all_or_nothing=True, batch_size=2)

    assert aborted.value.report.loaded == 0
    assert (demo.count("consents"), demo.count("audit_events")) == (consents, entries + 1)
    (last,) = demo.sql("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
    assert (last.action, last.outcome, last.reason, last.status) == (
        "consents.import",
        "failed",
        "store_failed",
        0,
    )
    assert as_json(last.fields) == {"import:rows": "loaded:0,rejected:0"}


# --- the audit log --------------------------------------------------------------------------


def test_given_batches_then_one_audit_entry_per_batch_names_customers_and_no_value(
    demo: Store, tmp_path: Path
) -> None:
    a, b, c = adults(demo)[:3]
    rows = [
        grant(a, "partner_sharing", ago(days=2), evidence=EVIDENCE, guardian=GUARDIAN),
        withdraw(a, "partner_sharing", ago(days=1), evidence=EVIDENCE),
        grant(b, "partner_sharing", ago(days=2), evidence=EVIDENCE),
        grant(b, "nonexistent", ago(days=2), evidence=EVIDENCE),  # rejected
        grant(c, "analytics", ago(days=2), separate="sensitive"),
    ]
    entries_before = demo.count("audit_events")

    report = run(demo, write_csv(tmp_path / "c.csv", rows), batch_size=2)

    entries = audit_entries(demo, report)
    assert (report.loaded, report.rejected) == (4, 1)
    assert demo.count("audit_events") == entries_before + 2
    assert [as_json(e["subject_ids"]) for e in entries] == [[a], [b, c]]
    assert [as_json(e["fields"]) for e in entries] == [
        {"consent:partner_sharing": "grant,withdraw"},
        # The last batch's entry also says how the import ended.
        {
            "consent:analytics": "grant",
            "consent:partner_sharing": "grant",
            "import:rows": "loaded:4,rejected:1",
        },
    ]
    assert [e["reason"] for e in entries] == [None, "rows_rejected"]
    stored_ids = {row["id"] for row in imported_rows(demo, report)}
    assert {i for e in entries for i in as_json(e["record_ids"])} == stored_ids
    for entry in entries:
        assert entry["action"] == "consents.import"
        assert entry["principal_id"] == cli_principal()
        assert entry["principal_id"].startswith("cli:")
        assert entry["entity"] == "consents"
        assert (entry["outcome"], entry["status"]) == ("allowed", 0)
        assert entry["policy_version"] == 1
    audit_text = json.dumps(entries, ensure_ascii=False, default=str)
    for value in (EVIDENCE, "13812345678", GUARDIAN, NOTICE):
        assert value not in audit_text


def test_given_import_then_no_value_reaches_a_log_line(demo: Store, tmp_path: Path) -> None:
    a = adults(demo)[0]
    rows = [
        grant(a, "marketing", ago(days=1), evidence=EVIDENCE),
        grant(a, "marketing", ago(days=1), evidence=EVIDENCE + "x" * 4096),
    ]

    with structlog.testing.capture_logs() as logs:
        report = run(demo, write_csv(tmp_path / "c.csv", rows))

    assert report.loaded == 1
    assert "13812345678" not in json.dumps(logs, ensure_ascii=False, default=str)


def test_given_progress_callback_then_it_reaches_the_file_size(demo: Store, tmp_path: Path) -> None:
    ids = adults(demo)
    rows = [grant(ids[n % len(ids)], "analytics", ago(minutes=600 - n)) for n in range(600)]
    path = write_jsonl(tmp_path / "c.jsonl", rows)
    seen: list[ImportProgress] = []

    report = run(demo, path, batch_size=100, progress=seen.append)

    assert report.loaded == 600
    assert [p.bytes_read for p in seen] == sorted(p.bytes_read for p in seen)
    assert seen[-1].bytes_read == path.stat().st_size
    assert seen[-1].rows_read == 600


# --- on every backend -----------------------------------------------------------------------


def test_given_the_shared_store_then_grants_and_withdrawals_load_with_their_audit_entries(
    store: Store, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL; only customers of this test's own, so others are unaffected."""
    first, second = add_customers(store, people(2, minors=False), tmp_path)
    (child,) = add_customers(store, people(1, minors=True), tmp_path)
    rows = [
        grant(first, "marketing", ago(days=2), separate="sensitive", evidence=EVIDENCE),
        grant(second, "marketing", ago(days=2)),
        withdraw(first, "marketing", ago(days=1)),
        grant(child, "marketing", ago(minutes=1)),  # rejected: a child, no guardian
        grant(child, "marketing", ago(minutes=1), guardian=GUARDIAN),
        withdraw(second, "analytics", ago(minutes=1)),  # rejected: never granted
    ]

    report = run(store, write_csv(tmp_path / "c.csv", rows), batch_size=2)

    assert (report.loaded, report.rejected) == (4, 2)
    assert report.problems == (
        ImportProblem(5, "guardian", "guardian_required"),
        ImportProblem(7, "purpose", "not_granted"),
    )
    current = states(store, [first, second, child], "marketing")
    assert not current[first].granted
    assert current[second].granted
    assert current[child].granted
    assert current[child].guardian_ref == GUARDIAN
    entries = audit_entries(store, report)
    assert [as_json(e["subject_ids"]) for e in entries] == [[first, second], [first, child]]
    assert all(e["action"] == "consents.import" for e in entries)
    assert EVIDENCE not in json.dumps(entries, ensure_ascii=False, default=str)


# --- the command ----------------------------------------------------------------------------


def invoke(settings: Settings, *args: str) -> Result:
    return runner.invoke(app, ["consents", "import", *args, "--data-dir", str(settings.data_dir)])


@pytest.mark.usefixtures("cli_env")
def test_given_clean_file_then_command_loads_it_and_exits_0(demo: Store, tmp_path: Path) -> None:
    a, b = adults(demo)[:2]
    rows = [
        grant(a, "partner_sharing", ago(days=1), evidence=EVIDENCE),
        grant(b, "partner_sharing", ago(days=1)),
    ]

    result = invoke(demo.settings, str(write_csv(tmp_path / "c.csv", rows)))

    assert result.exit_code == 0, result.output
    assert "loaded 2 of 2 consents (2 grants, 0 withdrawals), rejected 0" in result.stdout
    assert "consents/s" in result.stdout
    assert granted(demo, a, "partner_sharing")
    assert EVIDENCE not in result.output


@pytest.mark.usefixtures("cli_env")
def test_given_some_bad_lines_then_command_lists_problems_without_values_and_exits_1(
    demo: Store, tmp_path: Path
) -> None:
    (child,) = add_customers(demo, people(1, minors=True), tmp_path)
    a = adults(demo)[0]
    rows = [
        grant(a, "partner_sharing", ago(days=1)),
        grant(child, "marketing", ago(minutes=1), evidence=EVIDENCE),  # line 3
        grant(a, "marketing", ago(days=1), separate="sensitive;13812345678"),  # line 4
        withdraw(a, "cross_border_support", ago(days=1), evidence=EVIDENCE),  # line 5
    ]

    result = invoke(demo.settings, str(write_csv(tmp_path / "c.csv", rows)), "--batch", "1")

    assert result.exit_code == 1, result.output
    assert "loaded 1 of 4 consents (1 grants, 0 withdrawals), rejected 3" in result.stdout
    assert "line 3: guardian: guardian_required" in result.stdout
    assert "line 4: separate: invalid_scope" in result.stdout
    assert "line 5: purpose: not_granted" in result.stdout
    for value in (EVIDENCE, "13812345678", child):
        assert value not in result.output


@pytest.mark.usefixtures("cli_env")
def test_given_all_or_nothing_refusal_then_command_exits_1_and_loads_nothing(
    demo: Store, tmp_path: Path
) -> None:
    a = adults(demo)[0]
    rows = [
        grant(a, "partner_sharing", ago(days=1), evidence=EVIDENCE),
        grant(a, "partner_sharing", later(hours=1), evidence=EVIDENCE),
    ]
    before = demo.count("consents")

    result = invoke(demo.settings, str(write_csv(tmp_path / "c.csv", rows)), "--all-or-nothing")

    assert result.exit_code == 1, result.output  # rows refused; 2 is for unusable input
    assert "line 3: at: future_time" in result.stdout
    assert "nothing loaded" in result.stderr
    assert demo.count("consents") == before
    assert EVIDENCE not in result.output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("consents.xlsx", "customer_id\n", "must end in one of"),
        ("consents.csv", "customer_id,purpose,at,channel_name\n", "required fields: channel"),
    ],
)
def test_given_unusable_file_then_command_exits_2(
    cli_env: None, demo: Store, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = invoke(demo.settings, str(path))

    assert result.exit_code == 2
    assert message in result.stderr


def test_given_no_store_then_command_exits_2_and_creates_nothing(
    cli_env: None, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", [grant("cus_x", "marketing", ago(days=1))])
    data_dir = tmp_path / "not-initialized"

    result = invoke(Settings(data_dir=data_dir), str(path))

    assert result.exit_code == 2
    assert "wardgate init" in result.stderr
    assert not data_dir.exists()


@pytest.mark.usefixtures("cli_env")
def test_given_store_failure_then_command_reports_what_was_loaded_and_exits_3(
    demo: Store, tmp_path: Path
) -> None:
    with_failing_consents(demo)
    ids = adults(demo)
    rows = [grant(i, "partner_sharing", ago(days=1), evidence=EVIDENCE) for i in ids[:3]]
    rows.append(grant(ids[3], "partner_sharing", ago(days=1), channel="boom"))

    result = invoke(demo.settings, str(write_csv(tmp_path / "c.csv", rows)), "--batch", "2")

    assert result.exit_code == 3, result.output
    assert "import aborted" in result.stderr
    assert "the failing batch was not stored" in result.stderr
    assert "loaded 2 of" in result.stdout
    assert sum(granted(demo, i, "partner_sharing") for i in ids[:4]) == 2
    assert EVIDENCE not in result.output
