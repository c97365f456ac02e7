"""Who may aggregate what: the `aggregate` right on `api:aggregate` opens the endpoint,
and the same right on a data category lets fields of that category be grouped by,
filtered on or summed. Decided once per (policy version, roles, purpose) and cached
with the policy engine, never per request."""

from __future__ import annotations

import threading
import weakref

from policies.catalog import Catalog
from policies.plan import PolicyEngine
from policies.purposes import Purpose

RIGHT = "aggregate"

_cache: weakref.WeakKeyDictionary[
    PolicyEngine, dict[tuple[frozenset[str], str], frozenset[str]]
] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def aggregatable_fields(
    engine: PolicyEngine, catalog: Catalog, roles: frozenset[str], purpose: Purpose
) -> frozenset[str]:
    """Qualified fields (`customers.region`) these roles may aggregate under `purpose`:
    the policy grants `aggregate` on the field's category and the purpose's scope holds
    the category (minimization)."""
    key = (roles, purpose.id)
    with _lock:
        found = _cache.get(engine, {}).get(key)
    if found is not None:
        return found
    known = frozenset(role for role in roles if role in engine.document.roles)
    fields = frozenset(
        spec.qualified_name
        for entity in catalog.entities.values()
        for spec in entity.fields
        if purpose.allows_category(spec.category)
        and engine.granted(known, purpose.id, spec.qualified_name, spec.category, RIGHT)
    )
    with _lock:
        _cache.setdefault(engine, {})[key] = fields
    return fields
