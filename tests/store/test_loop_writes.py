"""`Database.write`: a short write from the event loop (on SQLite run on the loop itself, in turn with the threads'
writers, and sent to a worker thread when another process holds the write lock, so the loop never waits for it; on
PostgreSQL run in a worker thread on the connection that thread holds between its writes)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database
from verifier.store.reader import LOOP_CONNECTION


def _key(n: int) -> IdempotencyKey:
    return IdempotencyKey(user_id="u_1", key=f"k{n}", method_path="POST /x", request_hash="h", response_status=201,
                          response_body=b"{}", created_at=datetime(2020, 6, 1, tzinfo=UTC))


def _insert(n: int):  # type: ignore[no-untyped-def]
    def run(session: Session) -> int:
        session.add(_key(n))
        session.flush()
        return n

    return run


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0)


def test_a_write_commits_and_answers_and_a_failed_one_leaves_nothing(db: Database) -> None:
    def fails(session: Session) -> None:
        session.add(_key(2))
        session.flush()
        raise ValueError("refused")

    async def main() -> None:
        assert await db.write(_insert(1)) == 1
        with pytest.raises(ValueError):
            await db.write(fails)
        assert await db.write(_insert(3)) == 3  # the turn was given back

    asyncio.run(main())
    with db.read() as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k1", "k3"]


def test_loop_writers_and_thread_writers_take_turns(db: Database) -> None:
    def thread_writes(start: int) -> None:
        for n in range(start, start + 40):
            with db.begin() as session:
                _insert(n)(session)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        threads = [loop.run_in_executor(None, thread_writes, 1000 * (k + 1)) for k in range(3)]
        written = await asyncio.gather(*(db.write(_insert(n)) for n in range(120)), *threads)
        assert written[:120] == list(range(120))

    asyncio.run(main())
    assert _count(db) == 120 + 3 * 40


def test_a_write_waits_for_another_process_in_a_thread_not_on_the_loop(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's write lock")
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    released = threading.Timer(0.5, lambda: other.execute("COMMIT"))

    async def main() -> int:
        ticks = 0
        write = asyncio.ensure_future(db.write(_insert(1)))
        released.start()
        while not write.done():
            ticks += 1
            await asyncio.sleep(0.01)
        assert await write == 1
        return ticks

    try:
        ticks = asyncio.run(main())
    finally:
        released.join()
        other.close()
    assert ticks >= 20  # the loop went on while the write waited for the lock
    assert _count(db) == 1


def test_the_loops_writes_share_one_connection_and_leave_nothing_in_it(db: Database) -> None:
    """SQLite: the event loop's writes run on one connection held between them (`Database._loop_session`): each
    commits or rolls back whole, nothing of one (its session's objects, its `info`) is seen by the next, and after a
    write that went to a thread (another process held the lock), a pool replaced or `dispose` the writes go on."""
    if not db.is_sqlite:
        pytest.skip("the event loop's own write connection is SQLite's")
    seen: list[tuple[object, dict, int]] = []  # the connections kept: compared by identity

    def look(n: int):  # type: ignore[no-untyped-def]
        def run(session: Session) -> int:
            connection = session.connection()
            info = dict(session.info)
            # the write's own connection, in whose transaction the session's joins (`Database._write_now`)
            assert info.pop(LOOP_CONNECTION)[0] is connection
            seen.append((connection.connection.dbapi_connection, info, len(session.identity_map)))
            session.info["mark"] = n
            return _insert(n)(session)

        return run

    def fails(session: Session) -> None:
        _insert(99)(session)
        session.info["mark"] = 99
        raise ValueError("refused")

    async def main() -> None:
        assert await db.write(look(1)) == 1
        with pytest.raises(ValueError):
            await db.write(fails)
        assert await db.write(look(2)) == 2
        other = sqlite3.connect(db.engine.url.database, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        released = threading.Timer(0.2, lambda: other.execute("COMMIT"))
        released.start()
        try:
            assert await db.write(_insert(3)) == 3  # in a worker thread, waiting for the lock
        finally:
            released.join()
            other.close()
        assert await db.write(look(4)) == 4
        db.engine.dispose()  # as a restore does: the held connection is let go of with its pool
        assert await db.write(look(5)) == 5
        db.dispose()
        assert await db.write(look(6)) == 6

    asyncio.run(main())
    connections = [c for c, _, _ in seen]
    assert connections[0] is connections[1] is connections[2]  # one connection, held between the loop's writes
    assert connections[3] is not connections[2] and connections[4] is not connections[3]
    assert all(info == {} and objects == 0 for _, info, objects in seen)
    with db.read() as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k1", "k2", "k3", "k4", "k5", "k6"]


def test_on_postgresql_a_worker_threads_writes_share_one_connection_and_come_back_after_the_server_ends_it(
        db: Database) -> None:
    """PostgreSQL: `Database.write` runs in a worker thread on a connection that thread holds between its writes
    (`Database._thread_session`): each write commits or rolls back whole and leaves nothing to the next; a held
    connection whose backend the server ended (a restart, `pg_terminate_backend`) is replaced before the next write,
    without an error; a pool replaced and `dispose` let go of it."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's worker threads")
    import psycopg

    seen: list[tuple[int, int, str, dict, int]] = []  # (thread, backend, transaction status, info, objects)

    def look(n: int):  # type: ignore[no-untyped-def]
        def run(session: Session) -> int:
            pid = session.execute(select(func.pg_backend_pid())).scalar_one()
            info = dict(session.info)
            # the write's own transaction, on the thread's held connection (`Database._write_held`)
            assert info.pop(LOOP_CONNECTION)[0] is session.get_bind()
            seen.append((threading.get_ident(), pid, "", info, len(session.identity_map)))
            session.info["mark"] = n
            return _insert(n)(session)

        return run

    def fails(session: Session) -> None:
        _insert(99)(session)
        session.info["mark"] = 99
        raise ValueError("refused")

    libpq = db.url.replace("postgresql+psycopg://", "postgresql://")
    executor = ThreadPoolExecutor(1)  # one worker thread: one connection

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(executor)
        assert await db.write(look(1)) == 1
        with pytest.raises(ValueError):
            await db.write(fails)
        assert await db.write(look(2)) == 2
        assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]  # held out of the pool
        with psycopg.connect(libpq, autocommit=True) as admin:
            idle = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (seen[-1][1],)).fetchone()
            assert idle == ("idle",)  # held between writes, in no transaction
            assert admin.execute("SELECT pg_terminate_backend(%s)", (seen[-1][1],)).fetchone() == (True,)
        await asyncio.sleep(0.5)  # the server has told the client and closed the socket
        assert await db.write(look(3)) == 3  # no error: another connection
        assert await db.write(look(4)) == 4
        db.engine.dispose()  # as a restore does: the held connection is let go of with its pool
        assert await db.write(look(5)) == 5
        db.dispose()
        assert await db.write(look(6)) == 6

    try:
        asyncio.run(main())
    finally:
        executor.shutdown()
    threads = {thread for thread, *_ in seen}
    pids = [pid for _, pid, *_ in seen]
    assert len(threads) == 1
    assert pids[0] == pids[1]  # one connection held between the thread's writes, a refused one between them
    assert pids[2] != pids[1] and pids[3] == pids[2]  # replaced once its backend was ended, then held again
    assert pids[4] != pids[3] and pids[5] != pids[4]
    assert all(info == {} and objects == 0 for *_, info, objects in seen)
    with db.read() as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k1", "k2", "k3", "k4", "k5", "k6"]


