"""The shell blocks of a Markdown file, as the docs test runs them.

A block is a fenced code block whose info string is `sh`, `bash`, `shell` or `console`.
It is either a list of commands, or a transcript: lines starting with `$ ` are commands
(continued on the next lines while bash says the command is incomplete, or the line ends
with a backslash), and the other lines are the output the reader is shown.

Markers steer the harness. One goes on its own line right before a block (blank lines
between are allowed), as an HTML comment, so a reader of the rendered file never sees it:

    <!-- docs-test: skip REASON -->   the block is not run; REASON says why (required)
    <!-- docs-test: background -->    the block starts the gateway and keeps running: it
                                      runs in the background, the harness waits until
                                      http://127.0.0.1:$DEMO_PORT/readyz answers, runs
                                      the blocks after it, and stops it at the end

A placeholder the reader fills in from what the demo printed, `ID=cus_...  # as printed
by make demo` (an assignment whose value holds `...` or `…`), takes the value the
background block printed as `ID=<value>`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console"})
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<word>[a-z-]+)\s*(?P<reason>.*?)\s*-->\s*$")
MARKER_WORDS = frozenset({"skip", "background"})
FENCE = re.compile(r"^(?P<fence>```+)\s*(?P<info>[^`]*)$")
PROMPT = "$ "
PLACEHOLDER = re.compile(
    r"^(?P<indent>\s*)(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*(?:\.\.\.|…)\S*)(?P<rest>.*)$"
)


class ReadmeError(ValueError):
    """The file cannot be run as the markers say (a typo in a marker, a stray one)."""


@dataclass(frozen=True, slots=True)
class Command:
    text: str
    """What bash runs (lines joined as written)."""
    line: int
    """Line number of its first line in the file."""
    expected: str | None = None
    """In a transcript, the output shown under it (None: none shown)."""
    placeholder: str | None = None
    """The variable this command assigns from the demo's output (`ID=cus_...`)."""


@dataclass(frozen=True, slots=True)
class Block:
    line: int
    """Line number of the opening fence."""
    heading: str
    language: str
    marker: str | None
    reason: str
    commands: tuple[Command, ...]

    @property
    def name(self) -> str:
        return f"block at line {self.line} (under {self.heading!r})"


def complete(text: str) -> bool:
    """Whether bash would take `text` as whole commands (quotes, braces, heredocs closed)."""
    if text.rstrip().endswith("\\"):
        return False
    checked = subprocess.run(
        ["bash", "-n"], input=text, capture_output=True, text=True, check=False, timeout=30
    )
    return checked.returncode == 0


def _placeholder(text: str) -> str | None:
    match = PLACEHOLDER.match(text.splitlines()[0]) if text.strip() else None
    return match["name"] if match else None


def _plain_commands(lines: list[tuple[int, str]]) -> list[Command]:
    commands: list[Command] = []
    pending: list[str] = []
    start = 0
    for number, line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if not pending:
            start = number
        pending.append(line)
        text = "\n".join(pending)
        if complete(text):
            commands.append(Command(text, start, placeholder=_placeholder(text)))
            pending = []
    if pending:
        text = "\n".join(pending)
        commands.append(Command(text, start, placeholder=_placeholder(text)))
    return commands


def _transcript_commands(lines: list[tuple[int, str]]) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        number, line = lines[index]
        index += 1
        if not line.startswith(PROMPT):
            continue  # output before any command: nothing to check it against
        pending = [line.removeprefix(PROMPT)]
        while not complete("\n".join(pending)) and index < len(lines):
            pending.append(lines[index][1])
            index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index][1].startswith(PROMPT):
            output.append(lines[index][1])
            index += 1
        shown = "\n".join(output).strip()
        text = "\n".join(pending)
        commands.append(Command(text, number, shown or None, _placeholder(text)))
    return commands


def shell_blocks(path: Path) -> list[Block]:
    """Every shell block of the Markdown file at `path`, in order, with its marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    heading = "(top)"
    marker: tuple[int, str, str] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        fence = FENCE.match(line)
        if fence is None:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            elif found := MARKER.match(line):
                if found["word"] not in MARKER_WORDS:
                    msg = f"line {index}: unknown docs-test marker {found['word']!r}"
                    raise ReadmeError(msg)
                if found["word"] == "skip" and not found["reason"]:
                    msg = f"line {index}: a skip marker must say why the block is skipped"
                    raise ReadmeError(msg)
                marker = (index, found["word"], found["reason"])
            elif line.strip() and marker is not None:
                msg = f"line {marker[0]}: a docs-test marker must come right before a block"
                raise ReadmeError(msg)
            continue
        opened, language = index, (fence["info"].split() or [""])[0]
        body: list[tuple[int, str]] = []
        while index < len(lines) and not lines[index].startswith(fence["fence"]):
            body.append((index + 1, lines[index]))
            index += 1
        index += 1  # the closing fence
        if language not in SHELL_LANGUAGES:
            if marker is not None:
                msg = f"line {marker[0]}: a docs-test marker before a {language!r} block"
                raise ReadmeError(msg)
            continue
        transcript = any(text.startswith(PROMPT) for _, text in body)
        commands = _transcript_commands(body) if transcript else _plain_commands(body)
        word, reason = (marker[1], marker[2]) if marker else (None, "")
        blocks.append(Block(opened, heading, language, word, reason, tuple(commands)))
        marker = None
    return blocks
