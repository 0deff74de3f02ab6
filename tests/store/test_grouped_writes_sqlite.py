"""`Database.write(run, grouped=True)` on SQLite: the grouped writes that reach the event loop in the same turn of it
run one after the other in one transaction on the loop, committed once (store/loop_groups.py); each answers as alone,
a refused one is refused alone with its trace once and the others land, none is made twice, a caller gone before its
group began has nothing made, and another process's write lock sends them to wait in threads."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, make_url, select
from sqlalchemy.orm import Session

from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database, keep_after_rollback
from verifier.store.reader import LoopTransactionEnded


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("SQLite's group commit on the event loop")
    return db


def _key(n: int) -> IdempotencyKey:
    return IdempotencyKey(user_id="u_1", key=f"k{n}", method_path="POST /x", request_hash="h", response_status=201,
                          response_body=b"{}", created_at=datetime(2020, 6, 1, tzinfo=UTC))


def _keys(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(IdempotencyKey.key)), key=lambda k: int(k[1:]))


def _insert(n: int, runs_of: dict[int, int] | None = None, saw: dict[int, int] | None = None):  # type: ignore[no-untyped-def]
    def run(session: Session) -> int:
        if runs_of is not None:
            runs_of[n] = runs_of.get(n, 0) + 1
        if saw is not None:
            saw[n] = int(session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0)
        session.add(_key(n))
        session.flush()
        return n
    return run


def _commits(db: Database) -> list[int]:
    commits: list[int] = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    return commits


def test_writes_arriving_in_one_turn_of_the_loop_commit_once_each_seeing_the_ones_before(sqlite_db: Database) -> None:
    commits = _commits(sqlite_db)
    saw: dict[int, int] = {}

    async def main() -> list[int]:
        return list(await asyncio.gather(*(sqlite_db.write(_insert(n, saw=saw), grouped=True) for n in range(1, 11))))

    assert asyncio.run(main()) == list(range(1, 11))  # each its own answer, in its place
    assert len(commits) == 1  # ten writes, one transaction
    assert saw == {n: n - 1 for n in range(1, 11)}  # in turn: each saw those before it in the group
    assert _keys(sqlite_db) == [f"k{n}" for n in range(1, 11)]


def test_a_write_alone_is_made_at_once_in_a_transaction_of_its_own(sqlite_db: Database) -> None:
    commits = _commits(sqlite_db)

    async def main() -> list[int]:
        first = await sqlite_db.write(_insert(1), grouped=True)
        second = await sqlite_db.write(_insert(2), grouped=True)
        return [first, second]

    assert asyncio.run(main()) == [1, 2]
    assert len(commits) == 2


def test_a_refused_write_is_refused_alone_with_its_trace_once_and_the_others_land_together(
        sqlite_db: Database) -> None:
    commits = _commits(sqlite_db)
    traces: list[int] = []
    runs_of: dict[int, int] = {}

    def refused(session: Session) -> None:
        session.add(_key(5))
        session.flush()

        def trace(s: Session) -> None:
            traces.append(1)
            s.add(_key(500))
            s.flush()

        raise keep_after_rollback(ValueError("不予办理"), trace)

    async def main() -> list[object]:
        runs = [_insert(n, runs_of) for n in range(1, 5)] + [refused] + [_insert(n, runs_of) for n in range(6, 9)]
        return list(await asyncio.gather(*(sqlite_db.write(run, grouped=True) for run in runs),
                                         return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[:4] == [1, 2, 3, 4] and answers[5:] == [6, 7, 8]
    assert isinstance(answers[4], ValueError) and str(answers[4]) == "不予办理"
    assert traces == [1]  # its trace kept once, by its own refusal, not by the group's
    # the group rolled back; the seven made again as one group (one COMMIT), the trace committed on its own
    assert len(commits) == 2
    assert runs_of == {1: 2, 2: 2, 3: 2, 4: 2, 6: 1, 7: 1, 8: 1}  # (those after it had not run yet)
    assert _keys(sqlite_db) == ["k1", "k2", "k3", "k4", "k6", "k7", "k8", "k500"]


def test_a_write_that_ends_the_transaction_is_refused_and_the_others_land(sqlite_db: Database) -> None:
    def ends(session: Session) -> None:
        session.add(_key(2))
        session.flush()
        session.rollback()  # the write's own transaction ended: nothing after it may be written in it

    async def main() -> list[object]:
        runs = [_insert(1), ends, _insert(3)]
        return list(await asyncio.gather(*(sqlite_db.write(run, grouped=True) for run in runs),
                                         return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[0] == 1 and answers[2] == 3
    assert isinstance(answers[1], LoopTransactionEnded)
    assert _keys(sqlite_db) == ["k1", "k3"]


def test_a_hook_failing_after_the_group_committed_makes_no_write_twice(sqlite_db: Database) -> None:
    runs_of: dict[int, int] = {}

    def failing(info: dict) -> None:  # type: ignore[type-arg]
        raise RuntimeError("a hook failed")

    sqlite_db.after_commit.append(failing)
    try:
        async def main() -> list[int]:
            return list(await asyncio.gather(*(sqlite_db.write(_insert(n, runs_of), grouped=True)
                                               for n in range(1, 4))))

        assert asyncio.run(main()) == [1, 2, 3]  # landed: answered as made
    finally:
        sqlite_db.after_commit.remove(failing)
    assert runs_of == {1: 1, 2: 1, 3: 1}
    assert _keys(sqlite_db) == ["k1", "k2", "k3"]


def test_a_caller_gone_before_its_group_began_has_nothing_made(sqlite_db: Database) -> None:
    runs_of: dict[int, int] = {}

    async def main() -> None:
        gone = asyncio.ensure_future(sqlite_db.write(_insert(1, runs_of), grouped=True))
        kept = asyncio.ensure_future(sqlite_db.write(_insert(2, runs_of), grouped=True))
        await asyncio.sleep(0)  # both waiting for the end of the loop's turn
        gone.cancel()
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(main())
    assert runs_of == {2: 1}
    assert _keys(sqlite_db) == ["k2"]


def test_another_process_holding_the_write_lock_sends_the_group_to_wait_in_threads(sqlite_db: Database) -> None:
    path = make_url(sqlite_db.url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        pytest.skip("a database in a file, shared with another connection")
    with sqlite_db.begin():  # (the write connection opened: WAL mode set)
        pass
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer, as far as this one can tell
    let_go = threading.Timer(0.3, other.execute, ["COMMIT"])
    let_go.start()
    try:
        async def main() -> list[int]:
            return list(await asyncio.gather(*(sqlite_db.write(_insert(n), grouped=True) for n in range(1, 5))))

        assert asyncio.run(main()) == [1, 2, 3, 4]  # waited for the lock, in threads, and landed
    finally:
        let_go.join()
        other.close()
    assert _keys(sqlite_db) == ["k1", "k2", "k3", "k4"]
