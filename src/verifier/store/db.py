"""Engines and transactions for SQLite (embedded) and PostgreSQL (production).

Writers take the database's write lock at the start of their transaction (`BEGIN IMMEDIATE` on SQLite;
on PostgreSQL the audit append locks the log's head row), so several processes can write safely.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import select
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from functools import partial
from json.encoder import JSONEncoder, c_make_encoder, encode_basestring_ascii
from typing import Any, TypeVar

import msgspec
import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from ..settings import normalise_database_url
from .pgwire import deferred_on, drop_pending, pending_on
from .reader import (LOOP_CONNECTION, AsyncReaders, LoopTransactionEnded, Reader, Readers, Steps,
                     loop_transaction_ended)
from .groups import WriteGroups, run_group
from .loop_groups import LoopGroups
from .loop_groups import run_group as run_loop_group
from .writer import DEFERRED, send_deferred

T = TypeVar("T")
AfterCommit = Callable[[dict[str, Any]], None]
KeptWrite = Callable[[Session], None]
_KEPT = "_kept_after_rollback"
log = logging.getLogger(__name__)


def keep_after_rollback(exc: BaseException, write: KeptWrite) -> BaseException:
    """Have `write` run in a transaction of its own once the transaction that `exc` ends has rolled back.

    For the trace a refusal must leave (who tried what, and when): the refused change rolls back, the trace does
    not. Returns `exc`, to be raised out of `Database.begin` (or `Database.read`).
    """
    kept: list[KeptWrite] = exc.__dict__.setdefault(_KEPT, [])
    kept.append(write)
    return exc


def drop_kept(exc: BaseException) -> None:
    """Forget the writes `exc` carries to keep (`keep_after_rollback`): for a caller that will make the same request
    again, which then leaves the trace once (the check's shortcut, checks/shortcut.py, hands a refusal to Litestar)."""
    getattr(exc, "__dict__", {}).pop(_KEPT, None)


_read_json = msgspec.json.decode
_json_default = JSONEncoder().default


def _dumps(value: Any) -> str:
    """`json.dumps(value)`, what SQLAlchemy writes a JSON column with, without its per-call set-up (its keyword
    checks, `JSONEncoder.iterencode`'s closures): the same C encoder with the same settings, made for each value with
    a fresh circular-reference memo as `json.dumps` makes it. The same text, the same errors
    (`tests/store/test_json_columns.py`)."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    return "".join(c_make_encoder({}, _json_default, encode_basestring_ascii, None, ": ", ", ", False, False,
                                  True)(value, 0))


_write_json = json.dumps if c_make_encoder is None else _dumps
"""How JSON columns are read back (the same values as the standard library's, in a fraction of the time; they are
still written by it)."""


class LockBusy(Exception):
    """SQLite: a write begun on the event loop found the database's write lock held by another process."""


class WriterQueue:
    """SQLite: the writers of one process wait for the database's write lock on a mutex, in turn.

    Without it each waiting `BEGIN IMMEDIATE` retries on SQLite's busy handler, which sleeps between tries (1 ms, then
    2, 5, 10 … up to 100 ms): under load a writer slept well past the commit it waited for, and the lock stood idle.
    The mutex is taken just before `BEGIN IMMEDIATE` within `Database.begin` (not when the block opens: what a write
    does before its first statement runs outside the lock) and given back when the block ends, after the commit or
    rollback. Other processes still meet on the busy handler; a mutex not had within the busy timeout is passed over
    (the busy handler then decides, as without it).

    Writes run on the event loop (`Database.write`) take the mutex before their block opens (waiting for it, when a
    thread holds it, in a worker thread, the loop's writers in turn on an asyncio lock) and do not wait for another
    process: their `BEGIN IMMEDIATE` runs with no busy timeout, and raises `LockBusy` when the lock is taken.
    """

    def __init__(self, timeout: float) -> None:
        self._mutex = self.mutex = threading.Lock()
        self._local = threading.local()
        self._timeout = timeout
        self._loop_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @contextmanager
    def block(self) -> Iterator[None]:
        """A `Database.begin` block of this thread (nested blocks share the first one's turn)."""
        local = self._local
        depth = getattr(local, "depth", 0)
        local.depth = depth + 1
        try:
            yield
        finally:
            local.depth = depth
            if depth == 0 and getattr(local, "held", False):
                local.held = False
                self._mutex.release()

    def before_begin(self) -> bool:
        """Take the turn if this block has not; whether `BEGIN IMMEDIATE` may wait on the busy handler."""
        local = self._local
        if getattr(local, "depth", 0) and not getattr(local, "held", False):
            local.held = self._mutex.acquire(timeout=self._timeout)
        if getattr(local, "no_wait", False):
            local.no_wait = False  # only the block's first BEGIN (a trace kept after a rollback waits as usual)
            return False
        return True

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[bool]:
        """The mutex for a block run on the event loop: yields whether it was had (within the busy timeout)."""
        loop = asyncio.get_running_loop()
        if self._loop_lock is None or self._loop_lock[0] is not loop:
            self._loop_lock = (loop, asyncio.Lock())
        async with self._loop_lock[1]:
            had = self._mutex.acquire(blocking=False) or await loop.run_in_executor(
                None, partial(self._mutex.acquire, timeout=self._timeout))
            try:
                yield had
            finally:
                if had:
                    self._mutex.release()

    @contextmanager
    def here(self) -> Iterator[None]:
        """The block (no `await` within) of a loop writer that holds the mutex: nested blocks share its turn, and its
        `BEGIN IMMEDIATE` does not wait."""
        local = self._local
        assert not getattr(local, "depth", 0), "a write on the event loop within another block of the loop's thread"
        local.depth, local.held, local.no_wait = 1, True, True
        try:
            yield
        finally:
            local.depth, local.held, local.no_wait = 0, False, False


_BUSY_TIMEOUT = 60  # seconds
_CHECKPOINT_AFTER = 0.2  # seconds: the commits of this while share one WAL checkpoint
_RESTART_FRAMES = 10_000  # pages (of 4 KiB): a WAL longer than this is started again from its beginning


class WalCheckpoints:
    """SQLite: the write-ahead log copied back into the database file by a thread of its own, not by a writer.

    SQLite checkpoints the WAL itself in the commit that takes it past 1,000 pages, and that commit then waits for
    the checkpoint: the WAL synced, its pages written to the database file, the file synced. A check's commit took
    0.08 ms, and one in every few dozen 10–120 ms (two fsyncs on a shared disk); on the event loop that stops every
    request. The write engine's connections are opened with `wal_autocheckpoint=0`, and after each committed write
    this thread is poked: it waits `_CHECKPOINT_AFTER` (the commits of that while share one checkpoint) and runs a
    `PASSIVE` checkpoint on a connection of its own, which waits for no reader and no writer (the sqlite3 module
    lets go of the GIL meanwhile). What a commit wrote is in the WAL file either way, so a write acknowledged is
    kept as before when the process is killed (`synchronous=NORMAL` under WAL unchanged). The last connection to
    close checkpoints what is left, as before.

    A writer starts the WAL again from its beginning only when it finds all of it copied, which under a steady stream
    of commits a checkpoint running beside them never leaves: the WAL would only grow. So when the WAL has more than
    `_RESTART_FRAMES` pages after a checkpoint, the thread takes this process's writers' turn (`WriterQueue`: writes
    on the event loop wait for it in a worker thread, the loop itself does not) and checkpoints the few pages
    committed meanwhile: the next writer then restarts the WAL (as after SQLite's own checkpoint, unless a reader
    still reads an older snapshot from it)."""

    def __init__(self, path: str, turn: threading.Lock, delay: float = _CHECKPOINT_AFTER) -> None:
        self._path, self._turn, self._delay = path, turn, delay
        self._poked = threading.Event()
        self._closing = threading.Event()  # set by `close`: ends the thread's wait at once
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.runs = 0  # checkpoints run (the tests look)

    def poke(self) -> None:
        """A write committed: checkpoint soon (the thread is started on the first one, in the process that writes)."""
        if self._thread is None:
            with self._guard:
                if self._thread is None and not self._stopping:
                    self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoints", daemon=True)
                    self._thread.start()
        if not self._poked.is_set():  # set already: the thread has yet to clear it, and checkpoints after that
            self._poked.set()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT, isolation_level=None,
                                         check_same_thread=False)
        except sqlite3.Error:  # SQLite's own checkpoint at the last connection's close is left
            log.warning("could not open the SQLite database to checkpoint its write-ahead log", exc_info=True)
            return
        try:
            while not self._stopping:  # looked at after `clear`: a `close` meanwhile is not missed
                self._poked.wait()
                if self._stopping:
                    return
                # `close` ends the wait (the last connection's close checkpoints what is left): closing does not
                # sit out the delay
                if self._closing.wait(self._delay):
                    return
                self._poked.clear()
                try:
                    self._checkpoint(connection)
                except sqlite3.Error:  # the next commit pokes again; SQLite's files are consistent either way
                    log.warning("could not checkpoint the SQLite write-ahead log", exc_info=True)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.runs += 1
        if frames > _RESTART_FRAMES and self._turn.acquire(timeout=_BUSY_TIMEOUT):
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.runs += 1
            finally:
                self._turn.release()

    def close(self) -> None:
        with self._guard:
            self._stopping = True
            thread = self._thread
        self._closing.set()
        self._poked.set()
        if thread is not None:
            thread.join(timeout=self._delay + 30)
        with self._guard:  # a write after `Database.dispose` starts it again
            self._thread, self._stopping = None, False
            self._poked.clear()
            self._closing.clear()


