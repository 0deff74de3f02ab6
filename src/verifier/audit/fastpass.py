"""The fast pass of `verify_log`: the whole log checked in aligned ranges, in several processes if the
machine has the cores. It only says "intact" or "something is off"; when something is off, `verify_log`
runs the sequential pass (verify.py), which finds and names the first bad index.

The log [0, size) is cut into ranges [lo, hi) of 2**span entries (the last one shorter; at most 65,536), each
starting at a multiple of its span, so that every stored node lies either inside one range or above all
of them.

For its range, a process first reads the checkpoints whose size falls in (lo, hi] and the stored nodes
inside the range, then streams the entries in chunks of 2**chunk_levels (also aligned; on PostgreSQL in
libpq's chunked-rows mode, so the server sends the next rows while this process hashes). For each chunk:
- its leaf hashes, then each level of the chunk's subtree, each list compared at once with the stored
  leaf hashes or nodes, as (index, hash) rows, so a missing, extra, reordered or changed row shows;
- the index written inside each entry's bytes must be its position;
- a checkpoint's root is the fold of the compact range of [0, lo) (taken from the stored nodes above the
  ranges), the range's own subtrees so far, and the part of the chunk up to the checkpoint's size. Its
  signature and origin are checked as in the sequential pass.
The process returns the compact range of [lo, hi).

The parent, in its own snapshot (workers import it on PostgreSQL; see below for SQLite), checks:
- the head, and the checkpoints of size 0;
- the nodes above the ranges, by merging the ranges' results as appends would;
- the head's compact range against the merged one;
- that every checkpoint named one origin;
- that the tables hold nothing else: as many entries as the head's size, as many nodes as that many
  entries complete, as many checkpoints as were checked.

Together these cover what the sequential pass checks. A stored node above the ranges that a process
used for a checkpoint's root is one the parent compares with the recomputed one.

Snapshots. On PostgreSQL the parent exports its snapshot and every worker transaction imports it, so all
read one state. SQLite has no shared snapshots: each worker reads the database as it is. The parent
notes SQLite's `data_version` in its snapshot and again after the workers are done. If anything was
committed in between, the result is discarded and the sequential pass decides.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from ..store.db import Database
from . import merkle
from .fastrange import Mismatch, check_range
from .fastworkers import Connect, Result, Task, run_workers
from .notes import VerifierKey
from .scan import Bad, CheckpointCheck, Streams, reader

CHUNK_LEVELS = 11          # chunks of 2,048 entries
SPAN_LEVELS = 16           # ranges of at most 65,536 entries: a range's nodes and checkpoints are held at once
PARALLEL_FROM = 1 << 18    # smaller logs are checked in one process: starting others would take longer
MAX_PROCESSES = 8
RANGES_PER_PROCESS = 4     # more ranges than processes, so that one slow range holds up little

_logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Plan:
    """How to cut and share the work. `span_level` and `chunk_levels` are for tests; by default ranges are
    sized so that each process gets about `RANGES_PER_PROCESS` of them."""

    processes: int = 1
    chunk_levels: int = CHUNK_LEVELS
    span_level: int | None = None
    parallel_from: int = PARALLEL_FROM

    @classmethod
    def for_machine(cls, processes: int | None = None) -> Plan:
        if processes is None:
            try:
                cores = len(os.sched_getaffinity(0))
            except AttributeError:  # not on every platform
                cores = os.cpu_count() or 1
            processes = min(cores, MAX_PROCESSES)
        return cls(processes=max(1, processes))

    def layout(self, size: int) -> tuple[int, int, list[tuple[int, int]]]:
        """(processes, span level, ranges) for a log of `size` entries."""
        parallel = self.processes > 1 and size >= self.parallel_from
        if self.span_level is not None:
            span = self.span_level
        elif parallel:
            per_range = -(-size // (self.processes * RANGES_PER_PROCESS))
            span = min((per_range - 1).bit_length(), SPAN_LEVELS)
        else:
            span = min(size.bit_length(), SPAN_LEVELS)
        span = max(span, self.chunk_levels)
        ranges = [(lo, min(lo + (1 << span), size)) for lo in range(0, size, 1 << span)]
        processes = min(self.processes, len(ranges)) if parallel else 1
        return processes, span, ranges


@dataclass(frozen=True)
class Outcome:
    entries: int
    checkpoints: int
    processes: int


def fast_pass(db: Database, keys: list[VerifierKey], plan: Plan, batch: int) -> Outcome | None:
    """Check the whole log; None if anything is off (or, on SQLite, changed while workers read it)."""
    sqlite = db.dialect == "sqlite"
    with reader(db) as conn:
        with conn.begin():
            streams = Streams(conn, batch)
            try:
                outcome = _Parent(db, streams, keys, plan).run()
            except (Mismatch, Bad):
                return None
            except Exception as exc:
                # Rows of a shape nothing writes (say, a fractional size): the sequential pass says what.
                _logger.warning("the fast audit check stopped (%r); checking entry by entry", exc)
                return None
            finally:
                streams.close()
            version = _data_version(streams.raw) if sqlite else None
        # Outside any transaction, SQLite's data_version is the latest; inside ours it was our snapshot's.
        if sqlite and outcome.processes > 1 and version != _data_version(conn.connection.dbapi_connection):
            return None
    return outcome


def _data_version(raw: Any) -> int:
    return int(raw.execute("PRAGMA data_version").fetchone()[0])


class _Parent:
    def __init__(self, db: Database, streams: Streams, keys: list[VerifierKey], plan: Plan) -> None:
        self.db = db
        self.s = streams
        self.keys = keys
        self.plan = plan

    def run(self) -> Outcome:
        s = self.s
        head = s.first("SELECT size, compact FROM audit_head WHERE id = 1")
        size, head_compact = (0, b"") if head is None else (int(head[0]), bytes(head[1]))
        checker = CheckpointCheck(self.keys)
        for row in s.rows("SELECT tree_size, root, key_id, note FROM audit_checkpoint WHERE tree_size = 0"):
            checker.check(row, merkle.EMPTY_ROOT)

        processes, span, ranges = self.plan.layout(size)
        if processes == 1:
            compacts = [check_range(s, checker, lo, hi, span, self.plan.chunk_levels) for lo, hi in ranges]
            checkpoints, origins = checker.checkpoints, {checker.origin}
            counts = self._counts()
        else:
            results, counts = self._in_processes(processes, span, ranges)
            compacts = [compact for compact, _, _ in results]
            checkpoints = checker.checkpoints + sum(count for _, count, _ in results)
            origins = {checker.origin} | {origin for _, _, origin in results}
        if len(origins - {None}) > 1:
            raise Mismatch
        if b"".join(self._merge(size, span, ranges, compacts)) != head_compact:
            raise Mismatch
        # The ranges and the merge found every entry 0..size-1, every node the entries complete and each
        # checkpoint up to the head, once. The counts show there is nothing else: no row beyond the head, on
        # another level, with a negative or missing index, or twice.
        if counts != (size, size - size.bit_count(), checkpoints):
            raise Mismatch
        return Outcome(size, checkpoints, processes)

    def _counts(self) -> tuple[Any, ...] | None:
        """How many entries, nodes and checkpoints are stored."""
        return self.s.first("SELECT (SELECT count(*) FROM audit_entry), (SELECT count(*) FROM audit_node), "
                            "(SELECT count(*) FROM audit_checkpoint)")

    def _in_processes(self, processes: int, span: int,
                      ranges: list[tuple[int, int]]) -> tuple[list[Result], tuple[Any, ...] | None]:
        """The ranges' results from worker processes, and the counts, taken here while they work."""
        snapshot = None
        if self.db.dialect == "postgresql":
            row = self.s.first("SELECT pg_export_snapshot()")
            assert row is not None
            snapshot = str(row[0])
        keys = tuple(str(k) for k in self.keys)
        connect = self._connect()
        tasks = [Task(connect, snapshot, keys, lo, hi, span, self.plan.chunk_levels, self.s.batch)
                 for lo, hi in ranges]
        # Ranges are of equal size (but the last), so dealing them out in turn shares the work evenly.
        shares = [tasks[k::processes] for k in range(processes)]
        return run_workers(shares, self._counts)

    def _connect(self) -> Connect:
        """How the workers connect: with the driver arguments of this database's read engine."""
        engine = self.db.read_engine
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs.pop("context", None)  # SQLAlchemy's own psycopg adapters: the workers' rows need only psycopg's
        if self.db.dialect == "postgresql":
            return Connect(True, tuple(args), kwargs)
        busy = self.s.first("PRAGMA busy_timeout")
        return Connect(False, tuple(args), kwargs, int(busy[0]) if busy else 0)

    def _merge(self, size: int, span: int, ranges: list[tuple[int, int]], compacts: list[list[bytes]]) -> list[bytes]:
        """The compact range of the whole log from the ranges' ones, comparing each node above the ranges
        with the stored one; raises Mismatch at the first that differs."""
        top = size.bit_length() - 1 if size else 0
        above = {level: iter(self.s.all("SELECT idx, hash FROM audit_node WHERE level = ? ORDER BY idx", (level,)))
                 for level in range(span + 1, top + 1)}
        sha256 = hashlib.sha256
        stack: list[bytes] = []
        for (lo, hi), compact in zip(ranges, compacts, strict=True):
            if hi - lo < 1 << span:  # the last range, shorter: its subtrees are the tail of the whole range
                stack += compact
                continue
            h, level, i = compact[0], span, lo >> span
            while i & 1:
                h = sha256(b"\x01" + stack.pop() + h).digest()
                level += 1
                i >>= 1
                stored = next(above[level], None)
                if stored is None or stored[0] != i or stored[1] != h:
                    raise Mismatch
            stack.append(h)
        return stack
