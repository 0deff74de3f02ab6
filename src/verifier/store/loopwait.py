"""Waiting on the event loop for an exchange with PostgreSQL (store/pgwire.py), without psycopg's timer.

psycopg's `waiting.wait_async` arms a timer of `INTERVAL` for every wait (so that a blocked wait looks up now and
then: in a thread, for Ctrl-C) and cancels it when the socket is ready, besides the reader's registration. On the
event loop nothing needs that look-up: a wait is a future the socket's readiness resolves, and a cancelled task
leaves it as psycopg's does (the reader unregistered, the connection left in its pipeline, so never reused:
`AsyncReaders._give_back`). A read's exchange waits once or twice (the answers of one pipeline); the timer, its
cancellation and the clock readings around them were a measurable share of a case read's CPU in the process.

The generator protocol is psycopg's (`Wait.R`, `Wait.W`, `Wait.RW` yielded, the `Ready` state sent back); it is
never sent `Ready.NONE` here, which `exchange` would take as "wait on" anyway.
"""

from __future__ import annotations

import asyncio
import errno
import select
from collections.abc import Generator
from typing import TypeVar

from psycopg import errors
from psycopg.waiting import Ready, Wait

T = TypeVar("T")
_R, _W = Wait.R, Wait.W


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _mark(fut: asyncio.Future[None], ready: list[Ready], state: Ready) -> None:
    ready[0] |= state
    _wake(fut)


_IN, _OUT, _BROKEN = select.POLLIN, select.POLLOUT, select.POLLERR | select.POLLHUP


def _polled(fileno: int, s: Wait) -> Ready:
    """What the socket is ready for of what `s` asks, without waiting (a socket in error counts as ready for both,
    as `select` reports it: psycopg then meets the error)."""
    poll = select.poll()
    poll.register(fileno, (_IN if s & _R else 0) | _OUT)
    events = poll.poll(0)
    if not events:
        return Ready.NONE
    got = events[0][1]
    if got & select.POLLNVAL:  # as `select` raises it: the socket was closed
        raise OSError(errno.EBADF, "the connection's socket is closed")
    ready = Ready.NONE
    if got & (_IN | _BROKEN) and s & _R:
        ready |= Ready.R
    if got & (_OUT | _BROKEN):
        ready |= Ready.W
    return ready


async def wait_on_loop(gen: Generator[Wait, Ready, T], fileno: int) -> T:
    """Run `gen` to its end on the running loop, awaiting the socket `fileno` whenever it asks to wait."""
    try:
        s = next(gen)
        loop = asyncio.get_running_loop()
        while True:
            if s & _W:
                # A socket asked for writing is nearly always writable at once (a batch larger than its buffer
                # is the exception): a poll without waiting, as psycopg's own wait does (`poll`, not `select`,
                # which refuses a descriptor from 1024 on).
                ready = [_polled(fileno, s)]
                if ready[0]:
                    s = gen.send(ready[0])
                    continue
                fut = loop.create_future()
                try:  # registered within: whatever fails (or is cancelled) leaves nothing on the loop
                    loop.add_writer(fileno, _mark, fut, ready, Ready.W)
                    if s & _R:  # the server may be waiting for us to read before it reads more
                        loop.add_reader(fileno, _mark, fut, ready, Ready.R)
                    await fut
                finally:
                    loop.remove_writer(fileno)
                    if s & _R:
                        loop.remove_reader(fileno)
                s = gen.send(ready[0])
                continue
            fut = loop.create_future()
            try:
                loop.add_reader(fileno, _wake, fut)
                await fut
            finally:
                loop.remove_reader(fileno)
            s = gen.send(Ready.R)
    except OSError as exc:  # as psycopg's wait: the connection's socket was closed
        raise errors.OperationalError("connection socket closed") from exc
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]

