"""The gateway refuses to start on a missing or wrong master key, never serving blanks."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from gateway.state import open_gateway
from keys import MasterKeyError


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    asyncio.run(init_store(settings, demo=True, customers=3))
    return settings


def test_given_wrong_master_key_then_start_refused_naming_the_key(settings: Settings) -> None:
    key_file = settings.data_dir / "master.key"
    key_file.write_text(
        '{"active": 1, "keys": {"1": "%s"}}' % base64.b64encode(os.urandom(32)).decode()  # noqa: UP031
    )
    with pytest.raises(MasterKeyError, match="does not open this store"):
        asyncio.run(open_gateway(settings))


def test_given_missing_master_key_then_start_refused(settings: Settings) -> None:
    (settings.data_dir / "master.key").unlink()
    with pytest.raises(MasterKeyError, match="no master key"):
        asyncio.run(open_gateway(settings))


def test_given_rotated_ring_missing_old_version_then_start_refused(settings: Settings) -> None:
    """A ring that lost the version the keys are wrapped under cannot open them."""
    key_file = settings.data_dir / "master.key"
    key_file.write_text(
        '{"active": 2, "keys": {"2": "%s"}}' % base64.b64encode(os.urandom(32)).decode()  # noqa: UP031
    )
    with pytest.raises(MasterKeyError, match="version 1"):
        asyncio.run(open_gateway(settings))


def test_given_right_key_then_start_succeeds(settings: Settings) -> None:
    async def run() -> int:
        state = await open_gateway(settings)
        try:
            return state.snapshot.version
        finally:
            await state.db.dispose()

    assert asyncio.run(run()) == 1


def _read_only_mount_works() -> bool:
    probe = shutil.which("unshare")
    if probe is None:
        return False
    done = subprocess.run(
        [probe, "--user", "--map-root-user", "--mount", "true"], capture_output=True, check=False
    )
    return done.returncode == 0


@pytest.mark.fault
@pytest.mark.skipif(not _read_only_mount_works(), reason="needs user and mount namespaces")
def test_given_read_only_data_directory_then_one_line_cannot_start(settings: Settings) -> None:
    """A real read-only file system (a read-only bind mount in a user namespace, no root
    needed): `wardgate serve` says so in one line and exits 2, no traceback."""
    where = str(settings.data_dir)
    script = (
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '
        'exec "$2" -m gateway.cli.main serve --data-dir "$1" --port 1'
    )
    namespace = ["unshare", "--user", "--map-root-user", "--mount"]
    done = subprocess.run(
        [*namespace, "sh", "-c", script, "sh", where, sys.executable],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("cannot start:")
    assert "read-only" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
