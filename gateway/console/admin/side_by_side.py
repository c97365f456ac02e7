"""Two policy documents side by side: rules (a set) row by row, each present on the left,
the right or both, changed ones marked; principals, roles and purposes entry by entry,
only those that differ. Built from the documents the use cases return (names only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KEYED = ("principals", "roles", "purposes")


@dataclass(frozen=True, slots=True)
class Row:
    left: str | None
    right: str | None
    kind: str
    """same, added (right only), removed (left only) or changed (both, different)."""
    key: str = ""


@dataclass(frozen=True, slots=True)
class SideBySide:
    rules: tuple[Row, ...]
    entries: Mapping[str, tuple[Row, ...]]
    changed_rules: int

    @property
    def unchanged(self) -> bool:
        return self.changed_rules == 0 and not any(self.entries.values())


def _rule_text(rule: Sequence[str]) -> str:
    return " · ".join(rule)


def _brief(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_brief(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_brief(item) for item in value)
    return str(value)


def _rules(left: Sequence[Sequence[str]], right: Sequence[Sequence[str]]) -> tuple[Row, ...]:
    # A rule without its effect is an allow rule (`Rule.to_document`): compare as casbin does.
    def full(rule: Sequence[str]) -> tuple[str, ...]:
        return tuple(rule) if len(rule) == 5 else (*rule, "allow")

    before = {full(rule) for rule in left}
    after = {full(rule) for rule in right}
    rows = []
    for rule in sorted(before | after):
        text = _rule_text(rule)
        if rule in before and rule in after:
            rows.append(Row(text, text, "same"))
        elif rule in before:
            rows.append(Row(text, None, "removed"))
        else:
            rows.append(Row(None, text, "added"))
    return tuple(rows)


def _entries(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[Row, ...]:
    rows = []
    for key in sorted(left.keys() | right.keys()):
        if key not in right:
            rows.append(Row(_brief(left[key]), None, "removed", key))
        elif key not in left:
            rows.append(Row(None, _brief(right[key]), "added", key))
        elif left[key] != right[key]:
            rows.append(Row(_brief(left[key]), _brief(right[key]), "changed", key))
    return tuple(rows)


def side_by_side(left: Mapping[str, Any], right: Mapping[str, Any]) -> SideBySide:
    """`left` and `right` are policy documents as `PolicyDocument.to_document()` writes."""
    rules = _rules(left.get("rules", []), right.get("rules", []))
    return SideBySide(
        rules=rules,
        entries={name: _entries(left.get(name, {}), right.get(name, {})) for name in KEYED},
        changed_rules=sum(1 for row in rules if row.kind != "same"),
    )
