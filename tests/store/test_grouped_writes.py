"""`Database.write(run, grouped=True)`: on PostgreSQL, writes that arrive while others are in flight are committed
together, their prepared reads sent together (store/groups.py, store/gather.py); each answers as alone, a refused
one is refused alone and the others land, a fault of the database's own reaches each and none is made again.
SQLite's groups (one turn of the event loop's writes, store/loop_groups.py): tests/store/test_grouped_writes_sqlite.py."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, literal, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from verifier.idempotency import IdempotencyKey
from verifier.store import groups
from verifier.store.db import Database
from verifier.store.reader import Prepared, Reader, session_reader

from group_kit import key, keys, refused_keeping_a_trace

_TXID = Prepared(select(func.txid_current().label("txid")))
_ECHO = Prepared(select(literal(0).label("n")).where(literal(1) == 1))




@pytest.fixture
def one_group_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groups, "GROUPS", 1)  # the first write alone, the rest gathered behind it


def _insert(n: int, seen: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    def run(session: Session) -> int:
        reader = session_reader(session)
        txid = 0 if session.get_bind().dialect.name == "sqlite" else reader.batch([(_TXID, {})])[0][0].txid
        reader.batch([(_ECHO, {})])  # a second read of its own: another round, with the others' second reads
        session.add(key(n))
        session.flush()
        seen.append((n, txid))
        return n

    return run


def test_writes_arriving_together_commit_in_one_transaction_their_reads_sent_together(
        db: Database, one_group_at_a_time: None, monkeypatch: pytest.MonkeyPatch) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's group commit")
    exchanges: list[int] = []
    real = Reader.exchange_now

    def counted(self: Reader, compiled):  # type: ignore[no-untyped-def]
        exchanges.append(len(compiled))
        return real(self, compiled)

    monkeypatch.setattr(Reader, "exchange_now", counted)
    seen: list[tuple[int, int]] = []

    async def main() -> list[int]:
        return list(await asyncio.gather(*(db.write(_insert(n, seen), grouped=True) for n in range(1, 11))))

    assert asyncio.run(main()) == list(range(1, 11))  # each its own answer, in its place
    txids = dict(seen)
    assert len({txids[n] for n in range(2, 11)}) == 1  # the nine that waited: one transaction
    assert txids[1] != txids[2]
    # the first alone: two exchanges of one statement; the nine: two rounds of nine statements each
    assert exchanges == [1, 1, 9, 9]
    assert keys(db) == [f"k{n}" for n in range(1, 11)]


def test_a_refused_write_of_a_group_is_refused_alone_with_its_trace_once_and_the_others_land(
        db: Database, one_group_at_a_time: None) -> None:
    seen: list[tuple[int, int]] = []
    traces: list[int] = []

    refused = refused_keeping_a_trace(traces)

    async def main() -> list[object]:
        runs = [_insert(n, seen) for n in range(1, 5)] + [refused] + [_insert(n, seen) for n in range(6, 9)]
        return list(await asyncio.gather(*(db.write(run, grouped=True) for run in runs), return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[:4] == [1, 2, 3, 4] and answers[5:] == [6, 7, 8]
    assert isinstance(answers[4], ValueError) and str(answers[4]) == "不予办理"
    assert traces == [1]  # its trace kept once, by its own refusal, not by the group's
    assert keys(db) == ["k1", "k2", "k3", "k4", "k6", "k7", "k8", "k500"]


def test_a_fault_of_the_database_reaches_every_write_of_its_group_and_none_is_made_again(
        db: Database, one_group_at_a_time: None) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's group commit")
    seen: list[tuple[int, int]] = []
    runs_of: dict[int, int] = {}

    def counting(n: int, run):  # type: ignore[no-untyped-def]
        def go(session: Session) -> object:
            runs_of[n] = runs_of.get(n, 0) + 1
            return run(session)
        return go

    def lost(session: Session) -> None:
        runs_of[4] = runs_of.get(4, 0) + 1
        raise OperationalError("SELECT 1", None, Exception("server closed the connection unexpectedly"))

    async def main() -> list[object]:
        runs = [counting(n, _insert(n, seen)) for n in range(1, 4)] + [lost]
        return list(await asyncio.gather(*(db.write(run, grouped=True) for run in runs), return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[0] == 1  # alone, before the others gathered
    assert all(isinstance(a, OperationalError) for a in answers[1:])
    assert runs_of == {1: 1, 2: 1, 3: 1, 4: 1}  # none made again: a COMMIT lost may have landed
    assert keys(db) == ["k1"]



def test_a_write_refused_in_a_group_leaves_the_others_a_group_of_their_own(
        db: Database, one_group_at_a_time: None) -> None:
    """Not every write of a group made again alone for one refusal: the others commit together (one transaction),
    the refused one alone after them."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's group commit")
    seen: list[tuple[int, int]] = []

    def refused(session: Session) -> None:
        raise ValueError("不予办理")

    async def main() -> list[object]:
        runs = [_insert(n, seen) for n in range(1, 4)] + [refused] + [_insert(n, seen) for n in range(5, 8)]
        return list(await asyncio.gather(*(db.write(run, grouped=True) for run in runs), return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[:3] == [1, 2, 3] and answers[4:] == [5, 6, 7] and isinstance(answers[3], ValueError)
    txids = dict(seen)  # the last run of each
    assert len({txids[n] for n in (2, 3, 5, 6, 7)}) == 1  # made again as one group without the refused one
    assert keys(db) == ["k1", "k2", "k3", "k5", "k6", "k7"]


def test_a_write_claiming_what_another_of_its_group_holds_is_made_after_it_alone(
        db: Database, one_group_at_a_time: None) -> None:
    """`gather.claim`: two writes of one household in one group would each read the household as it was before
    the group; the second is made after the group, alone, and sees what the first wrote."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's group commit")
    from verifier.store.gather import claim

    seen: list[tuple[int, int]] = []
    counted: list[int] = []

    def household(n: int):  # type: ignore[no-untyped-def]
        def run(session: Session) -> int:
            claim(("household", "hh_1") if n in (3, 5) else ("household", f"hh_{n}"))
            counted.append(int(session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0))
            return _insert(n, seen)(session)
        return run

    async def main() -> list[int]:
        return list(await asyncio.gather(*(db.write(household(n), grouped=True) for n in range(1, 7))))

    assert asyncio.run(main()) == [1, 2, 3, 4, 5, 6]
    txids = dict(seen)
    assert txids[5] != txids[3]  # not in the group of the one that claimed the household first
    assert len({txids[n] for n in (2, 3, 4, 6)}) == 1
    assert counted[-1] == 5  # made last, alone: it saw the five written before it
    assert keys(db) == [f"k{n}" for n in range(1, 7)]
