"""Verifying the log: recompute every leaf from its entry, the tree from the leaves, and
check each signed checkpoint's root — trusting nothing the database says about itself.

The same `LogVerifier` runs against the store and against an export (offline, with only
the checkpoint and the verifier key). It reports the first bad sequence number: an
edited entry (its leaf no longer matches), a missing or inserted one (sequence numbers
jump), reordered ones (the sequence number is part of each hashed entry), or a log
truncated behind a checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from audit.checkpoint import Checkpoint
from audit.merkle import Frontier


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    entries: int
    root_hash: str
    checkpoints_verified: int
    latest_checkpoint: int | None
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "root_hash": self.root_hash,
            "checkpoints_verified": self.checkpoints_verified,
            "latest_checkpoint": self.latest_checkpoint,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


class LogVerifier:
    """Feed entries in order; checkpoints (already signature-checked) are matched on the way."""

    def __init__(self, checkpoints: Iterable[Checkpoint]) -> None:
        self._checkpoints = sorted(checkpoints, key=lambda c: c.tree_size)
        self._next_checkpoint = 0
        self._frontier = Frontier()
        self._last_good_checkpoint = 0
        self.first_bad_seq: int | None = None
        self.problem: str | None = None
        self._matched = 0
        self._skip_empty_checkpoints()

    @property
    def failed(self) -> bool:
        return self.problem is not None

    def _fail(self, seq: int, problem: str) -> None:
        if self.problem is None:
            self.first_bad_seq = seq
            self.problem = problem

    def _skip_empty_checkpoints(self) -> None:
        self._check_checkpoints()

    def _check_checkpoints(self) -> None:
        while (
            self._next_checkpoint < len(self._checkpoints)
            and self._checkpoints[self._next_checkpoint].tree_size == self._frontier.size
        ):
            checkpoint = self._checkpoints[self._next_checkpoint]
            if self._frontier.root() != checkpoint.root_hash:
                # Leaf hashes were rewritten to match edited entries: the damage lies
                # after the last checkpoint that still matched.
                self._fail(
                    self._last_good_checkpoint,
                    f"tree of size {checkpoint.tree_size} does not match its signed checkpoint",
                )
                return
            self._last_good_checkpoint = checkpoint.tree_size
            self._matched += 1
            self._next_checkpoint += 1

    def feed(self, seq: int, canonical: bytes, stored_leaf_hex: str | None) -> bool:
        """Take the next entry; False once the log has failed (stop feeding)."""
        return self.feed_many([(seq, canonical, stored_leaf_hex)])

    def feed_many(self, entries: Iterable[tuple[int, bytes, str | None]]) -> bool:
        """Take entries (seq, canonical bytes, stored leaf hash) in order. False once the
        log has failed (stop feeding)."""
        return self._feed(entries, hashed=False)

    def feed_leaves(self, entries: Iterable[tuple[int, bytes, str | None]]) -> bool:
        """The same with each entry's leaf hash already computed from its canonical bytes."""
        return self._feed(entries, hashed=True)

    def _feed(self, entries: Iterable[tuple[int, bytes, str | None]], *, hashed: bool) -> bool:
        # The hot loop of verification: locals, no per-entry calls beyond hashing.
        if self.failed:
            return False
        frontier = self._frontier
        append = frontier.append_trusted
        sha256 = hashlib.sha256
        next_checkpoint = (
            self._checkpoints[self._next_checkpoint].tree_size
            if self._next_checkpoint < len(self._checkpoints)
            else -1
        )
        expected = frontier.size
        for seq, canonical, stored_leaf_hex in entries:
            if seq != expected:
                what = "missing" if seq > expected else "out of order or inserted"
                self._fail(expected, f"entry {expected} is {what}")
                return False
            digest = canonical if hashed else sha256(b"\x00" + canonical).digest()
            if stored_leaf_hex is not None and digest.hex() != stored_leaf_hex:
                self._fail(seq, f"entry {seq} does not match its leaf hash (edited or moved)")
                return False
            append(digest)
            expected += 1
            if expected == next_checkpoint:
                self._check_checkpoints()
                if self.failed:
                    return False
                next_checkpoint = (
                    self._checkpoints[self._next_checkpoint].tree_size
                    if self._next_checkpoint < len(self._checkpoints)
                    else -1
                )
        return True

    def finish(self) -> VerifyReport:
        if not self.failed and self._next_checkpoint < len(self._checkpoints):
            size = self._checkpoints[-1].tree_size
            self._fail(
                self._frontier.size,
                f"log truncated: a checkpoint covers {size} entries, "
                f"only {self._frontier.size} are present",
            )
        latest = self._checkpoints[-1].tree_size if self._checkpoints else None
        return VerifyReport(
            ok=not self.failed,
            entries=self._frontier.size,
            root_hash=self._frontier.root().hex(),
            checkpoints_verified=self._matched,
            latest_checkpoint=latest,
            first_bad_seq=self.first_bad_seq,
            problem=self.problem,
        )
