"""The executable plan for free text: what each detected datum becomes, by its category.

Bound once per (roles, purpose, policy version) with the field plan: a category the
caller sees masked gets the very operator its columns get (a phone in a note is masked
as the phone field is), a pseudonymized one the same keyed pseudonym, a clear one stays.
A withheld one — denied by policy, outside the purpose, or (per record) withheld by
consent — is replaced by its entity type in brackets, `[CN_RESIDENT_ID]`: the reader
learns that something was there and what kind, never any of its characters. A type the
plan does not know, or whose category the catalog lacks, is withheld too (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from masking.detection import ENTITY_CATEGORY, DetectedEntity
from masking.registry import BoundMask
from masking.spans import replace_spans

Transform = Callable[[str], str]


def direct(transform: Transform | None) -> Transform | None:
    """The function a bound mask calls, without the `BoundMask.__call__` frame: for
    loops that apply a mask to every shown value or span of a page."""
    return transform.function if isinstance(transform, BoundMask) else transform


class ScannedText(str):
    """A free-text value after its PII scan: the only form in which one may be shown."""

    __slots__ = ()


class UnscannedTextError(RuntimeError):
    """A `scan_pii` value reached rendering without its scan (a pipeline bug): fail closed."""


def withheld_marker(entity_type: str) -> str:
    return f"[{entity_type}]"


@dataclass(frozen=True, slots=True)
class TextRule:
    """What becomes of a datum of one category: shown through `transform` (None: as
    it is), or withheld (`withheld` names why)."""

    transform: Transform | None = None
    withheld: str | None = None


_WITHHELD_UNKNOWN = TextRule(withheld="unknown")


@dataclass(frozen=True, slots=True)
class TextPlan:
    rules: Mapping[str, TextRule]
    """By data category."""
    sensitive: frozenset[str]
    """Shown categories that are PIPL sensitive: per record, they need the separate
    consent a sensitive field would."""
    entity_category: Mapping[str, str]
    """Detected entity type -> data category."""
    consent_fields: tuple[tuple[str, str, bool], ...]
    """The sensitive categories as the consent gate's (name, category, sensitive)
    triples, named `text:<category>`, so it decides them per record with the fields."""

    _by_type: Mapping[str, tuple[str | None, bool, Transform | None]] = field(
        init=False, repr=False, compare=False
    )
    """`_step` of every entity type the catalog maps, worked out once per plan."""

    def __post_init__(self) -> None:
        steps = {entity_type: self._step(entity_type) for entity_type in self.entity_category}
        object.__setattr__(self, "_by_type", MappingProxyType(steps))

    def _step(self, entity_type: str) -> tuple[str | None, bool, Transform | None]:
        """(category, shown unless consent withholds it, the function that masks it)."""
        category, rule = self.rule(entity_type)
        return category, rule.withheld is None, direct(rule.transform)

    def rule(self, entity_type: str) -> tuple[str | None, TextRule]:
        category = self.entity_category.get(entity_type)
        if category is None:
            return None, _WITHHELD_UNKNOWN
        return category, self.rules.get(category, _WITHHELD_UNKNOWN)

    def rewrite(
        self,
        text: str,
        entities: Sequence[DetectedEntity],
        withheld: Collection[str] = frozenset(),
    ) -> ScannedText:
        """`text` with every entity as this caller may see it; `withheld` names the
        categories this record withholds on top of the plan (consent)."""

        by_type = self._by_type

        def replace(entity: DetectedEntity, value: str) -> str:
            entity_type = entity.entity_type
            known = by_type.get(entity_type)
            category, shown, transform = known if known is not None else self._step(entity_type)
            if not shown or category in withheld:
                return withheld_marker(entity_type)
            return value if transform is None else transform(value)

        return ScannedText(replace_spans(text, entities, replace))


TEXT_FIELD_PREFIX = "text:"


def text_plan(rules: Mapping[str, TextRule], sensitive: frozenset[str]) -> TextPlan:
    return TextPlan(
        rules=MappingProxyType(dict(rules)),
        sensitive=sensitive,
        entity_category=MappingProxyType(dict(ENTITY_CATEGORY)),
        consent_fields=tuple(
            (f"{TEXT_FIELD_PREFIX}{category}", category, True) for category in sorted(sensitive)
        ),
    )
