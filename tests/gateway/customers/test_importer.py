"""`wardgate import`: validated like an API create, encrypted, loaded in audited batches."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from gateway.bulk.report import (
    ImportAbortedError,
    ImportProblem,
    ImportProgress,
    ImportReport,
    ImportSourceError,
)
from gateway.cli.main import app
from gateway.customers.importer import import_customers
from gateway.db.engine import create_database
from gateway.db.init_store import init_store
from gateway.demo import generate
from gateway.settings import Settings, get_settings
from keys.schema import data_keys
from tests.helpers import imports
from tests.helpers.imports import Row, as_json, audit_entries, imported_ids, write_jsonl
from tests.helpers.store import Store

TODAY = dt.date(2026, 1, 15)
SENSITIVE = ("name", "id_number", "phone", "email", "address", "bank_card", "birth_date", "notes")
FIELDS = (
    *("name", "id_number", "phone", "email", "address", "bank_card", "birth_date"),
    *("region", "tier", "notes"),
)
runner = CliRunner()


# --- synthetic files ------------------------------------------------------------------------


def people(n: int, seed: int) -> list[Row]:
    """Valid customers as a file would hold them (no `id`: the gateway mints it)."""
    return [
        {k: v for k, v in c.items() if k != "id"}
        for c in generate(n, seed=seed, today=TODAY).customers
    ]


def wrong_check_digit(id_number: str) -> str:
    return id_number[:-1] + next(c for c in "0123456789X" if c != id_number[-1])


def wrong_luhn(card: str) -> str:
    return card[:-1] + str((int(card[-1]) + 1) % 10)


def day_after(iso_date: str) -> str:
    return (dt.date.fromisoformat(iso_date) + dt.timedelta(days=1)).isoformat()


def write_csv(path: Path, rows: Sequence[Row], header: Sequence[str] = FIELDS) -> Path:
    return imports.write_csv(path, rows, header)


def run(settings: Settings, path: Path, **options: Any) -> ImportReport:
    return asyncio.run(import_customers(settings, path, **options))


def values_of(rows: Sequence[Row]) -> list[str]:
    return [str(row[name]) for row in rows for name in SENSITIVE if row.get(name)]


# --- what the store holds -------------------------------------------------------------------


def last_entry(store: Store) -> dict[str, Any]:
    (row,) = store.sql("SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1")
    return dict(row._mapping)


def assert_import_outcome(
    entry: dict[str, Any], outcome: str, reason: str | None, loaded: int, rejected: int
) -> None:
    """An import's closing entry: by the OS user, status 0, and how the import ended."""
    assert entry["action"] == "customers.import"
    assert entry["principal_id"] == f"cli:{getpass.getuser()}"
    assert (entry["outcome"], entry["reason"], entry["status"]) == (outcome, reason, 0)
    assert as_json(entry["fields"])["import:rows"] == f"loaded:{loaded},rejected:{rejected}"


def imported(store: Store, report: ImportReport) -> list[Row]:
    ids = imported_ids(store, report)
    by_id = {row["id"]: row for row in store.customers() if row["id"] in set(ids)}
    return [by_id[i] for i in ids]


def assert_stored_as(stored: Sequence[Row], expected: Sequence[Row]) -> None:
    assert len(stored) == len(expected)
    for row, source in zip(stored, expected, strict=True):
        assert {name: row[name] for name in FIELDS} == {name: source.get(name) for name in FIELDS}


# --- loading and reporting ------------------------------------------------------------------


