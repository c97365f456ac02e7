"""Policy as code: a policy document as files, in the layout of the shipped defaults.

A policy directory holds

- `purposes.yaml` — the purposes (`purposes:` at the top), as in this package;
- `policy.yaml` — roles, principals, role parents and rules (the shipped defaults call
  it `default_policy.yaml`; either name is read, never both);
- `catalog.yaml` and `model.conf` — written for reference only: the catalog and the
  casbin model are the gateway's, not part of a policy version, and are never read back.

Every error names its file and, where the YAML source shows it, its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policies.document import PolicyDocument, parse_policy_document
from policies.errors import PolicyFileError
from policies.purposes import parse_purposes_text

PURPOSES_FILE = "purposes.yaml"
POLICY_FILE = "policy.yaml"
DEFAULT_POLICY_FILE = "default_policy.yaml"
REFERENCE_FILES = ("catalog.yaml", "model.conf")
POLICY_KEYS = ("roles", "principals", "role_parents", "rules")

_REFERENCE_NOTE = (
    "# For reference only: the gateway's own, not part of a policy version, never read back.\n"
)
_POLICY_HELP = """\
# roles:        name -> {description}
# principals:   id -> {description, roles, purposes}; API keys are not policy (`/v1/policy/keys`)
# role_parents: [child, parent]: the child role has every rule of the parent
# rules:        [role, purpose, target, action] or [..., deny]; target is a data category,
#               a category pattern (contact.*), entity.field or api:<name>; an explicit deny
#               wins over any allow. Anything not allowed is denied.
"""


@dataclass(frozen=True, slots=True)
class PolicyFiles:
    """A policy read from a directory, with what is needed to point at its lines."""

    document: PolicyDocument
    purposes_path: Path
    policy_path: Path
    purposes_text: str
    policy_text: str

    def locate(self, where: str) -> str:
        """`<file> line <n>` for a problem's place (`rules[3]`, `purposes.x.categories`)."""
        if where == "purposes" or where.startswith("purposes."):
            path, text = self.purposes_path, self.purposes_text
        else:
            path, text = self.policy_path, self.policy_text
        line = line_of(text, where)
        return str(path) if line is None else f"{path} line {line}"


# --- reading -----------------------------------------------------------------------------


def policy_file_in(directory: Path) -> Path:
    """The policy file of a directory: policy.yaml, or default_policy.yaml."""
    found = [directory / name for name in (POLICY_FILE, DEFAULT_POLICY_FILE)]
    present = [path for path in found if path.is_file()]
    if not present:
        msg = f"{directory}: no {POLICY_FILE} (or {DEFAULT_POLICY_FILE}) in this directory"
        raise PolicyFileError(msg)
    if len(present) > 1:
        msg = f"{directory}: both {POLICY_FILE} and {DEFAULT_POLICY_FILE}; keep one"
        raise PolicyFileError(msg)
    return present[0]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise PolicyFileError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot be read ({type(exc).__name__})"
        raise PolicyFileError(msg) from None


