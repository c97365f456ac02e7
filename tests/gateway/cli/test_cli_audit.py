"""`wardgate audit …`: verifier key, checkpoints, export, and verification online and offline.

Each test gets a fresh SQLite store of its own, so the log can be tampered with freely.
The offline verifier is given only files: the data directory is gone when it runs.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import getpass
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from audit.canonical import ENTRY_FIELDS, OPTIONAL_ENTRY_FIELDS, canonical_entry
from audit.checkpoint import Checkpoint, open_signed_checkpoint, sign_checkpoint
from audit.merkle import leaf_hash, root_of
from gateway.db.init_store import init_store
from gateway.settings import Settings, get_settings
from keys.signing import NoteSigner, NoteVerifier
from tests.helpers.cli import demo_data_dir, invoke, store_rows
from tests.helpers.store import tamper_log

VKEY = re.compile(r"(?P<name>[^\s+]+)\+(?P<id>[0-9a-f]{8})\+(?P<key>[A-Za-z0-9+/]+={0,2})")
EXTRA_ENTRIES = 6
CSV_FIELDS = (*ENTRY_FIELDS, *OPTIONAL_ENTRY_FIELDS)


pytestmark = pytest.mark.usefixtures("isolated_settings")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh demo store whose log holds a few more entries than seeding leaves."""
    path = demo_data_dir(tmp_path / "data")
    for _ in range(EXTRA_ENTRIES):
        assert invoke("audit", "verify", "--data-dir", str(path)).exit_code == 0
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where exports and checkpoints go: outside the data directory."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def flat(text: str) -> str:
    """Messages without rich's line wrapping."""
    return " ".join(text.split())


def failure(result: Result) -> str:
    """The message of a verification that failed (exit 1), without rich's line wrapping."""
    assert result.exit_code == 1, result.output
    return flat(result.stderr)


def audit_rows(data_dir: Path) -> list[dict[str, Any]]:
    return [dict(row) for row in store_rows(data_dir, "SELECT * FROM audit_events ORDER BY seq")]


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """An audit row with its JSON columns decoded, as the entry was hashed."""
    return row | {name: json.loads(row[name]) for name in ("record_ids", "subject_ids", "fields")}


