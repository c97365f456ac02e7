"""Executable plans: a compiled field plan bound to masking operators.

Built once per (roles, purpose, policy version) and cached, so the request path does
no policy evaluation and no operator lookup: each visible field carries the callable
that produces its shown value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.governance.text_plan import (
    ScannedText,
    TextPlan,
    TextRule,
    Transform,
    UnscannedTextError,
    direct,
    text_plan,
)
from masking import default_mask_for, default_registry
from masking.registry import OperatorRegistry
from policies.catalog import Catalog
from policies.plan import (
    CategoryDecision,
    EffectKind,
    EntityPolicy,
    FieldDecision,
    PolicyEngine,
    PolicyPlan,
)

PlanKey = tuple[frozenset[str], str]
"""What a plan is compiled for: the caller's roles and declared purpose."""


@dataclass(frozen=True, slots=True)
class EntityView:
    """How to turn a stored row of one entity into what this caller may see."""

    entity: str
    shown: tuple[tuple[str, Transform | None], ...]
    governance: Mapping[str, str]
    writable: frozenset[str]
    lookupable: frozenset[str] = frozenset()
    scanned: frozenset[str] = frozenset()
    """Shown `scan_pii` fields: rendered only after `pipeline.scan` rewrote them."""
    shown_columns: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """The names in `shown`, in order (read per row of a page: computed once)."""
    _steps: tuple[tuple[str, bool, Transform | None], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Frozen: set through object.__setattr__, once, as the dataclass's own init does.
        object.__setattr__(self, "shown_columns", tuple(name for name, _ in self.shown))
        steps = tuple(
            (name, name in self.scanned, direct(transform)) for name, transform in self.shown
        )
        object.__setattr__(self, "_steps", steps)

    @property
    def any_visible(self) -> bool:
        return bool(self.shown)

    def render(self, row: Mapping[Any, Any]) -> dict[str, object]:
        rendered: dict[str, object] = {}
        for name, scanned, transform in self._steps:
            if name not in row:
                continue  # withheld for a reason the governance block names
            value = row[name]
            if value is None:
                pass
            elif scanned:
                if not isinstance(value, ScannedText):
                    msg = f"{self.entity}.{name} was about to be shown without its PII scan"
                    raise UnscannedTextError(msg)
                value = str(value)
            elif transform is not None:
                value = transform(value if type(value) is str else str(value))
            rendered[name] = value
        return rendered


@dataclass(frozen=True, slots=True)
class ExecutablePlan:
    policy: PolicyPlan
    views: Mapping[str, EntityView]
    text: TextPlan

    @property
    def version(self) -> int:
        return self.policy.version

    def view(self, entity: str) -> EntityView:
        return self.views[entity]


class PlanBinder:
    """Binds field decisions to operators; caches executable plans per policy engine."""

    def __init__(self, pseudonym_key: bytes, registry: OperatorRegistry | None = None) -> None:
        self._registry = registry or default_registry()
        self._pseudonym_key = pseudonym_key
        self._cache: dict[tuple[int, int, frozenset[str], str], ExecutablePlan] = {}
        self._lock = threading.Lock()
        # When requests last asked for each plan (one store per request, atomic under
        # the GIL): a reload compiles these first. Bounded by principals x purposes.
        self._asked: dict[PlanKey, float] = {}

    def __repr__(self) -> str:
        return f"PlanBinder(cached={len(self._cache)}, key=***)"

    def plan(self, engine: PolicyEngine, roles: frozenset[str], purpose: str) -> ExecutablePlan:
        """A request's plan; remembered as in use."""
        self._asked[(roles, purpose)] = time.monotonic()
        return self.compiled(engine, roles, purpose)

    def compiled(self, engine: PolicyEngine, roles: frozenset[str], purpose: str) -> ExecutablePlan:
        """The plan, compiled now if it is not cached (warm-up: not counted as in use)."""
        key = (id(engine), engine.version, roles, purpose)
        plan = self._cache.get(key)
        if plan is None:
            with self._lock:
                plan = self._cache.get(key) or self._bind(
                    engine.plan(roles, purpose), engine.catalog
                )
                self._cache[key] = plan
        return plan

    def is_cached(self, engine: PolicyEngine, roles: frozenset[str], purpose: str) -> bool:
        return (id(engine), engine.version, roles, purpose) in self._cache

    def in_use(self) -> list[PlanKey]:
        """(roles, purpose) that requests asked for, the most recent first."""
        asked = dict(self._asked)  # one C-level copy: safe while requests add to it
        return sorted(asked, key=asked.__getitem__, reverse=True)

    def forget_versions_before(self, version: int) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[1] < version]:
                del self._cache[key]

    def _effect(
        self, kind: EffectKind, operator: str | None, category: str, purpose: str
    ) -> Transform | None:
        if kind in (EffectKind.CLEAR, EffectKind.SCAN):
            return None  # shown as stored, or rewritten by the scan before rendering
        if kind is EffectKind.PSEUDONYMIZE:
            return self._registry.bind("pseudonym", key=self._pseudonym_key, purpose=purpose)
        return self._registry.bind(operator or default_mask_for(category))

    def _transform(self, decision: FieldDecision, purpose: str) -> Transform | None:
        return self._effect(decision.kind, decision.operator, decision.field.category, purpose)

    def _text_rule(self, decision: CategoryDecision, purpose: str) -> TextRule:
        if decision.kind is EffectKind.DENY:
            return TextRule(withheld=decision.reason or "denied")
        return TextRule(
            transform=self._effect(decision.kind, decision.operator, decision.category, purpose)
        )

    def _view(self, policy: EntityPolicy, purpose: str) -> EntityView:
        shown = tuple(
            (name, self._transform(decision, purpose))
            for name, decision in policy.decisions.items()
            if decision.kind is not EffectKind.DENY
        )
        governance = {name: decision.label for name, decision in policy.decisions.items()}
        return EntityView(
            entity=policy.entity,
            shown=shown,
            governance=governance,
            writable=policy.writable,
            lookupable=policy.lookupable,
            scanned=frozenset(
                name
                for name, decision in policy.decisions.items()
                if decision.kind is EffectKind.SCAN
            ),
        )

    def _bind(self, policy: PolicyPlan, catalog: Catalog) -> ExecutablePlan:
        views = {
            name: self._view(entity_policy, policy.purpose)
            for name, entity_policy in policy.entities.items()
        }
        rules = {
            category: self._text_rule(decision, policy.purpose)
            for category, decision in policy.text.items()
        }
        shown = {category for category, rule in rules.items() if rule.withheld is None}
        return ExecutablePlan(
            policy=policy,
            views=views,
            text=text_plan(rules, frozenset(shown & catalog.sensitive_categories())),
        )
