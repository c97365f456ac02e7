"""Running a Markdown file's shell blocks as a newcomer would, in one bash session.

The session starts in a fresh copy of the repository (its tracked files, with the
repository's `.venv` linked in, as after `git clone` and `make venv`), with `.venv/bin`
first on PATH, no `WARDGATE_*` variable set and `DEMO_PORT` set to a free port. Every
command runs in the same bash process, one after the other (functions and variables
carry over, as in a terminal), with its exit status, output and HTTP statuses recorded.
`curl` reports each response's status on stderr (`[docs-test] http_status=NNN`), so a
command whose request was refused does not pass for working because curl exited 0.
A background block runs in a process group of its own, stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from tests.helpers.readme import PLACEHOLDER, Block, Command

HTTP_STATUS = re.compile(r"^\[docs-test\] http_status=(\d{3})$", re.MULTILINE)
_PRELUDE = """set +e
curl() { command curl -w '%{stderr}\\n[docs-test] http_status=%{http_code}\\n' "$@"; }
"""
# Problem words (`reason`) and such are compared; ids, times and values differ per run.
_COMPARED_KEYS = ("status", "reason", "type")


@dataclass(slots=True)
class Outcome:
    block: Block
    command: Command
    status: int | None = None
    stdout: str = ""
    stderr: str = ""
    http: list[int] = field(default_factory=list)
    problem: str | None = None

    def describe(self) -> str:
        first = self.command.text.splitlines()[0]
        more = " …" if "\n" in self.command.text else ""
        tail = " | ".join(self.stderr.strip().splitlines()[-3:]) or "(no stderr)"
        return (
            f"{self.block.name}, command at line {self.command.line}: {first}{more}\n"
            f"    {self.problem}; stderr: {tail}"
        )


def fresh_checkout(repo: Path, into: Path) -> Path:
    """The repository's tracked files copied to `into`, its `.venv` linked: a clone after
    `make venv`. Copied, not linked, so no command in the file can change the repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = repo / name, into / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (into / ".venv").symlink_to(repo / ".venv", target_is_directory=True)
    return into


def session_env(checkout: Path, port: int) -> dict[str, str]:
    # A fresh shell: nothing of Wardgate's configured, no make of ours around it.
    dropped = ("WARDGATE_", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "VIRTUAL_ENV", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PATH"] = f"{checkout / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["DEMO_PORT"] = str(port)
    return env


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def judge(outcome: Outcome) -> str | None:
    """What is wrong with a command's result, or None if it did what the file says."""
    if outcome.status != 0:
        return f"exit status {outcome.status}"
    expected = _json(outcome.command.expected) if outcome.command.expected else None
    if expected is None:
        refused = [code for code in outcome.http if code >= 400 or code == 0]
        return f"HTTP status {refused[0]}" if refused else None
    actual = _json(outcome.stdout)
    if actual is None:
        return "the output is not the JSON the file shows"
    if type(actual) is not type(expected):
        shown, got = type(expected).__name__, type(actual).__name__
        return f"the output is a {got}, the file shows a {shown}"
    if isinstance(expected, dict):
        if set(actual) != set(expected):
            return f"the output has keys {sorted(actual)}, the file shows {sorted(expected)}"
        for key in _COMPARED_KEYS:
            if key in expected and actual[key] != expected[key]:
                return f"{key} is {actual[key]!r}, the file shows {expected[key]!r}"
        shown_status = expected.get("status")
        if isinstance(shown_status, int) and outcome.http and outcome.http[-1] != shown_status:
            return f"HTTP status {outcome.http[-1]}, the file shows {shown_status}"
    if "status" not in (expected if isinstance(expected, dict) else {}):
        refused = [code for code in outcome.http if code >= 400 or code == 0]
        if refused:
            return f"HTTP status {refused[0]}"
    return None


class ShellSession:
    """One bash process fed the commands one at a time; background blocks beside it."""

    def __init__(self, checkout: Path, env: dict[str, str], scratch: Path) -> None:
        self.checkout, self.env, self.scratch = checkout, env, scratch
        self.background: list[tuple[subprocess.Popen[bytes], Path]] = []
        self._count = 0
        self._bash = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=checkout,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._send(_PRELUDE)

    def _send(self, script: str) -> None:
        stdin: IO[str] | None = self._bash.stdin
        assert stdin is not None
        stdin.write(script)
        stdin.flush()

    def run(self, block: Block, command: Command, timeout: float) -> Outcome:
        self._count += 1
        base = self.scratch / f"cmd{self._count}"
        outcome = Outcome(block, command)
        text = command.text
        if command.placeholder is not None:
            value = self.printed(command.placeholder)
            if value is None:
                outcome.problem = (
                    f"placeholder {command.placeholder}: no background block printed "
                    f"`{command.placeholder}=<value>`"
                )
                return outcome
            match = PLACEHOLDER.match(text.splitlines()[0])
            assert match is not None
            text = f"{match['indent']}{match['name']}={shlex.quote(value)}{match['rest']}"
        self._send(
            f"__docs_cmd={shlex.quote(text)}\n"
            f'{{ eval "$__docs_cmd"; }} >"{base}.out" 2>"{base}.err" </dev/null\n'
            f'echo $? >"{base}.tmp"; mv "{base}.tmp" "{base}.rc"\n'
        )
        rc_file = base.with_suffix(".rc")
        deadline = time.monotonic() + timeout
        while not rc_file.exists():
            if self._bash.poll() is not None:
                outcome.problem = "the shell ended (the command exited it?)"
                return outcome
            if time.monotonic() > deadline:
                outcome.problem = f"no answer within {timeout:.0f} s"
                return outcome
            time.sleep(0.05)
        outcome.status = int(rc_file.read_text().strip() or "-1")
        outcome.stdout = base.with_suffix(".out").read_text(errors="replace")
        err = base.with_suffix(".err").read_text(errors="replace")
        outcome.http = [int(code) for code in HTTP_STATUS.findall(err)]
        outcome.stderr = HTTP_STATUS.sub("", err)
        outcome.problem = judge(outcome)
        return outcome

    @property
    def alive(self) -> bool:
        return self._bash.poll() is None

    def start_background(self, block: Block, port: int, timeout: float) -> str | None:
        """Start `block` in a process group of its own; wait until the gateway it starts
        answers /readyz on `port`. A problem, or None."""
        log = self.scratch / f"background{len(self.background) + 1}.log"
        script = "\n".join(command.text for command in block.commands)
        with log.open("wb") as handle:
            process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-c", script],
                cwd=self.checkout,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append((process, log))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
                return f"it ended with status {process.returncode} before serving: {tail}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return None
            time.sleep(0.5)
        return f"the gateway did not answer /readyz on port {port} within {timeout:.0f} s"

    def printed(self, name: str) -> str | None:
        """The last `NAME=value` a background block printed."""
        found: list[str] = []
        for _, log in self.background:
            found += re.findall(rf"(?m)(?:^|\s){re.escape(name)}=(\S+)", log.read_text())
        return found[-1] if found else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self._bash.stdin is not None
            self._bash.stdin.close()
        for process, _ in [*self.background, (self._bash, None)]:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[Any]) -> None:
    # The whole group, even if its leader is gone: a server it started may still run.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def shell_session(checkout: Path, env: dict[str, str], scratch: Path) -> Iterator[ShellSession]:
    session = ShellSession(checkout, env, scratch)
    try:
        yield session
    finally:
        session.close()
