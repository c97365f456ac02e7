"""What commands tell the operator: `import --help` documents the columns from the data
catalog, `import` gives the ids it created, `keys purge` says when the grace period ends."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.settings import get_settings
from policies.catalog import default_catalog

runner = CliRunner()
CUSTOMER_ID = re.compile(r"cus_[0-9A-HJKMNP-TV-Z]{26}")


# Settings only from what each test gives (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_settings")


def invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


def flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def store(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    assert invoke("init", "--demo", "--customers", "3", "--data-dir", str(data_dir)).exit_code == 0
    return data_dir


def customer_ids(store: Path) -> list[str]:
    conn = sqlite3.connect(store / "wardgate.db")
    try:
        return [row[0] for row in conn.execute("SELECT id FROM customers ORDER BY id")]
    finally:
        conn.close()


# --- import --help -----------------------------------------------------------------------


def test_given_import_help_then_every_writable_catalog_field_is_a_documented_column() -> None:
    result = invoke("import", "--help")

    assert result.exit_code == 0
    text = flat(result.output)
    entity = default_catalog().entity("customers")
    categories = default_catalog().categories
    writable = [spec for spec in entity.fields if spec.writable]
    assert len(writable) >= 10
    for spec in writable:
        described = f"{spec.name}: {categories[spec.category].description} (format {spec.format}"
        assert described in text, spec.name
    assert "name: Person name (format person_name, required" in text
    assert "id: " not in text  # assigned by the gateway, not a column
    assert "header row" in text
    assert "--ids-out" in text
    assert "1 some rows were rejected: the others loaded, or with --all-or-nothing none" in text


# --- created ids ---------------------------------------------------------------------------


def _csv(path: Path) -> Path:
    path.write_text(
        "name,phone,tier\n张测试,13812345678,gold\n李测试,12345,gold\n王测试,,silver\n",
        encoding="utf-8",
    )
    return path


def test_given_import_then_created_ids_are_printed_in_file_order(
    store: Path, tmp_path: Path
) -> None:
    before = set(customer_ids(store))

    result = invoke("import", str(_csv(tmp_path / "c.csv")), "--data-dir", str(store))

    assert result.exit_code == 1, result.output  # line 3 rejected, the others loaded
    created = [line for line in result.stdout.splitlines() if CUSTOMER_ID.fullmatch(line)]
    assert len(created) == 2
    assert set(created) == set(customer_ids(store)) - before
    assert "line 3: phone: invalid_phone" in result.stdout


def test_given_ids_out_then_ids_go_to_the_file_and_not_to_stdout(
    store: Path, tmp_path: Path
) -> None:
    before = set(customer_ids(store))
    ids = tmp_path / "ids.txt"

    result = invoke(
        "import", str(_csv(tmp_path / "c.csv")), "--ids-out", str(ids), "--data-dir", str(store)
    )

    assert result.exit_code == 1, result.output
    written = ids.read_text(encoding="ascii").splitlines()
    assert set(written) == set(customer_ids(store)) - before
    assert len(written) == 2
    assert CUSTOMER_ID.search(result.stdout) is None
    assert f"2 created ids written to {ids}" in result.stderr


def test_given_refused_all_or_nothing_import_then_exit_1_and_no_ids(
    store: Path, tmp_path: Path
) -> None:
    before = customer_ids(store)

    result = invoke(
        "import", str(_csv(tmp_path / "c.csv")), "--all-or-nothing", "--data-dir", str(store)
    )

    assert result.exit_code == 1, result.output
    assert CUSTOMER_ID.search(result.stdout) is None
    assert "nothing loaded: --all-or-nothing and 1 rows have problems" in result.stderr
    assert customer_ids(store) == before


# --- keys purge and its grace period -----------------------------------------------------


def test_given_keys_inside_grace_then_purge_says_how_many_and_when(store: Path) -> None:
    assert invoke("keys", "rotate-dek", "--data-dir", str(store)).exit_code == 0
    asked = dt.datetime.now(dt.UTC)

    result = invoke("keys", "purge", "--grace", "3600", "--data-dir", str(store))

    assert result.exit_code == 0, result.output
    text = flat(result.stderr)
    assert "0 retired data keys purged" in text
    found = re.search(
        r"3 retired data keys are still inside the 3600 s grace period; the first can be "
        r"purged after (\S+) \(in ([\d,]+) s\): run `wardgate keys purge` again then",
        text,
    )
    assert found, text
    after = dt.datetime.fromisoformat(found.group(1))
    assert asked + dt.timedelta(seconds=3500) < after <= asked + dt.timedelta(seconds=3601)
    assert 3500 < int(found.group(2).replace(",", "")) <= 3600


def test_given_grace_passed_then_purge_deletes_and_says_nothing_of_a_wait(store: Path) -> None:
    assert invoke("keys", "rotate-dek", "--data-dir", str(store)).exit_code == 0

    result = invoke("keys", "purge", "--grace", "0", "--data-dir", str(store))

    assert result.exit_code == 0, result.output
    text = flat(result.stderr)
    assert "3 retired data keys purged" in text
    assert "grace period" not in text
