"""`make demo-reset` and `make clean`, as the README describes them: a reset deletes the
demo store and seeds a fresh one (new keys, changes gone); `make clean` removes caches
and the venv but never the store (it holds a master key).

Run in a fresh copy of the repository (its `.venv` a link, as in the docs test), with
`DEMO_CUSTOMERS` small (30: enough for the two customers the demo prints) so a reset takes seconds.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers.servers import free_port
from tests.helpers.shell_session import fresh_checkout, session_env

REPO = Path(__file__).resolve().parents[2]
MAKE_SECONDS = 600.0


def _make(checkout: Path, *args: str) -> str:
    done = subprocess.run(
        ["make", *args, "DEMO_CUSTOMERS=30"],
        cwd=checkout,
        env=session_env(checkout, free_port()),
        capture_output=True,
        text=True,
        check=False,
        timeout=MAKE_SECONDS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _keys(store: Path) -> dict[str, str]:
    return dict(json.loads((store / "demo-keys.json").read_text(encoding="utf-8")))


def _customers(store: Path) -> int:
    conn = sqlite3.connect(store / "wardgate.db")
    try:
        return int(conn.execute("SELECT count(*) FROM customers").fetchone()[0])
    finally:
        conn.close()


def test_given_a_changed_demo_store_then_demo_reset_seeds_a_fresh_one_and_clean_keeps_it(
    tmp_path: Path,
) -> None:
    if not (REPO / ".venv" / "bin" / "wardgate").exists():
        pytest.skip("no .venv: run `make venv` first")
    checkout = fresh_checkout(REPO, tmp_path / "checkout")
    store = checkout / "wardgate-data"

    printed = _make(checkout, "demo-reset")
    assert "ID=cus_" in printed
    assert "CONSENT_ID=cus_" in printed
    first_keys = _keys(store)
    (store / "changed-by-the-walkthrough").write_text("x", encoding="utf-8")

    _make(checkout, "demo-reset")
    assert not (store / "changed-by-the-walkthrough").exists()
    fresh_keys = _keys(store)
    assert set(fresh_keys) == set(first_keys)
    assert not set(fresh_keys.values()) & set(first_keys.values()), "new keys"
    assert _customers(store) == 30

    _make(checkout, "clean")
    assert not os.path.lexists(checkout / ".venv")
    assert _keys(store) == fresh_keys, "the demo store survives make clean"
    assert (store / "master.key").exists()
    assert (REPO / ".venv" / "bin" / "wardgate").exists(), "only the checkout's link went"
