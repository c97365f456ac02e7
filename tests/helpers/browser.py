"""Headless Debian chromium for the console's browser tests (never a downloaded
browser), a real `wardgate serve` on loopback to drive, and screenshots kept as test
artifacts.

In CI (CI=true) a missing /usr/bin/chromium fails the browser tests; elsewhere they skip
with a message. Screenshots go to `$WARDGATE_ARTIFACTS_DIR/browser/` (default: the
pytest base temp directory's `artifacts/browser/`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gateway.db.init_store import init_store
from gateway.settings import Settings
from tests.helpers.postgres import in_ci
from tests.helpers.store import DEMO_CUSTOMERS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_launch_args(defaults: dict[str, Any]) -> dict[str, Any]:
    """Playwright's launch arguments for Debian's chromium; skip (fail in CI) without it."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{message}; the console's browser tests must run in CI")
        pytest.skip(f"{message}; the console's browser tests are skipped")
    return {
        **defaults,
        "executable_path": str(CHROMIUM),
        "args": list(CHROMIUM_ARGS),
        "headless": True,
    }


def artifacts_dir(base: Path) -> Path:
    configured = os.environ.get("WARDGATE_ARTIFACTS_DIR")
    directory = (Path(configured) if configured else base / "artifacts") / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def demo_store(data_dir: Path) -> Settings:
    """A fresh SQLite demo store (its own keys) in `data_dir`. Seeded in a thread of its
    own: Playwright's sync API keeps an event loop running in the test's thread."""
    settings = Settings(data_dir=data_dir, log_json=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, init_store(settings, demo=True, customers=DEMO_CUSTOMERS)).result()
    return settings


def copy_store(source: Path, target: Path) -> Settings:
    """A consistent copy of a live SQLite store (the SQLite backup API, so what the WAL
    holds is copied too) with its keys, in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("master.key", "demo-keys.json"):
        shutil.copy2(source / name, target / name)
    for database in ("wardgate.db", "keys.db"):
        src = sqlite3.connect(source / database)
        dst = sqlite3.connect(target / database)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    return Settings(data_dir=target, log_json=True)