def verifier_key(data_dir: Path) -> str:
    result = invoke("audit", "verifier-key", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def checkpoint(data_dir: Path, out: Path) -> Path:
    result = invoke("audit", "checkpoint", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    path = out / "checkpoint.txt"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def export(data_dir: Path, out: Path) -> Path:
    path = out / "audit.jsonl"
    result = invoke("audit", "export", "-o", str(path), "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    return path


def offline(export_file: Path, checkpoint_file: Path, key: str) -> Result:
    return invoke(
        "audit", "verify", "--offline", str(export_file), str(checkpoint_file), "--public-key", key
    )


@pytest.fixture
def published(data_dir: Path, out: Path) -> tuple[Path, Path, str, Checkpoint]:
    """What an auditor takes away: an export, the checkpoint before it, and the key.
    The data directory is removed: offline verification must not need it."""
    key = verifier_key(data_dir)
    checkpoint_file = checkpoint(data_dir, out)
    export_file = export(data_dir, out)
    signed = open_signed_checkpoint(
        checkpoint_file.read_text(encoding="utf-8"), NoteVerifier.from_vkey(key)
    )
    shutil.rmtree(data_dir)
    return export_file, checkpoint_file, key, signed


def rewrite(
    export_file: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
) -> Path:
    lines = [json.loads(line) for line in export_file.read_text(encoding="utf-8").splitlines()]
    path = export_file.with_name("altered.jsonl")
    path.write_text("".join(json.dumps(line) + "\n" for line in change(lines)), encoding="utf-8")
    return path


# --- verifier key and checkpoints -----------------------------------------------------


def test_given_store_then_verifier_key_is_one_c2sp_vkey_line(data_dir: Path) -> None:
    result = invoke("audit", "verifier-key", "--data-dir", str(data_dir))

    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    key = result.stdout.strip()
    match = VKEY.fullmatch(key)
    assert match is not None
    raw = base64.b64decode(match["key"], validate=True)
    assert (raw[0], len(raw)) == (0x01, 33), "Ed25519 algorithm byte and a 32-byte key"
    assert NoteVerifier.from_vkey(key).verifier_key == key
    assert verifier_key(data_dir) == key, "the same key every time"


def test_given_checkpoint_command_then_signed_note_of_the_whole_log_opens_with_that_key(
    data_dir: Path,
) -> None:
    key = verifier_key(data_dir)

    result = invoke("audit", "checkpoint", "--data-dir", str(data_dir))

    assert result.exit_code == 0
    verifier = NoteVerifier.from_vkey(key)
    opened = open_signed_checkpoint(result.stdout, verifier)
    rows = audit_rows(data_dir)
    assert opened.origin == verifier.name
    # The command's own entry comes first, so the checkpoint covers it.
    assert opened.tree_size == len(rows)
    assert rows[-1]["action"] == "audit.checkpoint"
    leaves = [leaf_hash(canonical_entry(decoded(row))) for row in rows]
    assert opened.root_hash == root_of(leaves)
    stored = store_rows(data_dir, "SELECT tree_size, note FROM audit_checkpoints")
    assert (opened.tree_size, result.stdout) in [tuple(row) for row in stored]


# --- export -------------------------------------------------------------------------------


def test_given_export_then_jsonl_of_every_entry_exactly_as_hashed(
    data_dir: Path, out: Path
) -> None:
    path = out / "audit.jsonl"

    result = invoke("audit", "export", "-o", str(path), "--data-dir", str(data_dir))

    assert result.exit_code == 0
    rows = audit_rows(data_dir)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert f"{len(lines)} entries written" in flat(result.stderr)
    assert [line["seq"] for line in lines] == list(range(len(rows)))
    for line, row in zip(lines, rows, strict=True):
        assert set(line) == {"seq", "entry", "leaf_hash"}
        assert line["entry"] == canonical_entry(decoded(row)).decode()
        assert leaf_hash(line["entry"].encode()).hex() == line["leaf_hash"] == row["leaf_hash"]
        assert json.loads(line["entry"])["seq"] == line["seq"]
    assert json.loads(lines[-1]["entry"])["action"] == "audit.export", "the export is logged"


def test_given_csv_format_then_one_column_per_entry_field_with_bom(
    data_dir: Path, out: Path
) -> None:
    path = out / "audit.csv"

    result = invoke(
        "audit", "export", "--format", "csv", "-o", str(path), "--data-dir", str(data_dir)
    )

    assert result.exit_code == 0, result.output
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    rows = audit_rows(data_dir)
    assert f"{len(table)} entries written" in flat(result.stderr)
    assert [int(line["seq"]) for line in table] == list(range(len(rows)))
    assert list(table[0]) == [*CSV_FIELDS, "leaf_hash"]
    for line, row in zip(table, rows, strict=True):
        assert line["leaf_hash"] == row["leaf_hash"]
        assert (line["principal_id"], line["action"], line["outcome"]) == (
            row["principal_id"],
            row["action"],
            row["outcome"],
        )
        assert line["record_ids"] == ";".join(json.loads(row["record_ids"]))
    assert table[-1]["action"] == "audit.export"
    assert table[-1]["principal_id"] == f"cli:{getpass.getuser()}"


def test_given_unknown_export_format_then_exit_2_and_no_file(data_dir: Path, out: Path) -> None:
    path = out / "audit.xml"
    result = invoke(
        "audit", "export", "--format", "xml", "-o", str(path), "--data-dir", str(data_dir)
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not path.exists()


# --- verify against the store -------------------------------------------------------------


def test_given_clean_store_then_verify_exits_0(data_dir: Path, out: Path) -> None:
    checkpoint(data_dir, out)
    result = invoke("audit", "verify", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    message = flat(result.stderr)
    assert "audit log verified" in message
    assert "1 signed checkpoints matched" in message


def test_given_edited_entry_in_store_then_verify_exits_1_naming_it(
    data_dir: Path, out: Path
) -> None:
    checkpoint(data_dir, out)
    tamper_log(data_dir, "UPDATE audit_events SET principal_id = 'cli:somebody' WHERE seq = 3")

    result = invoke("audit", "verify", "--data-dir", str(data_dir))

    message = failure(result)
    assert "FAILED" in message
    assert "first bad sequence number: 3" in message
    recorded = audit_rows(data_dir)[-1]
    assert (recorded["action"], recorded["outcome"], recorded["reason"]) == (
        "audit.verify",
        "failed",
        "verification_failed",
    )


def test_given_edited_entry_with_matching_leaf_hash_then_the_checkpoint_catches_it(
    data_dir: Path, out: Path
) -> None:
    checkpoint(data_dir, out)
    row = decoded(audit_rows(data_dir)[2]) | {"status": 403}
    forged = leaf_hash(canonical_entry(row)).hex()
    tamper_log(
        data_dir, "UPDATE audit_events SET status = 403, leaf_hash = ? WHERE seq = 2", (forged,)
    )

    result = invoke("audit", "verify", "--data-dir", str(data_dir))

    assert "does not match its signed checkpoint" in failure(result)


def test_given_entries_deleted_behind_a_checkpoint_then_verify_reports_truncation(
    data_dir: Path, out: Path
) -> None:
    checkpoint(data_dir, out)
    size = len(audit_rows(data_dir))
    tamper_log(data_dir, "DELETE FROM audit_events WHERE seq >= ?", (size - 3,))

    result = invoke("audit", "verify", "--data-dir", str(data_dir))

    message = failure(result)
    assert "truncated" in message
    assert f"first bad sequence number: {size - 3}" in message


def test_given_stored_checkpoint_signed_by_other_key_then_verify_exits_1(
    data_dir: Path, out: Path
) -> None:
    genuine = open_signed_checkpoint(
        checkpoint(data_dir, out).read_text(encoding="utf-8"),
        NoteVerifier.from_vkey(verifier_key(data_dir)),
    )
    # A true tree head of an earlier size: only the signature is wrong.
    size = genuine.tree_size - 1
    leaves = [leaf_hash(canonical_entry(decoded(row))) for row in audit_rows(data_dir)]
    forged = Checkpoint(genuine.origin, size, root_of(leaves[:size]))
    impostor = NoteSigner.from_seed(genuine.origin, bytes(range(32)))
    conn = sqlite3.connect(data_dir / "wardgate.db")
    try:
        conn.execute(
            "INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) "
            "VALUES (?, ?, ?, '2026-01-01T00:00:00+00:00')",
            (size, forged.root_hash.hex(), sign_checkpoint(forged, impostor)),
        )
        conn.commit()
    finally:
        conn.close()

    result = invoke("audit", "verify", "--data-dir", str(data_dir))

    assert "checkpoint does not verify" in failure(result)


# --- verify offline -----------------------------------------------------------------------


def test_given_export_checkpoint_and_key_file_then_offline_verify_exits_0_without_a_store(
    published: tuple[Path, Path, str, Checkpoint], out: Path
) -> None:
    export_file, checkpoint_file, key, signed = published
    key_file = out / "wardgate.vkey"
    key_file.write_text(key + "\n", encoding="utf-8")

    result = offline(export_file, checkpoint_file, str(key_file))

    assert result.exit_code == 0, result.output
    assert "audit log verified" in flat(result.stderr)
    assert "1 signed checkpoints matched" in flat(result.stderr)
    assert signed.tree_size > EXTRA_ENTRIES
    assert not (out.parent / "data").exists(), "offline verification created no store"


def test_given_key_as_string_then_offline_verify_exits_0(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, key, _ = published
    result = offline(export_file, checkpoint_file, key)
    assert result.exit_code == 0, result.output


def test_given_one_byte_of_an_entry_changed_then_exit_1_naming_its_seq(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, key, _ = published

    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert '"status":0' in lines[4]["entry"]
        lines[4]["entry"] = lines[4]["entry"].replace('"status":0', '"status":1')
        return lines

    result = offline(rewrite(export_file, change), checkpoint_file, key)

    message = failure(result)
    assert "entry 4 does not match its leaf hash" in message
    assert "first bad sequence number: 4" in message


def test_given_entry_and_its_leaf_hash_both_rewritten_then_the_signed_root_catches_it(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, key, _ = published

    def change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        lines[4]["entry"] = lines[4]["entry"].replace('"status":0', '"status":1')
        lines[4]["leaf_hash"] = leaf_hash(lines[4]["entry"].encode()).hex()
        return lines

    result = offline(rewrite(export_file, change), checkpoint_file, key)

    assert "does not match its signed checkpoint" in failure(result)


def test_given_a_line_dropped_from_the_middle_then_exit_1_naming_the_missing_seq(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, key, _ = published

    result = offline(rewrite(export_file, lambda ls: ls[:3] + ls[4:]), checkpoint_file, key)

    message = failure(result)
    assert "entry 3 is missing" in message
    assert "first bad sequence number: 3" in message


def test_given_export_cut_short_of_the_checkpoint_then_exit_1_truncated(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, key, signed = published
    keep = signed.tree_size - 2

    result = offline(rewrite(export_file, lambda ls: ls[:keep]), checkpoint_file, key)

    message = failure(result)
    assert "truncated" in message
    assert f"first bad sequence number: {keep}" in message


def test_given_checkpoint_signed_by_another_key_then_exit_1(
    published: tuple[Path, Path, str, Checkpoint], out: Path
) -> None:
    export_file, _, key, signed = published
    # Same origin, same tree head, same name on the signature line: only the key differs.
    impostor = NoteSigner.from_seed(signed.origin, bytes(range(32)))
    forged = out / "forged-checkpoint.txt"
    forged.write_text(sign_checkpoint(signed, impostor), encoding="utf-8")

    result = offline(export_file, forged, key)

    assert "no signature by the trusted key" in failure(result)


def test_given_genuine_checkpoint_but_another_public_key_then_exit_1(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, _, signed = published
    other_key = NoteSigner.from_seed(signed.origin, bytes(range(32))).verifier_key

    result = offline(export_file, checkpoint_file, other_key)

    assert "cannot verify" in failure(result)


def test_given_checkpoint_whose_body_was_edited_then_exit_1(
    published: tuple[Path, Path, str, Checkpoint], out: Path
) -> None:
    export_file, checkpoint_file, key, signed = published
    note = checkpoint_file.read_text(encoding="utf-8")
    # Claim a shorter log under the genuine signature line.
    size_line = f"\n{signed.tree_size}\n"
    assert size_line in note
    edited = out / "edited-checkpoint.txt"
    edited.write_text(note.replace(size_line, f"\n{signed.tree_size - 1}\n", 1), encoding="utf-8")

    result = offline(export_file, edited, key)

    assert "invalid signature" in failure(result)


def test_given_offline_without_public_key_then_exit_2(
    published: tuple[Path, Path, str, Checkpoint],
) -> None:
    export_file, checkpoint_file, _, _ = published

    result = invoke("audit", "verify", "--offline", str(export_file), str(checkpoint_file))

    assert result.exit_code == 2
    assert "--public-key" in flat(result.stderr)


# --- the CLI leaves audit entries ---------------------------------------------------------


def test_given_cli_operations_then_each_leaves_an_entry_by_the_os_user(
    data_dir: Path, out: Path
) -> None:
    start = len(audit_rows(data_dir))

    checkpoint(data_dir, out)
    export(data_dir, out)
    assert invoke("audit", "verify", "--data-dir", str(data_dir)).exit_code == 0
    verifier_key(data_dir)  # reads no entry and changes nothing: not logged

    added = audit_rows(data_dir)[start:]
    assert [row["action"] for row in added] == ["audit.checkpoint", "audit.export", "audit.verify"]
    for row in added:
        assert row["principal_id"] == f"cli:{getpass.getuser()}"
        assert (row["outcome"], row["status"]) == ("allowed", 0)
        assert json.loads(row["subject_ids"]) == []


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.mark.postgres
def test_given_postgres_store_then_checkpoint_export_and_both_verifications_pass(
    postgres_url_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    out: Path,
) -> None:
    """Streaming the log needs a transaction on PostgreSQL (server-side cursors)."""
    database, keystore = postgres_url_factory(), postgres_url_factory()
    monkeypatch.setenv("WARDGATE_DATABASE_URL", database)
    monkeypatch.setenv("WARDGATE_KEYSTORE_URL", keystore)
    get_settings.cache_clear()
    data = tmp_path / "data"
    settings = Settings(data_dir=data, database_url=database, keystore_url=keystore)
    asyncio.run(init_store(settings, demo=True, customers=5))
    for _ in range(EXTRA_ENTRIES):
        assert invoke("audit", "verify", "--data-dir", str(data)).exit_code == 0
    key = verifier_key(data)
    checkpoint_file = checkpoint(data, out)
    export_file = export(data, out)

    verified = invoke("audit", "verify", "--data-dir", str(data))

    assert verified.exit_code == 0, verified.output
    assert "1 signed checkpoints matched" in flat(verified.stderr)
    lines = export_file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(EXTRA_ENTRIES + 3))
    assert offline(export_file, checkpoint_file, key).exit_code == 0
    cut = rewrite(export_file, lambda ls: ls[:3] + ls[4:])
    assert offline(cut, checkpoint_file, key).exit_code == 1
