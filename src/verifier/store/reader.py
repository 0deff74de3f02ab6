"""Prepared reads: a SELECT built once with SQLAlchemy Core, compiled once per dialect, run on the driver's connection.

The reads every request makes (the session behind a token, a case's detail) are a few short indexed SELECTs. For
those, SQLAlchemy's per-execution work (the execution context, events, the result's metadata) costs several times
what the database takes to answer. A `Prepared` statement keeps what that work produces and does not repeat it:

- the SQL text and the order of its parameters, from `Compiled` (so the SQL is exactly what SQLAlchemy would send);
- each parameter's and each column's type processors (`TypeEngine.bind_processor` / `result_processor` of the
  dialect's implementation, our TypeDecorators included), so the values read are exactly those SQLAlchemy would give:
  dates as dates, JSON as lists and dicts, moments in UTC with their time zone.

A `Reader` runs them on one connection: a thread's own SQLite connection in its own read transaction (so the
statements of one reader see one snapshot), a pooled PostgreSQL connection, or the connection of a session already
open (whose pending changes are flushed first), so a write can answer with what it wrote. On PostgreSQL a batch goes
below psycopg's cursors, in one pipeline, each statement prepared on the server once per connection (store/pgwire.py).

A request's read is written once as `Steps` (a generator of batches): a `Reader` runs it blocking, and
`Database.ask` runs it from the event loop, on SQLite on the loop's own connection and on PostgreSQL on an
`AsyncReader` (psycopg's AsyncConnection, `AsyncReaders`), with no hand-off to a worker thread on either.

Only for reads: nothing here writes, and a statement with an expanding IN parameter is not supported (build one per
list length instead, or let the database find the list with a subquery, as the case history does in
cases/present.py).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timezone
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

import psycopg
from psycopg import pq
from psycopg.errors import InvalidSqlStatementName
from psycopg.waiting import wait
from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import Compiled

from .base import UtcDateTime
from .binds import bind_processor
from .gather import gathered
from .loopwait import wait_on_loop
from .pgwire import INTERVAL, Statement, exchange, exchange_apart, forget
from .readgroups import Again, ReadGroups

Processor = Callable[[Any], Any] | None
T = TypeVar("T")
Batch = list[tuple["Prepared", Mapping[str, Any]]]
Steps = Generator[Batch, list[list[Any]], T]
"""A read in steps: a generator yielding each batch of statements (those that do not depend on each other) and sent
their rows, returning what was read. The same steps run on a `Reader` (blocking) or an `AsyncReader` (on the event
loop), so a request's read is written once."""


class _Compiled(NamedTuple):
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark/format styles); None: named/pyformat
    bind: dict[str, Callable[[Any], Any]]  # the parameters whose type converts their value
    defaults: dict[str, Any]  # parameters with a value of their own (a LIMIT, a literal True)
    columns: tuple[Processor, ...]
    row: type
    processed: bool  # whether any column has a processor
    wire: Statement | None  # on PostgreSQL (psycopg): the statement as its server prepares it (store/pgwire.py)