def _sqlite_engine(url: str, *, immediate: bool, echo: bool, queue: WriterQueue | None = None,
                   checkpoints: bool = False, **options: Any) -> Engine:
    connect_args: dict[str, Any] = {"timeout": _BUSY_TIMEOUT, "check_same_thread": False}
    if immediate:
        connect_args["factory"] = _WriteConnection
    engine = create_engine(url, echo=echo, connect_args=connect_args,
                           json_serializer=_write_json, json_deserializer=_read_json, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT * 1000}")
        if checkpoints:
            cur.execute("PRAGMA wal_autocheckpoint=0")  # WalCheckpoints does it, off the writers' path
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        if immediate and queue is not None:
            raw = conn.connection.dbapi_connection
            if not queue.before_begin():
                _begin_now(raw)
                return
            if not raw.waits:  # its last write began on the event loop: wait on the busy handler again
                raw.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT * 1000}")
                raw.waits = True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriteConnection(sqlite3.Connection):
    """A write connection that knows whether its busy timeout is 0 (`waits` False): left so after a write begun on
    the event loop, so that the next such write does not set it again (two statements each); set back by the next
    write that may wait (`_on_begin`). Every statement on a write connection comes after a BEGIN through `_on_begin`,
    and within a transaction begun IMMEDIATE no statement takes a lock that the busy handler would wait for."""

    waits = True


