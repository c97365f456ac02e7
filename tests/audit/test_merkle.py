"""The Merkle tree against the published RFC 6962 vectors, a reference model, and tampering."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# Known answers from github.com/transparency-dev/merkle (the vectors Trillian and
# google/certificate-transparency's merkle_tree_test.cc share):
#   testonly/constants.go        LeafInputs, NodeHashes, RootHashes, CompactTrees,
#                                EmptyRootHash  (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1)
#   testonly/reference_test.go   TestRefInclusionProof, TestRefConsistencyProof
#                                (commit 141d627eab770a7e9a2514f46a8b6338e6d90874)
#   proof/verify_test.go         consistencyProofs (adds 6→7) and the corruption probes
#                                (commit 02194e9afb6c1d95b5381350007963aa70fff472)
# verify_test.go numbers inclusion leaves from 1; the indexes below are 0-based, as in
# reference_test.go.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
# NodeHashes()[level][index]: roots of every perfect subtree of the 8-leaf tree.
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
# RootHashes(), indexed by tree size.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# CompactTrees(), as (level, index) into NODES, indexed by tree size.
COMPACT = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]
# (index, tree size, proof)
INCLUSION = [
    (0, 1, []),
    (0, 2, [NODES[0][1]]),
    (1, 2, [NODES[0][0]]),
    (2, 3, [NODES[1][0]]),
    (1, 5, [NODES[0][0], NODES[1][1], NODES[0][4]]),
    (0, 8, [NODES[0][1], NODES[1][1], NODES[2][1]]),
    (5, 8, [NODES[0][4], NODES[1][3], NODES[2][0]]),
]
# (first, second, proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, [NODES[0][1], NODES[1][1], NODES[2][1]]),
    (2, 5, [NODES[1][1], NODES[0][4]]),
    (6, 8, [NODES[1][2], NODES[1][3], NODES[2][0]]),
    (6, 7, [NODES[1][2], NODES[0][6], NODES[2][0]]),
]

LEAF_HASHES = [leaf_hash(d) for d in LEAVES]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def unhex(hashes: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


def random_hashes(n: int, seed: int = 6962) -> list[bytes]:
    rng = random.Random(seed)
    return [leaf_hash(rng.randbytes(rng.randrange(64))) for _ in range(n)]


def flip_bit(proof: list[bytes], i: int) -> list[bytes]:
    tampered = list(proof)
    tampered[i] = bytes([tampered[i][0] ^ 8]) + tampered[i][1:]
    return tampered


# The RFC 6962 §2.1 definitions transcribed literally, to cross-check the unrolled ones.
def ref_root(d: Sequence[bytes]) -> bytes:
    if len(d) <= 1:
        return d[0] if d else EMPTY_ROOT
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return node_hash(ref_root(d[:k]), ref_root(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, d[:k]), ref_root(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_root(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], known: bool) -> list[bytes]:
    if m == len(d):
        return [] if known else [ref_root(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], known), ref_root(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_root(d[:k])]


def test_given_reference_leaves_then_leaf_hashes_match_published_level_zero() -> None:
    assert [h.hex() for h in LEAF_HASHES] == NODES[0]


def test_given_inner_nodes_then_node_hash_matches_published_level_one() -> None:
    assert [node_hash(LEAF_HASHES[i], LEAF_HASHES[i + 1]) for i in (0, 2, 4, 6)] == unhex(NODES[1])


def test_given_no_leaves_then_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert root_of([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_given_reference_prefix_then_root_matches_published_root(size: int) -> None:
    assert root_of(LEAF_HASHES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_given_reference_prefix_then_frontier_matches_published_compact_tree(size: int) -> None:
    frontier = Frontier()
    frontier.extend(LEAF_HASHES[:size])
    assert frontier.size == size
    assert [h.hex() for h in frontier.hashes] == [NODES[lv][i] for lv, i in COMPACT[size]]
    assert frontier.root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_given_published_inclusion_case_then_proof_matches_and_verifies(
    index: int, size: int, proof: list[str]
) -> None:
    generated = inclusion_proof(LEAF_HASHES, index, size)
    assert [h.hex() for h in generated] == proof
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(LEAF_HASHES[index], index, size, generated, root)
    assert root_from_inclusion_proof(LEAF_HASHES[index], index, size, generated) == root


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_given_published_consistency_case_then_proof_matches_and_verifies(
    first: int, second: int, proof: list[str]
) -> None:
    generated = consistency_proof(LEAF_HASHES, first, second)
    assert [h.hex() for h in generated] == proof
    roots = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, *roots, generated)


@pytest.mark.parametrize(("index", "size", "proof"), [c for c in INCLUSION if c[2]])
def test_given_corrupted_published_inclusion_proof_then_verification_fails(
    index: int, size: int, proof: list[str]
) -> None:
    """The probes of transparency-dev's corruptInclusionProof."""
    path, root, leaf = unhex(proof), bytes.fromhex(ROOTS[size]), LEAF_HASHES[index]
    probes = [
        (index - 1, size, root, leaf, path),
        (index + 1, size, root, leaf, path),
        (index ^ 2, size, root, leaf, path),
        (index, size * 2, root, leaf, path),
        (index, size // 2, root, leaf, path),
        (index, size, root, b"WrongLeaf", path),
        (index, size, EMPTY_ROOT, leaf, path),
        (index, size, SOME_HASH, leaf, path),
        (index, size, root, leaf, [*path, b""]),
        (index, size, root, leaf, [*path, root]),
        (index, size, root, leaf, [b"", *path]),
        (index, size, root, leaf, [root, *path]),
        (index, size, root, leaf, path[:-1]),
        *((index, size, root, leaf, flip_bit(path, i)) for i in range(len(path))),
    ]
    if len(path) > 1:
        probes.append((index, size, root, leaf, [path[0], SOME_HASH, *path[1:]]))
    for i, n, r, h, p in probes:
        assert not verify_inclusion(h, i, n, p, r), (i, n, r, h, p)


@pytest.mark.parametrize(("first", "second", "proof"), [c for c in CONSISTENCY if c[2]])
def test_given_corrupted_published_consistency_proof_then_verification_fails(
    first: int, second: int, proof: list[str]
) -> None:
    """The probes of transparency-dev's corruptConsistencyProof."""
    p, r1, r2 = unhex(proof), bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    probes = [
        (first - 1, second, r1, r2, p),
        (first + 1, second, r1, r2, p),
        (first ^ 2, second, r1, r2, p),
        (first, second * 2, r1, r2, p),
        (first, second // 2, r1, r2, p),
        (first, second, b"WrongRoot", r2, p),
        (first, second, r1, b"WrongRoot", p),
        (first, second, r2, r1, p),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*p, b""]),
        (first, second, r1, r2, [*p, r1]),
        (first, second, r1, r2, [*p, r2]),
        (first, second, r1, r2, [b"", *p]),
        (first, second, r1, r2, [r1, *p]),
        (first, second, r1, r2, [r2, *p]),
        (first, second, r1, r2, [p[0], *p]),
        (first, second, r1, r2, p[:-1]),
        *((first, second, r1, r2, flip_bit(p, i)) for i in range(len(p))),
    ]
    for args in probes:
        assert not verify_consistency(*args), args


