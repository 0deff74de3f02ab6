"""The tree's hashes (RFC 6962 §2.1): leaves, nodes, the empty tree; node ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""(level, index): the root of the perfect subtree over leaves [index << level, (index + 1) << level)."""

NodeSource = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]
"""Given complete node ids, returns their hashes (every one of them, or raises)."""


class ProofError(ValueError):
    """A proof does not verify, or is malformed."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k, for n >= 2."""
    return 1 << ((n - 1).bit_length() - 1)


