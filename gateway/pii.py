"""PII detection for the gateway: one detector per process, pages scanned off the event loop.

Detection is CPU-bound. A few short texts (one record's note) are scanned inline: the
hand-off to a thread would cost more than the work. Anything larger (a page of notes,
a text sent to /v1/scan) runs in one dedicated worker thread, so the event loop keeps
serving other requests meanwhile; one thread, because under the GIL more would only
contend with the loop for it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial

from masking.detection import DetectedEntity, PiiDetector, build_detector

# Below this many characters in one call, detection runs on the event loop.
INLINE_CHARS = 2_000


@cache
def shared_detector() -> PiiDetector:
    """Built once per process (it is immutable and thread-safe): every app and command
    in the process shares it."""
    return build_detector()


def classify(entities: Iterable[DetectedEntity]) -> dict[str, int]:
    """Entity type -> how many: what a classification records (never a value)."""
    return dict(sorted(Counter(entity.entity_type for entity in entities).items()))


class TextScanner:
    def __init__(self, detector: PiiDetector, *, inline_chars: int = INLINE_CHARS) -> None:
        self.detector = detector
        self._inline_chars = inline_chars
        self._executor: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return "TextScanner()"

    async def detect(
        self, texts: Sequence[str], *, language: str | None = None
    ) -> list[list[DetectedEntity]]:
        """Entities of every text, in one batched detection."""
        if not texts:
            return []
        detect = partial(self.detector.detect_many, texts, language=language)
        if sum(len(text) for text in texts) <= self._inline_chars:
            return detect()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pii-detect")
        return await asyncio.get_running_loop().run_in_executor(self._executor, detect)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
