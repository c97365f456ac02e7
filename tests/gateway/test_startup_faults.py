"""The gateway refuses to start on a missing or wrong master key, never serving blanks."""

from __future__ import annotations

import asyncio
import base64
import os
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
