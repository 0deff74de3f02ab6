"""PostgreSQL: short writes that arrive together committed together (group commit in the process).

Under load most of a short write's cost on PostgreSQL is not its own statements but what surrounds each one: the
hand-off to a worker thread, the transaction's begin and COMMIT, the WAL's flush that the COMMIT waits for, and the
round trip that carries them. Writes that are made `grouped` (`Database.write(run, grouped=True)`: a check recorded
is one) and that arrive while others are in flight wait for the next group: one worker thread runs each of them in
turn in one transaction of its held connection, and their deferred writes (the audit appends) go with that one COMMIT
and one flush. Idle, a group is one write and nothing waits (a write is never delayed to wait for company); at most
`GROUPS` groups are in flight at once, each of up to `GROUP_MAX` writes, so the process's and the server's work still
overlap on both cores.

What each write sees and does is as alone: its reads and locks in the group's transaction (a case locked by one is
locked for the group's rest, as by a longer transaction of its own), its rules asked by itself, its audit entries
appended in its order. Nothing of a group is answered before its COMMIT (and the flush) has returned: then every
write of it has landed. When any write of a group is refused, or a statement of it fails, the group's transaction is
rolled back whole and each of its writes is made again alone, in its own transaction, as `write` makes it: the
refused one is refused again by itself (and keeps its trace once), the others land. So a `grouped` write must be one
that may run again after a rollback (it keeps nothing of a first run but what it returns). A lost connection
(or any fault of the database's own: `faults.unavailable`) is not made again: each write of the group gets it, as a
write alone would (its COMMIT may have landed: the caller looks, as the check's shortcut does).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from . import faults
from .gather import run_gathered
from .reader import session_reader

if TYPE_CHECKING:
    from .db import Database

log = logging.getLogger(__name__)

GROUPS = 3  # groups in flight at once (each in a worker thread, on its held connection)
GROUP_MAX = 16  # writes in one group at most

Run = Callable[[Session], Any]
Outcome = tuple[bool, Any]  # (True, the result) or (False, the exception)


class WriteGroups:
    """The pending grouped writes of one `Database` and the groups in flight, kept on the event loop."""

    def __init__(self, db: Database, loop: asyncio.AbstractEventLoop) -> None:
        self._db = db
        self.loop = loop
        self._pending: list[tuple[Run, asyncio.Future[Any]]] = []
        self._in_flight = 0

    async def write(self, run: Run) -> Any:
        loop = self.loop
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((run, future))
        if self._in_flight < GROUPS:
            self._start(loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending[:GROUP_MAX], self._pending[GROUP_MAX:]
        try:
            running = loop.run_in_executor(None, self._db.write_group, [run for run, _ in batch])
        except BaseException as exc:  # (an executor shut down): each write refused, nothing left waiting
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._in_flight += 1
        running.add_done_callback(lambda done: self._done(loop, batch, done))

    def _done(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[Run, asyncio.Future[Any]]],
              done: asyncio.Future[list[Outcome]]) -> None:
        self._in_flight -= 1
        failed = None if done.cancelled() else done.exception()
        outcomes = done.result() if failed is None and not done.cancelled() else None
        for index, (_, future) in enumerate(batch):
            if future.done():
                continue  # its caller went away: the write was made or not, as one alone in a thread
            if outcomes is None:
                future.set_exception(failed or asyncio.CancelledError())
            elif outcomes[index][0]:
                future.set_result(outcomes[index][1])
            else:
                future.set_exception(outcomes[index][1])
        if self._pending and self._in_flight < GROUPS:
            self._start(loop)


def run_group(db: Database, runs: list[Run]) -> list[Outcome]:
    """In a worker thread: `runs` in one transaction of the thread's held connection, or each alone (see the module)."""
    if len(runs) > 1:
        session = db.thread_session()
        if session is not None:
            try:
                results = db.write_held_now(lambda s: _each(runs, s), session)
                return [(True, result) for result in results]
            except Exception as exc:  # noqa: BLE001 — judged below: the database's own fault, or one write's
                if faults.unavailable(exc):
                    return [(False, exc)] * len(runs)
                log.debug("a group of %d writes rolled back; each made alone", len(runs), exc_info=True)
    return [_alone(db, run) for run in runs]


def _each(runs: list[Run], session: Session) -> list[Any]:
    """`runs` in turn in the group's transaction, their prepared reads sent together (store/gather.py)."""
    reader = session_reader(session)

    def one(run: Run) -> Callable[[], Any]:
        def go() -> Any:
            try:
                return run(session)
            except BaseException as exc:
                _drop_kept(exc)  # made again alone, where its refusal keeps its trace once
                raise
        return go

    return run_gathered(reader.connection, reader.exchange_now, [one(run) for run in runs])


def _alone(db: Database, run: Run) -> Outcome:
    try:
        return True, db.write_blocking(run)
    except Exception as exc:  # noqa: BLE001 — handed to its caller, as `write` raises it
        return False, exc


def _drop_kept(exc: BaseException) -> None:
    from .db import drop_kept

    drop_kept(exc)
