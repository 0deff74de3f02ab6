"""Merkle tree hashing, proofs and their verification, exactly as RFC 6962 / RFC 9162 define them.

Pure functions, no I/O. Hashes are 32-byte SHA-256 digests:

    leaf hash  = SHA-256(0x00 || entry bytes)
    node hash  = SHA-256(0x01 || left || right)
    empty tree = SHA-256("")

The tree over n leaves is left-balanced: its left subtree holds the largest power of two smaller than n.

Nodes are addressed as `(level, index)`: the node at level `l`, index `i` is the root of the perfect subtree
over leaves `[i * 2**l, (i + 1) * 2**l)`; leaves are level 0. Such a node is *complete* once all its leaves
exist, and its hash never changes after that. Every hash a proof needs is either a complete node or a
right-edge subtree that is rebuilt from O(log n) complete nodes (`range_nodes`), so a store that keeps
every complete node can answer any proof for any past tree size with O(log n) reads.

The pieces: `hashing` (leaf and node hashes), `reference` (the RFC's recursive definitions), `compact` (the right
edge), `proofs` (from stored complete nodes), `verify` (checking proofs).
"""

from __future__ import annotations

from .compact import CompactRange, fold_right, range_nodes
from .hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeId,
    NodeSource,
    ProofError,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
)
from .proofs import (
    MemoryTree,
    consistency_proof,
    consistency_ranges,
    hashes_for_ranges,
    inclusion_proof,
    inclusion_ranges,
    root_from_source,
)
from .reference import reference_consistency_proof, reference_inclusion_proof, root_of
from .verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "NodeId",
    "NodeSource",
    "ProofError",
    "consistency_proof",
    "consistency_ranges",
    "fold_right",
    "hashes_for_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "largest_power_of_two_below",
    "leaf_hash",
    "node_hash",
    "range_nodes",
    "reference_consistency_proof",
    "reference_inclusion_proof",
    "root_from_inclusion_proof",
    "root_from_source",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]
