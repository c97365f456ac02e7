"""Precision, recall and F1 per entity type: exact span and exact type.

A prediction is a true positive only if a gold span has the same type and the same
start and end. `overlap_f1` relaxes the span (same type, any overlap), to show how
much of the exact-match loss is boundary disagreement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bench.pii._corpus import Span

__all__ = ["Scores", "score"]


@dataclass(frozen=True, slots=True)
class Scores:
    entity_type: str
    support: int
    predicted: int
    true_positives: int
    overlap_true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def overlap_f1(self) -> float:
        p = self.overlap_true_positives / self.predicted if self.predicted else 1.0
        r = self.overlap_true_positives / self.support if self.support else 1.0
        return 2 * p * r / (p + r) if p + r else 0.0


def score(pairs: Iterable[tuple[Iterable[Span], Iterable[Span]]]) -> dict[str, Scores]:
    """`pairs` holds (gold, predicted) per text."""
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    overlap: Counter[str] = Counter()
    for gold, found in pairs:
        gold_set = set(gold)
        for span in gold_set:
            support[span.entity_type] += 1
        for span in found:
            predicted[span.entity_type] += 1
            if span in gold_set:
                exact[span.entity_type] += 1
            if any(
                g.entity_type == span.entity_type and g.start < span.end and span.start < g.end
                for g in gold_set
            ):
                overlap[span.entity_type] += 1
    types = sorted(set(support) | set(predicted))
    return {
        t: Scores(t, support[t], predicted[t], exact[t], min(overlap[t], support[t])) for t in types
    }
