"""SQLite: grouped writes that reach the event loop in the same turn of it committed together, on the loop.

On SQLite a short write runs on the event loop (`Database.write`): its `BEGIN IMMEDIATE`, its statements and its
COMMIT, which writes to the WAL every page the transaction changed, whole. Most of those pages are the same for every
check (the audit log's tree and its last entries' page, the last pages of the tables and indexes a check appends to),
so under load the COMMITs and their pages were about a quarter of a check's CPU. Writes made `grouped`
(`Database.write(run, grouped=True)`: a check recorded is one) wait for the end of the loop's current turn
(`call_soon`: no timer), and those that arrived in it run one after the other in one transaction on the loop,
committed once (at most `GROUP_MAX` a group). Idle, a group is one write, made alone as before.

Each write of a group sees what the ones before it wrote (one connection, in turn: unlike PostgreSQL's groups,
store/groups.py, whose writes interleave between their reads, no `gather.claim` is needed), but nothing of their
objects: after each, its ORM work is flushed (a row it breaks refuses it, not the group) and the session let go of
what it loaded, so the next reads the rows, not another write's objects. None is answered before the group's COMMIT
has returned. A write refused within the group, or one that ended the transaction (`loop_transaction_ended`), rolls
the group back: those before it are made again as a group, then it alone, where its refusal keeps its trace once,
then those after it as a group (a grouped write must be one that may run again after a rollback; phone retries of
one check, all refused but the first, cost each one or two runs, not a run for every pair). Anything else that fails
before the COMMIT (a COMMIT refused for a full disk: on SQLite a COMMIT refused did not land) has each made alone,
each answered with its own outcome; what fails after it (an after-commit hook) is logged, the writes answered as made.
A write whose caller went away before its turn in the group came (the writers' turn waited for, say) is not made.
When another process holds the write lock (`LockBusy`, nothing done), the writes it met go to worker threads and wait
there, as `write`'s do.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from .reader import LOOP_CONNECTION, LoopTransactionEnded, loop_transaction_ended

if TYPE_CHECKING:
    from .db import Database

log = logging.getLogger(__name__)

GROUP_MAX = 16  # writes in one group at most

Run = Callable[[Session], Any]
Outcome = tuple[bool, Any]  # (True, the result) or (False, the exception)


class LoopGroups:
    """The grouped writes of one `Database` waiting for the end of the loop's turn (SQLite), kept on the loop."""

    def __init__(self, db: Database, loop: asyncio.AbstractEventLoop) -> None:
        self._db = db
        self.loop = loop
        self._pending: list[tuple[Run, asyncio.Future[Any]]] = []
        self._due = False
        self._running: set[asyncio.Task[None]] = set()

    async def write(self, run: Run) -> Any:
        future: asyncio.Future[Any] = self.loop.create_future()
        self._pending.append((run, future))
        if not self._due:
            self._due = True
            self.loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._due = False
        batch, self._pending = self._pending[:GROUP_MAX], self._pending[GROUP_MAX:]
        if self._pending:
            self._due = True
            self.loop.call_soon(self._start)
        batch = [(run, future) for run, future in batch if not future.done()]  # a caller gone: not made
        if batch:
            task = self.loop.create_task(self._run(batch))  # (groups take the writers' turn in their order)
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Run, asyncio.Future[Any]]]) -> None:
        try:
            outcomes = await self._db.write_loop_group([_unless_gone(run, future) for run, future in batch])
        except BaseException as exc:  # noqa: BLE001 — (the loop closing): each caller gets it
            outcomes = [(False, exc)] * len(batch)
        for (_, future), (made, value) in zip(batch, outcomes):
            if future.done():
                continue  # its caller went away while the group was made: made or not, as a write alone
            if made:
                future.set_result(value)
            else:
                future.set_exception(value)


def _unless_gone(run: Run, future: asyncio.Future[Any]) -> Run:
    """`run`, made only while its caller waits for it: on the loop (the group), read from its future; in a worker
    thread (the writes that met another process's lock, `Database.write_loop_group`), from a flag the loop sets."""
    gone = threading.Event()  # set on the loop once the caller's future is done; a worker thread may read it
    future.add_done_callback(lambda _: gone.set())
    loop_thread = threading.get_ident()  # (called on the loop, by `_run`)

    def go(session: Session) -> Any:
        if gone.is_set() or (threading.get_ident() == loop_thread and future.done()):
            return None  # its caller went away before its turn came: nothing made
        return run(session)
    return go


def run_group(db: Database, runs: list[Run]) -> list[Outcome]:
    """On the loop, with the writers' turn: `runs` in one transaction, or each alone (see the module)."""
    if len(runs) > 1:
        refused: list[int] = []
        try:
            results = db.write_in_turn(lambda session: _in_turn(runs, session, refused), quiet_hooks=True)
            return [(True, result) for result in results]
        except Exception as exc:  # noqa: BLE001 — one write's refusal, or the database's own fault
            if _busy(exc):
                return [(False, exc)] * len(runs)  # nothing done: each waits in a thread
            log.debug("a group of %d writes rolled back", len(runs), exc_info=True)
            if refused:
                k = refused[0]
                return [*run_group(db, runs[:k]), _alone(db, runs[k]), *run_group(db, runs[k + 1:])]
    return [_alone(db, run) for run in runs]


def _in_turn(runs: list[Run], session: Session, refused: list[int]) -> list[Any]:
    """`runs` one after the other in the group's transaction; the index of one refused is put in `refused`."""
    from .db import drop_kept

    results = []
    for index, run in enumerate(runs):
        try:
            results.append(run(session))
            if loop_transaction_ended(session.info[LOOP_CONNECTION]):  # the next would find it ended
                raise LoopTransactionEnded("the write's transaction was rolled back before its end")
            if session.new or session.dirty or session.deleted:
                session.flush()
            session.expunge_all()
        except BaseException as exc:
            drop_kept(exc)  # made again alone, where its refusal keeps its trace once
            refused.append(index)
            raise
    return results


def _alone(db: Database, run: Run) -> Outcome:
    try:
        return True, db.write_in_turn(run)
    except Exception as exc:  # noqa: BLE001 — handed to its caller, as `write` raises it
        return False, exc


def _busy(exc: BaseException) -> bool:
    from .db import LockBusy

    return isinstance(exc, LockBusy)
