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
open (whose pending changes are flushed first), so a write can answer with what it wrote.

Only for reads: nothing here writes, and a statement with an expanding IN parameter is not supported (build one per
list length instead, as the case history does in cases/present.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import Compiled

Processor = Callable[[Any], Any] | None


class _Compiled(NamedTuple):
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark/format styles); None: named/pyformat
    bind: dict[str, Callable[[Any], Any]]  # the parameters whose type converts their value
    defaults: dict[str, Any]  # parameters with a value of their own (a LIMIT, a literal True)
    columns: tuple[Processor, ...]
    row: type
    processed: bool  # whether any column has a processor


class Prepared:
    """One SELECT, compiled once per dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        keys = [c.key for c in statement.selected_columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a prepared statement needs distinct column names: {keys}")
        self._row = NamedTuple("Row", [(k, Any) for k in keys])  # type: ignore[misc]

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            binds = compiled.binds
            bind = bind_processors(compiled, dialect)
            defaults = {name: b.value for name, b in binds.items() if b.value is not None or not b.required}
            columns = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                            for c in self.statement.selected_columns)
            positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            found = self._compiled[dialect.name] = _Compiled(compiled.string, positional, bind, defaults, columns,
                                                             self._row, any(p is not None for p in columns))
        return found


def bind_processors(compiled: Compiled, dialect: Dialect) -> dict[str, Callable[[Any], Any]]:
    """The parameters of a compiled statement whose type converts their value, by name (no expanding IN list)."""
    binds = compiled.binds
    if any(getattr(b, "expanding", False) for b in binds.values()):
        raise ValueError("a prepared statement cannot have an expanding IN parameter")
    return {name: process for name, b in binds.items()
            if (process := b.type.dialect_impl(dialect).bind_processor(dialect)) is not None}


class Reader:
    """Runs prepared statements on one driver connection."""

    def __init__(self, connection: Any, dialect: Dialect, seen: list[Callable[[str], None]] | None = None) -> None:
        self._connection = connection
        self._dialect = dialect
        self._seen = seen
        self.disconnected = False  # a statement found the connection gone

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
        parameters = _parameters(c, params or {})
        cursor = self._connection.cursor()
        try:
            cursor.execute(c.sql, parameters)
            rows = cursor.fetchall()
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._failed(exc, c.sql, parameters, cursor) from exc
        finally:
            cursor.close()
        return _rows(c, rows)

    def batch(self, statements: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[list[Any]]:
        """The rows of several statements that do not depend on each other, in their order. On PostgreSQL (psycopg)
        they are sent together in pipeline mode: one round trip for all instead of one each."""
        if self._dialect.driver != "psycopg" or len(statements) < 2:
            return [self.all(prepared, params) for prepared, params in statements]
        compiled = [(self._prepare(prepared), params) for prepared, params in statements]
        results: list[list[Any]] = []
        cursors = []
        try:
            with self._connection.pipeline():
                for c, params in compiled:
                    cursor = self._connection.cursor()
                    cursors.append(cursor)
                    cursor.execute(c.sql, _parameters(c, params))
                for (c, _), cursor in zip(compiled, cursors):
                    results.append(_rows(c, cursor.fetchall()))
        except self._dialect.loaded_dbapi.Error as exc:
            raise self._failed(exc, "; ".join(c.sql for c, _ in compiled), None, None) from exc
        finally:
            for cursor in cursors:
                cursor.close()
        return results

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
            if values.get(name) is not None:
                values[name] = process(values[name])
    else:
        values = params  # type: ignore[assignment]
    if c.positional is None:
        return values
    try:
        return tuple([values[name] for name in c.positional])
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


def session_reader(session: Session) -> Reader:
    """A reader on a session's own connection and transaction (its pending changes flushed first)."""
    session.flush()
    connection = session.connection()
    return Reader(connection.connection.dbapi_connection, connection.dialect)