def test_given_csv_with_bad_rows_then_valid_rows_load_and_bad_rows_are_named_by_line(
    store: Store, tmp_path: Path
) -> None:
    rows = people(9, seed=101)
    rows[0]["notes"] = "第一行\n第二行\n第三行"  # a quoted cell over three lines: lines 2-4
    rows[1]["id_number"] = wrong_check_digit(rows[1]["id_number"])  # line 5
    rows[3]["phone"] = "12345678901"  # line 7
    rows[4]["bank_card"] = wrong_luhn(rows[4]["bank_card"])  # line 8
    rows[5]["name"] = ""  # line 9: empty cell = absent
    rows[6]["nickname"] = "小明"  # line 10: a column the catalog does not know
    rows[7]["birth_date"] = day_after(rows[7]["birth_date"])  # line 11
    path = write_csv(tmp_path / "customers.csv", rows, (*FIELDS, "nickname"))
    before = store.count("customers")

    report = run(store.settings, path)

    assert report.problems == (
        ImportProblem(5, "id_number", "invalid_id_number"),
        ImportProblem(7, "phone", "invalid_phone"),
        ImportProblem(8, "bank_card", "invalid_bank_card"),
        ImportProblem(9, "name", "required"),
        ImportProblem(10, "nickname", "unknown_field"),
        ImportProblem(11, "birth_date", "birth_date_mismatch"),
    )
    assert (report.rows_read, report.loaded, report.rejected) == (9, 3, 6)
    assert report.problems_total == 6
    assert not report.refused
    assert store.count("customers") == before + 3
    assert_stored_as(imported(store, report), [rows[0], rows[2], rows[8]])


def test_given_jsonl_with_bad_lines_then_valid_lines_load_and_bad_lines_are_named(
    store: Store, tmp_path: Path
) -> None:
    rows = people(6, seed=102)
    rows[0]["phone"] = "+86 " + rows[0]["phone"]  # normalized to 11 digits on the way in
    lines: list[Row | str] = [
        rows[0],
        "",  # line 2: blank lines are skipped
        '{"name": "broken',  # line 3
        rows[1] | {"id": "cus_01HZZZZZZZZZZZZZZZZZZZZZZZ"},  # line 4
        rows[2] | {"phone": "12345678901", "nickname": "x"},  # line 5: two problems
        '["not", "an", "object"]',  # line 6
        {k: v for k, v in rows[3].items() if k != "name"},  # line 7
        rows[4] | {"tier": 3},  # line 8
        rows[5],  # line 9
    ]
    path = write_jsonl(tmp_path / "customers.jsonl", lines)

    report = run(store.settings, path)

    assert report.problems == (
        ImportProblem(3, "*", "invalid_json"),
        ImportProblem(4, "id", "field_not_writable"),
        ImportProblem(5, "nickname", "unknown_field"),
        ImportProblem(5, "phone", "invalid_phone"),
        ImportProblem(6, "*", "invalid_body"),
        ImportProblem(7, "name", "required"),
        ImportProblem(8, "tier", "invalid_type"),
    )
    assert (report.rows_read, report.loaded, report.rejected) == (8, 2, 6)
    expected = [rows[0] | {"phone": rows[0]["phone"].removeprefix("+86 ")}, rows[5]]
    assert_stored_as(imported(store, report), expected)


def test_given_all_or_nothing_and_one_bad_row_then_nothing_is_loaded(
    store: Store, tmp_path: Path
) -> None:
    rows = people(30, seed=103)
    rows[17]["phone"] = "12345678901"
    path = write_csv(tmp_path / "customers.csv", rows)
    customers, entries = store.count("customers"), store.count("audit_events")
    keys_before = count_data_keys(store)

    report = run(store.settings, path, all_or_nothing=True, batch_size=7)

    assert report.refused
    assert (report.rows_read, report.loaded, report.rejected) == (30, 0, 1)
    assert report.problems == (ImportProblem(19, "phone", "invalid_phone"),)
    assert store.count("customers") == customers
    assert count_data_keys(store) == keys_before  # refused before any key was made
    # The refusal is one entry, naming no record.
    assert store.count("audit_events") == entries + 1
    (entry,) = audit_entries(store, report)
    assert_import_outcome(entry, "invalid", "rows_rejected", loaded=0, rejected=1)
    assert as_json(entry["record_ids"]) == []


