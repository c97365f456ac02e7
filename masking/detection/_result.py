"""One recognizer's finding inside one analysis, and presidio's duplicate rule over them.

`RecognizerFinding` is what presidio calls a `RecognizerResult`, typed and immutable:
the span, its score, which recognizer found it (the context enhancer looks up that
recognizer's context words) and whether the recognizer already weighed context.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter

__all__ = ["RecognizerFinding", "remove_duplicates"]


@dataclass(frozen=True, slots=True)
class RecognizerFinding:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer_id: str
    context_applied: bool = False
    """presidio's `IS_SCORE_ENHANCED_BY_CONTEXT_KEY`: the context enhancer skips it."""


def remove_duplicates(findings: Iterable[RecognizerFinding]) -> list[RecognizerFinding]:
    """presidio's `EntityRecognizer.remove_duplicates` (presidio-analyzer 2.2), step by step.

    Equal findings (type, span, score: `RecognizerResult.__eq__`/`__hash__`) count
    once; zero scores go; a finding contained in an earlier one of the same type
    whose score is at least its own goes. The order is presidio's: score descending,
    then start, then longer first.
    """
    # presidio: `list(set(results))`; equal findings differ at most in the recognizer.
    unique = {(f.entity_type, f.start, f.end, f.score): f for f in findings}
    ordered = sorted(
        unique.values(), key=lambda f: (f.entity_type, f.start, -(f.end - f.start), -f.score)
    )
    kept: list[RecognizerFinding] = []
    for _, group in itertools.groupby(ordered, key=attrgetter("entity_type")):
        active: list[RecognizerFinding] = []
        for finding in group:
            if finding.score == 0:
                continue
            # Only findings reaching the start can contain this one.
            active = [earlier for earlier in active if earlier.end >= finding.start]
            if any(
                finding.start >= earlier.start
                and finding.end <= earlier.end
                and finding.score <= earlier.score
                for earlier in active
            ):
                continue
            kept.append(finding)
            active.append(finding)
    return sorted(kept, key=lambda f: (-f.score, f.start, -(f.end - f.start)))
