"""Prepared reads on PostgreSQL below psycopg's cursors: libpq's pipeline, our own server-side prepared statements.

psycopg's cursor spends about 50 µs of Python per statement in pipeline mode (a cursor, a query conversion, a flush
and a poll each), several times what the server takes to answer the short indexed SELECTs of a request. Here the
statements of one batch are queued in libpq's output buffer (`PGconn`, psycopg's documented libpq wrapper), sent with
one pipeline sync in one write, and their results read back as they arrive; rows are loaded by psycopg's
`Transformer` on the connection's own adapters (SQLAlchemy's JSON loader included), so a value is exactly what a
psycopg cursor would have given SQLAlchemy. Each statement is prepared on the server the first time a connection
runs it (within the same pipeline) and from then on executed by name: no parse, and once PostgreSQL settles on a
generic plan, no planning either.

The exchange is a generator yielding what it waits for (psycopg's `waiting` protocol, with `INTERVAL`: it may be sent
Ready.NONE when that much time passed), so the same code runs blocking in a thread (`waiting.wait`) or on the event
loop (`waiting.wait_async`).
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Callable, Generator, Sequence
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.waiting import Ready, Wait

ExecStatus = pq.ExecStatus
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")
_names = itertools.count(1)
_BEGIN = b""  # what a pipeline's opening BEGIN (or a SET) answers (no rows, nothing prepared)
# A generic statement's plan mode, for it alone: PostgreSQL plans a prepared statement for its values (a custom plan)
# for its first five executions and from then on whenever the generic plan's estimate is above the custom plans'
# average, which it may stay for good (a check's case read: a plan made at every bind, about a third of a
# millisecond of the server's CPU). SET LOCAL is undone by the transaction's end, a rollback included.
# That one plan is made with sequential reads off (`enable_seqscan`; a table no index serves is still read whole):
# it is made once on a connection and kept until the tables' statistics change (an ANALYZE), and made while a table
# is a few pages (the checks, `home_check`, in a new database) the planner weighs reading it whole
# alike with its index (8.26 against 8.28) and may keep the whole read as the table grows: at 1,029 checks, 197
# pages read at every check, 0.27 ms of the server's time against 0.04 ms by the index.
_GENERIC = (b"SET LOCAL plan_cache_mode TO force_generic_plan", b"SET LOCAL enable_seqscan TO off")
_AS_BEFORE = (b"SET LOCAL plan_cache_mode TO DEFAULT", b"SET LOCAL enable_seqscan TO DEFAULT")
_WRITE = b"-"  # what a deferred write answers (its row count)
INTERVAL = 0.1  # seconds: how often a blocked wait looks up (as psycopg's own connections do)


class Statement:
    """A SELECT in PostgreSQL's own placeholders ($1, $2, ...), with a name to prepare it under. `generic`: executed,
    in a transaction, with its generic plan whatever the server would choose (`exchange`)."""

    __slots__ = ("generic", "name", "order", "sql")

    def __init__(self, pyformat_sql: str, *, generic: bool = False) -> None:
        self.generic = generic
        order: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return "%"
            if m.group(1) not in order:
                order.append(m.group(1))
            return f"${order.index(m.group(1)) + 1}"

        self.sql = _PLACEHOLDER.sub(number, pyformat_sql).encode()
        self.order = tuple(order)  # the parameters' names, by number
        self.name = f"verifier_read_{next(_names)}".encode()


def forget(connection: Any) -> None:
    """The server has none of our statements on this connection any more (someone deallocated them)."""
    wire(connection).prepared.clear()


Settle = Callable[[list[int]], None]
"""Told the row counts of deferred writes once they are known (it may raise: the transaction is then rolled back)."""


class _Wire:
    """What we keep per psycopg connection: its row loader, the statements prepared on it, and the writes of its
    transaction deferred to its next exchange (store/pgwrite.py, `defer`)."""

    __slots__ = ("pending", "prepared", "settle", "tail", "transformer")

    def __init__(self, connection: Any) -> None:
        self.transformer = Transformer(connection)
        self.prepared: set[bytes] = set()
        self.pending: list[tuple[Statement | bytes, Any]] = []  # deferred writes: the statement and dumped values
        self.settle: list[tuple[int, int, Settle]] = []  # (first, end) of `pending` and who is told their counts
        # deferred to the COMMIT itself, after every other write (the audit appends: the log's head locked last)
        self.tail: list[tuple[Statement | bytes, Any]] = []
        _follow_deallocations(connection, self.prepared)

    def take(self) -> tuple[list[tuple[bytes, Any]], list[tuple[int, int, Settle]]]:
        """The deferred writes and their settlers, no longer pending (the COMMIT's `tail` stays)."""
        taken = self.pending, self.settle
        self.pending, self.settle = [], []
        return taken

    def take_tail(self) -> list[tuple[Statement | bytes, Any]]:
        taken, self.tail = self.tail, []
        return taken


def _follow_deallocations(connection: Any, prepared: set[bytes]) -> None:
    """Forget our statements whenever psycopg deallocates every prepared statement of the connection: it does so
    (`DEALLOCATE ALL`) when a transaction on which its own cursors prepared statements rolls back, or after a DROP or
    ALTER, and only then (`PrepareManager.clear`, which returns whether it will). So our statements are prepared
    again on their next use instead of failing within a transaction; when psycopg had none of its own, ours stay."""
    manager = getattr(connection, "_prepared", None)
    clear = getattr(manager, "clear", None)
    if clear is None:
        return

    def cleared() -> bool:
        deallocating = clear()
        if deallocating:
            prepared.clear()
        return bool(deallocating)

    manager.clear = cleared  # type: ignore[union-attr]


def send(pg: Any, w: _Wire, statement: Statement | bytes, dumped: Any, expected: list[Any], preparing: set[bytes],
         answer: Any) -> None:
    """Queue one statement in the pipeline: a `Statement` prepared under its name first if the connection has not
    got it yet (its result expected as the name), then executed by name; plain SQL unnamed. `answer` is what its
    execution's result is expected as."""
    if type(statement) is bytes:
        pg.send_query_params(statement, dumped)
    else:
        name = statement.name  # type: ignore[union-attr]
        if name not in w.prepared and name not in preparing:
            pg.send_prepare(name, statement.sql)  # type: ignore[union-attr]
            expected.append(name)
            preparing.add(name)
        pg.send_query_prepared(name, dumped)
    expected.append(answer)


def pending_on(connection: Any) -> bool:
    """Whether writes are deferred on the connection to its next statements."""
    w = _wires.get(connection)
    return w is not None and bool(w.pending)


def deferred_on(connection: Any) -> bool:
    """Whether writes are deferred on the connection, to its next statements or to its COMMIT (`_Wire.tail`)."""
    w = _wires.get(connection)
    return w is not None and bool(w.pending or w.tail)


def drop_pending(connection: Any) -> None:
    """Its transaction rolled back: the writes deferred on the connection are forgotten."""
    w = _wires.get(connection)
    if w is not None:
        w.take()
        w.take_tail()


def settle(settlers: Sequence[tuple[int, int, Settle]], counts: list[int]) -> None:
    for first, end, told in settlers:
        told(counts[first:end])


_wires: weakref.WeakKeyDictionary[Any, _Wire] = weakref.WeakKeyDictionary()


def wire(connection: Any) -> _Wire:
    found = _wires.get(connection)
    if found is None:
        found = _wires[connection] = _Wire(connection)
    return found


def exchange(connection: Any, statements: Sequence[tuple[Statement, Sequence[Any]]], *, prepare: bool = True,
             ) -> Generator[Wait, Ready, list[list[tuple[Any, ...]]]]:
    """Run `statements` (each with its parameters' values in order) in one pipeline: the rows of each, in order.

    With `prepare`, each is prepared on the server under its name the first time the connection runs it, else each
    is sent unnamed. psycopg deallocates every prepared statement of a connection on which its own cursors prepared
    some when a transaction rolls back: we follow it (`_follow_deallocations`), so that ours are prepared again then,
    also on a session's connection. A statement the server refuses raises its psycopg error once the pipeline is
    drained (the connection stays usable); a connection lost raises psycopg's OperationalError.

    Writes deferred on the connection (store/pgwrite.py) go first, in the same pipeline: their errors and their
    settlers' are raised here."""
    pg: pq.abc.PGconn = connection.pgconn
    w = wire(connection)
    tx = w.transformer
    pending, settlers = w.take() if w.pending else ((), ())
    # What each result answers: a statement's prepare (its name) or its execution (None).
    expected: list[bytes | None] = []
    preparing: set[bytes] = set()
    pg.enter_pipeline_mode()
    try:
        in_transaction = not connection.autocommit or pg.transaction_status == pq.TransactionStatus.INTRANS
        if not connection.autocommit and pg.transaction_status == pq.TransactionStatus.IDLE:
            # A connection in a transaction's hands (a session's): open it as psycopg would before its first
            # statement, so what is read here (a row locked FOR UPDATE) belongs to that transaction. psycopg reads
            # the state from libpq, so it sends no second BEGIN, and commits or rolls back this one.
            pg.send_query_params(connection._get_tx_start_command(), None)
            expected.append(_BEGIN)
        for write, dumped_write in pending:
            send(pg, w, write, dumped_write, expected, preparing, _WRITE)
        last: tuple[Any, Any] = (None, None)  # a batch's statements mostly take one same text (a case's id)
        for statement, values in statements:
            if not values:
                dumped = None
            elif len(values) == 1 and type(values[0]) is str and values[0] == last[0]:
                dumped = last[1]
            else:
                dumped = tx.dump_sequence(values, [PyFormat.TEXT] * len(values))
                if len(values) == 1 and type(values[0]) is str:
                    last = (values[0], dumped)
            generic = statement.generic and prepare and in_transaction
            if generic:
                for setting in _GENERIC:
                    pg.send_query_params(setting, None)
                    expected.append(_BEGIN)
            send(pg, w, statement if prepare else statement.sql, dumped, expected, preparing, None)
            if generic:
                for setting in _AS_BEFORE:
                    pg.send_query_params(setting, None)
                    expected.append(_BEGIN)
        pg.pipeline_sync()
        while pg.flush():
            if (yield Wait.RW) & Ready.R:
                pg.consume_input()
        answers: list[list[pq.abc.PGresult]] = []
        current: list[pq.abc.PGresult] = []
        while True:
            while not pg.is_busy():
                result = pg.get_result()
                if result is None:
                    if not current:
                        break  # nothing more arrived yet
                    answers.append(current)
                    current = []
                elif result.status == ExecStatus.PIPELINE_SYNC:
                    return _rows(tx, connection, expected, answers, w, settlers)
                else:
                    current.append(result)
            while not (yield Wait.R):
                pass  # the waiting interval passed: wait on
            pg.consume_input()
    finally:
        leave_pipeline(pg)


def exchange_apart(connection: Any, batches: Sequence[Sequence[tuple[Statement, Sequence[Any]]]],
                   ) -> Generator[Wait, Ready, list[list[list[tuple[Any, ...]]] | errors.Error]]:
    """Several reads' batches in one pipeline, one write and one round trip, each batch closed by a sync of its own:
    for each batch, the rows of its statements in order, or the error the server answered it with.

    For a connection in autocommit with nothing deferred (the event loop's readers, store/readgroups.py): each batch
    is then an implicit transaction of its own, its statements read as when it is sent alone, and a statement
    refused aborts its own batch only (the server skips to that batch's sync), never another's. Each statement is
    prepared on its first use on the connection, once in the pipeline: a batch that uses a name another batch of it
    prepares, when that batch failed before its prepare, fails too (`InvalidSqlStatementName`; the caller sends it
    again alone). A connection lost raises psycopg's OperationalError, for them all."""
    pg: pq.abc.PGconn = connection.pgconn
    w = wire(connection)
    if not connection.autocommit or w.pending or w.tail:
        raise errors.ProgrammingError("batches apart are for a reader in autocommit, with nothing deferred")
    tx = w.transformer
    expected: list[list[bytes | None]] = []
    preparing: set[bytes] = set()
    pg.enter_pipeline_mode()
    try:
        for statements in batches:
            mine: list[bytes | None] = []
            for statement, values in statements:
                dumped = tx.dump_sequence(values, [PyFormat.TEXT] * len(values)) if values else None
                send(pg, w, statement, dumped, mine, preparing, None)
            pg.pipeline_sync()
            expected.append(mine)
        while pg.flush():
            if (yield Wait.RW) & Ready.R:
                pg.consume_input()
        out: list[list[list[tuple[Any, ...]]] | errors.Error] = []
        answers: list[list[pq.abc.PGresult]] = []
        current: list[pq.abc.PGresult] = []
        while True:
            while not pg.is_busy():
                result = pg.get_result()
                if result is None:
                    if not current:
                        break  # nothing more arrived yet
                    answers.append(current)
                    current = []
                elif result.status == ExecStatus.PIPELINE_SYNC:
                    try:
                        out.append(_rows(tx, connection, expected[len(out)], answers, w))
                    except errors.Error as exc:  # this batch's alone (its names prepared before it are kept)
                        out.append(exc)
                    answers = []
                    if len(out) == len(expected):
                        return out
                else:
                    current.append(result)
            while not (yield Wait.R):
                pass  # the waiting interval passed: wait on
            pg.consume_input()
    finally:
        leave_pipeline(pg)


def leave_pipeline(pg: Any) -> None:
    """Take the connection out of pipeline mode after an exchange; one left with results unread (an exception
    mid-way) is closed, so it is never reused."""
    if pg.pipeline_status != pq.PipelineStatus.OFF and pg.status == pq.ConnStatus.OK:
        try:
            pg.exit_pipeline_mode()
        except Exception:  # noqa: BLE001 - results still unread: the connection must not be reused
            pg.finish()


def _rows(tx: Transformer, connection: Any, expected: list[bytes | None], answers: list[list[pq.abc.PGresult]],
          w: _Wire, settlers: Sequence[tuple[int, int, Settle]] = ()) -> list[list[tuple[Any, ...]]]:
    if len(answers) != len(expected):
        raise errors.InternalError(f"{len(answers)} answers to {len(expected)} pipeline commands")
    failure: errors.Error | None = None
    out: list[list[tuple[Any, ...]]] = []
    written: list[int] = []
    for name, results in zip(expected, answers):
        result = results[-1]
        status = result.status
        if status == ExecStatus.FATAL_ERROR:
            failure = failure or errors.error_from_result(result, encoding=connection.info.encoding)
        elif status == ExecStatus.PIPELINE_ABORTED:
            failure = failure or errors.PipelineAborted("pipeline aborted")
        elif name == _BEGIN:
            pass
        elif name == _WRITE:
            written.append(int(result.command_tuples or 0))
        elif name is not None:
            w.prepared.add(name)
        elif failure is None:
            tx.set_pgresult(result)
            out.append(tx.load_rows(0, result.ntuples, tuple))
    if failure is not None:
        raise failure
    settle(settlers, written)
    return out
