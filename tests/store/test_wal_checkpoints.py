"""SQLite: the write-ahead log is checkpointed by a thread of its own (`WalCheckpoints`), not in a writer's commit;
the WAL is still started again from its beginning once it is long, and what was committed is in the database."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from verifier.idempotency import IdempotencyKey
from verifier.store import db as db_module
from verifier.store.db import Database


def _key(n: int) -> IdempotencyKey:
    return IdempotencyKey(user_id="u_1", key=f"k{n}", method_path="POST /x", request_hash="h", response_status=201,
                          response_body=b"x" * 3000, created_at=datetime(2020, 6, 1, tzinfo=UTC))


def _wait_for(condition, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def sqlite_db(db: Database) -> Database:
    if not db.is_sqlite:
        pytest.skip("SQLite's write-ahead log")
    assert db.wal_checkpoints is not None
    return db


def test_writers_do_not_checkpoint_and_the_thread_does(sqlite_db: Database) -> None:
    db = sqlite_db
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with db.read_engine.connect() as conn:  # readers never checkpoint anyway; theirs is left as SQLite's
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    before = db.wal_checkpoints.runs
    for n in range(30):
        with db.begin() as session:
            session.add(_key(n))
    assert _wait_for(lambda: db.wal_checkpoints.runs > before)
    # Everything committed is in the database file: a connection that reads it without the WAL finds every row.
    path = db.engine.url.database
    assert path is not None
    raw = sqlite3.connect(path)
    try:
        _busy, frames, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert copied == frames
    finally:
        raw.close()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 30


def test_a_long_wal_is_started_again(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite_db
    monkeypatch.setattr(db_module, "_RESTART_FRAMES", 20)
    path = db.engine.url.database
    assert path is not None
    wal = f"{path}-wal"
    n = 0
    # A steady stream of commits beside the checkpoints: the WAL is still restarted (its writes start again at its
    # beginning, so it stops growing).
    largest = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (n < 100 or db.wal_checkpoints.runs < 6):
        with db.begin() as session:
            session.add(_key(n))
        n += 1
        largest = max(largest, os.path.getsize(wal))
        time.sleep(0.002)
    pages = largest // 4096
    assert db.wal_checkpoints.runs > 0
    raw = sqlite3.connect(path)
    try:
        _busy, frames, _copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    assert frames < pages, (frames, pages)  # written again from the start, not appended to the end
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == n


def test_disposed_and_written_again(sqlite_db: Database) -> None:
    db = sqlite_db
    with db.begin() as session:
        session.add(_key(1))
    db.dispose()
    with db.begin() as session:
        session.add(_key(2))
    before = db.wal_checkpoints.runs
    assert _wait_for(lambda: db.wal_checkpoints.runs > before)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 2


def test_closing_does_not_sit_out_the_delay(sqlite_db: Database) -> None:
    """A write pokes the thread, which waits `_CHECKPOINT_AFTER` before it checkpoints; closing meanwhile ends that
    wait (the last connection's close checkpoints what is left) rather than waiting it out: each test's database,
    and each command line run, was disposed up to 0.2 s later than it needed."""
    db = sqlite_db
    with db.begin() as session:
        session.add(_key(1))
    before = db.wal_checkpoints.runs
    assert _wait_for(lambda: db.wal_checkpoints.runs > before)  # the thread is running, waiting for a poke
    db.wal_checkpoints._delay = 30.0  # a wait no close could sit out unnoticed
    with db.begin() as session:
        session.add(_key(2))
    time.sleep(0.2)  # the poked thread is in its wait
    started = time.monotonic()
    db.wal_checkpoints.close()
    assert time.monotonic() - started < 5
    assert db.wal_checkpoints._thread is None
    db.dispose()
    raw = sqlite3.connect(db.engine.url.database)
    try:
        assert raw.execute("SELECT count(*) FROM idempotency_key").fetchone()[0] == 2
    finally:
        raw.close()
