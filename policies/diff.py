"""What changed between two policy documents, as data (JSON) and as text.

Sections follow the document: purposes, roles and principals are keyed, so an entry is
added, removed or changed (with its attributes before and after); rules and role
parents are sets, so an entry is added or removed (rule order decides nothing: casbin
looks at every rule). The same diff is stored with the new version, printed by
`wardgate policy apply --dry-run`, returned by the API and written into the audit entry
of the change (`audit_fields`). It holds policy names only, never a customer value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.document import PolicyDocument, Rule

KEYED_SECTIONS = ("purposes", "roles", "principals")
SET_SECTIONS = ("rules", "role_parents")


@dataclass(frozen=True, slots=True)
class KeyedChanges:
    """Entries of a keyed section: added and removed with their content, changed with
    the attributes that differ, each as `{"before": ..., "after": ...}`."""

    added: Mapping[str, Any] = field(default_factory=dict)
    removed: Mapping[str, Any] = field(default_factory=dict)
    changed: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": dict(self.added),
            "removed": dict(self.removed),
            "changed": {key: dict(attrs) for key, attrs in self.changed.items()},
        }


@dataclass(frozen=True, slots=True)
class SetChanges:
    added: tuple[tuple[str, ...], ...] = ()
    removed: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {"added": [list(x) for x in self.added], "removed": [list(x) for x in self.removed]}


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    purposes: KeyedChanges = field(default_factory=KeyedChanges)
    roles: KeyedChanges = field(default_factory=KeyedChanges)
    principals: KeyedChanges = field(default_factory=KeyedChanges)
    rules: SetChanges = field(default_factory=SetChanges)
    role_parents: SetChanges = field(default_factory=SetChanges)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in (*KEYED_SECTIONS, *SET_SECTIONS))

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name).to_json() for name in (*KEYED_SECTIONS, *SET_SECTIONS)}

    def lines(self) -> list[str]:
        """The diff for people: `+` added, `-` removed, `~` changed, one line each."""
        out: list[str] = []
        for name in KEYED_SECTIONS:
            section: KeyedChanges = getattr(self, name)
            singular = name.removesuffix("s")
            out.extend(f"+ {singular} {key}: {_brief(v)}" for key, v in section.added.items())
            out.extend(f"- {singular} {key}" for key in section.removed)
            for key, attrs in section.changed.items():
                for attr, change in attrs.items():
                    out.append(
                        f"~ {singular} {key}.{attr}: "
                        f"{_brief(change['before'])} -> {_brief(change['after'])}"
                    )
        for name in SET_SECTIONS:
            sets: SetChanges = getattr(self, name)
            singular = name.removesuffix("s")
            out.extend(f"+ {singular} {_brief(list(item))}" for item in sets.added)
            out.extend(f"- {singular} {_brief(list(item))}" for item in sets.removed)
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) if not self.empty else "(no change)"

    def audit_fields(self) -> dict[str, str]:
        """The diff flattened for an audit entry's `fields` (string keys and values)."""
        fields: dict[str, str] = {}
        for name in KEYED_SECTIONS:
            section: KeyedChanges = getattr(self, name)
            singular = name.removesuffix("s")
            fields.update({f"{singular}:{key}": "added" for key in section.added})
            fields.update({f"{singular}:{key}": "removed" for key in section.removed})
            for key, attrs in section.changed.items():
                for attr, change in attrs.items():
                    # Descriptions are free text: the log says that one changed, not how.
                    fields[f"{singular}:{key}.{attr}"] = (
                        "changed"
                        if attr == "description"
                        else f"{_brief(change['before'])} -> {_brief(change['after'])}"
                    )
        for name in SET_SECTIONS:
            sets: SetChanges = getattr(self, name)
            singular = name.removesuffix("s")
            fields.update({f"{singular}:{'|'.join(item)}": "added" for item in sets.added})
            fields.update({f"{singular}:{'|'.join(item)}": "removed" for item in sets.removed})
        return fields


def _brief(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_brief(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    return str(value)


def _keyed(before: Mapping[str, Any], after: Mapping[str, Any]) -> KeyedChanges:
    changed: dict[str, dict[str, dict[str, Any]]] = {}
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            attrs = {
                attr: {"before": old.get(attr), "after": new.get(attr)}
                for attr in sorted(old.keys() | new.keys())
                if old.get(attr) != new.get(attr)
            }
        else:
            attrs = {"value": {"before": old, "after": new}}
        changed[key] = attrs
    return KeyedChanges(
        added={key: after[key] for key in sorted(after.keys() - before.keys())},
        removed={key: before[key] for key in sorted(before.keys() - after.keys())},
        changed=changed,
    )


def _rule_key(rule: Rule) -> tuple[str, ...]:
    return tuple(rule.as_casbin())


def _sets(before: set[tuple[str, ...]], after: set[tuple[str, ...]]) -> SetChanges:
    return SetChanges(added=tuple(sorted(after - before)), removed=tuple(sorted(before - after)))


def diff_documents(before: PolicyDocument, after: PolicyDocument) -> PolicyDiff:
    """What `after` changes relative to `before`."""
    old, new = before.to_document(), after.to_document()
    return PolicyDiff(
        purposes=_keyed(old["purposes"], new["purposes"]),
        roles=_keyed(old["roles"], new["roles"]),
        principals=_keyed(old["principals"], new["principals"]),
        rules=_sets({_rule_key(r) for r in before.rules}, {_rule_key(r) for r in after.rules}),
        role_parents=_sets(set(before.role_parents), set(after.role_parents)),
    )
