"""The data catalog: entities, fields, data categories and PIPL sensitivity.

Policies and masking target *categories*, so the catalog is what turns a column into
something a rule can talk about. It is loaded once and is immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from policies.errors import PolicyFileError, UnknownEntityError


class Sensitivity(StrEnum):
    """PIPL Art. 28 distinguishes sensitive personal information from the rest."""

    GENERAL = "general"
    SENSITIVE = "sensitive"


@dataclass(frozen=True, slots=True)
class AggregateBounds:
    """Clamping bounds of an aggregatable numeric field: every value is clamped into
    [low, high] before it is summed, so one person's contribution to a sum is bounded
    (the sensitivity that differential privacy calibrates its noise to)."""

    low: float
    high: float


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One column of an entity, as the catalog declares it."""

    entity: str
    name: str
    category: str
    sensitivity: Sensitivity
    format: str
    encrypted: bool = False
    blind_index: bool = False
    scan_pii: bool = False
    writable: bool = True
    required: bool = False
    aggregate: AggregateBounds | None = None
    """Set on numeric fields that `POST /v1/aggregates` may sum and average."""

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}.{self.name}"


@dataclass(frozen=True, slots=True)
class Entity:
    """A table of the customer store and its fields, in declaration order."""

    name: str
    fields: tuple[FieldSpec, ...]
    parent: str | None = None

    def __hash__(self) -> int:
        # Entities key the read path's caches; the generated hash walked every field
        # spec on each lookup (~20 µs). Equal entities share their name, so this agrees
        # with the generated equality.
        return hash((self.name, self.parent))

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        msg = f"entity {self.name!r} has no field {name!r}"
        raise KeyError(msg)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)


@dataclass(frozen=True, slots=True)
class Category:
    """A data category: the unit that rules and masks are written against.

    `sensitivity` matters for categories found only inside free text (no column to carry
    a field's sensitivity); a category of any sensitive field is sensitive as well.
    """

    name: str
    description: str
    personal: bool
    sensitivity: Sensitivity = Sensitivity.GENERAL


@dataclass(frozen=True, slots=True)
class Catalog:
    categories: Mapping[str, Category]
    entities: Mapping[str, Entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            msg = f"unknown entity {name!r}"
            raise UnknownEntityError(msg) from None

    def all_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for entity in self.entities.values() for spec in entity.fields)

    def sensitive_categories(self) -> frozenset[str]:
        """Categories that are PIPL Art. 28 sensitive wherever they appear, free text
        included: declared so, or the category of a sensitive field."""
        return frozenset(
            name
            for name, category in self.categories.items()
            if category.sensitivity is Sensitivity.SENSITIVE
        ) | frozenset(
            spec.category for spec in self.all_fields() if spec.sensitivity is Sensitivity.SENSITIVE
        )


_FIELD_KEYS = {
    "category",
    "sensitivity",
    "format",
    "encrypted",
    "blind_index",
    "scan_pii",
    "writable",
    "required",
    "aggregate",
}


def _aggregate(raw: object, where: str) -> AggregateBounds | None:
    if raw is None:
        return None
    bounds = raw if isinstance(raw, dict) else {}
    low, high = bounds.get("min"), bounds.get("max")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if set(bounds) != {"min", "max"} or not numbers or not low < high:  # type: ignore[operator]
        msg = f"{where}.aggregate: expected {{min: <number>, max: <number>}} with min < max"
        raise PolicyFileError(msg)
    return AggregateBounds(float(low), float(high))  # type: ignore[arg-type]


def _parse_field(entity: str, name: str, raw: Any, categories: Mapping[str, Category]) -> FieldSpec:
    where = f"entities.{entity}.fields.{name}"
    if not isinstance(raw, dict):
        msg = f"{where}: expected a mapping"
        raise PolicyFileError(msg)
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        msg = f"{where}: unknown keys {sorted(unknown)}"
        raise PolicyFileError(msg)
    category = raw.get("category")
    if not isinstance(category, str) or category not in categories:
        msg = f"{where}: unknown category {category!r}"
        raise PolicyFileError(msg)
    sensitivity = _sensitivity(raw.get("sensitivity", "general"), where)
    if not isinstance(raw.get("format"), str):
        msg = f"{where}: a format is required"
        raise PolicyFileError(msg)
    return FieldSpec(
        entity=entity,
        name=name,
        category=category,
        sensitivity=sensitivity,
        format=raw["format"],
        encrypted=bool(raw.get("encrypted", False)),
        blind_index=bool(raw.get("blind_index", False)),
        scan_pii=bool(raw.get("scan_pii", False)),
        writable=bool(raw.get("writable", True)),
        required=bool(raw.get("required", False)),
        aggregate=_aggregate(raw.get("aggregate"), where),
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = f"{where}: expected a mapping"
        raise PolicyFileError(msg)
    return value


def _sensitivity(raw: object, where: str) -> Sensitivity:
    try:
        return Sensitivity(str(raw))
    except ValueError:
        msg = f"{where}: sensitivity must be 'general' or 'sensitive'"
        raise PolicyFileError(msg) from None


def parse_catalog(document: Any) -> Catalog:
    """Build a catalog from the parsed YAML document, refusing anything malformed."""
    if not isinstance(document, dict):
        msg = "catalog: expected a mapping with 'categories' and 'entities'"
        raise PolicyFileError(msg)
    categories_raw = _mapping(document.get("categories") or {}, "categories")
    categories = {
        name: Category(
            name=name,
            description=str(spec.get("description", "")),
            personal=bool(spec.get("personal", True)),
            sensitivity=_sensitivity(spec.get("sensitivity", "general"), f"categories.{name}"),
        )
        for name, spec in (
            (name, _mapping(spec or {}, f"categories.{name}"))
            for name, spec in categories_raw.items()
        )
    }
    entities: dict[str, Entity] = {}
    for entity_name, entity_raw in _mapping(document.get("entities") or {}, "entities").items():
        entity_spec = _mapping(entity_raw or {}, f"entities.{entity_name}")
        fields_raw = _mapping(entity_spec.get("fields") or {}, f"entities.{entity_name}.fields")
        if "id" not in fields_raw:
            msg = f"entities.{entity_name}: every entity needs an 'id' field"
            raise PolicyFileError(msg)
        fields = tuple(
            _parse_field(entity_name, name, raw, categories) for name, raw in fields_raw.items()
        )
        entities[entity_name] = Entity(
            name=entity_name, fields=fields, parent=entity_spec.get("parent")
        )
    for entity in entities.values():
        if entity.parent is not None and entity.parent not in entities:
            msg = f"entities.{entity.name}: unknown parent {entity.parent!r}"
            raise PolicyFileError(msg)
    return Catalog(categories=categories, entities=entities)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load a catalog file; without a path, the default catalog shipped in this package."""
    if path is None:
        return default_catalog()
    return parse_catalog(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def default_catalog() -> Catalog:
    text = resources.files("policies").joinpath("catalog.yaml").read_text(encoding="utf-8")
    return parse_catalog(yaml.safe_load(text))
