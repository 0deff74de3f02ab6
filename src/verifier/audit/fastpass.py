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
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from ..store.db import Database
from . import merkle
from .notes import VerifierKey
from .scan import Bad, CheckpointCheck, Streams, gc_paused, reader

CHUNK_LEVELS = 11          # chunks of 2,048 entries
SPAN_LEVELS = 16           # ranges of at most 65,536 entries: a range's nodes and checkpoints are held at once
PARALLEL_FROM = 1 << 18    # smaller logs are checked in one process: starting others would take longer
MAX_PROCESSES = 8
RANGES_PER_PROCESS = 4     # more ranges than processes, so that one slow range holds up little

_logger = logging.getLogger(__name__)
_NODES_IN = "SELECT idx, hash FROM audit_node WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"


class Mismatch(Exception):
    """Something in the stored log is off; the sequential pass says what."""


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
                      ranges: list[tuple[int, int]]) -> tuple[list[_Result], tuple[Any, ...] | None]:
        """The ranges' results from worker processes, and the counts, taken here while they work."""
        snapshot = None
        if self.db.dialect == "postgresql":
            row = self.s.first("SELECT pg_export_snapshot()")
            assert row is not None
            snapshot = str(row[0])
        keys = tuple(str(k) for k in self.keys)
        tasks = [_Task(self.db.url, snapshot, keys, lo, hi, span, self.plan.chunk_levels, self.s.batch)
                 for lo, hi in ranges]
        # Ranges are of equal size (but the last), so dealing them out in turn shares the work evenly.
        shares = [tasks[k::processes] for k in range(processes)]
        return _run_workers(shares, self._counts)

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


# --- One range -----------------------------------------------------------------------------------------------


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


# --- Worker processes ----------------------------------------------------------------------------------------
#
# Plain child processes of the same Python, with the parent's import path: unlike multiprocessing's spawn
# they do not import the caller's main module, and unlike fork they inherit no connections or threads. Each
# reads its list of tasks from stdin and writes its list of results to stdout, both pickled (parent and
# child are the same program).

_Result = tuple[list[bytes], int, "str | None"]
_T = TypeVar("_T")
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
_CHILD = "import json, sys; sys.path[:] = json.loads(sys.argv[1]); from verifier.audit.fastpass import _child; _child()"


@dataclass(frozen=True)
class _Task:
    url: str
    snapshot: str | None  # PostgreSQL: the parent's exported snapshot
    keys: tuple[str, ...]
    lo: int
    hi: int
    span: int
    chunk_levels: int
    batch: int


def _run_workers(shares: list[list[_Task]], meanwhile: Callable[[], _T]) -> tuple[list[_Result], _T]:
    """Run each share of tasks in a child process, and `meanwhile` here while they run. The results in the
    order of the tasks' ranges, and what `meanwhile` returned. Raises Mismatch if a range is off, or if a
    child cannot run (the sequential pass then runs here)."""
    command = [sys.executable, "-P", "-c", _CHILD, json.dumps(sys.path)]  # -P: not the working directory
    children: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    try:
        try:
            for share in shares:
                errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child cannot block on it
                try:
                    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
                except BaseException:
                    errors.close()
                    raise
                children.append((child, errors))
                assert child.stdin is not None
                with child.stdin:
                    child.stdin.write(pickle.dumps(share))  # a few hundred bytes: the pipe takes them at once
        except OSError as exc:
            _logger.warning("cannot start an audit verification worker (%s); checking in one process", exc)
            raise Mismatch from None
        done_here = meanwhile()
        outputs = [_output(child, errors) for child, errors in children]
    finally:
        for child, errors in children:
            if child.poll() is None:
                child.kill()
                child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()
            errors.close()
    results: list[_Result] = []
    for k in range(len(shares[0])):  # deal the results back in task order
        for output in outputs:
            if k < len(output):
                if output[k] is None:
                    raise Mismatch
                results.append(output[k])
    return results, done_here


def _output(child: subprocess.Popen[bytes], errors: IO[bytes]) -> list[_Result | None]:
    """What a child wrote, once it has ended; Mismatch if it failed."""
    assert child.stdout is not None
    out = child.stdout.read()
    if child.wait() == 0:
        try:
            output: list[_Result | None] = pickle.loads(out)
            return output
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            problem = f"unreadable output: {exc}"
    else:
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        problem = lines[-1] if lines else f"exit status {child.returncode}"
    _logger.warning("an audit verification worker failed (%s); checking in one process", problem)
    raise Mismatch


def _run_share(share: list[_Task]) -> list[_Result | None]:
    """In a child: check its ranges in turn, stopping at the first that is off (None)."""
    results: list[_Result | None] = []
    for task in share:
        results.append(_run_task(task))
        if results[-1] is None:
            break
    return results


def _run_task(task: _Task) -> _Result | None:
    db = _databases.get(task.url)
    if db is None:
        db = _databases[task.url] = Database(task.url)
    checker = CheckpointCheck(VerifierKey.parse(k) for k in task.keys)
    with reader(db) as conn, conn.begin():
        if task.snapshot is not None:
            if not _SNAPSHOT_ID.fullmatch(task.snapshot):
                raise ValueError(f"not a snapshot id: {task.snapshot!r}")
            conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{task.snapshot}'")
        streams = Streams(conn, task.batch)
        try:
            compact = check_range(streams, checker, task.lo, task.hi, task.span, task.chunk_levels)
        except (Mismatch, Bad):
            return None
        finally:
            streams.close()
    return compact, checker.checkpoints, checker.origin


_databases: dict[str, Database] = {}


def _child() -> None:
    """A worker process's main: tasks from stdin, results to stdout."""
    results_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the results and nothing else
    try:
        with gc_paused():
            results = _run_share(pickle.loads(sys.stdin.buffer.read()))
    finally:
        for db in _databases.values():
            db.dispose()
    results_out.write(pickle.dumps(results))
    results_out.flush()