def test_given_all_or_nothing_and_a_clean_file_then_every_batch_loads(
    store: Store, tmp_path: Path
) -> None:
    rows = people(12, seed=104)
    path = write_jsonl(tmp_path / "customers.ndjson", rows)

    report = run(store.settings, path, all_or_nothing=True, batch_size=5)

    assert (report.rows_read, report.loaded, report.rejected, report.refused) == (12, 12, 0, False)
    assert [len(as_json(e["record_ids"])) for e in audit_entries(store, report)] == [5, 5, 2]
    assert_stored_as(imported(store, report), rows)


def count_data_keys(store: Store) -> int:
    """Rows of the key store (a database of its own, so `Store.sql` cannot see it)."""

    async def count() -> int:
        db = create_database(store.settings)
        try:
            async with db.keys.connect() as conn:
                result = await conn.execute(select(func.count()).select_from(data_keys))
                return int(result.scalar_one())
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_given_all_or_nothing_and_file_changed_after_validation_then_nothing_is_stored(
    store: Store, tmp_path: Path
) -> None:
    rows = people(10, seed=117)
    path = write_csv(tmp_path / "customers.csv", rows)
    customers, entries = store.count("customers"), store.count("audit_events")

    def spoil(step: ImportProgress) -> None:
        """Once validation has read every row, make the last one bad."""
        if step.phase == "validating" and step.rows_read == len(rows):
            write_csv(path, [*rows[:-1], rows[-1] | {"phone": "12345678901"}])

    with pytest.raises(ImportSourceError, match="nothing was stored"):
        run(store.settings, path, all_or_nothing=True, batch_size=3, progress=spoil)

    assert store.count("customers") == customers
    # Only the refusal is recorded: no batch entry survived the rollback.
    assert store.count("audit_events") == entries + 1
    assert_import_outcome(last_entry(store), "invalid", "file_changed", loaded=0, rejected=0)


def failing_store(tmp_path: Path) -> Settings:
    """A fresh SQLite store whose customers table refuses any insert beyond three rows."""
    settings = Settings(data_dir=tmp_path / "store")
    asyncio.run(init_store(settings, demo=False))
    with sqlite3.connect(settings.sqlite_path) as conn:
        conn.execute(
            """CREATE TRIGGER customers_full BEFORE INSERT ON customers
                WHEN (SELECT count(*) FROM customers) >= 3
                BEGIN SELECT RAISE(ABORT, 'customers table is full'); END"""
        )
    conn.close()
    return settings


def sqlite_count(settings: Settings, table: str) -> int:
    with sqlite3.connect(settings.sqlite_path) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    conn.close()
    return int(count)


def sqlite_entries(settings: Settings) -> list[dict[str, Any]]:
    with sqlite3.connect(settings.sqlite_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(row) for row in conn.execute("SELECT * FROM audit_events ORDER BY seq")]
    conn.close()
    return rows


def test_given_store_failure_mid_import_then_committed_batches_stay_and_the_failing_one_does_not(
    tmp_path: Path,
) -> None:
    settings = failing_store(tmp_path)
    path = write_jsonl(tmp_path / "customers.jsonl", people(6, seed=118))

    with pytest.raises(ImportAbortedError, match="the failing batch was not stored") as aborted:
        run(settings, path, batch_size=2)

    assert aborted.value.report.loaded == 2
    assert sqlite_count(settings, "customers") == 2  # batch 2 failed on its second row
    # The committed batch's entry, then one saying the import failed after 2 rows.
    entries = sqlite_entries(settings)
    assert [e["action"] for e in entries] == ["customers.import"] * 2
    assert len(as_json(entries[0]["record_ids"])) == 2
    assert_import_outcome(entries[1], "failed", "store_failed", loaded=2, rejected=0)


def test_given_store_failure_in_all_or_nothing_then_nothing_is_stored(tmp_path: Path) -> None:
    settings = failing_store(tmp_path)
    path = write_jsonl(tmp_path / "customers.jsonl", people(6, seed=119))

    with pytest.raises(ImportAbortedError, match="nothing was stored") as aborted:
        run(settings, path, batch_size=2, all_or_nothing=True)

    assert aborted.value.report.loaded == 0
    assert sqlite_count(settings, "customers") == 0
    (entry,) = sqlite_entries(settings)
    assert_import_outcome(entry, "failed", "store_failed", loaded=0, rejected=0)
    assert as_json(entry["record_ids"]) == []