def test_on_postgresql_the_connection_of_a_thread_gone_is_given_back(db: Database) -> None:
    """PostgreSQL: a worker thread that ended (its executor shut down) leaves no connection held: the next thread that
    takes one gives it back to the pool, so threads that come and go never hold more than a few."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's worker threads")
    for n in range(12):  # more threads, one after another, than may hold a connection at once
        executor = ThreadPoolExecutor(1)

        async def main(n: int = n) -> int:
            asyncio.get_running_loop().set_default_executor(executor)
            return await db.write(_insert(n))

        try:
            assert asyncio.run(main()) == n
        finally:
            executor.shutdown()
    assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]  # the last thread's, kept until it is looked at
    assert _count(db) == 12


def test_on_postgresql_a_held_connection_left_in_a_transaction_is_not_joined_by_the_next_write(db: Database) -> None:
    """PostgreSQL: a held connection that is not idle between writes (a transaction left open behind the session's
    back, as a rollback that failed without a disconnect would leave it) is let go of before the next write: that
    write does not join the leftover transaction (whose row would then be committed with it), it takes another
    connection and commits only its own."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's worker threads")
    pids: list[int] = []

    def first(session: Session) -> int:
        pids.append(session.execute(select(func.pg_backend_pid())).scalar_one())
        return _insert(1)(session)

    def leave_open() -> None:  # in the worker thread, on the connection it holds, behind the session's back
        raw = db._thread_held.held[0].connection.dbapi_connection
        raw.execute("INSERT INTO idempotency_key (user_id, key, method_path, request_hash, response_status, "
                    "response_body, created_at) VALUES ('u_1', 'stray', 'POST /x', 'h', 201, '\\x7b7d', now())")

    def second(session: Session) -> int:
        pids.append(session.execute(select(func.pg_backend_pid())).scalar_one())
        return _insert(2)(session)

    executor = ThreadPoolExecutor(1)

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(executor)
        assert await db.write(first) == 1
        await asyncio.get_running_loop().run_in_executor(None, leave_open)
        assert await db.write(second) == 2

    try:
        asyncio.run(main())
    finally:
        executor.shutdown()
    assert len(pids) == 2  # (the connection let go of goes back to the pool, rolled back: it may come back)
    with db.read() as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k1", "k2"]


