"""Prepared writes: an INSERT or UPDATE built once with SQLAlchemy Core, compiled once per dialect, run on the driver's
connection of a session's transaction (the writes' counterpart of store/reader.py's prepared reads).

A write on a hot path (recording a check, appending to the audit log) is a few single-row statements; SQLAlchemy's
per-execution work (the execution context, the compiled cache's key, the result) cost more than the database took
for each. A `PreparedWrite` keeps the SQL text, the order of its parameters and each parameter's type processor
(`TypeEngine.bind_processor` of the dialect's implementation, our TypeDecorators included), so the values sent are
exactly those SQLAlchemy would send, and runs the statement on the session's own connection: the same transaction.

A driver's error is raised as SQLAlchemy raises it (an `IntegrityError` for a duplicate key; a lost connection is
invalidated, so the pool replaces it), and listeners of the engine's `before_cursor_execute` event still see each
statement (the tests that count what a write costs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg.waiting import wait
from functools import lru_cache

from sqlalchemy import Dialect, Integer, bindparam, case, cast, func, insert, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import TextClause

# NOT_ONE_ROW: the text a guarded fold (`_fold(…, guarded=True)`) fails to read as a number when its last write wrote
# no row: the statement's error (invalid_text_representation) names what happened in the server's log;
# `faults.broken_rule` knows it, and it is answered 409 (app.py, web/errors.py, checks/shortcut.py).
from .faults import NOT_ONE_ROW
from .pgwire import INTERVAL, Settle, Statement, wire
from .pgwrite import defer, send_writes
from .reader import _Compiled, _in_wire_order, _parameters, bind_processors, transaction_connection


class PreparedWrite:
    """One INSERT (of every column, unless the statement names some) or UPDATE, compiled once per dialect (or the
    text of a write for one dialect, its parameters typed: `text(…).bindparams(…)`)."""

    def __init__(self, statement: Insert | Update | TextClause) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            bind = bind_processors(compiled, dialect)
            defaults = {name: b.value for name, b in compiled.binds.items() if b.value is not None}
            positional = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            wire = Statement(compiled.string) if dialect.driver == "psycopg" else None
            found = self._compiled[dialect.name] = _Compiled(compiled.string, positional, bind, defaults, (), tuple,
                                                             False, wire)  # no result columns
        return found

    def run(self, session: Session, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Run in the session's transaction (its pending changes flushed first), once or once per mapping of a list;
        returns the number of rows written."""
        return run_batch(session, [(self, params)])[0]


Write = tuple[PreparedWrite, "Mapping[str, Any] | Sequence[Mapping[str, Any]]"]


def _renamed(statement: Any, prefix: str) -> Any:
    """`statement` with each of its parameters named `prefix` + its name (a value of its own kept)."""
    from sqlalchemy.sql import visitors
    from sqlalchemy.sql.elements import BindParameter, _anonymous_label

    literals = iter(range(1_000_000))

    def rename(element: Any, **_: Any) -> Any:
        if not isinstance(element, BindParameter):
            return None
        name = f"{prefix}lit{next(literals)}" if isinstance(element.key, _anonymous_label) else prefix + element.key
        return bindparam(name, value=element.value, type_=element.type, required=element.required)

    return visitors.replacement_traverse(statement, {}, rename)