def _load_yaml(path: Path, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        where = str(path) if mark is None else f"{path} line {mark.line + 1}"
        msg = f"{where}: not valid YAML: {problem}"
        raise PolicyFileError(msg) from None


def _refuse_duplicate_keys(path: Path, text: str) -> None:
    """YAML keeps the last of two equal keys silently; a policy file must not."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in first:
                        msg = (
                            f"{path} line {line}: {key.value!r} is defined twice "
                            f"(first on line {first[key.value]})"
                        )
                        raise PolicyFileError(msg)
                    first[key.value] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def parse_policy_text(text: str, path: Path) -> dict[str, Any]:
    """The raw sections of a policy file, refusing unknown or duplicate keys by line."""
    raw = _load_yaml(path, text)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        msg = f"{path} line 1: expected a mapping with {', '.join(POLICY_KEYS)}"
        raise PolicyFileError(msg)
    _refuse_duplicate_keys(path, text)
    for key in raw:
        if key not in POLICY_KEYS:
            line = line_of(text, str(key)) or 1
            msg = (
                f"{path} line {line}: unknown key {key!r}; expected any of {', '.join(POLICY_KEYS)}"
            )
            raise PolicyFileError(msg)
    return raw


def load_policy_dir(directory: Path) -> PolicyFiles:
    """Read a policy directory into one document; raises PolicyFileError naming file and line."""
    if not directory.is_dir():
        msg = f"{directory}: not a directory"
        raise PolicyFileError(msg)
    purposes_path = directory / PURPOSES_FILE
    policy_path = policy_file_in(directory)
    purposes_text, policy_text = _read(purposes_path), _read(policy_path)
    # Purposes are checked on their own first, so their errors name purposes.yaml lines.
    parse_purposes_text(purposes_text, source=str(purposes_path))
    raw = parse_policy_text(policy_text, policy_path)
    try:
        document = parse_policy_document(
            {**raw, "purposes": yaml.safe_load(purposes_text)["purposes"]}
        )
    except PolicyFileError as exc:
        where = str(exc).split(":", 1)[0]
        line = line_of(policy_text, where)
        prefix = str(policy_path) if line is None else f"{policy_path} line {line}"
        msg = f"{prefix}: {exc}"
        raise PolicyFileError(msg) from None
    return PolicyFiles(
        document=document,
        purposes_path=purposes_path,
        policy_path=policy_path,
        purposes_text=purposes_text,
        policy_text=policy_text,
    )


# --- where is it -------------------------------------------------------------------------

_INDEX = re.compile(r"\[(\d+)\]")


def line_of(text: str, where: str) -> int | None:
    """The line of the deepest node along `where` (`rules[3]`, `principals.app.v2.roles`).

    Keys may contain dots (principal ids do): at each mapping the longest key that
    starts the rest of the path is taken.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line: int | None = None
    rest = where
    while node is not None and rest:
        rest = rest.removeprefix(".")
        index = _INDEX.match(rest)
        if index is not None:
            if not isinstance(node, yaml.SequenceNode) or int(index[1]) >= len(node.value):
                break
            node = node.value[int(index[1])]
            line = node.start_mark.line + 1
            rest = rest[index.end() :]
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        matches = [
            (key, value)
            for key, value in node.value
            if isinstance(key, yaml.ScalarNode)
            and (rest == key.value or rest.startswith((f"{key.value}.", f"{key.value}[")))
        ]
        if not matches:
            break
        key, node = max(matches, key=lambda pair: len(pair[0].value))
        line = key.start_mark.line + 1
        rest = rest[len(key.value) :]
    return line


# --- writing -----------------------------------------------------------------------------


def _flow(value: Any) -> str:
    """One YAML value on one line (flow style)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 20
    )
    return text.removesuffix("\n...\n").strip()


def _section(name: str, entries: Mapping[str, Any]) -> list[str]:
    if not entries:
        return [f"{name}: {{}}"]
    return [f"{name}:"] + [f"  {_flow(key)}: {_flow(value)}" for key, value in entries.items()]


def policy_text(document: PolicyDocument, header: str) -> str:
    raw = document.to_document()
    lines = [*header.splitlines(), *_POLICY_HELP.splitlines(), ""]
    lines += [*_section("roles", raw["roles"]), ""]
    lines += [*_section("principals", raw["principals"]), ""]
    lines += ["role_parents:" + ("" if raw["role_parents"] else " []")]
    lines += [f"  - {_flow(pair)}" for pair in raw["role_parents"]] + [""]
    lines += ["rules:" + ("" if raw["rules"] else " []")]
    lines += [f"  - {_flow(rule)}" for rule in raw["rules"]]
    return "\n".join(lines) + "\n"


def purposes_text(document: PolicyDocument, header: str) -> str:
    raw = {"purposes": {pid: p.to_document() for pid, p in document.purposes.items()}}
    body = yaml.safe_dump(
        raw, default_flow_style=None, allow_unicode=True, sort_keys=False, width=1 << 20
    )
    return "\n".join(header.splitlines()) + "\n" + body


def write_policy_dir(document: PolicyDocument, directory: Path, header: str) -> list[Path]:
    """Write the document as a policy directory (creating it); returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    # A directory in the shipped layout keeps its file name: one policy file, always.
    shipped = (directory / DEFAULT_POLICY_FILE).is_file()
    policy_name = DEFAULT_POLICY_FILE if shipped else POLICY_FILE
    written = []
    for name, text in (
        (PURPOSES_FILE, purposes_text(document, header)),
        (policy_name, policy_text(document, header)),
    ):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    package = resources.files("policies")
    for name in REFERENCE_FILES:
        path = directory / name
        reference = package.joinpath(name).read_text(encoding="utf-8")
        path.write_text(_REFERENCE_NOTE + reference, encoding="utf-8")
        written.append(path)
    return written
