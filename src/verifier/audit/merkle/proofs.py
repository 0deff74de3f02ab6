"""Proofs generated from any source of complete nodes; a tree in memory as such a source."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .compact import fold_right, range_nodes
from .hashing import EMPTY_ROOT, NodeId, NodeSource, largest_power_of_two_below, node_hash


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PATH(index, D[size]), in proof order (leaf upwards)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
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
        k = largest_power_of_two_below(n)
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


