"""Principals as a file of their own: the fixture `wardgate policy test --principals` adds.

A principals file holds one `principals:` mapping, in the layout of `policy.yaml`'s
section (id -> {description, roles, purposes, require_on_behalf_of}). Expectation cases
name principals, and a policy directory under review may name none (the shipped one
does not: an organisation adds its own), so the cases are judged against the policy
with these principals added. The shipped `demo_principals.yaml` holds the principals
`wardgate init --demo` creates; the demo seeder reads the same file, so the fixture and
the demo cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path

from policies.document import PolicyDocument, PrincipalSpec, parse_principals
from policies.errors import PolicyFileError
from policies.files import line_of, parse_policy_text

DEMO_PRINCIPALS_FILE = "demo_principals.yaml"
SECTION = "principals"


def parse_principals_text(text: str, path: Path) -> dict[str, PrincipalSpec]:
    """The principals of a principals file; errors name the file and the line."""
    raw = parse_policy_text(text, path)
    others = sorted(str(key) for key in raw if key != SECTION)
    if others:
        first = line_of(text, others[0]) or 1
        msg = f"{path} line {first}: unknown key {others[0]!r}; expected only {SECTION!r}"
        raise PolicyFileError(msg)
    try:
        return parse_principals(raw.get(SECTION) or {})
    except PolicyFileError as exc:
        where = str(exc).split(":", 1)[0]
        line = line_of(text, where)
        prefix = str(path) if line is None else f"{path} line {line}"
        msg = f"{prefix}: {exc}"
        raise PolicyFileError(msg) from None


def load_principals_file(path: Path) -> dict[str, PrincipalSpec]:
    """Read a principals file; raises PolicyFileError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise PolicyFileError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{path}: cannot be read ({type(exc).__name__})"
        raise PolicyFileError(msg) from None
    return parse_principals_text(text, path)


@cache
def demo_principals() -> Mapping[str, PrincipalSpec]:
    """The principals of the shipped `demo_principals.yaml`."""
    source = resources.files("policies").joinpath(DEMO_PRINCIPALS_FILE)
    return parse_principals_text(source.read_text(encoding="utf-8"), Path(str(source)))


def with_principals(
    document: PolicyDocument, principals: Mapping[str, PrincipalSpec]
) -> PolicyDocument:
    """The document with `principals` added; one it already names takes the given spec
    (the fixture says who the cases mean)."""
    return replace(document, principals={**document.principals, **principals})
