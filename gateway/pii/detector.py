"""PII detection for the gateway: one detector per process, pages scanned off the event loop.

Detection is CPU-bound. A few short texts (one record's note) are scanned inline: the
hand-off to a thread would cost more than the work. Anything larger (a page of notes,
a text sent to /v1/scan) runs in one dedicated worker thread, so the event loop keeps
serving other requests meanwhile; one thread, because under the GIL more would only
contend with the loop for it.

Notes are read far more often than written, and what detection finds depends on the
text alone, so reads remember it: an LRU keyed by a digest of the *ciphertext* as
stored (a new write, a re-encryption or an erasure changes or voids the key). The cache
holds entity types and offsets only — no text, no value, nothing derived from plaintext.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from masking.detection import DetectedEntity, PiiDetector

# Below this many characters in one call, detection runs on the event loop.
INLINE_CHARS = 1_000
DEFAULT_CACHE_ENTRIES = 100_000


@cache
def shared_detector() -> PiiDetector:
    """Built once per process (it is immutable and thread-safe): every app and command
    in the process shares it."""
    # Imported here, not at the top: the detector and jieba take most of a second to load, and
    # commands that never detect anything (`wardgate --help`) import this module.
    from masking.detection import build_detector

    return build_detector()


def classify(entities: Iterable[DetectedEntity]) -> dict[str, int]:
    """Entity type -> how many: what a classification records (never a value)."""
    return dict(sorted(Counter(entity.entity_type for entity in entities).items()))


def stored_digest(stored: object) -> bytes | None:
    """The cache key of a stored (encrypted) value; None when there is nothing stored."""
    if not isinstance(stored, str):
        return None
    return hashlib.blake2b(stored.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class TextScanner:
    def __init__(
        self,
        detector: PiiDetector,
        *,
        inline_chars: int = INLINE_CHARS,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        self.detector = detector
        self._inline_chars = inline_chars
        self._executor: ThreadPoolExecutor | None = None
        # Touched only on the event loop thread (never from the detection thread).
        self._cache: OrderedDict[bytes, list[DetectedEntity]] = OrderedDict()
        self._cache_entries = cache_entries
        self.detected = 0
        """Texts actually run through detection (cache misses), for tests and metrics."""

    def __repr__(self) -> str:
        return f"TextScanner(cached={len(self._cache)})"

    async def detect(
        self,
        texts: Sequence[str],
        *,
        language: str | None = None,
        keys: Sequence[bytes | None] | None = None,
    ) -> list[list[DetectedEntity]]:
        """Entities of every text, in one batched detection. `keys[i]` (from
        `stored_digest`) lets text i be answered from, and remembered in, the cache."""
        found: list[list[DetectedEntity] | None] = [None] * len(texts)
        if keys is not None and self._cache_entries > 0 and language is None:
            for index, key in enumerate(keys):
                if key is not None and (hit := self._cache.get(key)) is not None:
                    self._cache.move_to_end(key)
                    found[index] = hit
        missing = [index for index, entities in enumerate(found) if entities is None]
        if missing:
            fresh = await self._detect([texts[i] for i in missing], language)
            for index, entities in zip(missing, fresh, strict=True):
                found[index] = entities
                key = keys[index] if keys is not None and language is None else None
                if key is not None and self._cache_entries > 0:
                    self._remember(key, entities)
        return [entities or [] for entities in found]

    def remember(self, stored: object, entities: list[DetectedEntity]) -> None:
        """Prime the cache with what a write detected in the value it stored."""
        key = stored_digest(stored)
        if key is not None and self._cache_entries > 0:
            self._remember(key, entities)

    def _remember(self, key: bytes, entities: list[DetectedEntity]) -> None:
        self._cache[key] = entities
        if len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)

    async def _detect(self, texts: list[str], language: str | None) -> list[list[DetectedEntity]]:
        self.detected += len(texts)

        def detect() -> list[list[DetectedEntity]]:
            return self.detector.detect_many(texts, language=language)

        if sum(len(text) for text in texts) <= self._inline_chars:
            return detect()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pii-detect")
        return await asyncio.get_running_loop().run_in_executor(self._executor, detect)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