# --- at rest and in the audit log -----------------------------------------------------------


def test_given_import_then_stored_columns_hold_ciphertext_not_the_values(
    store: Store, tmp_path: Path
) -> None:
    rows = people(6, seed=105)
    report = run(store.settings, write_csv(tmp_path / "customers.csv", rows))
    assert report.loaded == 6
    ids = imported_ids(store, report)

    raw = [
        dict(row._mapping)
        for row in store.sql("SELECT * FROM customers")
        if row._mapping["id"] in set(ids)
    ]

    assert len(raw) == 6
    stored_text = json.dumps(raw, ensure_ascii=False, default=str)
    for row in rows:
        for name in ("name", "id_number", "phone", "email", "bank_card", "address", "notes"):
            assert row[name] not in stored_text, name
    assert all(r["phone_bidx"] and r["phone_bidx"] != r["phone"] for r in raw)


def test_given_batches_then_exactly_one_audit_entry_per_batch_and_no_value_in_any(
    store: Store, tmp_path: Path
) -> None:
    rows = people(7, seed=106)
    del rows[2]["notes"], rows[2]["email"]
    rows[5]["phone"] = "12345678901"  # rejected rows leave no trace but their line number
    path = write_jsonl(tmp_path / "customers.jsonl", rows)
    entries_before = store.count("audit_events")

    report = run(store.settings, path, batch_size=3)

    entries = audit_entries(store, report)
    assert report.loaded == 6
    assert store.count("audit_events") == entries_before + 2
    assert [len(as_json(e["record_ids"])) for e in entries] == [3, 3]
    for entry in entries:
        assert entry["action"] == "customers.import"
        assert entry["principal_id"] == f"cli:{getpass.getuser()}"
        assert entry["purpose"] is None
        assert entry["outcome"] == "allowed"
        assert entry["status"] == 0
        assert entry["entity"] == "customers"
        assert as_json(entry["subject_ids"]) == as_json(entry["record_ids"])
    # The last batch's entry also says how the import ended: one row was rejected.
    assert as_json(entries[0]["fields"]) == dict.fromkeys(FIELDS, "written")
    assert entries[0]["reason"] is None
    assert as_json(entries[1]["fields"]) == dict.fromkeys(FIELDS, "written") | {
        "import:rows": "loaded:6,rejected:1"
    }
    assert_import_outcome(entries[1], "allowed", "rows_rejected", loaded=6, rejected=1)
    audit_text = json.dumps(entries, ensure_ascii=False, default=str)
    for value in values_of(rows):
        assert value not in audit_text
    assert len(set(imported_ids(store, report))) == 6


def test_given_notes_imported_then_each_row_and_its_batch_entry_are_classified(
    store: Store, tmp_path: Path
) -> None:
    rows = people(5, seed=121)
    del rows[1]["notes"]
    path = write_jsonl(tmp_path / "customers.jsonl", rows)

    report = run(store.settings, path, batch_size=10)

    (entry,) = audit_entries(store, report)
    ids = imported_ids(store, report)
    stored = {row[0]: row[1] for row in store.sql("SELECT id, pii_classes FROM customers")}
    classes = [None if stored[i] is None else as_json(stored[i]) for i in ids]
    assert classes[1] is None  # no notes, nothing to classify
    assert all(c and c["notes"] for i, c in enumerate(classes) if i != 1)
    total: dict[str, int] = {}
    for c in classes:
        for entity_type, count in (c or {}).get("notes", {}).items():
            total[entity_type] = total.get(entity_type, 0) + count
    assert as_json(entry["classification"]) == {"notes": dict(sorted(total.items()))}
    audit_text = json.dumps(entry, ensure_ascii=False, default=str)
    assert not any(value in audit_text for value in values_of(rows))


