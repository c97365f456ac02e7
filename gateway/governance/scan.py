"""Step 6 for free text: every shown `scan_pii` value of a page is scanned in one batch
and rewritten per the caller's text plan, after decryption and consent.

Only values about to be shown are scanned (a withheld field was already dropped from its
row). Each record also withholds, inside its text, the categories its consent decision
withholds (`consent_gate.split_reasons`).

What detection found is also summed into a classification ({field: {entity type:
count}}, never a value), so a read's audit entry can say which kinds of personal data
the texts it showed held.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, MutableMapping, Sequence

from gateway.customers.classification import Classification
from gateway.governance.call import GovernedCall
from gateway.governance.text_plan import ScannedText
from gateway.pii.detector import stored_digest
from masking.detection import DetectedEntity

_NOTHING: frozenset[str] = frozenset()


async def scan_rows(
    call: GovernedCall,
    entity: str,
    rows: Sequence[MutableMapping[str, object]],
    withheld: Sequence[Collection[str]] | None = None,
    known: Mapping[tuple[int, str], Sequence[DetectedEntity]] | None = None,
    stored: Mapping[str, Mapping[str, object]] | None = None,
) -> Classification | None:
    """Rewrite, in place, the shown free text of `rows`; `withheld[i]` names the
    categories row i withholds on top of the plan. `known` holds entities already
    detected in a value, by (row index, field): a write's response reuses the
    detection its classification made. `stored` holds the rows' stored (encrypted)
    values by record id: they key the scanner's cache of earlier detections.

    Returns the types and counts detected in the shown texts, summed per field over
    `rows` (a field shown empty counts with no types); None when no text was shown."""
    view = call.view(entity)
    if not view.scanned or not rows:
        return None
    known = known or {}
    texts: list[str] = []
    keys: list[bytes | None] = []
    places: list[tuple[int, str]] = []
    ready: list[tuple[int, str, str, Sequence[DetectedEntity]]] = []
    empty: set[str] = set()
    for index, row in enumerate(rows):
        for name in view.scanned:
            value = row.get(name)
            if value is None:
                continue
            text = value if isinstance(value, str) else str(value)
            if (index, name) in known:
                ready.append((index, name, text, known[index, name]))
            elif text:
                texts.append(text)
                places.append((index, name))
                as_stored = stored.get(str(row.get("id"))) if stored is not None else None
                keys.append(stored_digest(as_stored.get(name)) if as_stored else None)
            else:
                row[name] = ScannedText("")
                empty.add(name)
    found = await call.state.scanner.detect(texts, keys=keys)
    ready.extend(
        (index, name, text, entities)
        for (index, name), text, entities in zip(places, texts, found, strict=True)
    )
    plan = call.plan.text
    for index, name, text, entities in ready:
        rows[index][name] = plan.rewrite(
            text, entities, withheld[index] if withheld is not None else _NOTHING
        )
    if not ready and not empty:
        return None
    # The sum of `classify` over the shown texts, counted in one pass: a Counter per
    # text cost more than the rewrite itself on a page of notes.
    counts: dict[str, dict[str, int]] = {name: {} for name in empty}
    for _, name, _, entities in ready:
        field_counts = counts.setdefault(name, {})
        for detected in entities:
            entity_type = detected.entity_type
            field_counts[entity_type] = field_counts.get(entity_type, 0) + 1
    return {name: dict(sorted(found.items())) for name, found in sorted(counts.items())}
