"""`Database.ask` on PostgreSQL: reads that arrive while others are in flight are sent together, one pipeline on one
connection (store/readgroups.py, `pgwire.exchange_apart`); each gets its own rows, a refused one is refused alone,
after a lost connection each is sent again alone; a read alone goes at once; SQLite unchanged."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Integer, String, bindparam, cast, func, literal_column, select
from sqlalchemy.exc import DBAPIError

from verifier.store import reader as reader_module
from verifier.store import readgroups
from verifier.store.db import Database
from verifier.store.faults import unavailable
from verifier.store.reader import Prepared

_ECHO = Prepared(select(bindparam("n", type_=Integer).label("n")))
_BACKEND = Prepared(select(func.pg_backend_pid().label("pid")))
_NUMBER = Prepared(select(cast(bindparam("text", type_=String), Integer).label("number")))
_END = Prepared(select(func.pg_terminate_backend(func.pg_backend_pid()).label("ended")))
_ONE = Prepared(select(literal_column("1").label("one")))


def _read(n: int) -> Any:
    """Two batches: its number with the backend that read it, then its number again."""
    (echo,), (backend,) = yield [(_ECHO, {"n": n}), (_BACKEND, {})]
    (again,), = yield [(_ECHO, {"n": n * 100})]
    return echo.n, backend.pid, again.n


def _number(text: str) -> Any:
    rows, = yield [(_NUMBER, {"text": text})]
    return rows[0].number


def _ending() -> Any:
    rows, = yield [(_END, {})]
    return rows[0].ended


def _postgres(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's gathered reads (SQLite reads on the loop's own connection)")


@pytest.fixture
def exchanges(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each round trip of the event loop's readers: ("alone", statements) or ("together", batches)."""
    made: list[tuple[str, int]] = []
    alone, together = reader_module.exchange, reader_module.exchange_apart

    def counted_alone(connection: Any, statements: Any, **kw: Any) -> Any:
        made.append(("alone", len(statements)))
        return alone(connection, statements, **kw)

    def counted_together(connection: Any, batches: Any) -> Any:
        made.append(("together", len(batches)))
        return together(connection, batches)

    monkeypatch.setattr(reader_module, "exchange", counted_alone)
    monkeypatch.setattr(reader_module, "exchange_apart", counted_together)
    monkeypatch.setattr(readgroups, "GROUPS", 1)  # the first read alone, the rest gathered behind it
    return made


def test_ten_reads_arriving_together_share_round_trips_each_with_its_own_rows(
        db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(db.ask(_read(n)) for n in range(1, 11))))

    answers = asyncio.run(main())
    assert [(n, again) for n, _, again in answers] == [(n, n * 100) for n in range(1, 11)]
    assert len({pid for _, pid, _ in answers[1:]}) == 1  # the nine that waited: one connection
    # The first read alone (its two batches), the nine in two round trips of nine batches: four, not twenty.
    assert exchanges == [("alone", 2), ("together", 9), ("alone", 1), ("together", 9)]


def test_a_read_alone_goes_at_once_by_itself(db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)

    async def main() -> Any:
        return await db.ask(_read(7)), db._async_readers._groups().groups  # type: ignore[union-attr]

    (n, _, again), groups = asyncio.run(main())
    assert (n, again, groups) == (7, 700, 0)
    assert exchanges == [("alone", 2), ("alone", 1)]


def test_a_refused_read_of_a_group_is_refused_alone_and_the_others_get_their_rows(
        db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)
    texts = ["1", "2", "3", "4", "five", "6", "7", "8", "9", "10"]

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(db.ask(_number(t)) for t in texts), return_exceptions=True))

    answers = asyncio.run(main())
    refused = answers.pop(4)
    assert isinstance(refused, DBAPIError) and "invalid input syntax" in str(refused)
    assert not unavailable(refused)
    assert answers == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    # the first alone, the nine together, the refused one again alone (where it is refused as by itself)
    assert exchanges == [("alone", 1), ("together", 9), ("alone", 1)]