# --- reading files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An initialized SQLite store without demo data, for tests that need no backend matrix."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("import-fresh"))
    asyncio.run(init_store(settings, demo=False))
    return settings


def test_given_bom_crlf_csv_with_only_some_columns_then_absent_fields_are_stored_empty(
    fresh: Settings, tmp_path: Path
) -> None:
    rows = people(2, seed=107)
    header = ("phone", "name", "tier")
    lines = [",".join(header)] + [",".join(str(r[n]) for n in header) for r in rows]
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")

    report = run(fresh, path)

    assert (report.loaded, report.problems) == (2, ())


def test_given_cell_count_and_encoding_problems_then_each_is_reported_on_its_line(
    fresh: Settings, tmp_path: Path
) -> None:
    rows = people(3, seed=108)
    path = write_csv(tmp_path / "customers.csv", rows, ("name", "phone", "address"))
    lines = path.read_bytes().split(b"\r\n")
    lines[2] += b",extra"  # line 3: one cell too many
    lines[3] = lines[3].replace(b",", b",\xff", 1)  # line 4: phone is not UTF-8
    path.write_bytes(b"\r\n".join(lines))

    report = run(fresh, path)

    assert report.problems == (
        ImportProblem(3, "*", "wrong_cell_count"),
        ImportProblem(4, "phone", "invalid_encoding"),
    )
    assert report.loaded == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("13812345678,张三\n", "header"),  # a file without its header row
        ("name,phone,name\n", "more than once: name"),
        ("phone,email\n", "required fields: name"),
    ],
)
def test_given_unusable_csv_header_then_file_is_refused_without_echoing_it(
    fresh: Settings, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(ImportSourceError, match=message) as refused:
        run(fresh, path)

    assert "13812345678" not in str(refused.value)
    assert "张三" not in str(refused.value)


@pytest.mark.parametrize("name", ["customers.txt", "customers.json", "customers.csv.gz", "data"])
def test_given_unknown_suffix_then_file_is_refused(
    fresh: Settings, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text("name\n张三\n", encoding="utf-8")

    with pytest.raises(ImportSourceError, match=r"\.csv, \.jsonl, \.ndjson"):
        run(fresh, path)


def test_given_unnamed_or_duplicate_json_keys_then_no_key_text_is_echoed(
    fresh: Settings, tmp_path: Path
) -> None:
    row = people(1, seed=109)[0]
    lines: list[Row | str] = [
        row | {"13812345678": "x"},  # a key that is itself a value
        '{"name": "张三", "name": "李四"}',
    ]

    report = run(fresh, write_jsonl(tmp_path / "customers.jsonl", lines))

    assert report.problems == (
        ImportProblem(1, "?", "unknown_field"),
        ImportProblem(2, "name", "duplicate_field"),
    )


def test_given_progress_callback_then_it_reaches_the_file_size(
    fresh: Settings, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "customers.jsonl", people(450, seed=110))
    seen: list[ImportProgress] = []

    report = run(fresh, path, batch_size=100, progress=seen.append)

    assert report.loaded == 450
    assert [p.bytes_read for p in seen] == sorted(p.bytes_read for p in seen)
    assert seen[-1].bytes_read == path.stat().st_size
    assert seen[-1].rows_read == 450


def test_given_import_then_no_value_reaches_a_log_line(fresh: Settings, tmp_path: Path) -> None:
    rows = people(5, seed=111)
    rows[1]["phone"] = "12345678901"

    with structlog.testing.capture_logs() as logs:
        run(fresh, write_jsonl(tmp_path / "customers.jsonl", rows))

    logged = json.dumps(logs, ensure_ascii=False, default=str)
    for value in [*values_of(rows), "12345678901"]:
        assert value not in logged


# --- the command ----------------------------------------------------------------------------


def invoke(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> Result:
    if settings.database_url:
        monkeypatch.setenv("WARDGATE_DATABASE_URL", settings.database_url)
    if settings.keystore_url:
        monkeypatch.setenv("WARDGATE_KEYSTORE_URL", settings.keystore_url)
    get_settings.cache_clear()
    return runner.invoke(app, ["import", *args, "--data-dir", str(settings.data_dir)])


@pytest.mark.usefixtures("cli_env")
def test_given_clean_file_then_command_loads_it_and_exits_0(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = people(4, seed=112)
    before = store.count("customers")

    result = invoke(monkeypatch, store.settings, str(write_csv(tmp_path / "c.csv", rows)))

    assert result.exit_code == 0, result.output
    assert "loaded 4 of 4 rows, rejected 0" in result.stdout
    assert "customers/s" in result.stdout
    assert store.count("customers") == before + 4
    for value in values_of(rows):
        assert value not in result.output


@pytest.mark.usefixtures("cli_env")
def test_given_some_bad_rows_then_command_lists_problems_without_values_and_exits_1(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = people(8, seed=113)
    rows[5]["phone"] = "12345678901"  # line 7
    rows[6]["bank_card"] = wrong_luhn(rows[6]["bank_card"])  # line 8
    path = write_csv(tmp_path / "c.csv", rows)

    result = invoke(monkeypatch, store.settings, str(path), "--batch", "3")

    assert result.exit_code == 1, result.output
    assert "loaded 6 of 8 rows, rejected 2" in result.stdout
    assert "line 7: phone: invalid_phone" in result.stdout
    assert "line 8: bank_card: invalid_bank_card" in result.stdout
    for value in [*values_of(rows), "12345678901"]:
        assert value not in result.output


def test_given_more_than_fifty_problems_then_the_rest_are_counted(
    cli_env: None, fresh: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [r | {"phone": "12345678901"} for r in people(60, seed=114)]

    result = invoke(monkeypatch, fresh, str(write_jsonl(tmp_path / "c.jsonl", rows)))

    assert result.exit_code == 1
    assert result.stdout.count(": phone: invalid_phone") == 50
    assert "... and 10 more problems" in result.stdout


@pytest.mark.usefixtures("cli_env")
def test_given_all_or_nothing_refusal_then_command_exits_1_and_loads_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = people(5, seed=115)
    rows[2]["id_number"] = wrong_check_digit(rows[2]["id_number"])
    before = store.count("customers")

    result = invoke(
        monkeypatch, store.settings, str(write_csv(tmp_path / "c.csv", rows)), "--all-or-nothing"
    )

    assert result.exit_code == 1, result.output  # rows refused; 2 is for unusable input
    assert "line 4: id_number: invalid_id_number" in result.stdout
    assert "nothing loaded" in result.stderr
    assert store.count("customers") == before
    for value in values_of(rows):
        assert value not in result.output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("customers.xlsx", "name\n", "must end in one of"),
        ("customers.csv", "13812345678,张三\n", "header"),
    ],
)
def test_given_unusable_file_then_command_exits_2(
    cli_env: None,
    fresh: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    result = invoke(monkeypatch, fresh, str(path))

    assert result.exit_code == 2
    assert message in result.stderr
    assert "13812345678" not in result.output


def test_given_no_store_then_command_exits_2_and_creates_nothing(
    cli_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "c.csv", people(1, seed=116))
    data_dir = tmp_path / "not-initialized"

    result = invoke(monkeypatch, Settings(data_dir=data_dir), str(path))

    assert result.exit_code == 2
    assert "wardgate init" in result.stderr
    assert not data_dir.exists()


def test_given_store_failure_then_command_reports_what_was_loaded_and_exits_3(
    cli_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = failing_store(tmp_path)
    rows = people(6, seed=120)

    result = invoke(monkeypatch, settings, str(write_csv(tmp_path / "c.csv", rows)), "--batch", "2")

    assert result.exit_code == 3, result.output
    assert "import aborted" in result.stderr
    assert "loaded 2 of" in result.stdout
    for value in values_of(rows):
        assert value not in result.output
