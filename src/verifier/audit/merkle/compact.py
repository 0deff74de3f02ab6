"""Compact ranges: the right edge of the tree, and the complete nodes a range of leaves is made of."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .hashing import EMPTY_ROOT, HASH_SIZE, NodeId, node_hash


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


