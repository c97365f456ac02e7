"""The `wardgate` command line: help, init, serve's fail-closed preflight, db upgrade."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from gateway.access.authentication import API_KEY_PREFIX, hash_api_key
from gateway.cli.main import app
from gateway.db.engine import create_database
from gateway.db.init_store import DEMO_KEYS_FILE, DEMO_PRINCIPALS
from gateway.db.migrate import current_revision, head_revision
from gateway.settings import Settings
from keys import LocalKeyProvider

runner = CliRunner()


# Settings only from what each test gives (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("isolated_settings")


@pytest.fixture
def server_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Records any attempt to start uvicorn (its config and the sockets it was handed)
    instead of serving forever."""
    calls: list[Any] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        calls.append((server.config, [sock.getsockname() for sock in sockets or []]))
        for sock in sockets or []:
            sock.close()
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)
    return calls


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def flat(output: str) -> str:
    """Help and messages without rich's box borders and line wrapping."""
    return " ".join(output.replace("│", " ").split())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_rows(path: Path, statement: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(statement).fetchall()
    finally:
        conn.close()


# --- help -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["init", "serve", "db", "privacy and data-governance gateway"]),
        (
            ("init",),
            [
                "--demo",
                "--customers",
                "--seed",
                "--data-dir",
                "Create the store, master key and default policy",
                "Seed demo principals and synthetic customers.",
                "Synthetic customers to create.",
                "$WARDGATE_DATA_DIR",
            ],
        ),
        (("serve",), ["--host", "--port", "--data-dir", "Address to bind.", "Port to bind."]),
        (("db",), ["upgrade", "Store schema migrations."]),
        (
            ("db", "upgrade"),
            [
                "--data-dir",
                "Migrate an existing store's and key store's schemas",
                "Creates no store",
            ],
        ),
    ],
)
def test_given_help_flag_then_each_command_describes_itself_and_its_options(
    args: tuple[str, ...], expected: list[str]
) -> None:
    result = invoke(*args, "--help")

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    for fragment in expected:
        assert fragment in text


def test_given_no_arguments_then_usage_is_shown_instead_of_running_anything() -> None:
    result = invoke()

    assert "Usage" in result.output
    assert "init" in result.output


def test_given_unknown_command_then_exit_code_is_a_usage_error() -> None:
    assert invoke("destroy").exit_code == 2


# --- init -------------------------------------------------------------------------------


