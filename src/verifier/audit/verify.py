"""Verify the whole stored log from its entries up, in one pass and constant memory.

In one read-only snapshot, entries are streamed in index order. For each one: its index is the next
number (nothing missing, nothing extra beyond the head), its stored bytes hash to its stored leaf hash,
the index inside the bytes is its position, and the tree is rebuilt incrementally: every interior node
the entry completes is compared with the stored node. Each checkpoint is checked when the rebuilt tree
reaches its size: its signature by a known key, the size and root in its note against its row, and its
root against the rebuilt root at that size. Every checkpoint is thus a prefix of the one log the entries
define, so all checkpoints are mutually consistent (and one size has one root: tree_size is the key).
At the end the head's size and compact range must equal the rebuilt ones, and no stored node or
checkpoint may lie beyond the entries (a truncated log).

The first problem found stops the check. `first_bad_index` is the smallest entry index that cannot be
shown intact: the missing, extra, changed or misplaced entry; for a checkpoint that fails, the first entry
after the last checkpoint that verified (the entries since are no longer covered by a valid signature);
for a stored node or head that disagrees with the entries, the first entry under it that is not already
covered by a verified checkpoint; for a truncated log, its length.

That pass is the authority, but it runs in one process. `verify_log` first runs the fast pass
(fastpass.py), which checks the same things in aligned ranges, in parallel processes for a large log, and
answers only "intact" or not. When it is not, the sequential pass runs and names the first bad index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..store.db import Database
from . import merkle
from .canonical import CanonicalError, decode_entry, entry_index
from .fastpass import Plan, fast_pass
from .lastsigned import LastSigned, extension_problem
from .notes import VerifierKey
from .scan import Bad, CheckpointCheck, Streams, gc_paused, snapshot


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    first_bad_index: int | None
    message: str
    entries: int = 0
    checkpoints: int = 0
    processes: int = 0  # how many processes the fast pass ran in; 0: the sequential pass gave this result


def verify_log(
    db: Database,
    known_keys: Iterable[VerifierKey | str],
    *,
    strict: bool = False,
    batch: int = 2_000,
    processes: int | None = None,
    plan: Plan | None = None,
    last_signed: LastSigned | None = None,
) -> VerifyResult:
    """Recompute the log from its stored entries and check every node, the head and every checkpoint.

    `known_keys` are the keys checkpoints may be signed with (current and retired). With `strict`, every
    entry is also fully parsed and must be exactly canonical JSON (slower; the sequential pass only).
    `processes` caps the fast pass's processes (default: the machine's cores, at most 8); `plan` sets how
    it cuts the work (tests). `last_signed`, the last checkpoint the signing key signed as saved beside it
    (lastsigned.py), is checked too once the log is intact: its log must be a prefix of this one (else the result
    is not ok, with no first bad index: which entry was rewritten only the lost entries could tell).
    """
    result = _verify(db, known_keys, strict, batch, processes, plan)
    if result.ok and last_signed is not None:
        with db.read() as session:
            problem = extension_problem(session, last_signed)
        if problem is not None:
            return VerifyResult(False, None, problem, result.entries, result.checkpoints, result.processes)
    return result


def _verify(db: Database, known_keys: Iterable[VerifierKey | str], strict: bool, batch: int, processes: int | None,
            plan: Plan | None) -> VerifyResult:
    keys = [k if isinstance(k, VerifierKey) else VerifierKey.parse(k) for k in known_keys]
    with gc_paused():
        if not strict:
            outcome = fast_pass(db, keys, plan or Plan.for_machine(processes), batch)
            if outcome is not None:
                return VerifyResult(
                    True, None, f"intact: {outcome.entries} entries, {outcome.checkpoints} checkpoints",
                    outcome.entries, outcome.checkpoints, outcome.processes,
                )
        with snapshot(db) as conn:
            streams = Streams(conn, batch)
            try:
                return _Verification(streams, keys, strict).run()
            finally:
                streams.close()


class _Verification(CheckpointCheck):
    def __init__(self, streams: Streams, keys: list[VerifierKey], strict: bool) -> None:
        super().__init__(keys)
        self.s = streams
        self.strict = strict
        self.entries = 0
        self.levels: list[Iterator[tuple[Any, ...]]] = []

    def run(self) -> VerifyResult:
        try:
            self._run()
        except Bad as bad:
            return VerifyResult(False, bad.index, bad.message, self.entries, self.checkpoints)
        return VerifyResult(
            True, None, f"intact: {self.entries} entries, {self.checkpoints} checkpoints",
            self.entries, self.checkpoints,
        )

    def _node_stream(self, level: int) -> Iterator[tuple[Any, ...]]:
        """The stored nodes of one level in index order."""
        return self.s.rows("SELECT idx, hash FROM audit_node WHERE level = ? ORDER BY idx", (level,))

    def _run(self) -> None:
        head = self.s.first("SELECT size, compact FROM audit_head WHERE id = 1")
        head_size, head_compact = (0, b"") if head is None else (int(head[0]), bytes(head[1]))
        checkpoints = self.s.rows("SELECT tree_size, root, key_id, note FROM audit_checkpoint ORDER BY tree_size")
        pending = next(checkpoints, None)
        while pending is not None and pending[0] == 0:
            self.check(pending, merkle.EMPTY_ROOT)
            pending = next(checkpoints, None)
        next_size = -1 if pending is None else pending[0]

        # Both drivers hand BLOBs/bytea over as bytes, so rows are compared without copying.
        sha256 = hashlib.sha256
        strict = self.strict
        # Only entries below head_size get as far as hashing (the first one beyond is reported), so no node
        # above level head_top is ever needed: the levels above get no query.
        head_top = max(head_size.bit_length() - 1, 0)
        levels = self.levels = [iter(())] + [
            self._node_stream(level) if level <= head_top else iter(()) for level in range(1, 64)
        ]
        stack: list[bytes] = []
        push, pop = stack.append, stack.pop
        n = 0
        try:
            for batch in self.s.batches("SELECT idx, entry, leaf_hash FROM audit_entry ORDER BY idx"):
                for idx, data, stored_leaf in batch:
                    if idx != n or n >= head_size:
                        self._bad_position(idx, n, head_size)
                    leaf = sha256(b"\x00" + data).digest()
                    if leaf != stored_leaf:
                        raise Bad(n, f"entry {n} was changed: its bytes no longer hash to its stored leaf hash")
                    # The index member, read in place (see canonical.entry_index); parsed only when it looks off.
                    at = data.find(b',"index":')
                    if strict or at < 0 or not data.startswith(b'{"action":') \
                            or not data.startswith(b'%d,"payload":' % n, at + 9):
                        self._check_own_index(n, data)

                    h, level, i = leaf, 0, n
                    while i & 1:  # i: the index of h's subtree on its level; odd: a right child, completing a node
                        h = sha256(b"\x01" + pop() + h).digest()
                        level += 1
                        i >>= 1
                        stored = next(levels[level], None)
                        if stored is None or stored[0] != i or stored[1] != h:
                            self._bad_node(level, i, stored)
                    push(h)
                    n += 1
                    if n == next_size:
                        while pending is not None and pending[0] == n:
                            self.check(pending, merkle.fold_right(stack))
                            pending = next(checkpoints, None)
                        next_size = -1 if pending is None else pending[0]
        finally:
            self.entries = n

        if n < head_size:
            raise Bad(n, f"the log was truncated: its head records {head_size} entries, only {n} are stored")
        if pending is not None:
            raise Bad(n, f"the log was truncated: a checkpoint covers {pending[0]} entries, only {n} are stored")
        top = n.bit_length() - 1 if n else 0  # levels 1..top hold complete nodes, and their streams were read
        for level in range(1, top + 1):
            extra = next(levels[level], None)
            if extra is not None:
                self._extra_node(level, extra[0], n)
        beyond = self.s.first("SELECT level, idx FROM audit_node WHERE level > ? ORDER BY level, idx LIMIT 1", (top,))
        if beyond is not None:
            self._extra_node(int(beyond[0]), int(beyond[1]), n)
        if head_compact != b"".join(stack):
            nodes = merkle.range_nodes(0, n)
            stored = [head_compact[j:j + 32] for j in range(0, len(head_compact), 32)]
            for (level, i), mine, theirs in zip(nodes, stack, stored):
                if mine != theirs:
                    raise Bad(max(i << level, self.proven), f"the head's compact range differs from the entries over entries "
                                           f"{i << level}..{((i + 1) << level) - 1}")
            raise Bad(self.proven, "the head's compact range is malformed")

    def _bad_position(self, idx: int, n: int, head_size: int) -> None:
        """Entry row `idx` came where entry `n` was due, or `n` is not below the head's size."""
        if idx < n:
            raise Bad(idx, f"entry {idx} is stored twice")
        if idx > n and n < head_size:
            raise Bad(n, f"entry {n} is missing (the next stored entry is {idx})")
        raise Bad(idx, f"entry {idx} lies beyond the log's head (size {head_size}): it was added outside the log")

    def _check_own_index(self, n: int, data: bytes) -> None:
        try:
            own = decode_entry(data).index if self.strict else entry_index(data)
        except CanonicalError as exc:
            raise Bad(n, f"entry {n} is not a canonical entry: {exc}") from None
        if own != n:
            raise Bad(n, f"entry {n} holds the entry written as index {own}: entries were moved or swapped")

    def _bad_node(self, level: int, i: int, stored: tuple[Any, ...] | None) -> None:
        first, last = i << level, ((i + 1) << level) - 1
        bad = max(first, self.proven)
        if stored is None or stored[0] > i:
            raise Bad(bad, f"the stored tree lacks node (level {level}, index {i}) over entries {first}..{last}")
        raise Bad(bad, f"stored node (level {level}, index {i}) over entries {first}..{last} does not match "
                          "the entries: the node or entries under it were changed")

    def _extra_node(self, level: int, i: int, n: int) -> None:
        first = i << level
        raise Bad(min(first, n), f"the stored tree has node (level {level}, index {i}) over entries "
                                  f"{first}..{((i + 1) << level) - 1}, which the {n} stored entries do not complete")
