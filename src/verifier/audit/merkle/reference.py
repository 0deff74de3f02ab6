"""The reference definitions (RFC 6962 §2.1), recursive: for tests and small trees."""

from __future__ import annotations

from collections.abc import Sequence

from .hashing import EMPTY_ROOT, largest_power_of_two_below, node_hash


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves, by the RFC's recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = largest_power_of_two_below(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def reference_inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) by the RFC's recursive definition."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if index < k:
        return reference_inclusion_proof(leaf_hashes[:k], index) + [root_of(leaf_hashes[k:])]
    return reference_inclusion_proof(leaf_hashes[k:], index - k) + [root_of(leaf_hashes[:k])]


def reference_consistency_proof(leaf_hashes: Sequence[bytes], first: int) -> list[bytes]:
    """PROOF(m, D[n]) by the RFC's recursive definition (empty for m = 0 or m = n)."""
    n = len(leaf_hashes)
    if not 0 <= first <= n:
        raise ValueError(f"size {first} is outside 0..{n}")
    if first in (0, n):
        return []

    def subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
        if m == len(d):
            return [] if complete else [root_of(d)]
        k = largest_power_of_two_below(len(d))
        if m <= k:
            return subproof(m, d[:k], complete) + [root_of(d[k:])]
        return subproof(m - k, d[k:], False) + [root_of(d[:k])]

    return subproof(first, leaf_hashes, True)