def _ping_when_spoken_to(engine: Engine) -> None:
    """PostgreSQL: a pooled connection is pinged at checkout only when the server sent something while it was idle.

    SQLAlchemy's pre-ping costs a round trip per transaction. A server that ends a connection (restarted, shut down,
    the backend terminated) tells the client and closes the socket, so an idle connection's socket is readable only
    when something came: then it is pinged, and a connection found gone is replaced (`DisconnectionError`: the pool
    connects anew) before the transaction uses it. A connection lost without a word (a network cut) is found by its
    first statement, which is then answered 503 (store/faults.py) and the connection invalidated, as before."""

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        if dbapi_connection.closed or dbapi_connection.pgconn.status != pq.ConnStatus.OK:
            raise DisconnectionError("the connection is closed")
        if select.select([dbapi_connection.fileno()], [], [], 0)[0]:
            try:
                dbapi_connection.execute(";")
            except psycopg.Error as exc:
                raise DisconnectionError(str(exc)) from exc


class _Open:
    """PostgreSQL: what `LOOP_CONNECTION` holds in place of a sqlite3 connection (`loop_transaction_ended` asks it
    whether the driver's transaction is still open): psycopg opens its transaction with the first statement, so its
    own state says nothing before that; whether the write's transaction ended is its SQLAlchemy transaction's."""

    in_transaction = True


_OPEN = _Open()
_HELD_WRITE_CONNECTIONS = 8  # PostgreSQL: worker threads that hold a write connection (`Database._thread_session`)


def _alive(connection: Connection) -> bool:
    """PostgreSQL: whether a held connection may be used, as `_ping_when_spoken_to` decides at a checkout (a socket
    readable between transactions: the server said something, most likely that it ends the connection)."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    if dbapi_connection is None or dbapi_connection.closed or dbapi_connection.pgconn.status != pq.ConnStatus.OK:
        return False
    if dbapi_connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False  # a transaction left behind (a rollback failed without a disconnect): never joined by the next write
    if select.select([dbapi_connection.fileno()], [], [], 0)[0]:
        try:
            dbapi_connection.execute(";")
            dbapi_connection.rollback()  # psycopg began a transaction for it
        except psycopg.Error:
            connection.invalidate()
            return False
    return True


def _let_go(held: tuple[Any, ...]) -> None:
    if held[0] is None:
        return  # a place taken while its thread connects
    held[1].close()
    try:
        held[0].close()
    except Exception:  # noqa: BLE001 — a connection already gone: nothing left to give back
        log.debug("could not close a held write connection", exc_info=True)


def _send_deferred_first(engine: Engine) -> None:
    """PostgreSQL: writes deferred on a connection (`run_batch(later=True)`, store/writer.py) are sent before any
    other statement SQLAlchemy runs on it and before its commit, and dropped when its transaction rolls back."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if cursor is not None:  # None: a prepared write seen as it is queued or sent (store/writer.py)
            raw = conn.connection.dbapi_connection
            if pending_on(raw):
                # raised as SQLAlchemy raises a driver's error (its own statement's execution does not wrap what
                # this event raises: a raw psycopg error would reach the answers as an unknown exception, a 500)
                send_deferred(raw, conn.dialect, connection=conn)

    @event.listens_for(engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        raw = conn.connection.dbapi_connection
        if deferred_on(raw):  # (the writes deferred to the COMMIT too: SQLAlchemy's own COMMIT follows)
            send_deferred(raw, conn.dialect, connection=conn, with_tail=True)

    @event.listens_for(engine, "rollback")
    def _rollback(conn):  # type: ignore[no-untyped-def]
        if not conn.invalidated:  # an invalidated connection is dropped, its writes with it
            drop_pending(conn.connection.dbapi_connection)

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection, _record, _state):  # type: ignore[no-untyped-def]
        drop_pending(dbapi_connection)


