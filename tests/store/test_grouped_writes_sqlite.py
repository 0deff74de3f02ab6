"""`Database.write(run, grouped=True)` on SQLite: the grouped writes that reach the event loop in the same turn of it
run one after the other in one transaction on the loop, committed once (store/loop_groups.py); each answers as alone,
a refused one is refused alone with its trace once and the others land, none is made twice, a caller gone before its
group began has nothing made, and another process's write lock sends them to wait in threads."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import event, func, make_url, select, update
from sqlalchemy.orm import Session

from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database
from verifier.store.reader import LoopTransactionEnded

from group_kit import key, keys, refused_keeping_a_trace


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("SQLite's group commit on the event loop")
    return db




def _insert(n: int, runs_of: dict[int, int] | None = None, saw: dict[int, int] | None = None):  # type: ignore[no-untyped-def]
    def run(session: Session) -> int:
        if runs_of is not None:
            runs_of[n] = runs_of.get(n, 0) + 1
        if saw is not None:
            saw[n] = int(session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0)
        session.add(key(n))
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
    assert keys(sqlite_db) == [f"k{n}" for n in range(1, 11)]


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

    refused = refused_keeping_a_trace(traces)

    async def main() -> list[object]:
        runs = [_insert(n, runs_of) for n in range(1, 5)] + [refused] + [_insert(n, runs_of) for n in range(6, 9)]
        return list(await asyncio.gather(*(sqlite_db.write(run, grouped=True) for run in runs),
                                         return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[:4] == [1, 2, 3, 4] and answers[5:] == [6, 7, 8]
    assert isinstance(answers[4], ValueError) and str(answers[4]) == "不予办理"
    assert traces == [1]  # its trace kept once, by its own refusal, not by the group's
    # the group rolled back; the four before it made again as a group, it alone (its trace committed on its own),
    # the three after it as a group: in the order they came
    assert len(commits) == 3
    assert runs_of == {1: 2, 2: 2, 3: 2, 4: 2, 6: 1, 7: 1, 8: 1}  # (those after it had not run yet)
    assert keys(sqlite_db) == ["k1", "k2", "k3", "k4", "k6", "k7", "k8", "k500"]


def test_a_write_that_ends_the_transaction_is_refused_and_the_others_land(sqlite_db: Database) -> None:
    def ends(session: Session) -> None:
        session.add(key(2))
        session.flush()
        session.rollback()  # the write's own transaction ended: nothing after it may be written in it

    async def main() -> list[object]:
        runs = [_insert(1), ends, _insert(3)]
        return list(await asyncio.gather(*(sqlite_db.write(run, grouped=True) for run in runs),
                                         return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[0] == 1 and answers[2] == 3
    assert isinstance(answers[1], LoopTransactionEnded)
    assert keys(sqlite_db) == ["k1", "k3"]


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
    assert keys(sqlite_db) == ["k1", "k2", "k3"]


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
    assert keys(sqlite_db) == ["k2"]


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
    assert keys(sqlite_db) == ["k1", "k2", "k3", "k4"]


def test_a_caller_gone_while_its_write_waited_in_a_thread_for_the_lock_has_nothing_made(sqlite_db: Database) -> None:
    """The writes sent to wait in threads for another process's lock: one whose caller went away meanwhile is not
    made, and the threads learn it without reading the caller's future (an asyncio future is read on its loop only)."""
    path = make_url(sqlite_db.url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        pytest.skip("a database in a file, shared with another connection")
    with sqlite_db.begin():  # (the write connection opened: WAL mode set)
        pass
    runs_of: dict[int, int] = {}
    asked: set[int] = set()

    class Watched(asyncio.Future):  # type: ignore[type-arg]
        def done(self) -> bool:
            asked.add(threading.get_ident())
            return super().done()

    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer
    try:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            loop.create_future = lambda: Watched(loop=loop)  # type: ignore[method-assign]
            kept = asyncio.ensure_future(sqlite_db.write(_insert(1, runs_of), grouped=True))
            gone = asyncio.ensure_future(sqlite_db.write(_insert(2, runs_of), grouped=True))
            await asyncio.sleep(0.1)  # the group met the lock: the first waits in a thread, the second after it
            gone.cancel()
            other.execute("COMMIT")
            assert await kept == 1
            with pytest.raises(asyncio.CancelledError):
                await gone

        asyncio.run(main())
    finally:
        other.close()
    assert runs_of == {1: 1}
    assert keys(sqlite_db) == ["k1"]
    assert asked == {threading.get_ident()}  # the loop's thread alone asked a future whether it was done


def test_retries_of_one_write_refused_but_the_first_cost_a_run_or_two_each(sqlite_db: Database) -> None:
    """A phone sending one check sixteen times in one turn of the loop: the first lands, the others are refused
    (the case is no longer scheduled), each made once or twice, not once for every pair of them."""
    runs: list[int] = []

    def retry(n: int):  # type: ignore[no-untyped-def]
        def run(session: Session) -> int:
            runs.append(n)
            if session.scalar(select(func.count()).select_from(IdempotencyKey)):
                raise ValueError("已录入")
            return _insert(n)(session)
        return run

    async def main() -> list[object]:
        return list(await asyncio.gather(*(sqlite_db.write(retry(n), grouped=True) for n in range(1, 17)),
                                         return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[0] == 1 and all(isinstance(a, ValueError) for a in answers[1:])
    assert len(runs) <= 2 * 16
    assert keys(sqlite_db) == ["k1"]


def test_a_write_of_a_group_reads_rows_not_the_objects_an_earlier_one_loaded(sqlite_db: Database) -> None:
    with sqlite_db.begin() as session:
        session.add(key(1))
    seen: list[int] = []
    kept: list[IdempotencyKey] = []  # what the first write keeps of what it loaded (its answer, say)

    def loads_then_updates_by_statement(session: Session) -> None:
        row = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "k1")).one()
        assert row.response_status == 201
        kept.append(row)
        session.execute(update(IdempotencyKey).where(IdempotencyKey.key == "k1").values(response_status=409)
                        .execution_options(synchronize_session=False))

    def reads(session: Session) -> None:
        seen.append(session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "k1")).one().response_status)

    async def main() -> None:
        await asyncio.gather(sqlite_db.write(loads_then_updates_by_statement, grouped=True),
                             sqlite_db.write(reads, grouped=True))

    asyncio.run(main())
    assert seen == [409]  # the row as the first write left it, not its loaded object


