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
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

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


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k, for n >= 2."""
    return 1 << ((n - 1).bit_length() - 1)


# --- The reference definitions (RFC 6962 §2.1), recursive; for tests and small trees ---------------------


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over already-hashed leaves, by the RFC's recursive definition."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _largest_power_of_two_below(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def reference_inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) by the RFC's recursive definition."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is outside a tree of size {n}")
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
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
        k = _largest_power_of_two_below(len(d))
        if m <= k:
            return subproof(m, d[:k], complete) + [root_of(d[k:])]
        return subproof(m - k, d[k:], False) + [root_of(d[:k])]

    return subproof(first, leaf_hashes, True)


# --- Compact ranges: the right edge of the tree ------------------------------------------------------------


class CompactRange:
    """The roots of the perfect subtrees that make up leaves [0, size): one per set bit of `size`,
    largest (leftmost) first. Appending a leaf costs O(log n) hashes and yields the nodes it completes.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if size < 0 or len(self.hashes) != size.bit_count():
            raise ValueError(f"a compact range of size {size} holds {size.bit_count()} hashes, not {len(self.hashes)}")
        if any(len(h) != HASH_SIZE for h in self.hashes):
            raise ValueError("compact range hashes must be 32 bytes")

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> CompactRange:
        if len(packed) % HASH_SIZE:
            raise ValueError("packed compact range is not a whole number of hashes")
        return cls(size, [bytes(packed[i:i + HASH_SIZE]) for i in range(0, len(packed), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self.hashes)

    def nodes(self) -> list[NodeId]:
        """The ids of the subtrees this range holds, left to right."""
        return range_nodes(0, self.size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the complete nodes above level 0 this creates, lowest first."""
        created: list[tuple[int, int, bytes]] = []
        h, level, index, s = leaf, 0, self.size, self.size
        while s & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            index >>= 1
            s >>= 1
            created.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold_right(self.hashes)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """The hash of a left-balanced range given its perfect subtrees, largest first."""
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete nodes, left to right, whose hashes fold (`fold_right`) into MTH(D[start:end]).

    Valid for every range the tree's definition produces: `start` a multiple of the largest power of two
    not above `end - start` (true of the whole tree and of every subtree in a proof).
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start & ((1 << level) - 1):
            raise ValueError(f"range [{start}, {end}) is not a subtree of a left-balanced tree")
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


# --- Proof generation from any source of complete nodes ----------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PATH(index, D[size]), in proof order (leaf upwards)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PROOF(first, D[second]), in proof order."""
    if not 0 <= first <= second:
        raise ValueError(f"sizes must satisfy 0 <= first <= second, got {first} and {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    ranges.reverse()
    return ranges


def hashes_for_ranges(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[bytes]:
    """Fetch every complete node the ranges need in one call to `source`, then fold each range."""
    per_range = [range_nodes(start, end) for start, end in ranges]
    wanted = sorted({node for nodes in per_range for node in nodes})
    found = source(wanted) if wanted else {}
    out = []
    for nodes in per_range:
        try:
            out.append(fold_right([found[node] for node in nodes]))
        except KeyError as exc:
            raise LookupError(f"node {exc.args[0]} is missing from the store") from None
    return out


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    return hashes_for_ranges(inclusion_ranges(index, size), source)


def consistency_proof(first: int, second: int, source: NodeSource) -> list[bytes]:
    return hashes_for_ranges(consistency_ranges(first, second), source)


def root_from_source(size: int, source: NodeSource) -> bytes:
    return hashes_for_ranges([(0, size)], source)[0] if size else EMPTY_ROOT


class MemoryTree:
    """Every complete node of a tree over the given leaf hashes, in memory; a `NodeSource` for tests."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            row = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1

    def __call__(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        return {(level, index): self.levels[level][index] for level, index in ids}

    def root(self, size: int | None = None) -> bytes:
        return root_from_source(self.size if size is None else size, self)


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------------------------------------


def _check_hashes(what: str, hashes: Iterable[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise ProofError(f"{what}[{i}] is not a 32-byte hash")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to; raises ProofError when it is malformed for (index, size)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes("leaf", [leaf])
    _check_hashes("proof", proof)
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`."""
    _check_hashes("root", [root])
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise ProofError unless `proof` shows the tree (size1, root1) is a prefix of (size2, root2)."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"sizes must satisfy 0 <= first <= second, got {size1} and {size2}")
    _check_hashes("proof", proof)
    if size1 == size2:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if bytes(root1) != bytes(root2):
            raise ProofError("trees of equal size have different roots")
        return
    if size1 == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    _check_hashes("root", [root1, root2])
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the first root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the second root")