def test_a_statement_first_prepared_by_a_refused_batch_sends_the_batches_that_use_it_again_alone(
        db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)
    fresh = Prepared(select((bindparam("n", type_=Integer) + 1000).label("m")))  # on no connection yet

    def first_refused(text: str, n: int) -> Any:
        (_, (row,)) = yield [(_NUMBER, {"text": text}), (fresh, {"n": n})]
        return row.m

    def fresh_only(n: int) -> Any:
        (row,), = yield [(fresh, {"n": n})]
        return row.m

    async def main() -> list[Any]:
        reads = [db.ask(_read(1)), db.ask(first_refused("two", 2))] + [db.ask(fresh_only(n)) for n in range(3, 11)]
        return list(await asyncio.gather(*reads, return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[0][0] == 1
    refused = answers[1]
    assert isinstance(refused, DBAPIError) and "invalid input syntax" in str(refused)
    # the refused batch aborted its own prepare; the eight that used the name failed in the pipeline, and again
    # alone they are answered (the statement prepared then)
    assert answers[2:] == [n + 1000 for n in range(3, 11)]
    # the first read's two batches alone, the nine together, then the refused one and the eight again alone
    assert exchanges[:2] == [("alone", 2), ("together", 9)]
    assert sorted(exchanges[2:]) == sorted([("alone", 1)] + [("alone", 2)] + [("alone", 1)] * 8)


def test_a_lost_connection_sends_each_read_of_its_group_again_alone(
        db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)

    async def main() -> list[Any]:
        reads = [db.ask(_number(str(n))) for n in range(1, 5)] + [db.ask(_ending())] + [
            db.ask(_number(str(n))) for n in range(6, 11)]
        return list(await asyncio.gather(*reads, return_exceptions=True))

    answers = asyncio.run(main())
    ended = answers.pop(4)  # ends its connection again alone: the 503 of a lost database, as by itself
    assert isinstance(ended, DBAPIError) and unavailable(ended), ended
    assert answers == [1, 2, 3, 4, 6, 7, 8, 9, 10]  # the others, again alone on new connections
    assert exchanges == [("alone", 1), ("together", 9)] + [("alone", 1)] * 9


def test_a_read_cancelled_while_it_waits_leaves_its_group(db: Database, exchanges: list[tuple[str, int]]) -> None:
    _postgres(db)

    async def main() -> list[Any]:
        tasks = [asyncio.create_task(db.ask(_number(str(n)))) for n in range(1, 6)]
        await asyncio.sleep(0)  # each has asked: the first at the server, the others waiting
        tasks[2].cancel()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    answers = asyncio.run(main())
    assert isinstance(answers.pop(2), asyncio.CancelledError)
    assert answers == [1, 2, 4, 5]
    assert exchanges == [("alone", 1), ("together", 3)]


def test_sqlite_reads_as_before(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's reads")
    echo = Prepared(select(bindparam("n", type_=Integer).label("n")))

    def read(n: int) -> Any:
        (rows,) = yield [(echo, {"n": n})]
        return rows[0].n

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(db.ask(read(n)) for n in range(1, 11))))

    assert asyncio.run(main()) == list(range(1, 11))
    assert db._async_readers is None  # nothing of PostgreSQL's readers, nor of their groups


def test_a_read_that_may_take_long_goes_alone_and_holds_no_exchange_the_short_reads_wait_for(
        db: Database, exchanges: list[tuple[str, int]]) -> None:
    """A list page's read (`gather=False`) neither waits for the groups nor counts among their exchanges: with one
    exchange allowed and a slow read in flight outside them, ten short reads still go as if it were not there."""
    _postgres(db)
    slow = Prepared(select(func.pg_sleep(2).label("slept"), bindparam("n", type_=Integer).label("n")))

    def sleeping() -> Any:
        rows, = yield [(slow, {"n": 7})]
        return rows[0].n

    async def main() -> tuple[int, list[Any], bool]:
        long = asyncio.ensure_future(db.ask(sleeping(), gather=False))
        await asyncio.sleep(0.05)  # the slow read at the server
        short = list(await asyncio.gather(*(db.ask(_read(n)) for n in range(1, 11))))
        overtaken = not long.done()
        return await long, short, overtaken

    n, answers, overtaken = asyncio.run(main())
    assert n == 7
    assert [(k, again) for k, _, again in answers] == [(k, k * 100) for k in range(1, 11)]
    assert overtaken  # the short reads were answered while the slow one was still at the server
    assert exchanges[0] == ("alone", 1)  # the slow read, alone
    assert exchanges[1:] == [("alone", 2), ("together", 9), ("alone", 1), ("together", 9)]


def test_reads_waiting_behind_a_stuck_exchange_go_in_one_more_after_a_while(
        db: Database, exchanges: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """With the one exchange allowed held by a slow read (gathered like any other), the short reads that arrived
    behind it wait `PATIENCE`, then go together in one exchange more, answered while the slow one is still at the
    server (without it they would wait for it: the test above, with `gather=True`)."""
    _postgres(db)
    monkeypatch.setattr(readgroups, "PATIENCE", 0.1)
    slow = Prepared(select(func.pg_sleep(2).label("slept"), bindparam("n", type_=Integer).label("n")))

    def sleeping() -> Any:
        rows, = yield [(slow, {"n": 7})]
        return rows[0].n

    def short(n: int) -> Any:
        (echo,), = yield [(_ECHO, {"n": n})]
        return echo.n

    async def main() -> tuple[int, list[int], bool]:
        long = asyncio.ensure_future(db.ask(sleeping()))
        await asyncio.sleep(0.05)  # the slow read at the server, holding the one exchange
        answers = list(await asyncio.gather(*(db.ask(short(n)) for n in range(1, 11))))
        overtaken = not long.done()
        return await long, answers, overtaken

    n, answers, overtaken = asyncio.run(main())
    assert (n, answers) == (7, list(range(1, 11)))
    assert overtaken
    assert exchanges == [("alone", 1), ("together", 10)]