@lru_cache(maxsize=256)
def _fold(shape: tuple[tuple[PreparedWrite, int], ...], guarded: bool = False) -> PreparedWrite:
    """PostgreSQL: the writes of `shape` (each write with its number of rows) as one statement: every write but the
    last as a data-modifying CTE (an INSERT of several rows as one INSERT of their values; each row of an UPDATE an
    UPDATE of its own), the last as the statement itself, whose row count is the statement's. The parameters of write
    `i`'s row `j` are named `w{i}r{j}_` + their names (`_fold_params`). `guarded`: the last write too is a CTE
    (`RETURNING 1`) and the statement a SELECT that fails unless it wrote exactly one row (`NOT_ONE_ROW` cast to an
    integer): the check is the server's, so nothing is left for the process to judge before the COMMIT."""
    *ahead, (last, last_rows) = shape
    if last_rows != 1:
        raise ValueError("a folded batch's last write is of one row")
    def rows_of(statement: Any, i: int, rows: int) -> list[Any]:
        """The statements of write `i`'s rows: an INSERT of every column as one INSERT of their values."""
        if isinstance(statement, Insert) and statement._values is None and not statement._multi_values:
            table = statement.table
            return [insert(table).values([{c.key: bindparam(f"w{i}r{j}_{c.key}", type_=c.type)
                                           for c in table.columns} for j in range(rows)])]
        return [_renamed(statement, f"w{i}r{j}_") for j in range(rows)]

    ctes = [part.cte(f"w{i}p{k}") for i, (write, rows) in enumerate(ahead)
            for k, part in enumerate(rows_of(write.statement, i, rows))]
    main, = rows_of(last.statement, len(ahead), 1)
    if not guarded:
        return PreparedWrite(main.add_cte(*ctes))
    wrote = main.returning(literal_column("1")).cte("wlast")
    verdict = case((func.count() == 1, literal_column("'1'")), else_=literal_column(f"'{NOT_ONE_ROW}'"))
    return PreparedWrite(select(cast(verdict, Integer)).select_from(wrote).add_cte(*ctes))  # type: ignore[arg-type]


