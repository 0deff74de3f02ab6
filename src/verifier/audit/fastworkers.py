"""The fast pass's worker processes (fastpass.py): each checks a share of the ranges (fastrange.py).

Plain child processes of the same Python, with the parent's import path: unlike multiprocessing's spawn
they do not import the caller's main module, and unlike fork they inherit no connections or threads. Each
reads its list of tasks from stdin and writes its list of results to stdout, both pickled (parent and
child are the same program).

A child reads through the database driver alone (sqlite3 or psycopg), with the arguments the parent's engine
connects with (`Connect`): it imports neither SQLAlchemy nor the application's store, which would take longer
to import than a child takes to check a log of a few thousand entries.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from .fastrange import Mismatch, check_range
from .notes import VerifierKey
from .scan import Bad, CheckpointCheck, Streams, gc_paused

_logger = logging.getLogger(__name__)
Result = tuple[list[bytes], int, "str | None"]
_T = TypeVar("_T")
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
_CHILD = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
          "from verifier.audit.fastworkers import _child; _child()")


@dataclass(frozen=True)
class Connect:
    """How a child connects: the driver's arguments as the parent's read engine passes them, and on SQLite the
    busy timeout the parent's connection has."""

    postgresql: bool
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    busy_timeout_ms: int = 0


@dataclass(frozen=True)
class Task:
    connect: Connect
    snapshot: str | None  # PostgreSQL: the parent's exported snapshot
    keys: tuple[str, ...]
    lo: int
    hi: int
    span: int
    chunk_levels: int
    batch: int


def run_workers(shares: list[list[Task]], meanwhile: Callable[[], _T]) -> tuple[list[Result], _T]:
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
    results: list[Result] = []
    for k in range(len(shares[0])):  # deal the results back in task order
        for output in outputs:
            if k < len(output):
                if output[k] is None:
                    raise Mismatch
                results.append(output[k])
    return results, done_here


def _output(child: subprocess.Popen[bytes], errors: IO[bytes]) -> list[Result | None]:
    """What a child wrote, once it has ended; Mismatch if it failed."""
    assert child.stdout is not None
    out = child.stdout.read()
    if child.wait() == 0:
        try:
            output: list[Result | None] = pickle.loads(out)
            return output
        except (pickle.UnpicklingError, EOFError, ValueError) as exc:
            problem = f"unreadable output: {exc}"
    else:
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        problem = lines[-1] if lines else f"exit status {child.returncode}"
    _logger.warning("an audit verification worker failed (%s); checking in one process", problem)
    raise Mismatch


def _run_share(share: list[Task]) -> list[Result | None]:
    """In a child: check its ranges in turn, on one connection, stopping at the first that is off (None)."""
    results: list[Result | None] = []
    if not share:
        return results
    raw = _connect(share[0].connect)
    try:
        for task in share:
            results.append(_run_task(raw, task))
            if results[-1] is None:
                break
    finally:
        raw.close()
    return results


def _connect(connect: Connect) -> Any:
    """A driver connection whose transactions are read-only snapshots, as `scan.reader` gives the parent."""
    if connect.postgresql:
        import psycopg

        raw = psycopg.connect(*connect.args, **connect.kwargs)
        raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        raw.read_only = True
        return raw
    import sqlite3

    raw = sqlite3.connect(*connect.args, **connect.kwargs, isolation_level=None)  # BEGIN and ROLLBACK: `_run_task`
    raw.execute(f"PRAGMA busy_timeout={int(connect.busy_timeout_ms)}")
    return raw


def _run_task(raw: Any, task: Task) -> Result | None:
    checker = CheckpointCheck(VerifierKey.parse(k) for k in task.keys)
    postgresql = task.connect.postgresql
    if not postgresql:
        raw.execute("BEGIN")
    try:
        if task.snapshot is not None:  # the first statement of the transaction psycopg begins
            if not _SNAPSHOT_ID.fullmatch(task.snapshot):
                raise ValueError(f"not a snapshot id: {task.snapshot!r}")
            raw.execute(f"SET TRANSACTION SNAPSHOT '{task.snapshot}'")
        streams = Streams(None, task.batch, raw=raw, pg=postgresql)
        try:
            compact = check_range(streams, checker, task.lo, task.hi, task.span, task.chunk_levels)
        except (Mismatch, Bad):
            return None
        finally:
            streams.close()
    finally:  # it only read
        if postgresql:
            raw.rollback()
        else:
            raw.execute("ROLLBACK")
    return compact, checker.checkpoints, checker.origin


def _child() -> None:
    """A worker process's main: tasks from stdin, results to stdout."""
    results_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the results and nothing else
    with gc_paused():
        results = _run_share(pickle.loads(sys.stdin.buffer.read()))
    results_out.write(pickle.dumps(results))
    results_out.flush()