def test_given_init_demo_then_store_key_and_demo_keys_are_created_privately(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"

    result = invoke("init", "--demo", "--customers", "5", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    database, master_key, demo_keys = (
        data_dir / "wardgate.db",
        data_dir / "master.key",
        data_dir / DEMO_KEYS_FILE,
    )
    assert database.is_file()
    assert mode_of(master_key) == 0o600
    assert mode_of(demo_keys) == 0o600
    ring = json.loads(master_key.read_text(encoding="ascii"))
    assert ring["active"] == 1
    assert len(base64.b64decode(ring["keys"]["1"])) == 32

    keys: dict[str, str] = json.loads(demo_keys.read_text(encoding="utf-8"))
    assert set(keys) == set(DEMO_PRINCIPALS)
    assert len(keys) == len(DEMO_PRINCIPALS)
    assert all(key.startswith(API_KEY_PREFIX) and len(key) > 40 for key in keys.values())
    assert len(set(keys.values())) == len(DEMO_PRINCIPALS)

    stored = dict(sqlite_rows(database, "SELECT principal_id, key_hash FROM api_keys"))
    assert stored == {principal: hash_api_key(key) for principal, key in keys.items()}
    assert sqlite_rows(database, "SELECT count(*) FROM customers") == [(5,)]
    assert sqlite_rows(database, "SELECT count(*) FROM policy_versions") == [(1,)]


def test_given_init_demo_then_output_reports_progress_but_shows_no_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = invoke("init", "--demo", "--customers", "5", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "store ready" in text
    assert "default policy installed as version 1" in text
    assert "demo data: 5 customers" in text
    assert "(mode 0600)" in text
    keys = json.loads((data_dir / DEMO_KEYS_FILE).read_text(encoding="utf-8"))
    master = (data_dir / "master.key").read_text(encoding="ascii").strip()
    for secret in [*keys.values(), master, master.rstrip("=")]:
        assert secret not in result.output
        assert secret not in text
    assert API_KEY_PREFIX not in result.output


def test_given_init_run_twice_then_keys_are_kept_and_not_printed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert invoke("init", "--demo", "--customers", "5", "--data-dir", str(data_dir)).exit_code == 0
    master = (data_dir / "master.key").read_bytes()
    demo_keys = (data_dir / DEMO_KEYS_FILE).read_bytes()

    result = invoke("init", "--demo", "--customers", "5", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert "demo principals already exist; their keys were not changed" in text
    assert "demo data: 0 customers" in text
    assert "default policy installed" not in text
    assert (data_dir / "master.key").read_bytes() == master
    assert (data_dir / DEMO_KEYS_FILE).read_bytes() == demo_keys
    assert sqlite_rows(data_dir / "wardgate.db", "SELECT count(*) FROM customers") == [(5,)]
    assert sqlite_rows(data_dir / "wardgate.db", "SELECT count(*) FROM policy_versions") == [(1,)]


def test_given_init_without_demo_then_no_principals_or_demo_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = invoke("init", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert (data_dir / "master.key").is_file()
    assert not (data_dir / DEMO_KEYS_FILE).exists()
    database = data_dir / "wardgate.db"
    assert sqlite_rows(database, "SELECT count(*) FROM api_keys") == [(0,)]
    (document,) = sqlite_rows(database, "SELECT document FROM policy_versions")
    assert json.loads(document[0])["principals"] == {}
    assert sqlite_rows(database, "SELECT count(*) FROM customers") == [(0,)]


def test_given_negative_customer_count_then_init_refuses_before_creating_anything(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"

    result = invoke("init", "--demo", "--customers", "-1", "--data-dir", str(data_dir))

    assert result.exit_code == 2
    assert not data_dir.exists()


# --- serve fails closed -----------------------------------------------------------------


def test_given_empty_data_dir_then_serve_refuses_to_start_and_creates_nothing(
    tmp_path: Path, server_runs: list[Any]
) -> None:
    result = invoke("serve", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    text = flat(result.output)
    assert text.startswith(f"cannot start: no Wardgate store in {tmp_path} ")
    assert f"run `wardgate init --data-dir {tmp_path}`" in text
    assert "listening" not in text
    assert server_runs == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (lambda key: "not-a-key!\n", "not valid base64"),
        (lambda key: key[:24] + "\n", "malformed"),
        (lambda key: "", "must decode to 32 bytes"),
    ],
    ids=["garbage", "truncated", "emptied"],
)
def test_given_corrupted_master_key_then_serve_refuses_to_start(
    tmp_path: Path, server_runs: list[Any], corrupt: Any, problem: str
) -> None:
    assert invoke("init", "--data-dir", str(tmp_path)).exit_code == 0
    path = tmp_path / "master.key"
    original = path.read_text(encoding="ascii").strip()
    path.write_text(corrupt(original), encoding="ascii")

    result = invoke("serve", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    text = flat(result.output)
    assert text.startswith("cannot start:")
    assert "master key" in text
    assert problem in text
    assert original[:24] not in result.output
    assert server_runs == []


def test_given_master_key_but_no_store_then_serve_refuses_to_start(
    tmp_path: Path, server_runs: list[Any]
) -> None:
    LocalKeyProvider(tmp_path, environ={}).create()

    result = invoke("serve", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    text = flat(result.output)
    assert text.startswith(f"cannot start: no Wardgate store in {tmp_path}")
    assert "wardgate init" in text
    assert server_runs == []
    assert [path.name for path in tmp_path.iterdir()] == ["master.key"]


def test_given_master_key_and_empty_store_file_then_serve_refuses_naming_the_schema(
    tmp_path: Path, server_runs: list[Any]
) -> None:
    LocalKeyProvider(tmp_path, environ={}).create()
    for name in ("wardgate.db", "keys.db"):
        (tmp_path / name).touch()

    result = invoke("serve", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    text = flat(result.output)
    assert text.startswith(f"cannot start: no Wardgate store in {tmp_path}")
    assert "its schema has never been created" in text
    assert server_runs == []


def test_given_initialised_store_then_serve_passes_preflight_and_starts_uvicorn(
    tmp_path: Path, server_runs: list[Any]
) -> None:
    assert invoke("init", "--data-dir", str(tmp_path)).exit_code == 0

    result = invoke("serve", "--data-dir", str(tmp_path), "--port", "18123", "--workers", "1")

    assert result.exit_code == 0, result.output
    assert "listening on http://127.0.0.1:18123" in flat(result.output)
    assert len(server_runs) == 1
    config, bound = server_runs[0]
    assert (config.host, config.port) == ("127.0.0.1", 18123)
    assert bound == [("127.0.0.1", 18123)]


# --- db upgrade -------------------------------------------------------------------------


def test_given_new_data_dir_then_db_upgrade_refuses_and_creates_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = invoke("db", "upgrade", "--data-dir", str(data_dir))

    assert result.exit_code == 2
    text = flat(result.output)
    assert text.startswith(f"no Wardgate store in {data_dir} ")
    assert "store schema is current" not in text
    assert not data_dir.exists()


def test_given_initialised_store_then_db_upgrade_keeps_it_at_head(tmp_path: Path) -> None:
    assert invoke("init", "--data-dir", str(tmp_path)).exit_code == 0

    result = invoke("db", "upgrade", "--data-dir", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert "store schema is current" in flat(result.output)

    async def revision() -> str | None:
        db = create_database(Settings(data_dir=tmp_path))
        try:
            return await current_revision(db.reader)
        finally:
            await db.dispose()

    assert asyncio.run(revision()) == head_revision()
    assert invoke("db", "upgrade", "--data-dir", str(tmp_path)).exit_code == 0
