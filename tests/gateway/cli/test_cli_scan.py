"""`wardgate scan FILE`: per-column PII types and counts of a data source, never a value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.pii.detector import shared_detector
from gateway.pii.discovery import DiscoverySourceError, discover

runner = CliRunner()
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
EMAIL = "zhang.wei@example.com"
VALUES = (PHONE, ID_NUMBER, EMAIL)


# No WARDGATE_* setting from outside; logging restored after each command.
pytestmark = pytest.mark.usefixtures("cli_env")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def source_csv(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "crm.csv",
        [
            ["id", "note", "contact", "amount"],
            ["1", f"客户来电，手机{PHONE}，身份证{ID_NUMBER}", EMAIL, "12.50"],
            ["2", f"备用电话{PHONE}，再次来电{PHONE}", "", "3"],
            ["3", "咨询物流进度，已解答。", f"{EMAIL}", "8"],
        ],
    )


def scan(*args: str) -> Result:
    return runner.invoke(app, ["scan", *args])


def test_given_csv_then_json_report_counts_values_and_entities_per_column(
    source_csv: Path,
) -> None:
    result = scan(str(source_csv), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows"] == 3
    note = report["columns"]["note"]
    assert note["values"] == 3
    assert note["types"]["CN_MOBILE"] == {"values": 2, "entities": 3}
    assert note["types"]["CN_RESIDENT_ID"] == {"values": 1, "entities": 1}
    assert report["columns"]["contact"] == {
        "values": 2,
        "types": {"EMAIL_ADDRESS": {"values": 2, "entities": 2}},
    }
    assert report["columns"]["amount"]["types"] == {}
    assert list(report["columns"]) == ["id", "note", "contact", "amount"]
    assert not any(value in result.output for value in VALUES)


def test_given_columns_then_only_those_are_scanned_and_table_printed(source_csv: Path) -> None:
    result = scan(str(source_csv), "--columns", "contact")

    assert result.exit_code == 0, result.output
    assert "EMAIL_ADDRESS" in result.stdout
    assert "CN_MOBILE" not in result.stdout
    assert not any(value in result.output for value in VALUES)


def test_given_jsonl_then_keys_are_columns_and_numbers_are_scanned(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        {"memo": f"手机{PHONE}", "caller": int(PHONE), "ok": True},
        {"memo": "无", "extra": {"mail": EMAIL}},
        {},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n")

    report = discover(path, shared_detector())

    assert report.rows == 3
    assert report.columns["memo"].types["CN_MOBILE"].values == 1
    assert report.columns["caller"].types["CN_MOBILE"].entities == 1
    assert report.columns["extra"].types["EMAIL_ADDRESS"].values == 1
    assert report.columns["ok"].values == 0  # booleans hold nothing to scan
    result = scan(str(path), "--json", "--columns", "memo,caller")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["columns"]) == {"memo", "caller"}


def test_given_progress_then_it_reaches_the_file_size(source_csv: Path) -> None:
    seen: list[tuple[int, int]] = []
    discover(source_csv, shared_detector(), batch=1, progress=lambda b, r: seen.append((b, r)))
    assert seen[-1] == (source_csv.stat().st_size, 3)
    assert len(seen) > 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("data.txt", b"a,b\n", "must end in"),
        ("bad.csv", b'note\n"unterminated\n', "line"),
        ("short.csv", b"a,b\n1\n", "line 2: 1 cells"),
        ("latin.csv", "note\n电话".encode("gbk"), "not UTF-8"),
        ("bad.jsonl", b'{"a": 1}\nnot json ' + PHONE.encode() + b"\n", "line 2: not valid JSON"),
        ("list.jsonl", b"[1, 2]\n", "line 1: not a JSON object"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_given_unusable_input_then_exit_2_naming_the_problem_without_values(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    result = scan(str(path))

    assert result.exit_code == 2
    assert message in result.output
    assert PHONE not in result.output


def test_given_unknown_column_then_exit_2(source_csv: Path, tmp_path: Path) -> None:
    assert scan(str(source_csv), "--columns", "note,nope").exit_code == 2
    path = tmp_path / "one.jsonl"
    path.write_text('{"a": "x"}\n')
    result = scan(str(path), "--columns", "b")
    assert result.exit_code == 2
    assert "no such column: b" in result.output
    with pytest.raises(DiscoverySourceError):
        discover(path, shared_detector(), columns=["b"])


def test_given_header_that_is_data_then_columns_are_named_by_position(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "noheader.csv", [[PHONE, "ok"], [EMAIL, "x"]])

    result = scan(str(path), "--json")

    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["columns"]) == ["column 1", "ok"]
    assert PHONE not in result.output