def _begin_now(raw: _WriteConnection) -> None:
    """`BEGIN IMMEDIATE` without waiting: `LockBusy` when another process holds the write lock."""
    if raw.waits:
        raw.execute("PRAGMA busy_timeout=0")
        raw.waits = False
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        raise LockBusy() from exc


class Database:
    """One database: a write engine, a read engine and the hooks run after each committed write."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self._writers: WriterQueue | None = None
        self.wal_checkpoints: WalCheckpoints | None = None
        if self.is_sqlite:
            self._writers = WriterQueue(_BUSY_TIMEOUT)
            path = make_url(self.url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                self.wal_checkpoints = WalCheckpoints(path, self._writers.mutex)
            self.engine = _sqlite_engine(self.url, immediate=True, echo=echo, queue=self._writers,
                                         checkpoints=self.wal_checkpoints is not None)
            self.read_engine = _sqlite_engine(self.url, immediate=False, echo=echo)
        else:
            self.engine = create_engine(self.url, echo=echo, pool_size=10, max_overflow=20,
                                        json_serializer=_write_json, json_deserializer=_read_json)
            _ping_when_spoken_to(self.engine)
            _send_deferred_first(self.engine)
            self.read_engine = self.engine
        self._quick_engine: Engine | None = None
        self._readers: Readers | None = None
        self._async_readers: AsyncReaders | None = None
        self._write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self.after_commit: list[AfterCommit] = []
        self._held: tuple[Connection, Session, Any] | None = None  # SQLite: the event loop's writes' (`_loop_session`)
        self._thread_held = threading.local()  # PostgreSQL: a worker thread's for `write` (`_thread_session`)
        self._all_held: list[tuple[Any, ...]] = []  # (connection, session, pool, thread) of each thread's
        self._held_guard = threading.Lock()
        self._groups: WriteGroups | None = None  # PostgreSQL: `write(grouped=True)`'s
        self._loop_groups: LoopGroups | None = None  # SQLite: `write(grouped=True)`'s

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A write transaction: commits when the block ends, rolls everything back on any exception.

        After a successful commit each `after_commit` hook gets the session's `info` dict (for example,
        the audit log signs a checkpoint when the transaction appended entries).

        An exception carrying writes to keep (`keep_after_rollback`) has them committed in a transaction of their
        own after the rollback, before it is raised on.
        """
        with self._writers.block() if self._writers is not None else nullcontext():
            with self._transaction(self._write_sessions()) as session:
                yield session

    @contextmanager
    def _transaction(self, session: Session) -> Iterator[Session]:
        """`begin`'s transaction on `session` (a new one, or the event loop's held one: `_loop_session`), closed
        when the block ends; then the after-commit work."""
        try:
            with session.begin():
                yield session
                if session.info.get(DEFERRED) is not None:
                    # PostgreSQL: the writes deferred to the end (the audit append's) and the COMMIT in one
                    # round trip; SQLAlchemy's commit then finds nothing to flush and psycopg no transaction.
                    session.flush()
                    del session.info[DEFERRED]
                    connection = session.connection()
                    send_deferred(connection.connection.dbapi_connection, connection.dialect, commit=True,
                                  connection=connection)
            info = dict(session.info)
        except BaseException as exc:
            session.close()
            kept: list[KeptWrite] = getattr(exc, "__dict__", {}).pop(_KEPT, [])
            if kept:
                self._write_kept(kept)
            raise
        finally:
            session.close()
        if self.wal_checkpoints is not None:
            self.wal_checkpoints.poke()
        for hook in self.after_commit:
            hook(info)

    async def write(self, run: Callable[[Session], T], *, grouped: bool = False) -> T:
        """`run` in a write transaction (`begin`), from the event loop; returns what it returns.

        With `grouped`, writes that arrive together are committed together: on PostgreSQL those that arrive while
        others are in flight (store/groups.py), on SQLite those that arrive in the same turn of the event loop
        (store/loop_groups.py); `run` must then be one that may run again after a rollback.

        For short writes (a check recorded: a dozen single-row statements, well under a millisecond on SQLite). On
        SQLite the transaction runs here, on the loop, without a hand-off to a worker thread and back: SQLite has one
        writer at a time anyway, and the loop's writers take their turn with the threads' (`WriterQueue.turn`). Its
        `BEGIN IMMEDIATE` comes first, before `run`, and does not wait for another process: when one holds the write
        lock, the write goes to a worker thread and waits there on the busy handler, so the loop never does. On
        PostgreSQL (round trips to a server) it runs in a worker thread. Large writes (imports) stay in threads.
        """
        loop = asyncio.get_running_loop()
        if grouped and self._writers is None:
            if self._groups is None or self._groups.loop is not loop:
                self._groups = WriteGroups(self, loop)
            return await self._groups.write(run)  # type: ignore[no-any-return]
        if grouped:
            if self._loop_groups is None or self._loop_groups.loop is not loop:
                self._loop_groups = LoopGroups(self, loop)
            return await self._loop_groups.write(run)  # type: ignore[no-any-return]
        if self._writers is not None:
            async with self._writers.turn() as had:
                if had:
                    try:
                        with self._writers.here():
                            return self._write_now(run)
                    except LockBusy:
                        pass  # another process writes: wait for it in a thread
        return await loop.run_in_executor(None, partial(self._write_blocking, run))

    async def write_loop_group(self, runs: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
        """SQLite, on the event loop: grouped writes in one transaction, or each alone (store/loop_groups.py); those
        that met another process's write lock (nothing done) wait for it in worker threads, each alone, in turn."""
        assert self._writers is not None
        loop = asyncio.get_running_loop()
        async with self._writers.turn() as had:
            outcomes = run_loop_group(self, runs) if had else [(False, LockBusy())] * len(runs)
        for index, (_, value) in enumerate(outcomes):
            if isinstance(value, LockBusy):
                try:
                    outcomes[index] = (True, await loop.run_in_executor(None, partial(self._write_blocking,
                                                                                     runs[index])))
                except Exception as exc:  # noqa: BLE001 — handed to its caller, as `write` raises it
                    outcomes[index] = (False, exc)
        return outcomes

    def write_in_turn(self, run: Callable[[Session], T], *, quiet_hooks: bool = False) -> T:
        """SQLite, on the event loop, with the writers' turn: `run` as `_write_now` makes it, its `BEGIN IMMEDIATE`
        not waiting for another process (`LockBusy`). With `quiet_hooks`, an after-commit hook that fails is logged,
        not raised: what was written landed, and is not to be made again (a group of writes)."""
        assert self._writers is not None
        with self._writers.here():
            return self._write_now(run, quiet_hooks=quiet_hooks)

    def _write_now(self, run: Callable[[Session], T], *, quiet_hooks: bool = False) -> T:
        """SQLite, on the event loop, with the writers' turn (`WriterQueue.here`): `run` in a transaction on the
        loop's held connection and session (`_loop_session`).

        The transaction is the held connection's own (`Connection.begin`, whose `begin` event sends `BEGIN
        IMMEDIATE`), not the session's: a session's transaction (its begin, state changes, commit and close) cost
        about ten times the `BEGIN IMMEDIATE` and `COMMIT` it wraps, for a write that mostly runs prepared
        statements on the connection (`transaction_connection` finds it in `session.info`). The ORM work a write
        does (objects added, queried, flushed) runs in a session transaction that joins this one (the session's
        `join_transaction_mode="rollback_only"`): it is flushed and ended before the connection commits, and its
        rollback rolls the whole transaction back. As
        `begin`: committed whole or rolled back whole, then the after-commit hooks with the session's `info`, the
        kept trace of a refusal (`keep_after_rollback`) written after the rollback, and nothing left in the session.
        A transaction ended before its commit (the session rolled back within `run`, or SQLite rolled it back after
        an error) is not committed, nor is anything written after it: `transaction_connection` refuses further
        prepared writes, and the write is rolled back whole (`LoopTransactionEnded`)."""
        session = self._loop_session()
        connection = self._held[0]  # type: ignore[index]
        info = session.info
        try:
            # BEGIN IMMEDIATE before anything else: LockBusy leaves nothing done
            transaction = connection.begin()
            info[LOOP_CONNECTION] = (connection, transaction, connection.connection.dbapi_connection)
            result, done = self._run_joined(run, session, connection, transaction, self._roll_back_loop)
        finally:
            info.clear()  # nothing of this write kept until the next one
            if connection.invalidated or connection.closed:
                self._drop_held()  # a connection found broken: the next write takes a new one from the pool
        if self.wal_checkpoints is not None:
            try:
                self.wal_checkpoints.poke()
            except Exception:
                if not quiet_hooks:
                    raise
                log.exception("the WAL's checkpoint not asked for after a group of writes committed")
        self._after_commit(done, quiet_hooks)
        return result

    def _after_commit(self, done: dict[Any, Any], quiet: bool) -> None:
        for hook in self.after_commit:
            if not quiet:
                hook(done)
                continue
            try:
                hook(done)
            except Exception:  # noqa: BLE001 — committed: the writes are answered as made
                log.exception("an after-commit hook failed after a group of writes committed")

    def _run_joined(self, run: Callable[[Session], T], session: Session, connection: Connection, transaction: Any,
                    roll_back: Callable[[Session, Connection, Any], None]) -> tuple[T, dict[Any, Any]]:
        """The body of a write in a held connection's own transaction (`_write_now` on SQLite, `_write_held` on
        PostgreSQL; `LOOP_CONNECTION` already in the session's `info`): `run`, the session's joined ORM work flushed
        and ended, the writes deferred to the end (the audit append's, PostgreSQL) sent with the COMMIT in one round
        trip, the connection's transaction committed; on any error rolled back whole by `roll_back` and the kept trace
        of a refusal written after it. Returns `run`'s result and the session's `info` as the commit left it (for the
        after-commit hooks); the session is closed when the ORM kept objects."""
        info = session.info
        try:
            result = run(session)
            if loop_transaction_ended(info[LOOP_CONNECTION]):  # ORM work after it would begin and commit its own
                raise LoopTransactionEnded("the write's transaction was rolled back before its end")
            # (objects changed or deleted are in the identity map; objects added and not flushed are `new`)
            if session.in_transaction() or session.identity_map or session.new:
                session.commit()  # the ORM's work flushed; joined, its transaction does not commit this one
            if info.get(DEFERRED) is not None:
                # the writes deferred to the end (the audit append's) and the COMMIT in one round trip
                del info[DEFERRED]
                send_deferred(connection.connection.dbapi_connection, connection.dialect, commit=True,
                              connection=connection)
            transaction.commit()
        except BaseException as exc:
            roll_back(session, connection, transaction)
            kept: list[KeptWrite] = getattr(exc, "__dict__", {}).pop(_KEPT, [])
            if kept:
                self._write_kept(kept)
            raise
        del info[LOOP_CONNECTION]
        done = dict(info)
        if session.identity_map or session.new:
            session.close()
        return result, done

    def _roll_back_loop(self, session: Session, connection: Connection, transaction: Any) -> None:
        """`_write_now`'s rollback: the session's joined transaction (which rolls back the connection's), the
        connection's (ended on the connection even when no longer active: a COMMIT refused), the session closed.
        A COMMIT that SQLite refused (a deferred foreign key, a full disk) leaves the driver's connection in its
        transaction, which SQLAlchemy then no longer rolls back, nor its pool when the connection is given back: it
        is rolled back here, or the connection invalidated (and then let go of) when that fails too."""
        try:
            try:
                if session.in_transaction():
                    session.rollback()
            finally:
                if connection.get_transaction() is transaction:  # (not when the session's rollback ended it)
                    transaction.rollback()
        finally:
            session.close()
            raw = None if connection.invalidated or connection.closed else connection.connection.dbapi_connection
            if raw is not None and raw.in_transaction:
                try:
                    raw.rollback()
                except Exception:  # noqa: BLE001 — the write's own error is the one raised
                    connection.invalidate()

    def _loop_session(self) -> Session:
        """SQLite: the session of the writes run on the event loop, on one connection held out of the write engine's
        pool between them. A session and a pooled connection set up and given back for each write cost about 80 µs
        of CPU (the session, its transaction, the pool's checkout, check-in and reset), against 6 µs for the
        `BEGIN IMMEDIATE` and `COMMIT` themselves; the loop's writes come one at a time (`WriterQueue`), so one
        connection and one session serve them all. Between writes the connection is in no transaction (each one
        commits or rolls back, and the session is closed: nothing of one write is left in it, its `info` emptied).
        A pool replaced (`Engine.dispose`, as a restore does) or a connection invalidated is let go of."""
        held = self._held
        if held is not None and held[2] is self.engine.pool and not held[0].invalidated and not held[0].closed:
            session = held[1]
            session.info.clear()
            return session
        self._drop_held()
        connection = self.engine.connect()
        session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only")
        self._held = (connection, session, self.engine.pool)
        return session

    def _drop_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held[1].close()
            try:
                held[0].close()
            except Exception:  # noqa: BLE001 — a connection already gone: nothing left to give back
                log.debug("could not close the event loop's write connection", exc_info=True)

    def write_group(self, runs: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
        """PostgreSQL, in a worker thread: grouped writes in one transaction, or each alone (store/groups.py)."""
        return run_group(self, runs)

    def thread_session(self) -> Session | None:
        return None if self.is_sqlite else self._thread_session()

    def write_blocking(self, run: Callable[[Session], T]) -> T:
        return self._write_blocking(run)

    def _write_blocking(self, run: Callable[[Session], T]) -> T:
        session = None if self.is_sqlite else self._thread_session()
        if session is None:
            with self.begin() as session:
                return run(session)
        return self.write_held_now(run, session)

    def write_held_now(self, run: Callable[[Session], T], session: Session, *, quiet_hooks: bool = False) -> T:
        """`_write_held` on the thread's held session (`thread_session`), which is left empty after it; a connection
        found broken is let go of. With `quiet_hooks`, an after-commit hook that fails is logged, not raised: what
        was written landed, and is not to be made again (a group of writes, store/groups.py)."""
        try:
            return self._write_held(run, session, quiet_hooks=quiet_hooks)
        finally:
            session.info.clear()  # nothing of this write kept until the next one
            held = getattr(self._thread_held, "held", None)
            if held is not None and (held[0].invalidated or held[0].closed):
                self._drop_thread_held()  # a connection found broken: the next write takes a new one

    def _write_held(self, run: Callable[[Session], T], session: Session, *, quiet_hooks: bool = False) -> T:
        """PostgreSQL, in a worker thread: `run` in a transaction on the thread's held connection and session
        (`_thread_session`), as SQLite's loop writes (`_write_now`): the transaction is the held connection's own
        (`Connection.begin`; psycopg sends its BEGIN with the first statement), not the session's, whose begin, state
        changes, commit and close cost a check more than its transaction's own statements. ORM work within `run`
        joins it (`join_transaction_mode="rollback_only"`) and is flushed before the end; the writes deferred to the
        end (the audit append's) go with the COMMIT in one round trip (`send_deferred`), then the connection's
        transaction ends (psycopg, finding none open, sends nothing). As `begin`: committed whole or rolled back whole,
        then the after-commit hooks with the session's `info`, the kept trace of a refusal (`keep_after_rollback`)
        written after the rollback, and nothing left in the session. A transaction rolled back within `run` (the
        session's rollback ends it) is not committed, nor is anything written after it (`LoopTransactionEnded`)."""
        held = self._thread_held.held
        connection = held[0]
        info = session.info
        transaction = connection.begin()
        info[LOOP_CONNECTION] = (connection, transaction, _OPEN)
        result, done = self._run_joined(run, session, connection, transaction, self._roll_back_held)
        self._after_commit(done, quiet_hooks)
        return result

    @staticmethod
    def _roll_back_held(session: Session, connection: Connection, transaction: Any) -> None:
        """`_write_held`'s rollback: the session's joined transaction (which rolls back the connection's), the
        connection's, the session closed. A rollback that fails (the connection lost) leaves the connection
        invalidated, so that it is let go of; the write's own error is the one raised."""
        try:
            if session.in_transaction():
                session.rollback()
            if connection.get_transaction() is transaction:  # (not when the session's rollback ended it)
                transaction.rollback()
        except Exception:  # noqa: BLE001 — the write's own error is the one raised
            log.debug("could not roll back a held write connection", exc_info=True)
            if not connection.invalidated and not connection.closed:
                connection.invalidate()
        finally:
            session.close()

    def _thread_session(self) -> Session | None:
        """PostgreSQL: the session of `write`'s transactions in this worker thread, on one connection held out of the
        write engine's pool between them (as SQLite's loop writes, `_loop_session`: a session, a pooled connection's
        checkout, check-in and reset and SQLAlchemy's transaction around them cost more of a check's CPU than its
        SQL). Between writes the connection is in no transaction and the session is empty. Before each write a held
        connection is looked at as the pool's checkout does (`_ping_when_spoken_to`): one the server ended (a
        restart, a terminated backend) is let go of and another taken; so is one invalidated, or of a pool replaced.
        At most `_HELD_WRITE_CONNECTIONS` threads hold one; others (and SQLite) get None: `begin`'s way."""
        local = self._thread_held
        held = getattr(local, "held", None)
        if held is not None:
            if held[2] is self.engine.pool and not held[0].invalidated and not held[0].closed and _alive(held[0]):
                session = held[1]
                session.info.clear()
                return session
            self._drop_thread_held()
        with self._held_guard:
            ended = [h for h in self._all_held if not h[3].is_alive()]  # threads gone (an executor shut down)
            self._all_held = [h for h in self._all_held if h[3].is_alive()]
            if len(self._all_held) >= _HELD_WRITE_CONNECTIONS:
                held = None
            else:
                held = (None, None, None, threading.current_thread())  # the place taken while connecting
                self._all_held.append(held)
        for h in ended:
            _let_go(h)
        if held is None:
            return None
        try:
            pool = self.engine.pool
            connection = self.engine.connect()
        except BaseException:
            with self._held_guard:
                self._all_held = [h for h in self._all_held if h is not held]
            raise
        session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only")
        taken, held = held, (connection, session, pool, held[3])
        with self._held_guard:  # (`dispose` meanwhile: the held one is let go of after this write, its pool gone)
            self._all_held = [held if h is taken else h for h in self._all_held]
        local.held = held
        return held[1]

    def _drop_thread_held(self) -> None:
        held = getattr(self._thread_held, "held", None)
        self._thread_held.held = None
        if held is not None:
            with self._held_guard:
                if any(h is held for h in self._all_held):
                    self._all_held = [h for h in self._all_held if h is not held]
            _let_go(held)

    def _drop_all_held(self) -> None:
        with self._held_guard:
            helds, self._all_held = self._all_held, []
        for held in helds:  # each thread finds its own closed and takes another
            _let_go(held)

    def _write_kept(self, kept: list[KeptWrite]) -> None:
        try:
            with self.begin() as session:
                for write in kept:
                    write(session)
        except Exception:  # the refusal stands and is answered whatever happens to its trace
            log.exception("could not record the trace of a refused write")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction. A refusal raised in it that carries a trace to keep (`keep_after_rollback`: a 回避
        refusal of a download) has it written in a write transaction of its own, as `begin` does."""
        session = self._read_sessions()
        try:
            with session.begin():
                yield session
        except BaseException as exc:
            kept: list[KeptWrite] = getattr(exc, "__dict__", {}).pop(_KEPT, [])
            if kept:
                session.close()
                self._write_kept(kept)
            raise
        finally:
            session.close()

    @property
    def readers(self) -> Readers:
        """Where `reader` gets its connections (its `seen` hooks observe the statements run)."""
        if self._readers is None:
            self._readers = Readers(self.quick_engine, per_thread=self.is_sqlite)
        return self._readers

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """Prepared statements (store/reader.py): on SQLite on a connection of the calling thread's own, in one read
        transaction (so the event loop may read without a hand-off), on PostgreSQL on a pooled connection."""
        with self.readers.open() as reader:
            yield reader

    async def ask(self, steps: Steps[T], *, gather: bool = True) -> T:
        """A read in steps (store/reader.py), from the event loop without a hand-off to a worker thread: on SQLite
        on the loop's own connection (a short indexed read under WAL never waits for a writer), on PostgreSQL on a
        psycopg AsyncConnection (`AsyncReaders`), its batches gathered with others in flight (store/readgroups.py)
        unless `gather` is off: a read that may take long (a list page's counts on a large county), which would
        otherwise hold one of the few exchanges the short reads (sessions, a case) wait for."""
        if self.is_sqlite:
            with self.readers.open() as reader:  # (`reader`'s, without its own context manager around it)
                return reader.run(steps)
        if self._async_readers is None:
            self._async_readers = AsyncReaders(self.quick_engine, seen=self.readers.seen)
        return await self._async_readers.run(steps, gather=gather)

    @property
    def quick_engine(self) -> Engine:
        """The engine of `reader` (on SQLite one connection per thread; on PostgreSQL a pool of its own)."""
        if self._quick_engine is None:
            # PostgreSQL: a pool of its own, without the pre-ping (a round trip before every read: a reader that finds
            # its connection gone drops this whole pool instead, store/reader.py, and the request is answered 503),
            # and in autocommit: no BEGIN and ROLLBACK round trips around the reads. Each statement sees its own
            # snapshot, as it does within a READ COMMITTED transaction anyway.
            self._quick_engine = (_sqlite_engine(self.url, immediate=False, echo=False, poolclass=SingletonThreadPool)
                                  if self.is_sqlite else create_engine(self.url, pool_size=5, max_overflow=10,
                                                                       json_serializer=_write_json,
                                                                       json_deserializer=_read_json,
                                                                       isolation_level="AUTOCOMMIT"))
        return self._quick_engine

    def dispose(self) -> None:
        self._drop_held()
        self._drop_all_held()
        if self.wal_checkpoints is not None:
            self.wal_checkpoints.close()
        if self._quick_engine is not None:
            self._quick_engine.dispose()
        if self._readers is not None:
            self._readers.reset()
        if self._async_readers is not None:
            self._async_readers.reset()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
