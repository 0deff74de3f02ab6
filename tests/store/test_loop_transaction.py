"""`Database.write`'s transaction (on SQLite the held connection's own, `Database._write_now`, the session's ORM work
joined to it; on PostgreSQL `begin`'s in a worker thread): prepared statements and ORM work in one write commit
together and are rolled back together, whichever fails and wherever; a savepoint refused inside keeps the rest; a
COMMIT refused leaves nothing, and the next write has a connection in no transaction."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.store.idempotency_rows import INSERT, keys, row
from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database


def _orm(n: int) -> IdempotencyKey:
    return IdempotencyKey(**row(n))


def test_prepared_writes_and_orm_work_commit_together_an_object_added_last_flushed_at_the_commit(db: Database) -> None:
    def run(session: Session) -> str:
        INSERT.run(session, row(1))
        session.add(_orm(2))
        session.flush()
        INSERT.run(session, row(3))
        session.add(_orm(4))  # not flushed by the write itself
        return "done"

    assert asyncio.run(db.write(run)) == "done"
    assert keys(db) == ["k1", "k2", "k3", "k4"]


@pytest.mark.parametrize("where", ["raised after both", "the orm's flush at the commit", "a prepared write"])
def test_a_write_refused_anywhere_leaves_nothing_of_either_kind(db: Database, where: str) -> None:
    asyncio.run(db.write(lambda session: INSERT.run(session, row(9))))

    def run(session: Session) -> None:
        INSERT.run(session, row(1))
        session.add(_orm(2))
        session.flush()
        if where == "raised after both":
            raise ValueError("refused")
        if where == "the orm's flush at the commit":
            session.add(_orm(9))  # a duplicate key, met when the write's objects are flushed at its end
        else:
            INSERT.run(session, row(9))

    with pytest.raises(ValueError if where == "raised after both" else IntegrityError):
        asyncio.run(db.write(run))
    assert keys(db) == ["k9"]
    assert asyncio.run(db.write(lambda session: INSERT.run(session, row(5)))) == 1  # the next write goes on
    assert keys(db) == ["k5", "k9"]


def test_a_savepoint_refused_within_a_write_keeps_the_rest_of_it(db: Database) -> None:
    asyncio.run(db.write(lambda session: INSERT.run(session, row(9))))

    def run(session: Session) -> bool:
        INSERT.run(session, row(1))
        try:
            with session.begin_nested():
                session.add(_orm(9))
        except IntegrityError:
            refused = True
        session.add(_orm(2))
        INSERT.run(session, row(3))
        return refused

    assert asyncio.run(db.write(run)) is True
    assert keys(db) == ["k1", "k2", "k3", "k9"]


def test_on_sqlite_a_commit_refused_leaves_nothing_and_the_next_write_begins_anew(db: Database) -> None:
    """A foreign key checked at the COMMIT (`defer_foreign_keys`): SQLite refuses the COMMIT and keeps the
    transaction open on the driver's connection; the loop's held connection is then let go of (the pool rolls it
    back), and the next write begins on a connection in no transaction."""
    if not db.is_sqlite:
        pytest.skip("SQLite's deferred foreign keys")

    def tables(session: Session) -> None:
        session.connection().exec_driver_sql("CREATE TABLE t_parent (id INTEGER PRIMARY KEY)")
        session.connection().exec_driver_sql("CREATE TABLE t_child (p INTEGER REFERENCES t_parent (id))")

    def orphan(session: Session) -> None:
        INSERT.run(session, row(1))
        session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        session.connection().exec_driver_sql("INSERT INTO t_child VALUES (7)")

    async def main() -> None:
        await db.write(tables)
        with pytest.raises(IntegrityError):
            await db.write(orphan)
        assert await db.write(lambda session: INSERT.run(session, row(2))) == 1

    asyncio.run(main())
    assert keys(db) == ["k2"]
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t_child")).scalar_one() == 0
