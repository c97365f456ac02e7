"""Classification metadata of free text: which PII types a record's `scan_pii` fields
hold and how many of each — {field: {entity type: count}} — never a value.

Computed on every write (API, import, demo seeding), stored in the record's
`pii_classes` column and recorded in the write's audit entry, so a compliance officer can
tell which notes hold ID numbers without anyone reading them. Reads that show free text
record the same summed over the records they return (`pipeline.scan.scan_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gateway.pii.detector import classify
from masking.detection import DetectedEntity, PiiDetector
from policies.catalog import Entity

Classification = dict[str, dict[str, int]]


def scanned_fields(entity: Entity) -> tuple[str, ...]:
    return tuple(spec.name for spec in entity.fields if spec.scan_pii)


def texts_of(
    entity: Entity, rows: Sequence[Mapping[str, object]]
) -> tuple[list[str], list[tuple[int, str]]]:
    """Every non-null `scan_pii` value of `rows`, and (row index, field) of each."""
    names = scanned_fields(entity)
    texts: list[str] = []
    places: list[tuple[int, str]] = []
    for index, row in enumerate(rows):
        for name in names:
            value = row.get(name)
            if isinstance(value, str):
                texts.append(value)
                places.append((index, name))
    return texts, places


def classifications(
    count: int, places: Sequence[tuple[int, str]], found: Sequence[Sequence[DetectedEntity]]
) -> list[Classification]:
    """Per row, {field: {type: count}} from one batched detection."""
    result: list[Classification] = [{} for _ in range(count)]
    for (index, name), entities in zip(places, found, strict=True):
        result[index][name] = classify(entities)
    return result


def classify_rows(
    detector: PiiDetector, entity: Entity, rows: Sequence[Mapping[str, object]]
) -> list[Classification]:
    """Classify a batch of rows in one `detect_many` call (import, seeding)."""
    texts, places = texts_of(entity, rows)
    return classifications(len(rows), places, detector.detect_many(texts) if texts else [])


def merge(
    current: object, classification: Classification, cleared: Iterable[str] = ()
) -> Classification | None:
    """A record's stored classification after a write: fields written replace theirs,
    fields set to null drop theirs. None when nothing is left."""
    merged: Classification = {}
    if isinstance(current, Mapping):
        merged = {str(name): dict(counts) for name, counts in current.items()}
    for name in cleared:
        merged.pop(name, None)
    merged.update(classification)
    return merged or None


def total(classes: Iterable[Classification]) -> Classification:
    """Counts summed per field and type (one audit entry for a batch of records)."""
    summed: Classification = {}
    for classification in classes:
        for name, counts in classification.items():
            field_counts = summed.setdefault(name, {})
            for entity_type, count in counts.items():
                field_counts[entity_type] = field_counts.get(entity_type, 0) + count
    return {name: dict(sorted(counts.items())) for name, counts in sorted(summed.items())}