def _prepared_key(n: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from verifier.store.writer import PreparedWrite

    table = IdempotencyKey.__table__
    row = {c.name: getattr(_key(n), c.key) for c in table.columns}
    return PreparedWrite(insert(table)), row


@pytest.mark.parametrize("ended_by", ["session", "sqlite"])
def test_a_write_whose_transaction_ended_midway_writes_nothing_more_and_commits_nothing(db: Database,
                                                                                       ended_by: str) -> None:
    """SQLite, on the event loop: the session rolled back within the write, or SQLite itself rolling back (as after
    a full disk): a prepared write after it is refused (its connection, in autocommit, would have committed it at
    once, alone), and so is ORM work after the session's rollback (it would begin and commit a transaction of its
    own); nothing of the write is kept."""
    if not db.is_sqlite:
        pytest.skip("the event loop's own write transaction is SQLite's")
    from verifier.store.reader import LoopTransactionEnded
    from verifier.store.writer import run_batch

    def end(session: Session) -> None:
        if ended_by == "session":
            session.scalar(select(func.count()).select_from(IdempotencyKey))  # the session joins the transaction
            session.rollback()  # and its rollback ends it
        else:
            session.info[LOOP_CONNECTION][2].execute("ROLLBACK")

    def prepared(session: Session) -> None:
        run_batch(session, [_prepared_key(1)])
        end(session)
        run_batch(session, [_prepared_key(2)])

    def orm(session: Session) -> None:
        run_batch(session, [_prepared_key(3)])
        end(session)
        _insert(4)(session)

    async def main() -> None:
        # (ORM work after SQLite's own rollback is not looked at: it runs on the connection as SQLAlchemy sees it)
        for write in (prepared, orm) if ended_by == "session" else (prepared,):
            with pytest.raises(LoopTransactionEnded):
                await db.write(write)
        assert await db.write(_insert(5)) == 5  # the next write as usual

    asyncio.run(main())
    with db.read() as session:
        assert sorted(session.scalars(select(IdempotencyKey.key))) == ["k5"]
