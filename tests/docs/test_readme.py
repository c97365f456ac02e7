"""README.md works as written: every command in its shell blocks runs, in order, against
a fresh demo store on a free port (issue 12.8).

The blocks run in one bash session in a fresh copy of the repository with `.venv/bin`
first on PATH (see `tests.helpers.shell_session`); the block marked `background` (`make
demo`) starts the gateway on `$DEMO_PORT`. A command fails when it exits non-zero, when
a request it makes is refused (HTTP 4xx/5xx or no answer) and the README does not show
that refusal, or when the README shows JSON output and the command prints JSON of
another shape (other top-level keys, another `status`, `reason` or `type`). The failure
names the block, the line and the command. Markers and placeholders: see
`tests.helpers.readme`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.readme import Block, shell_blocks
from tests.helpers.servers import free_port
from tests.helpers.shell_session import (
    Outcome,
    fresh_checkout,
    session_env,
    shell_session,
)

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BACKGROUND_SECONDS = 600.0  # seeding 2,000 customers on a busy 2-core machine
COMMAND_SECONDS = 300.0

# Commands of the README that do not work yet, and why: issue 12's items fix them. A
# command containing one of these strings is expected to fail; once it works, the test
# fails until its entry is deleted here. Entries that match no command any more (the
# README was rewritten) are inert: delete them too.
KNOWN_BROKEN: dict[str, str] = {
    "http://127.0.0.1:8080": "12.8: hard-codes port 8080; the demo serves on $DEMO_PORT",
    "curl -s ... ": "12.8: headers elided with `...`, not runnable as written",
    "wardgate scan crm_export.csv": "12.8: needs a CSV file the README does not provide",
    "wardgate keys ": "12.1: the CLI's default data dir (./wardgate-data) is not the demo's "
    "(.wardgate); `keys revoke KEY_ID` also shows no way to get the id",
    "wardgate import customers.csv": "12.8/12.9: no such file; its columns are not documented",
    "wardgate audit ": "12.1: the CLI's default data dir is not the demo's",
    "wardgate policy ": "12.8: a synopsis (DIR, [--version N]), not commands; `policy test` "
    "against the shipped directory fails every case",
    "wardgate init [": "12.8: a synopsis with placeholders, not a command",
    "wardgate serve [": "12.8: a synopsis with placeholders, not a command",
    "wardgate db upgrade [": "12.8: a synopsis with placeholders, not a command",
}


def _known(command: str) -> str | None:
    return next((why for text, why in KNOWN_BROKEN.items() if text in command), None)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _run(blocks: list[Block], tmp_path: Path) -> tuple[list[Outcome], list[str]]:
    checkout = fresh_checkout(REPO, tmp_path / "checkout")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    port = free_port()
    outcomes: list[Outcome] = []
    stopped: list[str] = []
    with shell_session(checkout, session_env(checkout, port), scratch) as session:
        for block in blocks:
            if block.marker == "skip":
                continue
            if block.marker == "background":
                problem = session.start_background(block, port, BACKGROUND_SECONDS)
                if problem is not None:
                    stopped.append(f"{block.name} (background): {problem}")
                    break
                continue
            for command in block.commands:
                outcomes.append(session.run(block, command, COMMAND_SECONDS))
                if not session.alive or (outcomes[-1].problem or "").startswith("no answer"):
                    stopped.append(f"{block.name}: the session cannot go on")
                    break
            if stopped:
                break
    return outcomes, stopped


def test_given_readme_then_every_shell_command_runs_as_written(tmp_path: Path) -> None:
    if not (REPO / ".venv" / "bin" / "wardgate").exists():
        message = "no .venv: run `make venv` first"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    blocks = shell_blocks(README)
    assert any(block.marker == "background" for block in blocks), "a block starts the demo"

    outcomes, stopped = _run(blocks, tmp_path)

    failures = [o.describe() for o in outcomes if o.problem and not _known(o.command.text)]
    fixed = [
        f"{o.block.name}, line {o.command.line}: works now; delete its KNOWN_BROKEN entry "
        f"({_known(o.command.text)})"
        for o in outcomes
        if o.problem is None and _known(o.command.text)
    ]
    report = [*stopped, *failures, *fixed]
    assert not report, f"{len(report)} README problem(s):\n" + "\n".join(report)
    assert len(outcomes) >= 10, "the README's commands ran"