class Prepared:
    """One SELECT, compiled once per dialect. `postgresql`: the same read written another way for PostgreSQL (a
    form SQLite does not have, such as a LATERAL join), with the same columns in the same order. `generic`: on
    PostgreSQL, when read in a transaction, executed with its generic plan, never planned again for its values, and
    that plan made by the indexes however small the tables were when it was made (store/pgwire.py); for a statement
    whose plan does not depend on them (rows by their keys)."""

    def __init__(self, statement: Select[Any], *, postgresql: Select[Any] | None = None, generic: bool = False) -> None:
        self.statement = statement
        self.generic = generic  # PostgreSQL, in a transaction: always its one generic plan (store/pgwire.py)
        self._compiled: dict[str, _Compiled] = {}
        keys = [c.key for c in statement.selected_columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a prepared statement needs distinct column names: {keys}")
        if postgresql is not None and [c.key for c in postgresql.selected_columns] != keys:
            raise ValueError("a prepared statement's PostgreSQL form needs the same columns in the same order")
        self._variants = {} if postgresql is None else {"postgresql": postgresql}
        self._row = NamedTuple("Row", [(k, Any) for k in keys])  # type: ignore[misc]

    def for_dialect(self, name: str) -> Select[Any]:
        """The statement as sent to the database of dialect `name`."""
        return self._variants.get(name, self.statement)

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            statement = self.for_dialect(dialect.name)
            compiled = statement.compile(dialect=dialect)
            binds = compiled.binds
            bind = bind_processors(compiled, dialect)
            defaults = {name: b.value for name, b in binds.items() if b.value is not None or not b.required}
            columns = tuple(_result_processor(c.type, dialect) for c in statement.selected_columns)
            positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            wire = Statement(compiled.string, generic=self.generic) if dialect.driver == "psycopg" else None
            found = self._compiled[dialect.name] = _Compiled(compiled.string, positional, bind, defaults, columns,
                                                             self._row, any(p is not None for p in columns), wire)
        return found


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    """A column's result processor, as SQLAlchemy's: a `UtcDateTime`'s is the same two steps (the driver's value
    to a datetime, then to UTC) in one function instead of TypeDecorator's three calls, for every moment read."""
    impl = type_.dialect_impl(dialect)
    if not isinstance(impl, UtcDateTime):
        return impl.result_processor(dialect, None)  # type: ignore[no-any-return]
    inner = impl.impl_instance.result_processor(dialect, None)
    utc = timezone.utc

    def process(value: Any) -> Any:
        if inner is not None:
            value = inner(value)
        if value is None:
            return None
        return value.replace(tzinfo=utc) if value.tzinfo is None else value.astimezone(utc)

    return process


def bind_processors(compiled: Compiled, dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """The parameters of a compiled statement whose type converts their value, by name (no expanding IN list)."""
    binds = compiled.binds
    if any(getattr(b, "expanding", False) for b in binds.values()):
        raise ValueError("a prepared statement cannot have an expanding IN parameter")
    return {name: process for name, b in binds.items() if (process := bind_processor(b.type, dialect)) is not None}


class Reader:
    """Runs prepared statements on one driver connection."""

    def __init__(self, connection: Any, dialect: Dialect, seen: list[Callable[[str], None]] | None = None) -> None:
        self._connection = connection
        self._dialect = dialect
        self._seen = seen
        self.disconnected = False  # a statement found the connection gone

    @property
    def connection(self) -> Any:
        return self._connection

    def _prepare(self, prepared: Prepared) -> _Compiled:
        c = prepared._compiled.get(self._dialect.name) or prepared.compiled(self._dialect)
        for see in self._seen or ():
            see(c.sql)
        return c

    def _failed(self, exc: Exception, sql: str, parameters: Any, cursor: Any) -> DBAPIError:
        """A driver's error as SQLAlchemy would raise it (so a lost or full database is answered 503/507, see
        store/faults.py), noting whether the connection is gone (the pool then replaces it)."""
        gone = self._dialect.is_disconnect(exc, self._connection, cursor)
        self.disconnected = self.disconnected or gone
        return DBAPIError.instance(sql, parameters, exc, self._dialect.loaded_dbapi.Error,
                                   connection_invalidated=gone, dialect=self._dialect)

    def all(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> list[Any]:
        c = self._prepare(prepared)
        if c.wire is not None:
            return self._exchange([(c, params or {})])[0]
        parameters = _parameters(c, params or {})
        try:
            rows = self._connection.execute(c.sql, parameters).fetchall()  # its cursor is closed when dropped
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._failed(exc, c.sql, parameters, None) from exc
        return _rows(c, rows)

    def batch(self, statements: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[list[Any]]:
        """The rows of several statements that do not depend on each other, in their order. On PostgreSQL (psycopg)
        they are sent together in pipeline mode: one round trip for all instead of one each."""
        if self._dialect.driver != "psycopg":
            return [self.all(prepared, params) for prepared, params in statements]
        return self._exchange([(self._prepare(prepared), params) for prepared, params in statements])

    def _exchange(self, compiled: list[tuple[_Compiled, Mapping[str, Any]]]) -> list[list[Any]]:
        """On psycopg: the statements in one pipeline, prepared on the server (store/pgwire.py); within a group of
        writes (store/groups.py), with the other writes' in one pipeline."""
        if (asked := gathered(self._connection, compiled)) is not None:
            return asked
        return self.exchange_now(compiled)

    def exchange_now(self, compiled: list[tuple[_Compiled, Mapping[str, Any]]]) -> list[list[Any]]:
        try:
            try:
                answers = wait(self._wired(compiled), self._connection.fileno(), INTERVAL)
            except InvalidSqlStatementName:  # our statements were deallocated: prepared again, once
                forget(self._connection)
                answers = wait(self._wired(compiled), self._connection.fileno(), INTERVAL)
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._failed(exc, "; ".join(c.sql for c, _ in compiled), None, None) from exc
        return [_rows(c, rows) for (c, _), rows in zip(compiled, answers)]

    def _wired(self, compiled: list[tuple[_Compiled, Mapping[str, Any]]]) -> Any:
        return exchange(self._connection, [(c.wire, _wire_values(c, params)) for c, params in compiled])

    def run(self, steps: Steps[T]) -> T:
        """A read in steps (see `Steps`), each step's statements as one batch."""
        try:
            statements = next(steps)
            while True:
                statements = steps.send(self.batch(statements))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def first(self, prepared: Prepared, params: Mapping[str, Any] | None = None) -> Any | None:
        rows = self.all(prepared, params)
        return rows[0] if rows else None


def _rows(c: _Compiled, rows: list[Any]) -> list[Any]:
    row, columns = c.row, c.columns
    if not c.processed:
        return [row(*r) for r in rows]
    return [row(*[v if p is None or v is None else p(v) for p, v in zip(columns, r)]) for r in rows]


def _parameters(c: _Compiled, params: Mapping[str, Any]) -> Any:
    if c.defaults or c.bind:
        values = {**c.defaults, **params}
        for name, process in c.bind.items():
            if (value := values.get(name)) is not None:
                values[name] = process(value)
    else:
        values = params  # type: ignore[assignment]
    if c.positional is None:
        return values
    try:
        return tuple([values[name] for name in c.positional])
    except KeyError as exc:
        raise ValueError(f"a prepared statement's parameter has no value: {exc.args[0]}") from None


def _wire_values(c: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    return _in_wire_order(c, _parameters(c, params))


def _in_wire_order(c: _Compiled, values: Mapping[str, Any]) -> list[Any]:
    """A statement's values (`_parameters`, named) in the order its server-side statement takes them."""
    try:
        return [values[name] for name in c.wire.order]  # type: ignore[union-attr]
    except KeyError as exc:
        raise ValueError(f"a prepared statement's parameter has no value: {exc.args[0]}") from None


class Readers:
    """Where a process gets its readers: one per thread on SQLite, the pool's on PostgreSQL."""

    def __init__(self, engine: Engine, *, per_thread: bool) -> None:
        self._engine = engine
        self._per_thread = per_thread
        self._local = threading.local()
        self._generation = 0  # bumped by `reset`: every thread's connection is opened anew
        self.seen: list[Callable[[str], None]] = []
        """Called with each statement's SQL before it runs (to count what a request reads)."""

    def reset(self) -> None:
        """Forget every thread's connection (the engine was disposed of): each opens a new one when next used."""
        self._generation += 1

    @contextmanager
    def open(self) -> Iterator[Reader]:
        """A reader on a connection of its own: on SQLite its statements in one read transaction (one snapshot),
        rolled back at the end; on PostgreSQL in autocommit, each statement its own snapshot (as under READ
        COMMITTED within a transaction)."""
        if self._per_thread:
            conn = getattr(self._local, "conn", None)
            if conn is None or self._local.generation != self._generation:
                conn = self._local.conn = self._engine.raw_connection().dbapi_connection
                self._local.generation = self._generation
            conn.execute("BEGIN")
            try:
                yield Reader(conn, self._engine.dialect, self.seen)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            return
        dialect = self._engine.dialect
        try:
            pooled = self._engine.raw_connection()
        except dialect.loaded_dbapi.Error as exc:  # no connection to be had: as SQLAlchemy's own connect raises it
            raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=True,
                                      dialect=dialect) from exc
        reader = Reader(pooled.dbapi_connection, self._engine.dialect, self.seen)
        try:
            yield reader
        except BaseException:
            if reader.disconnected:  # the server went away: every pooled connection is as stale as this one
                pooled.invalidate()
                self._engine.dispose()
            raise
        finally:
            if pooled.is_valid:
                pooled.rollback()
                pooled.close()


class AsyncReader:
    """Runs prepared statements on PostgreSQL from the event loop: the same exchange as a `Reader`'s, awaited on an
    `AsyncConnection`'s socket, so a request's short reads need no hand-off to a worker thread."""

    def __init__(self, connection: Any, dialect: Dialect, seen: list[Callable[[str], None]] | None = None) -> None:
        self._reader = Reader(connection, dialect, seen)
        self._connection = connection

    @property
    def disconnected(self) -> bool:
        return self._reader.disconnected

    async def batch(self, statements: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[list[Any]]:
        reader = self._reader
        compiled = [(reader._prepare(prepared), params) for prepared, params in statements]
        try:
            try:
                answers = await wait_on_loop(reader._wired(compiled), self._connection.fileno())
            except InvalidSqlStatementName:  # our statements were deallocated: prepared again, once
                forget(self._connection)
                answers = await wait_on_loop(reader._wired(compiled), self._connection.fileno())
        except reader._dialect.loaded_dbapi.Error as exc:
            raise reader._failed(exc, "; ".join(c.sql for c, _ in compiled), None, None) from exc
        return [_rows(c, rows) for (c, _), rows in zip(compiled, answers)]


class AsyncReaders:
    """PostgreSQL's readers for the event loop: a few psycopg AsyncConnections in autocommit, made with the very
    arguments SQLAlchemy's engine connects with (its adapters, so values read are the same), at most `size` in use at
    once per event loop. A connection found gone drops every idle one (the server restarted: they are all stale); the
    request is answered 503 and the next one connects anew. A read's batches are sent alone or, when others are in
    flight, gathered with others in one round trip (store/readgroups.py)."""

    def __init__(self, engine: Engine, *, seen: list[Callable[[str], None]], size: int = 10,
                 connect_timeout: int = 5) -> None:
        self._engine = engine
        self._size = size
        self._idle: list[Any] = []
        self._slots: tuple[Any, asyncio.Semaphore, ReadGroups] | None = None  # (its loop, the semaphore, its groups)
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        cparams.setdefault("connect_timeout", connect_timeout)
        self._connect_args = (cargs, {**cparams, "autocommit": True})
        self.seen = seen

    def _loops(self) -> tuple[Any, asyncio.Semaphore, ReadGroups]:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self._size), ReadGroups(loop, self._alone, self._together))
        return self._slots

    def _semaphore(self) -> asyncio.Semaphore:
        return self._loops()[1]

    def _groups(self) -> ReadGroups:
        return self._loops()[2]

    async def _connect(self) -> Any:
        dialect = self._engine.dialect
        cargs, cparams = self._connect_args
        try:
            return await psycopg.AsyncConnection.connect(*cargs, **cparams)
        except psycopg.Error as exc:  # no connection to be had: as SQLAlchemy's own connect raises it
            raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=True,
                                      dialect=dialect) from exc

    async def run(self, steps: Steps[T], *, gather: bool = True) -> T:
        """`steps` run batch by batch, each batch on a connection of the pool: alone when fewer than
        `readgroups.GROUPS` exchanges are in flight, else with the other batches waiting (store/readgroups.py);
        without `gather`, always alone and outside the groups' count (a read that may take long)."""
        ask = self._groups().ask if gather else self._alone
        try:
            statements = next(steps)
            while True:
                statements = steps.send(await ask(statements))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _alone(self, statements: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[list[Any]]:
        """One batch on a connection of the pool: a connection taken (at most `size` at once), given back when whole
        and quiet, else closed (written out, not as an async context manager, whose own work was a measurable share
        of a case read's CPU in the process)."""
        slots = self._semaphore()
        await slots.acquire()
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
            reader = AsyncReader(connection, self._engine.dialect, self.seen)
            try:
                return await reader.batch(statements)
            except BaseException:
                if reader.disconnected:
                    self.reset()
                raise
            finally:
                self._give_back(connection)
        finally:
            slots.release()

    async def _together(self, batches: Sequence[Sequence[tuple[Prepared, Mapping[str, Any]]]]) -> list[Any]:
        """Several batches in one pipeline on one connection (`pgwire.exchange_apart`): for each, its rows, or
        `Again` (sent again alone) for one the server refused, and for each when the exchange failed as a whole (a
        lost connection: the idle ones are dropped, and each read meets, alone, what it would have met alone)."""
        dialect = self._engine.dialect
        prepare = Reader(None, dialect, self.seen)._prepare
        compiled = [[(prepare(prepared), params) for prepared, params in batch] for batch in batches]
        wired = [[(c.wire, _wire_values(c, params)) for c, params in batch] for batch in compiled]
        slots = self._semaphore()
        await slots.acquire()
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                answers = await wait_on_loop(exchange_apart(connection, wired), connection.fileno())
            except dialect.loaded_dbapi.Error as exc:  # the exchange failed as a whole: each read alone
                if dialect.is_disconnect(exc, connection, None):
                    self.reset()
                return [Again() for _ in batches]
            finally:
                self._give_back(connection)
            return [Again() if isinstance(rows, Exception) else
                    [_rows(c, r) for (c, _), r in zip(batch, rows)] for batch, rows in zip(compiled, answers)]
        finally:
            slots.release()

    def _give_back(self, connection: Any) -> None:
        """A connection back to the idle ones when it is whole and quiet, else closed."""
        pg = connection.pgconn
        if (pg.status == pq.ConnStatus.OK and pg.transaction_status == pq.TransactionStatus.IDLE
                and pg.pipeline_status == pq.PipelineStatus.OFF and len(self._idle) < self._size):
            self._idle.append(connection)
        else:
            pg.finish()

    def reset(self) -> None:
        """Close every idle connection (the database was disposed of, or its server went away)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.pgconn.finish()


def session_reader(session: Session) -> Reader:
    """A reader on a session's own connection and transaction (its pending changes flushed first)."""
    session.flush()
    connection = transaction_connection(session)
    return Reader(connection.connection.dbapi_connection, connection.dialect)


_CONNECTION = "transaction_connection"
"""Key in `session.info`: (the session's transaction, its connection), `transaction_connection`'s."""
LOOP_CONNECTION = "loop_connection"
"""Key in `session.info`: (the connection, its transaction, its sqlite3 connection) of the transaction a write on the
event loop runs in (SQLite, `Database._write_now`): the session's transaction, when it has one, joins that one."""


def loop_transaction_ended(loop: tuple[Any, Any, Any]) -> bool:
    """Whether the event loop's write transaction (`LOOP_CONNECTION`'s) has ended before its commit: rolled back by
    the session (its joined transaction's rollback ends it) or by SQLite itself (it rolls back on its own after a
    full disk or an I/O error). Its connection is then in autocommit (sqlite3's `isolation_level` None): a write on
    it would commit at once, alone."""
    return not (loop[1].is_active and loop[2].in_transaction)


class LoopTransactionEnded(PendingRollbackError):
    """A write on the event loop went on after its transaction had ended (`loop_transaction_ended`): refused, and
    the whole write rolled back."""


def transaction_connection(session: Session) -> Connection:
    """`session.connection()`, found again without SQLAlchemy's look-up for the rest of the session's transaction
    (the same connection: a transaction keeps the one it began on; a write asks for it several times, each time
    through the session's transaction machinery). A new transaction (after a commit or a rollback) looks it up anew."""
    info = session.info
    loop = info.get(LOOP_CONNECTION)
    if loop is not None:
        if loop[1].is_active and loop[2].in_transaction:
            return loop[0]  # type: ignore[no-any-return]
        raise LoopTransactionEnded("the write's transaction was rolled back: nothing more is written in it")
    transaction = session.get_transaction()
    kept = info.get(_CONNECTION)
    if kept is not None and transaction is not None and kept[0] is transaction and transaction.is_active:
        return kept[1]  # type: ignore[no-any-return]
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection
