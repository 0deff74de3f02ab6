"""PostgreSQL: reads on the event loop that arrive while others are in flight sent together, one pipeline, one round
trip on one connection (`AsyncReaders.run`).

Under load about as many reads are in flight as there are clients, and each batch of each read woke a backend of its
own for its own round trip. Here at most `GROUPS` exchanges are in flight at once: a batch that finds fewer goes at
once, alone, on the caller's own task (idle, nothing waits: no timer, no company awaited); one that finds them all
busy waits, with every other batch that arrives meanwhile, for the next exchange to end, and then up to `MOST` of
them go together (`pgwire.exchange_apart`): each batch closed by a sync of its own, so each is read as when sent
alone (an implicit transaction of its own in the readers' autocommit) and a statement refused aborts its own batch
only. Each read then goes on with its own rows; its next batch, if it has one, is gathered again.

- A batch of a group whose answer is an error is sent again alone (`_alone`), where it fails, or succeeds, as it
  would have by itself (a statement prepared by an earlier batch that failed first, say).
- A connection lost, or anything else that ends the group's exchange as a whole: the idle connections are dropped
  and each batch of the group is sent again alone, once (a read is safe to repeat), where it meets what it would
  have met alone (a new connection, or the 503 of a database still gone, store/faults.py).
- A read cancelled while it waits leaves the queue; one cancelled while its group is at the server leaves the
  group to finish without it (the group's exchange is a task of its own, never cancelled by one of its reads).
- A batch that has waited `PATIENCE` while the exchanges in flight have not ended (a read stuck behind a lock, a
  slow plan) goes with the others waiting in an exchange beyond `GROUPS`: a slow read delays the others by at most
  that, never holds them all (one timer a waiting spell, not one a read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

GROUPS = 2
"""Exchanges in flight at once (alone or in groups): each takes a connection of the pool."""
MOST = 32
"""Batches in one group at most."""
PATIENCE = 0.2
"""Seconds a batch waits for the exchanges in flight before it goes in one more (their reads are slow or stuck)."""


class Again(Exception):
    """A batch of a group answered with an error (`together`'s answer for it): sent again alone."""


class ReadGroups:
    """The gathering of one event loop's reads (`AsyncReaders` keeps one per loop)."""

    __slots__ = ("_alone", "_loop", "_sending", "_tasks", "_timer", "_together", "_waiting", "groups")

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 alone: Callable[[Any], Coroutine[Any, Any, list[list[Any]]]],
                 together: Callable[[Sequence[Any]], Coroutine[Any, Any, list[Any]]]) -> None:
        self._loop = loop
        self._alone = alone  # a batch sent by itself: its rows, or its error raised
        self._together = together  # batches in one exchange: for each, its rows or `Again`
        self._sending = 0
        self._waiting: list[tuple[Any, asyncio.Future[Any], float]] = []  # (batch, its answer, since when)
        self._timer: asyncio.TimerHandle | None = None  # the waiting spell's `PATIENCE`
        self._tasks: set[asyncio.Task[None]] = set()  # the groups' exchanges in flight (the loop keeps tasks weakly)
        self.groups = 0  # exchanges of more than one batch made (for tests and measurements)

    async def ask(self, batch: Any) -> list[list[Any]]:
        """The rows of `batch` (`alone`'s and `together`'s argument), sent alone or with others."""
        if self._sending < GROUPS and not self._waiting:
            self._sending += 1
            try:
                return await self._alone(batch)
            finally:
                self._sending -= 1
                self._next()
        future = self._loop.create_future()
        member = (batch, future, self._loop.time())
        self._waiting.append(member)
        if self._timer is None:
            self._timer = self._loop.call_later(PATIENCE, self._overdue)
        self._next()
        try:
            return await future  # type: ignore[no-any-return]
        except Again:
            return await self._alone(batch)
        except asyncio.CancelledError:
            if member in self._waiting:
                self._waiting.remove(member)
            raise

    def _next(self) -> None:
        """Start exchanges for the waiting batches while fewer than `GROUPS` are in flight."""
        while self._waiting and self._sending < GROUPS:
            self._start()

    def _start(self) -> None:
        group, self._waiting = self._waiting[:MOST], self._waiting[MOST:]
        self._sending += 1
        task = self._loop.create_task(self._send([(batch, future) for batch, future, _ in group]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _overdue(self) -> None:
        """The waiting spell's timer: the batches that waited `PATIENCE` go now, beyond `GROUPS`; then the timer
        again for the next one still waiting, if any."""
        self._timer = None
        now = self._loop.time()
        while self._waiting and now - self._waiting[0][2] >= PATIENCE:
            self._start()
        if self._waiting:
            self._timer = self._loop.call_later(max(0.0, PATIENCE - (now - self._waiting[0][2])), self._overdue)

    async def _send(self, group: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        try:
            if len(group) == 1:
                batch, future = group[0]
                try:
                    answers: list[Any] = [await self._alone(batch)]
                except Exception as exc:  # noqa: BLE001 — its own error, as alone
                    answers = [exc]
            else:
                self.groups += 1
                try:
                    answers = await self._together([batch for batch, _ in group])
                except Exception:  # noqa: BLE001 — not the database's answer: each read goes again alone
                    answers = [Again() for _ in group]
            for (_, future), answer in zip(group, answers):
                if not future.done():
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        except BaseException:  # this task cancelled (the loop closing): each read still waiting goes alone
            for _, future in group:
                if not future.done():
                    future.set_exception(Again())
            raise
        finally:
            self._sending -= 1
            self._next()