def test_given_random_leaves_then_frontier_root_equals_root_of_at_every_size() -> None:
    hashes = random_hashes(300)
    frontier = Frontier()
    assert frontier.root() == root_of([])
    for size in range(1, 301):
        frontier.append(hashes[size - 1])
        assert frontier.size == size
        assert len(frontier.hashes) == size.bit_count()
        assert frontier.root() == root_of(hashes[:size]) == ref_root(hashes[:size])


def test_given_every_index_and_size_to_40_then_inclusion_proofs_are_rfc_paths_that_verify() -> None:
    hashes = random_hashes(40)
    for size in range(1, 41):
        root = root_of(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            assert proof == ref_path(index, hashes[:size])
            assert verify_inclusion(hashes[index], index, size, proof, root)


def test_given_every_size_pair_to_40_then_consistency_proofs_are_rfc_proofs_that_verify() -> None:
    hashes = random_hashes(40)
    roots = [root_of(hashes[:n]) for n in range(41)]
    for second in range(1, 41):
        for first in range(1, second + 1):
            proof = consistency_proof(hashes, first, second)
            assert proof == ref_subproof(first, hashes[:second], True)
            assert verify_consistency(first, second, roots[first], roots[second], proof)


def test_given_wrong_index_size_or_root_then_no_inclusion_proof_to_40_verifies() -> None:
    hashes = random_hashes(40)
    roots = [root_of(hashes[:n]) for n in range(41)]
    for size in range(1, 41):
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            leaf, root = hashes[index], roots[size]
            for other in range(size + 1):
                if other != index:
                    assert not verify_inclusion(leaf, other, size, proof, root)
            # A proof does not pin the size on its own (leaf 0 walks the same path in
            # trees of 3 and 4), so a wrong size is tested with the root of that size,
            # as a verifier holding that tree head would, plus transparency-dev's probes.
            for other_size in range(41):
                if other_size != size:
                    assert not verify_inclusion(leaf, index, other_size, proof, roots[other_size])
            assert not verify_inclusion(leaf, index, size * 2, proof, root)
            assert not verify_inclusion(leaf, index, size // 2, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, roots[size - 1])
            assert not verify_inclusion(hashes[index - 1], index, size, proof, root) or size == 1
            for i in range(len(proof)):
                assert not verify_inclusion(leaf, index, size, flip_bit(proof, i), root)


def test_given_wrong_sizes_or_roots_then_no_consistency_proof_to_40_verifies() -> None:
    hashes = random_hashes(40)
    roots = [root_of(hashes[:n]) for n in range(41)]
    for second in range(2, 41):
        for first in range(1, second):
            proof = consistency_proof(hashes, first, second)
            r1, r2 = roots[first], roots[second]
            # A wrong first size fails even with the true roots; a wrong second size,
            # as for inclusion, is tested with the root of that size.
            for other in range(second + 1):
                if other != first:
                    assert not verify_consistency(other, second, roots[other], r2, proof)
                    assert not verify_consistency(other, second, r1, r2, proof)
            for other in range(first, 41):
                if other != second:
                    assert not verify_consistency(first, other, r1, roots[other], proof)
            assert not verify_consistency(first, second * 2, r1, r2, proof)
            assert not verify_consistency(first, second // 2, r1, r2, proof)
            assert not verify_consistency(first, second, roots[first - 1], r2, proof)
            assert not verify_consistency(first, second, r1, roots[second - 1], proof)
            for i in range(len(proof)):
                assert not verify_consistency(first, second, r1, r2, flip_bit(proof, i))


def test_given_a_single_leaf_tree_then_the_empty_proof_shows_leaf_is_root() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], h)
    assert not verify_inclusion(SOME_HASH, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, 1, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, 2, 1, [], SOME_HASH)


def test_given_equal_sizes_then_consistency_holds_only_for_equal_roots_and_empty_proof() -> None:
    root = bytes.fromhex(ROOTS[3])
    assert verify_consistency(3, 3, root, root, [])
    assert not verify_consistency(3, 3, root, SOME_HASH, [])
    assert not verify_consistency(3, 3, root, root, [root])


def test_given_first_size_zero_then_consistency_is_undefined() -> None:
    with pytest.raises(ValueError, match="first > 0"):
        consistency_proof(LEAF_HASHES, 0, 5)
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, bytes.fromhex(ROOTS[5]), [])


