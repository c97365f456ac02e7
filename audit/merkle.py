"""The audit log's Merkle tree: RFC 6962 hashing, a compact frontier, proofs and their checks.

Leaf hash SHA-256(0x00 ‖ leaf), node hash SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1), so
proofs interoperate with Trillian / transparency-dev verifiers. Everything here works on
leaf hashes, never on entries: the log commits to hashes of what was logged.

Edge cases, decided once:

- Inclusion needs `0 <= index < tree_size`; an empty tree includes nothing.
- Consistency from `first == second` is the empty proof (RFC 9162 §2.1.4.1,
  SUBPROOF(m, D[m], true) = {}); it verifies only if the two roots are equal.
- Consistency from `first == 0` is not defined (RFC 9162 §2.1.4 needs 0 < first): the
  empty tree is a prefix of every tree, so there is nothing to prove. Generating one
  raises ValueError and verifying one returns False; a verifier with no earlier tree
  head has nothing to check the new one against.

Generators raise ValueError for arguments that cannot name a proof; verifiers take
untrusted input and answer False instead of raising.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash; the prefix keeps a leaf from posing as an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash (MTH) of a list of leaf hashes; O(n)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Pairing level by level and carrying an odd last node up unchanged builds the same
    # tree as the RFC's split at the largest power of two below n, without recursion.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class FrontierState(TypedDict):
    """A frontier as stored in a JSON column: hashes are lowercase hex, largest first."""

    size: int
    hashes: list[str]


class Frontier:
    """The right edge of the tree (Trillian's compact.Range from 0): enough to append and root.

    One perfect-subtree root per set bit of `size`, largest (leftmost) first, so the state
    of a log of any length fits in at most 64 hashes and appending costs O(log n).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            msg = f"frontier size must be a non-negative integer, got {size!r}"
            raise ValueError(msg)
        # Anything else would yield a root no tree of this size has.
        if len(hashes) != size.bit_count():
            msg = f"a frontier of size {size} holds {size.bit_count()} hashes, got {len(hashes)}"
            raise ValueError(msg)
        for h in hashes:
            _require_hash(h, "frontier hash")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash (not the entry: hash it with `leaf_hash` first)."""
        _require_hash(leaf_hash, "leaf hash")
        merged = leaf_hash
        # Each trailing 1 bit of size is a perfect subtree as tall as the one being
        # carried; they merge like a binary increment's carries.
        size = self._size
        while size & 1:
            merged = node_hash(self._hashes.pop(), merged)
            size >>= 1
        self._hashes.append(merged)
        self._size += 1

    def append_trusted(self, leaf_hash: bytes) -> None:
        """`append` without the argument check, for verification's hot loop, whose leaf
        hashes come straight out of SHA-256."""
        merged = leaf_hash
        size = self._size
        hashes = self._hashes
        while size & 1:
            merged = hashlib.sha256(b"\x01" + hashes.pop() + merged).digest()
            size >>= 1
        hashes.append(merged)
        self._size += 1

    def copy(self) -> Frontier:
        """An independent frontier of the same tree (appending to one leaves the other)."""
        clone = Frontier.__new__(Frontier)
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        """RFC 6962 MTH of every leaf appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        # The RFC tree hangs smaller subtrees to the right, so fold from the smallest.
        root = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            root = node_hash(h, root)
        return root

    def to_json(self) -> FrontierState:
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_json(cls, state: Mapping[str, object]) -> Frontier:
        """Restore a stored frontier, refusing any state no tree could have produced."""
        if not isinstance(state, Mapping):  # a double-encoded JSON column arrives as str
            msg = f"frontier state must be a JSON object, got {type(state).__name__}"
            raise ValueError(msg)
        size = state.get("size")
        hashes = state.get("hashes")
        if not isinstance(size, int) or not isinstance(hashes, list):
            msg = "frontier state needs an integer 'size' and a list 'hashes'"
            raise ValueError(msg)
        decoded = []
        for h in hashes:
            if not isinstance(h, str):
                msg = f"frontier hashes must be hex strings, got {h!r}"
                raise ValueError(msg)
            try:
                decoded.append(bytes.fromhex(h))
            except ValueError:
                msg = f"frontier hash {h!r} is not hex"
                raise ValueError(msg) from None
        return cls(size, decoded)

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[0:tree_size]), leaf-side sibling first; O(tree_size)."""
    _require_size(leaf_hashes, tree_size, "tree_size")
    if not 0 <= index < tree_size:
        msg = f"leaf index {index} is not in a tree of size {tree_size}"
        raise ValueError(msg)
    # Walk down from the root; each step's sibling subtree is hashed once, and siblings
    # shrink geometrically, so the total work is O(tree_size).
    siblings = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        split = lo + _split_point(hi - lo)
        if index < split:
            siblings.append(root_of(leaf_hashes[split:hi]))
            hi = split
        else:
            siblings.append(root_of(leaf_hashes[lo:split]))
            lo = split
    siblings.reverse()
    return siblings


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(first, D[0:second]); O(second).

    Empty for first == second; ValueError for first == 0 (see the module docstring).
    """
    _require_size(leaf_hashes, second, "second")
    if first <= 0:
        msg = f"a consistency proof needs first > 0 (RFC 9162 §2.1.4), got {first}"
        raise ValueError(msg)
    if first > second:
        msg = f"first ({first}) is larger than second ({second})"
        raise ValueError(msg)
    # SUBPROOF unrolled: descend towards the subtree holding leaf first - 1, collecting
    # the sibling at each step; `known` drops once that subtree stops being MTH(D[0:first]).
    nodes = []
    lo, hi, m, known = 0, second, first, True
    while m != hi - lo:
        k = _split_point(hi - lo)
        if m <= k:
            nodes.append(root_of(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            nodes.append(root_of(leaf_hashes[lo : lo + k]))
            lo, m, known = lo + k, m - k, False
    if not known:
        nodes.append(root_of(leaf_hashes[lo:hi]))
    nodes.reverse()
    return nodes


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that `proof` implies for `leaf_hash` at `index` (RFC 9162 §2.1.3.2, steps 1-4).

    Raises ValueError if the proof cannot belong to a tree of that size.
    """
    _require_hash(leaf_hash, "leaf hash")
    if not 0 <= index < tree_size:
        msg = f"leaf index {index} is not in a tree of size {tree_size}"
        raise ValueError(msg)
    # fn walks the leaf's path, sn the tree's right edge; where they meet (fn == sn) the
    # right sibling is missing and the node is promoted, so those levels are skipped.
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        _require_hash(p, "proof hash")
        if sn == 0:
            msg = "proof is longer than the path to the root"
            raise ValueError(msg)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        msg = "proof is shorter than the path to the root"
        raise ValueError(msg)
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` shows `leaf_hash` at `index` in the tree of `tree_size` with `root`.

    `tree_size` and `root` must come from one tree head: the proof does not pin the size
    on its own (leaf 0's proof in a tree of 3 also fits a claimed size of 4 and that root).
    """
    try:
        return root_from_inclusion_proof(leaf_hash, index, tree_size, proof) == root
    except ValueError:
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (first, first_root) is a prefix of (second, second_root).

    RFC 9162 §2.1.4.2 for 0 < first < second; see the module docstring for the rest. As for
    inclusion, `second` and `second_root` must come from one tree head.
    """
    if not (_is_hash(first_root) and _is_hash(second_root) and all(map(_is_hash, proof))):
        return False
    if first <= 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    # A power-of-two first tree is a whole subtree of the second, so its root is the
    # starting node and the log leaves it out of the proof.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def _split_point(n: int) -> int:
    """The largest power of two below n (n >= 2): where RFC 6962 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _require_hash(value: object, what: str) -> None:
    if not _is_hash(value):
        msg = f"{what} must be {HASH_SIZE} bytes"
        raise ValueError(msg)


def _require_size(leaf_hashes: Sequence[bytes], size: int, what: str) -> None:
    if not 0 <= size <= len(leaf_hashes):
        msg = f"{what} ({size}) must be between 0 and the {len(leaf_hashes)} leaves given"
        raise ValueError(msg)
