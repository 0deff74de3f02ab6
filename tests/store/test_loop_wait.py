"""PostgreSQL's reads on the event loop wait for their socket without psycopg's timer (store/loopwait.py): a batch
larger than the socket's buffer waits to write, a read cancelled while the server works leaves nothing registered
on the loop and its connection is not used again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import String, bindparam, func, literal_column, select

from verifier.store.reader import Prepared

_LENGTH = Prepared(select(func.length(bindparam("text", type_=String)).label("n")))
_SLOW = Prepared(select(literal_column("1").label("one")).select_from(func.pg_sleep(bindparam("seconds"))))
_BACKEND = Prepared(select(func.pg_backend_pid().label("pid")))


def _one(prepared: Prepared, **params: Any) -> Any:
    rows, = yield [(prepared, params)]
    return rows[0][0]


def _postgres(ctx: Any) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("the event loop's waits are PostgreSQL's (SQLite reads on the loop's own connection)")


def test_a_batch_larger_than_the_sockets_buffer_is_written_as_the_socket_drains(ctx) -> None:  # type: ignore[no-untyped-def]
    _postgres(ctx)
    big = "x" * (16 * 1024 * 1024)  # far beyond a loopback socket's send buffer: libpq's flush comes back unfinished

    async def reads() -> list[int]:
        return [await ctx.db.ask(_one(_LENGTH, text=big)), await ctx.db.ask(_one(_LENGTH, text="short"))]

    assert asyncio.run(reads()) == [len(big), 5]


def test_a_read_cancelled_mid_wait_leaves_no_reader_on_the_loop_and_its_connection_is_not_reused(ctx) -> None:  # type: ignore[no-untyped-def]
    _postgres(ctx)

    async def scenario() -> tuple[int, int, bool, Any]:
        first = await ctx.db.ask(_one(_BACKEND))
        connection, = ctx.db._async_readers._idle  # the one connection, idle: the slow read takes it
        fd = connection.pgconn.socket
        slow = asyncio.create_task(ctx.db.ask(_one(_SLOW, seconds=5)))
        await asyncio.sleep(0.3)  # the statement is at the server; the read waits on its socket
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        still_registered = asyncio.get_running_loop().remove_reader(fd)
        after = await ctx.db.ask(_one(_BACKEND))  # a new connection: the cancelled one's answers were never read
        return first, after, still_registered, connection

    first, after, still_registered, cancelled = asyncio.run(scenario())
    assert not still_registered
    assert after != first
    assert cancelled.closed and cancelled not in ctx.db._async_readers._idle


def _high_pair() -> tuple[Any, int]:
    """A connected socket pair, one end's descriptor at 1500 (beyond what `select` takes)."""
    import os
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= 1500:
        if hard != resource.RLIM_INFINITY and hard <= 1500:
            pytest.skip("this process may not open a descriptor at 1500")
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    a, b = socket.socketpair()
    high = os.dup2(a.fileno(), 1500)
    a.close()
    return b, high


def test_a_socket_with_a_descriptor_from_1024_on_is_waited_for() -> None:
    # `select.select` refuses such a descriptor (ValueError): a busy process's connection would fail as a 500.
    import os

    from psycopg.waiting import Ready, Wait

    from verifier.store.loopwait import wait_on_loop

    other, high = _high_pair()
    got: list[Ready] = []

    def exchange():  # type: ignore[no-untyped-def]
        got.append((yield Wait.RW))  # writable at once: the poll without waiting
        other.send(b"x")
        got.append((yield Wait.R))
        return os.read(high, 1)

    try:
        assert asyncio.run(wait_on_loop(exchange(), high)) == b"x"
    finally:
        os.close(high)
        other.close()
    assert got[0] & Ready.W and got[1] == Ready.R


def test_a_registration_that_fails_leaves_nothing_on_the_loop() -> None:
    import socket

    from psycopg.waiting import Wait

    from verifier.store.loopwait import wait_on_loop

    a, b = socket.socketpair()
    a.setblocking(False)
    try:
        while True:  # the send buffer full: the write waits on the loop
            a.send(b"x" * 65536)
    except BlockingIOError:
        pass

    def exchange():  # type: ignore[no-untyped-def]
        yield Wait.RW
        return None

    async def scenario() -> bool:
        loop = asyncio.get_running_loop()

        def refuse(*_: Any) -> None:
            raise RuntimeError("no reader")

        loop.add_reader = refuse  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await wait_on_loop(exchange(), a.fileno())
        return loop.remove_writer(a.fileno())  # True: a writer was left registered

    try:
        assert asyncio.run(scenario()) is False
    finally:
        a.close()
        b.close()