def test_given_shrinking_sizes_then_consistency_fails() -> None:
    r1, r2 = bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[2])
    assert not verify_consistency(2, 1, r2, r1, [LEAF_HASHES[1]])


@pytest.mark.parametrize(
    ("index", "size", "message"),
    [
        (0, 0, "not in a tree of size 0"),
        (3, 3, "not in a tree of size 3"),
        (-1, 3, "not in a tree of size 3"),
        (0, 9, "between 0 and the 8 leaves"),
        (0, -1, "between 0 and the 8 leaves"),
    ],
)
def test_given_out_of_range_inclusion_request_then_value_error(
    index: int, size: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        inclusion_proof(LEAF_HASHES, index, size)


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (5, 4, "larger than second"),
        (1, 9, "between 0 and the 8 leaves"),
        (-1, 4, "first > 0"),
    ],
)
def test_given_out_of_range_consistency_request_then_value_error(
    first: int, second: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        consistency_proof(LEAF_HASHES, first, second)


def test_given_more_leaves_than_tree_size_then_proofs_ignore_the_extra_leaves() -> None:
    hashes = random_hashes(20)
    assert inclusion_proof(hashes, 3, 11) == inclusion_proof(hashes[:11], 3, 11)
    assert consistency_proof(hashes, 5, 11) == consistency_proof(hashes[:11], 5, 11)


def test_given_a_large_tree_then_proofs_near_both_ends_verify() -> None:
    hashes = random_hashes(100_003)
    size = len(hashes)
    root = root_of(hashes)
    for index in (0, 65_535, 65_536, size - 1):
        proof = inclusion_proof(hashes, index, size)
        assert verify_inclusion(hashes[index], index, size, proof, root)
    for first in (1, 65_536, 70_001, size - 1):
        proof = consistency_proof(hashes, first, size)
        assert verify_consistency(first, size, root_of(hashes[:first]), root, proof)


def test_given_frontier_state_then_json_round_trip_continues_the_same_tree() -> None:
    hashes = random_hashes(77)
    frontier = Frontier()
    frontier.extend(hashes[:45])
    restored = Frontier.from_json(frontier.to_json())
    assert restored.to_json() == frontier.to_json()
    assert restored.root() == frontier.root()
    restored.extend(hashes[45:])
    assert restored.root() == root_of(hashes)
    assert Frontier.from_json(Frontier().to_json()).root() == EMPTY_ROOT


@pytest.mark.parametrize(
    "state",
    [
        {"size": 3, "hashes": [NODES[1][0]]},
        {"size": 2, "hashes": [NODES[1][0], NODES[0][2]]},
        {"size": 3, "hashes": [NODES[1][0], NODES[0][2][:-2]]},
        {"size": 3, "hashes": [NODES[1][0], "zz" * 32]},
        {"size": 3, "hashes": [NODES[1][0], 7]},
        {"size": -1, "hashes": []},
        {"size": True, "hashes": [NODES[0][0]]},
        {"size": "3", "hashes": [NODES[1][0], NODES[0][2]]},
        {"size": 3, "hashes": NODES[1][0]},
        {"hashes": []},
        {},
    ],
)
def test_given_corrupted_frontier_state_then_it_is_refused(state: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="frontier"):
        Frontier.from_json(state)


def test_given_double_encoded_frontier_state_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        Frontier.from_json(json.dumps(Frontier().to_json()))  # type: ignore[arg-type]


def test_given_raw_entry_bytes_instead_of_a_leaf_hash_then_append_refuses() -> None:
    frontier = Frontier()
    with pytest.raises(ValueError, match="32 bytes"):
        frontier.append(b"an entry, not its hash")
    assert frontier.size == 0
