"""One entity per character: overlapping findings of different types are resolved."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable

from masking.detection._entities import DetectedEntity

__all__ = ["resolve_overlaps"]

# When two findings overlap with the same score, the type whose evidence is stronger
# wins: checksummed numbers first, context-dependent names last. An 18-digit resident
# ID that also passes Luhn is an ID, not a card.
_PRIORITY = {
    entity: rank
    for rank, entity in enumerate(
        (
            "CN_RESIDENT_ID",
            "CN_USCC",
            "BANK_CARD",
            "CN_MOBILE",
            "CN_LANDLINE",
            "EMAIL_ADDRESS",
            "IP_ADDRESS",
            "CN_PASSPORT",
            "CN_HK_MACAU_PERMIT",
            "CN_EXIT_ENTRY_PERMIT",
            "CN_VEHICLE_PLATE",
            "CN_ADDRESS",
            "PERSON",
        )
    )
}


def resolve_overlaps(entities: Iterable[DetectedEntity]) -> list[DetectedEntity]:
    """Keep the best finding of each overlapping group; the result is sorted by start."""
    ordered = sorted(entities, key=lambda e: (e.start, e.end))
    if all(a.end <= b.start for a, b in itertools.pairwise(ordered)):
        return ordered  # the usual case
    ranked = sorted(
        ordered,
        key=lambda e: (-round(e.score, 2), _PRIORITY.get(e.entity_type, 99), e.start - e.end),
    )
    starts: list[int] = []
    kept: list[DetectedEntity] = []
    for entity in ranked:
        i = bisect.bisect_right(starts, entity.start)
        if i > 0 and kept[i - 1].end > entity.start:
            continue
        if i < len(kept) and kept[i].start < entity.end:
            continue
        starts.insert(i, entity.start)
        kept.insert(i, entity)
    return kept