def _fold_params(writes: Sequence[Write]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (_, params) in enumerate(writes):
        rows = [params] if isinstance(params, Mapping) else params
        for j, row in enumerate(rows):
            prefix = f"w{i}r{j}_"
            out.update((prefix + k, v) for k, v in row.items())
    return out


def folded(writes: Sequence[Write], guarded: bool = False) -> Write | None:
    """The writes as one statement on PostgreSQL (`_fold`), with its parameters; None when they cannot be (a last
    write of several rows, a write of none). The caller folds only writes of distinct rows: two UPDATEs of one row
    in one statement make only one of them."""
    shape = []
    values = 0
    for write, params in writes:
        rows = 1 if isinstance(params, Mapping) else len(params)
        if rows == 0:
            return None
        values += len(params) if isinstance(params, Mapping) else sum(len(p) for p in params)
        shape.append((write, rows))
    if shape[-1][1] != 1 or values > FOLD_MAX_PARAMETERS:
        return None
    return _fold(tuple(shape), guarded), _fold_params(writes)


# PostgreSQL takes at most 65,535 parameters in one statement: writes carrying more go as they would unfolded (an
# audit append of thousands of entries at once, say).
FOLD_MAX_PARAMETERS = 30_000
DEFERRED = "deferred_writes_on"
"""Key in `session.info`: the driver connection on which writes were deferred (`run_batch(later=True)`)."""


def run_batch(session: Session, writes: Sequence[Write], *, later: bool = False,
              told: Callable[[list[int]], None] | None = None, fold: bool = False,
              one_row: bool = False, at_commit: bool = False) -> list[int]:
    """Several prepared writes, in order, in the session's transaction (its pending changes flushed first); the
    number of rows each wrote (also given to `told`). On PostgreSQL (psycopg) they go in one libpq pipeline below
    psycopg's cursors (store/pgwrite.py): one round trip instead of one each; a statement's error is raised when the
    batch ends, and the transaction is then to be rolled back whole, as after any error.

    With `later`, on PostgreSQL they are only queued, and sent at the head of the transaction's next statements, in
    their round trip (a prepared read's batch, another batch, whatever SQLAlchemy runs, or the commit: see
    `Database.begin`): `told` gets their counts then, and a statement's error (or `told`'s) is raised there, within
    the same transaction, which is then rolled back whole. Returns [] then. On SQLite they run at once.

    With `fold`, on PostgreSQL the writes go as one statement (`folded`: the others as data-modifying CTEs of the
    last; one statement to bind and execute instead of one per row, all or nothing as any statement), and the
    counts (returned and told) are the last write's alone, a list of one. One statement is one snapshot: a folded
    write does not see the rows the others write, and two UPDATEs of one row make only one of them; so only writes
    of rows apart, none depending on another, are to be folded. A last write of several rows is not folded. SQLite has no data-modifying
    CTE: there the writes run one by one as without `fold`, with every write's count.

    With `one_row` (and `fold`, `later`), `told` only refuses a last write that wrote other than one row: on
    PostgreSQL a folded batch then checks that itself (`_fold(guarded=True)`: the statement fails, and with it the
    transaction, whose COMMIT in the same pipeline is then not run), `told` is not called, and the batch, having no
    count to judge, goes with the COMMIT's round trip instead of one of its own (`send_judged`). Its refusal is then
    the driver's error (`NOT_ONE_ROW` in its message), not `told`'s: for a last write that cannot fail but for a
    broken rule (a row locked earlier in the transaction and found as expected), answered 409 and logged as an error
    (`faults.broken_rule`). Elsewhere `told` judges as before.

    With `at_commit` (and `later`, no `told`), on PostgreSQL they go with the COMMIT itself, after every other write
    deferred (`pgwrite.defer`): the audit appends, whose statement locks the log's head."""
    if not writes:
        return []
    session.flush()
    connection = transaction_connection(session)
    dialect = connection.dialect
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    watchers = connection.engine.dispatch.before_cursor_execute
    if dialect.driver == "psycopg":
        if fold and len(writes) > 1:
            one = folded(writes, guarded=one_row and later)
            if one is not None:
                writes = [one]
                if one_row and later:
                    told = None  # judged by the server (the statement fails unless its last write wrote one row)
        if later:
            _queue_wired(connection, dbapi_connection, writes, watchers, told, at_commit=at_commit)
            session.info[DEFERRED] = dbapi_connection
            return []
        counts = _run_wired(connection, dbapi_connection, writes, watchers)
        if told is not None:
            told(counts)
        return counts
    runs = []
    for write, params in writes:
        c = write._compiled.get(dialect.name) or write.compiled(dialect)
        many = not isinstance(params, Mapping)
        values: Any = [_parameters(c, p) for p in params] if many else _parameters(c, params)  # type: ignore[union-attr]
        runs.append((c.sql, values, many))
    counts = []
    sql, values = runs[0][:2]
    cursor = dbapi_connection.cursor()  # one for the batch, each statement's count read after it
    try:
        for sql, values, many in runs:
            if watchers:
                watchers(connection, cursor, sql, values, None, many)
            if many:
                cursor.executemany(sql, values)
            else:
                cursor.execute(sql, values)
            counts.append(int(cursor.rowcount))
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, dbapi_connection, cursor)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error, connection_invalidated=gone,
                                  dialect=dialect) from exc
    finally:
        cursor.close()
    if told is not None:
        told(counts)
    return counts


def _wired(connection: Any, writes: Sequence[Write], watchers: Any) -> tuple[list[tuple[Any, list[Any]]], list[int]]:
    """PostgreSQL: the statements of `writes` (a row's statement each) and how many each write has."""
    dialect = connection.dialect
    statements: list[tuple[Any, list[Any]]] = []
    sizes: list[int] = []
    for write, params in writes:
        c = write._compiled.get(dialect.name) or write.compiled(dialect)
        many = not isinstance(params, Mapping)
        values = [_parameters(c, r) for r in params] if many else [_parameters(c, params)]  # type: ignore[union-attr]
        if watchers:  # once per write, as a cursor's execute or executemany would be seen
            watchers(connection, None, c.sql, values if many else values[0], None, many)
        # each row's values converted once, for the watchers and the wire alike
        statements.extend((c.wire, _in_wire_order(c, v)) for v in values)  # type: ignore[misc]
        sizes.append(len(values))
    return statements, sizes


def _grouped(counts: list[int], sizes: list[int]) -> list[int]:
    out, at = [], 0
    for size in sizes:
        out.append(sum(counts[at:at + size]))
        at += size
    return out


