"""Files on disk are private: the data directory 0700; the store, the key store, their
SQLite -wal/-shm files, the master key, demo keys, audit exports and id lists 0600 —
under a permissive umask (022), so the modes come from the code, not the shell."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from gateway.cli.main import app
from gateway.db.engine import create_database
from gateway.db.migrate import upgrade_to_head
from gateway.settings import Settings, get_settings

runner = CliRunner()
PRIVATE_FILES = ("wardgate.db", "keys.db", "master.key", "demo-keys.json")


@pytest.fixture(autouse=True)
def _permissive_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("WARDGATE_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    previous = os.umask(0o022)
    yield
    os.umask(previous)
    get_settings.cache_clear()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


def test_given_init_then_directory_is_0700_and_every_store_file_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = invoke("init", "--demo", "--customers", "3", "--data-dir", str(data_dir))

    assert result.exit_code == 0, result.output
    assert mode(data_dir) == 0o700
    for name in PRIVATE_FILES:
        assert mode(data_dir / name) == 0o600, name


def test_given_open_store_then_its_wal_and_shm_files_are_0600(tmp_path: Path) -> None:
    """SQLite gives -wal and -shm the mode of the database file: a store created 0600
    keeps them private while a server or a command has it open."""
    data_dir = tmp_path / "data"
    assert invoke("init", "--data-dir", str(data_dir)).exit_code == 0
    holder = sqlite3.connect(data_dir / "wardgate.db")
    keys = sqlite3.connect(data_dir / "keys.db")
    try:
        holder.execute("SELECT count(*) FROM policy_versions").fetchall()
        keys.execute("SELECT count(*) FROM system_keys").fetchall()
        sidecars = [
            data_dir / f"{base}{suffix}"
            for base in ("wardgate.db", "keys.db")
            for suffix in ("-wal", "-shm")
        ]
        for path in sidecars:
            assert path.exists(), path
            assert mode(path) == 0o600, path
    finally:
        holder.close()
        keys.close()


def test_given_engine_outside_the_cli_then_new_store_files_are_still_0600(
    tmp_path: Path,
) -> None:
    """A server started another way (plain uvicorn, no `wardgate` umask) creates the
    store through the same engine: private from the first byte."""
    settings = Settings(data_dir=tmp_path / "data")

    async def create() -> None:
        db = create_database(settings)
        try:
            await upgrade_to_head(db.writer)
            async with db.keys.connect():
                pass
        finally:
            await db.dispose()

    assert not settings.data_dir.exists()
    asyncio.run(create())

    assert mode(settings.data_dir) == 0o700
    assert mode(settings.sqlite_path) == 0o600
    assert mode(settings.keystore_path) == 0o600


def test_given_engine_that_never_connects_then_nothing_is_created(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    asyncio.run(create_database(settings).dispose())

    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def store(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    assert invoke("init", "--demo", "--customers", "2", "--data-dir", str(data_dir)).exit_code == 0
    return data_dir


def test_given_audit_export_then_the_file_is_0600(store: Path, tmp_path: Path) -> None:
    fresh, existing = tmp_path / "fresh.jsonl", tmp_path / "existing.jsonl"
    existing.write_text("old\n", encoding="utf-8")
    existing.chmod(0o644)

    for output in (fresh, existing):
        result = invoke("audit", "export", "-o", str(output), "--data-dir", str(store))
        assert result.exit_code == 0, result.output
        assert mode(output) == 0o600, output
        assert output.read_text(encoding="utf-8").startswith('{"seq":')


def test_given_ids_out_then_the_file_is_0600(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_text("name,tier\n张测试,gold\n", encoding="utf-8")
    ids = tmp_path / "ids.txt"

    result = invoke("import", str(source), "--ids-out", str(ids), "--data-dir", str(store))

    assert result.exit_code == 0, result.output
    assert mode(ids) == 0o600


def test_given_wardgate_process_then_umask_077_covers_other_files(tmp_path: Path) -> None:
    """The real entry point tightens the umask: `policy export` files (not secret, but
    nobody else's business) are 0600 too, and init's files stay private."""
    data_dir, exported = tmp_path / "data", tmp_path / "exported"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDGATE_")}
    for args in (["init"], ["policy", "export", str(exported)]):
        done = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args, "--data-dir", str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            umask=0o022,
        )
        assert done.returncode == 0, done.stderr

    assert mode(data_dir) == 0o700
    assert {mode(data_dir / name) for name in ("wardgate.db", "keys.db", "master.key")} == {0o600}
    assert mode(exported) == 0o700
    assert {mode(path) for path in exported.iterdir()} == {0o600}
