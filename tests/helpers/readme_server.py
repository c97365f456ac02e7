"""A README block that ends by starting a server, run as written in a directory of the
test's own: for the blocks the docs test skips because they serve until stopped
(`<!-- docs-test: skip ... -->`), so their commands are still run by a test.

The block's lines run in one `bash -e` process (its `export`s reach the server), the
server's `--port 8090` becomes a free port, `TMPDIR` points into the test's directory
(so `mktemp -d` leaves nothing behind), and the whole process group is stopped at the
end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.helpers.readme import Block, shell_blocks
from tests.helpers.servers import wait_ready

README = Path(__file__).resolve().parents[2] / "README.md"
README_PORT = "--port 8090"
BIN = Path(sys.executable).parent


def readme_block(heading: str, containing: str = "") -> Block:
    """The one shell block under `heading` in README.md (whose text holds `containing`)."""
    found = [
        block
        for block in shell_blocks(README)
        if block.heading == heading
        and any(containing in command.text for command in block.commands)
    ]
    assert len(found) == 1, f"one shell block under {heading!r}, found {len(found)}"
    return found[0]


def block_env(workdir: Path, **extra: str) -> dict[str, str]:
    """A fresh shell's environment: nothing of Wardgate's set, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDGATE_", "PROMETHEUS"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    return env | {"TMPDIR": str(tmp)} | extra


@contextlib.contextmanager
def serving_block(
    script: str, workdir: Path, env: dict[str, str], port: int, log: Path, timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `script` (a README block, its server on `port`) until /readyz answers 200."""
    assert README_PORT in script, f"the block starts its server with {README_PORT}"
    script = script.replace(README_PORT, f"--port {port}")
    with log.open("wb") as handle:
        process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-e", "-c", script],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, time.monotonic() + timeout, log)
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
