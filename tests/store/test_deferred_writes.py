"""Writes deferred to the transaction's next round trip (`run_batch(later=True)`, store/writer.py), the audit append's
sent with the COMMIT (which on PostgreSQL lets go of the log's head before the disk write, and is flushed before it
is answered), and a pooled PostgreSQL connection pinged only when the server spoke (store/db.py).

On SQLite deferred writes run at once; the tests hold on both databases."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from idempotency_rows import INSERT, RENAME, keys, row
from verifier.audit import log as audit
from verifier.audit.models import AuditEntry, AuditHead
from verifier.domain.errors import InvalidState
from verifier.idempotency import IdempotencyKey
from verifier.store import pgwrite as pgwrite_module
from verifier.store import reader as reader_module
from verifier.store import writer as writer_module
from verifier.store.db import Database
from verifier.store.pgwire import Statement
from verifier.store.writer import run_batch



def _refuse_unless_one(counts: list[int]) -> None:
    if counts[-1] != 1:
        raise InvalidState("nothing to rename")


def test_deferred_writes_are_seen_by_the_next_statement_and_committed(db: Database) -> None:
    with db.begin() as session:
        run_batch(session, [(INSERT, [row(1), row(2)])], later=True)
        # An ORM read in the same transaction sees them (sent before it).
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 2
        run_batch(session, [(RENAME, {"old": "k2", "new": "k3"})], later=True, told=_refuse_unless_one)
        run_batch(session, [(INSERT, row(4))], later=True)  # the last: sent with the COMMIT
    assert keys(db) == ["k1", "k3", "k4"]


def test_a_deferred_refusal_rolls_the_whole_transaction_back(db: Database) -> None:
    with db.begin() as session:
        run_batch(session, [(INSERT, row(1))])
    with pytest.raises(InvalidState):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(2))])
            run_batch(session, [(RENAME, {"old": "nobody", "new": "k9"})], later=True, told=_refuse_unless_one)
            session.execute(select(1))  # the refusal is raised at the next statement at the latest
    assert keys(db) == ["k1"]
    with pytest.raises(InvalidState):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(5))], later=True)
            run_batch(session, [(RENAME, {"old": "nobody", "new": "k9"})], later=True, told=_refuse_unless_one)
    assert keys(db) == ["k1"]  # refused at the commit: nothing of it committed


def test_writes_deferred_in_a_transaction_that_rolls_back_are_never_sent(db: Database) -> None:
    with pytest.raises(ValueError):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(1))], later=True)
            raise ValueError("refused before anything was sent")
    for n in (2, 3):  # the pool's connection, used again, sends nothing left over
        with db.begin() as session:
            run_batch(session, [(INSERT, row(n))])
    assert keys(db) == ["k2", "k3"]


def test_a_duplicate_key_deferred_is_raised_within_the_transaction(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with db.begin() as session:
        run_batch(session, [(INSERT, row(1))])
    with pytest.raises(IntegrityError):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(2))])
            run_batch(session, [(INSERT, row(1))], later=True)
    assert keys(db) == ["k1"]


def test_an_audit_append_is_written_with_the_commit_and_the_log_stays_whole(db: Database) -> None:
    for n in range(5):
        with db.begin() as session:
            audit.ensure_head(session)
            index = audit.append(session, actor="u", role="r", action="a", subject=f"s{n}", payload={"n": n},
                                 county_code=None)
            assert index == n
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 5
        assert session.get(AuditHead, 1).size == 5  # type: ignore[union-attr]


def test_on_postgresql_an_append_last_in_its_transaction_goes_with_the_commit(db: Database,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's round trips")
    with db.begin() as session:
        audit.ensure_head(session)
    exchanges: list[str] = []
    real_send, real_exchange = writer_module.send_writes, reader_module.exchange

    def send(connection: Any, statements: Any, *, commit: bool = False, **k: Any) -> Any:
        exchanges.append(f"write{' and commit' if commit else ''}")
        return real_send(connection, statements, commit=commit, **k)

    def exchange(connection: Any, statements: Any, **k: Any) -> Any:
        exchanges.append("read")
        return real_exchange(connection, statements, **k)

    monkeypatch.setattr(writer_module, "send_writes", send)
    monkeypatch.setattr(reader_module, "exchange", exchange)
    executed: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        if cursor is not None:
            executed.append(statement)

    from sqlalchemy import event

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.begin() as session:
            run_batch(session, [(INSERT, row(1))], later=True)  # a business write
            audit.append(session, actor="u", role="r", action="a", subject="s", payload={}, county_code=None)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # The business write went with the head's lock, the append's rows with the COMMIT and the WAL's flush after it
    # (`test_on_postgresql_the_head_is_let_go_of_before_the_disk_write`): two round trips.
    assert exchanges == ["read", "write and commit"] and executed == []
    assert keys(db) == ["k1"]
    with db.read() as session:
        assert session.get(AuditHead, 1).size == 1  # type: ignore[union-attr]


def test_on_postgresql_a_pooled_connection_ended_by_the_server_is_replaced_at_checkout(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's connections")
    with db.begin() as session:
        pid = session.execute(select(func.pg_backend_pid())).scalar_one()
    libpq = db.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.5)  # the server has told the client and closed the socket
    with db.begin() as session:  # no error: the pool connected anew
        assert session.execute(select(func.pg_backend_pid())).scalar_one() != pid
        run_batch(session, [(INSERT, row(1))])
    assert keys(db) == ["k1"]


def test_on_postgresql_the_head_is_let_go_of_before_the_disk_write_and_the_commit_is_on_disk_when_answered(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's commits")
    with db.begin() as session:
        audit.ensure_head(session)
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    # The flush that follows the COMMIT in its pipeline made to wait for a lock this test holds: meanwhile the
    # transaction is committed (another connection sees its rows) and the head is free (another append could lock it).
    held = psycopg.connect(url)
    held.execute("SELECT pg_advisory_xact_lock(4242)")
    monkeypatch.setattr(pgwrite_module, "FLUSH", Statement(
        "SELECT pg_advisory_xact_lock(4242), pg_logical_emit_message(true, 'verifier', '')"))
    done: dict[str, Any] = {}

    def write() -> None:
        try:
            with db.begin() as session:
                run_batch(session, [(INSERT, row(1))], later=True)
                audit.append(session, actor="u", role="r", action="a", subject="s", payload={}, county_code=None)
                done["setting"] = session.connection().exec_driver_sql("SHOW synchronous_commit").scalar()
        except BaseException as exc:  # noqa: BLE001 - looked at below
            done["error"] = exc
        done["at"] = time.monotonic()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with psycopg.connect(url, autocommit=True) as other:
            for _ in range(500):  # the writer reaches the flush: its backend waits for the advisory lock
                waiting = other.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted AND "
                                        "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                                        ).fetchone()[0]  # type: ignore[index]
                if waiting:
                    break
                time.sleep(0.01)
            assert waiting == 1 and "at" not in done  # `begin` has not returned
            with other.transaction():
                assert other.execute("SELECT size FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT"
                                     ).fetchone() == (1,)
            assert other.execute("SELECT count(*) FROM idempotency_key").fetchone() == (1,)
            lsn = other.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
    finally:
        held.rollback()
        held.close()
        writer.join(timeout=30)
    assert "error" not in done and done["setting"] == "on"
    with psycopg.connect(url, autocommit=True) as other:
        flushed = other.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (lsn,)).fetchone()
        assert flushed == (True,)  # on disk before `begin` returned
        # Only that transaction committed without waiting: the session's setting is the server's again.
        assert other.execute("SHOW synchronous_commit").fetchone() == ("on",)
    with db.begin() as session:
        assert session.connection().exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert keys(db) == ["k1"]


def test_a_deferred_error_met_by_the_next_statement_is_raised_as_sqlalchemy_raises_it(db: Database) -> None:
    """A deferred write's refusal raised at the next statement an ORM session runs (the pages' writes): a
    SQLAlchemy error (IntegrityError here, DataError for a guarded write's), as every answer knows it, never the
    driver's own exception (which SQLAlchemy does not wrap when its `before_cursor_execute` raises it: a 500)."""
    from sqlalchemy.exc import IntegrityError

    with db.begin() as session:
        run_batch(session, [(INSERT, row(1))])
    with pytest.raises(IntegrityError):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(1))], later=True)
            session.execute(select(1))  # sent ahead of this statement, in its round trip
    assert keys(db) == ["k1"]
    with db.begin() as session:  # the connection serves the next transaction
        run_batch(session, [(INSERT, row(2))], later=True)
    assert keys(db) == ["k1", "k2"]
