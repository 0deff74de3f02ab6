"""The fast pass's worker processes (fastpass.py): each checks a share of the ranges (fastrange.py).

Plain child processes of the same Python, with the parent's import path: unlike multiprocessing's spawn
they do not import the caller's main module, and unlike fork they inherit no connections or threads. Each
reads its list of tasks from stdin and writes its list of results to stdout, both pickled (parent and
child are the same program).
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
from typing import IO, TypeVar

from ..store.db import Database
from .fastrange import Mismatch, check_range
from .notes import VerifierKey
from .scan import Bad, CheckpointCheck, Streams, gc_paused, reader

_logger = logging.getLogger(__name__)
Result = tuple[list[bytes], int, "str | None"]
_T = TypeVar("_T")
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
_CHILD = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
          "from verifier.audit.fastworkers import _child; _child()")


@dataclass(frozen=True)
class Task:
    url: str
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
    """In a child: check its ranges in turn, stopping at the first that is off (None)."""
    results: list[Result | None] = []
    for task in share:
        results.append(_run_task(task))
        if results[-1] is None:
            break
    return results


def _run_task(task: Task) -> Result | None:
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
