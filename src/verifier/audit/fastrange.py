"""One range of the fast pass (fastpass.py): entries [lo, hi), the stored nodes over them and the checkpoints
of sizes in (lo, hi], checked as the module docstring of fastpass.py describes. Run in the parent for a small
log, in worker processes (fastworkers.py) for a large one."""

from __future__ import annotations

import hashlib
from typing import Any

from . import merkle
from .scan import CheckpointCheck, Streams

_NODES_IN = "SELECT idx, hash FROM audit_node WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"


class Mismatch(Exception):
    """Something in the stored log is off; the sequential pass says what."""


def _within(levels: list[list[bytes]], m: int) -> list[bytes]:
    """The subtrees over a chunk's first m leaves, largest first, from the chunk's levels."""
    nodes, offset = [], 0
    for level in range(len(levels) - 1, -1, -1):
        if m >> level & 1:
            nodes.append(levels[level][offset >> level])
            offset += 1 << level
    return nodes


def _stored_prefix(streams: Streams, lo: int) -> list[bytes]:
    """The compact range of [0, lo) as stored: the subtrees left of a range (the parent checks them)."""
    hashes = []
    for level, i in merkle.range_nodes(0, lo):
        row = streams.first("SELECT hash FROM audit_node WHERE level = ? AND idx = ?", (level, i))
        if row is None:
            raise Mismatch
        hashes.append(bytes(row[0]))
    return hashes


def _stored_nodes(streams: Streams, lo: int, hi: int, top: int) -> list[list[tuple[Any, ...]]]:
    """The stored (idx, hash) rows inside [lo, hi) on levels 1..top (index 0: no level), in index order.
    Each level must hold as many as it should; `check_range` compares them in turn with the expected ones."""
    nodes: list[list[tuple[Any, ...]]] = [[]]
    for level in range(1, top + 1):
        first, end = lo >> level, hi >> level
        rows = streams.all(_NODES_IN, (level, first, end))
        if len(rows) != end - first:
            raise Mismatch
        nodes.append(rows)
    return nodes


def check_range(streams: Streams, checker: CheckpointCheck, lo: int, hi: int, span: int,
                chunk_levels: int) -> list[bytes]:
    """Check entries [lo, hi), the stored nodes over them and the checkpoints of sizes in (lo, hi].
    `lo` is a multiple of 2**span, and hi - lo is at most that. Returns the compact range of [lo, hi).

    The range's checkpoints and nodes are read first (at most 2**span of each), then the entries stream in.
    """
    chunk = 1 << chunk_levels
    top = min(span, (hi - lo).bit_length() - 1)  # the highest level with a node inside the range
    checkpoints = iter(streams.all(
        "SELECT tree_size, root, key_id, note FROM audit_checkpoint WHERE tree_size > ? AND tree_size <= ? "
        "ORDER BY tree_size", (lo, hi)))
    pending = next(checkpoints, None)
    prefix = _stored_prefix(streams, lo) if pending is not None else []
    stored = _stored_nodes(streams, lo, hi, top)

    sha256 = hashlib.sha256
    stack: list[bytes] = []
    c = lo
    for rows in streams.chunks("SELECT idx, entry, leaf_hash FROM audit_entry WHERE idx >= ? AND idx < ? "
                               "ORDER BY idx", (lo, hi), chunk):
        m = len(rows)
        idxs, datas, stored_leaves = zip(*rows)
        # The rows' own indices. While the primary key holds, the index inside each entry's bytes would show
        # any gap as well; without it, this is what shows an index rewritten in place.
        if idxs != tuple(range(c, c + m)):
            raise Mismatch
        leaves = [sha256(b"\x00" + data).digest() for data in datas]
        if leaves != list(stored_leaves):
            raise Mismatch
        # The index member, read in place as the sequential pass does (canonical.entry_index).
        for n, data in zip(idxs, datas):
            if not (data.startswith(b'{"action":')
                    and data.startswith(b'%d,"payload":' % n, data.find(b',"index":') + 9)):
                raise Mismatch

        levels, nodes, level = [leaves], leaves, 0
        while len(nodes) > 1:
            level += 1
            nodes = [sha256(b"\x01" + left + right).digest() for left, right in zip(nodes[0::2], nodes[1::2])]
            levels.append(nodes)
            at, first = (c - lo) >> level, c >> level  # (as rows: the expected indices beside the hashes)
            if stored[level][at:at + len(nodes)] != list(zip(range(first, first + len(nodes)), nodes)):
                raise Mismatch

        end = c + m
        while pending is not None and pending[0] <= end:
            if type(pending[0]) is not int:  # SQLite would store a fractional size
                raise Mismatch
            checker.check(pending, merkle.fold_right(prefix + stack + _within(levels, pending[0] - c)))
            pending = next(checkpoints, None)
        if m == chunk:
            h, level, i = levels[-1][0], chunk_levels, c >> chunk_levels
            while i & 1 and level < span:
                h = sha256(b"\x01" + stack.pop() + h).digest()
                level += 1
                i >>= 1
                if stored[level][i - (lo >> level)] != (i, h):
                    raise Mismatch
            stack.append(h)
        else:  # the range's last chunk, shorter
            stack += _within(levels, m)
        c = end
    return stack  # (if entries were missing, the parent's counts show it)