def _queue_wired(connection: Any, dbapi_connection: Any, writes: Sequence[Write], watchers: Any,
                 told: Settle | None, *, at_commit: bool = False) -> None:
    statements, sizes = _wired(connection, writes, watchers)
    defer(dbapi_connection, statements, None if told is None else lambda counts: told(_grouped(counts, sizes)),
          at_commit=at_commit)


def _run_wired(connection: Any, dbapi_connection: Any, writes: Sequence[Write], watchers: Any) -> list[int]:
    """PostgreSQL (psycopg): the writes in one libpq pipeline (store/pgwrite.py), a row's statement each."""
    dialect = connection.dialect
    statements, sizes = _wired(connection, writes, watchers)
    try:
        counts = wait(send_writes(dbapi_connection, statements), dbapi_connection.fileno(), INTERVAL)
    except dialect.loaded_dbapi.Error as exc:
        gone = dialect.is_disconnect(exc, dbapi_connection, None)
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance("; ".join(w.compiled(dialect).sql for w, _ in writes), None, exc,
                                  dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect) from exc
    return _grouped(counts, sizes)


def tail_first(session: Session) -> None:
    """PostgreSQL: the writes deferred to the COMMIT (`run_batch(at_commit=True)`: the audit appends) sent ahead of
    the transaction's next statement instead, for one that reads or locks the log's head: the log keeps the order
    its entries were appended in."""
    deferred_on = session.info.get(DEFERRED)
    if deferred_on is not None:
        w = wire(deferred_on)
        if w.tail:
            w.pending.extend(w.take_tail())


def send_judged(session: Session) -> None:
    """PostgreSQL: the writes deferred in the session's transaction sent now when a count of theirs is yet to be judged
    (`run_batch(told=…)`), so that what is deferred after them can go with the COMMIT (a judged batch never does:
    `send_writes`). Nothing is sent otherwise, and nothing on SQLite, whose writes ran at once."""
    deferred_on = session.info.get(DEFERRED)
    if deferred_on is None or not wire(deferred_on).settle:
        return
    connection = transaction_connection(session)
    send_deferred(deferred_on, connection.dialect, connection=connection)


def send_deferred(dbapi_connection: Any, dialect: Any, *, commit: bool = False, connection: Any = None,
                  wrap: bool = True, with_tail: bool = False) -> None:
    """PostgreSQL: the writes deferred on the connection sent now (with `commit`, and the transaction's COMMIT, in
    the same round trip). A driver's error is raised as SQLAlchemy raises it (`wrap`; the SQLAlchemy `connection`
    invalidated when the database is gone), or as it is (within SQLAlchemy's own execution, which wraps it).

    With `commit`, the COMMIT lets go of the transaction's locks (the audit log's head) without waiting for the WAL
    to reach the disk, and the WAL is then flushed past it by the server, in the same round trip, before this
    returns (`send_writes`, `FLUSH`): what this returns from is on disk, as after an ordinary COMMIT, but the next
    append to the log no longer waits for this one's disk write. (Each append held the head through its COMMIT's WAL
    flush, so the appends of all processes went one disk write at a time; the flushes now meet in the server's group
    commit.)

    `with_tail`: the writes deferred to the COMMIT too (`pgwrite.defer(at_commit=True)`), without it (SQLAlchemy's
    COMMIT follows)."""
    w = wire(dbapi_connection)
    if with_tail and w.tail:
        w.pending.extend(w.take_tail())
    if not commit and not w.pending:
        return
    try:
        wait(send_writes(dbapi_connection, [], commit=commit, quick=commit), dbapi_connection.fileno(), INTERVAL)
    except dialect.loaded_dbapi.Error as exc:
        if not wrap:
            raise
        gone = dialect.is_disconnect(exc, dbapi_connection, None)
        if gone and connection is not None:
            connection.invalidate(exc)
        raise DBAPIError.instance("COMMIT" if commit else "(deferred writes)", None, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=gone, dialect=dialect) from exc
