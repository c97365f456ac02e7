"""An entry's inclusion proof, checked against the latest signed checkpoint.

What a compliance officer is shown beside an entry: whether the entry, as its row reads
now, is the one the log signed. The checkpoint's signature is checked with the log's
verifier key; the entry's leaf hash is recomputed from its row (not read from the
stored hash); the RFC 6962 proof must lead from that leaf to the signed root. When the
latest checkpoint does not cover the entry yet, one is signed over the log as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.checkpoint import CheckpointError, open_signed_checkpoint
from audit.merkle import inclusion_proof, verify_inclusion
from gateway.compliance import log_reader
from gateway.compliance.checkpoints import StoredCheckpoint, latest_checkpoint
from gateway.state import GatewayState


@dataclass(frozen=True, slots=True)
class EntryProof:
    seq: int
    verified: bool
    tree_size: int
    root_hash: str
    signer: str
    checkpoint_at: str
    proof_hashes: int
    leaf_hash: str
    problem: str | None = None
    """A reason word when not verified: `signature_invalid`, `proof_mismatch`, `no_entry`."""


async def _covering(state: GatewayState, seq: int) -> StoredCheckpoint:
    async with state.db.reader.connect() as conn:
        stored = await latest_checkpoint(conn)
    if stored is None or stored.tree_size <= seq:
        stored = await state.checkpoints.issue()
    return stored


async def prove_entry(state: GatewayState, seq: int) -> EntryProof:
    """Check entry `seq` against the latest signed checkpoint (signing one if needed)."""
    stored = await _covering(state, seq)
    signer = state.checkpoints.signer.name

    def result(verified: bool, problem: str | None, proof: int = 0, leaf: str = "") -> EntryProof:
        return EntryProof(
            seq=seq,
            verified=verified,
            tree_size=stored.tree_size,
            root_hash=stored.root_hash,
            signer=signer,
            checkpoint_at=stored.created_at,
            proof_hashes=proof,
            leaf_hash=leaf,
            problem=problem,
        )

    try:
        checkpoint = open_signed_checkpoint(stored.note, state.checkpoints.signer.verifier())
    except CheckpointError:
        return result(False, "signature_invalid")
    if checkpoint.root_hash.hex() != stored.root_hash or checkpoint.tree_size <= seq:
        return result(False, "signature_invalid")
    async with log_reader.snapshot(state.db) as conn:
        leaf = await log_reader.entry_leaf_hash(conn, seq)
        if leaf is None:
            return result(False, "no_entry")
        hashes = await log_reader.leaf_hashes(conn, checkpoint.tree_size)
    if len(hashes) < checkpoint.tree_size:
        return result(False, "proof_mismatch", leaf=leaf.hex())
    proof = inclusion_proof(hashes, seq, checkpoint.tree_size)
    ok = verify_inclusion(leaf, seq, checkpoint.tree_size, proof, checkpoint.root_hash)
    return result(ok, None if ok else "proof_mismatch", len(proof), leaf.hex())