def test_a_caller_gone_while_its_group_waited_for_the_writers_turn_has_nothing_made(sqlite_db: Database) -> None:
    runs_of: dict[int, int] = {}
    holding, let_go = threading.Event(), threading.Event()

    def import_in_a_thread() -> None:
        with sqlite_db.begin() as session:  # a long write of a worker thread holds the writers' turn
            session.add(key(100))
            session.flush()
            holding.set()
            let_go.wait(10)

    async def main() -> None:
        thread = threading.Thread(target=import_in_a_thread)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, holding.wait, 10)
        gone = asyncio.ensure_future(sqlite_db.write(_insert(1, runs_of), grouped=True))
        kept = asyncio.ensure_future(sqlite_db.write(_insert(2, runs_of), grouped=True))
        for _ in range(5):
            await asyncio.sleep(0.02)  # the group begun, waiting for the turn
        gone.cancel()
        let_go.set()
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await gone
        await asyncio.get_running_loop().run_in_executor(None, thread.join)

    asyncio.run(main())
    assert runs_of == {2: 1}
    assert keys(sqlite_db) == ["k2", "k100"]


def test_a_checkpoint_not_asked_for_after_the_group_committed_makes_no_write_twice(
        sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if sqlite_db.wal_checkpoints is None:
        pytest.skip("a database in a file")
    runs_of: dict[int, int] = {}

    def cannot() -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(sqlite_db.wal_checkpoints, "poke", cannot)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(sqlite_db.write(_insert(n, runs_of), grouped=True) for n in range(1, 4))))

    assert asyncio.run(main()) == [1, 2, 3]
    assert runs_of == {1: 1, 2: 1, 3: 1}
    assert keys(sqlite_db) == ["k1", "k2", "k3"]
