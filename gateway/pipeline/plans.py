"""Executable plans: a compiled field plan bound to masking operators.

Built once per (roles, purpose, policy version) and cached, so the request path does
no policy evaluation and no operator lookup: each visible field carries the callable
that produces its shown value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from masking import default_mask_for, default_registry
from masking.registry import OperatorRegistry
from policies.plan import EffectKind, EntityPolicy, FieldDecision, PolicyEngine, PolicyPlan

Transform = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class EntityView:
    """How to turn a stored row of one entity into what this caller may see."""

    entity: str
    shown: tuple[tuple[str, Transform | None], ...]
    governance: Mapping[str, str]
    writable: frozenset[str]
    lookupable: frozenset[str] = frozenset()

    @property
    def shown_columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.shown)

    @property
    def any_visible(self) -> bool:
        return bool(self.shown)

    def render(self, row: Mapping[Any, Any]) -> dict[str, object]:
        rendered: dict[str, object] = {}
        for name, transform in self.shown:
            if name not in row:
                continue  # withheld for a reason the governance block names
            value = row[name]
            if transform is not None and value is not None:
                value = transform(value if isinstance(value, str) else str(value))
            rendered[name] = value
        return rendered


@dataclass(frozen=True, slots=True)
class ExecutablePlan:
    policy: PolicyPlan
    views: Mapping[str, EntityView]

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

    def __repr__(self) -> str:
        return f"PlanBinder(cached={len(self._cache)}, key=***)"

    def plan(self, engine: PolicyEngine, roles: frozenset[str], purpose: str) -> ExecutablePlan:
        key = (id(engine), engine.version, roles, purpose)
        plan = self._cache.get(key)
        if plan is None:
            with self._lock:
                plan = self._cache.get(key) or self._bind(engine.plan(roles, purpose))
                self._cache[key] = plan
        return plan

    def forget_versions_before(self, version: int) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[1] < version]:
                del self._cache[key]

    def _transform(self, decision: FieldDecision, purpose: str) -> Transform | None:
        if decision.kind is EffectKind.CLEAR:
            return None
        if decision.kind is EffectKind.PSEUDONYMIZE:
            return self._registry.bind("pseudonym", key=self._pseudonym_key, purpose=purpose)
        operator = decision.operator or default_mask_for(decision.field.category)
        return self._registry.bind(operator)

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
        )

    def _bind(self, policy: PolicyPlan) -> ExecutablePlan:
        views = {
            name: self._view(entity_policy, policy.purpose)
            for name, entity_policy in policy.entities.items()
        }
        return ExecutablePlan(policy=policy, views=views)
