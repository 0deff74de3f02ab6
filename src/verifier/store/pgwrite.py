"""Prepared writes on PostgreSQL below psycopg's cursors: a transaction's INSERTs and UPDATEs in one libpq pipeline.

The writes' counterpart of store/pgwire.py's reads (and separate from it): psycopg's cursor costs about 50 µs of
Python per statement (a cursor, a query conversion, a flush and a poll each), more than the server takes to insert a
row. Here a batch's statements are queued in libpq's output buffer, sent with one pipeline sync, and each one's row
count read back from its result. They run on the connection of a session's transaction (opened with the transaction's
BEGIN, as psycopg would, when none is open yet: psycopg reads the state from libpq and commits or rolls back this
one), each prepared on the server once per connection and then executed by name (no parse and, once PostgreSQL
settles on a generic plan, no planning: store/pgwire.py, which follows psycopg's own deallocations), with the values
dumped by psycopg's `Transformer` on the connection's adapters, as the reads' are.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat
from psycopg.waiting import Ready, Wait

from .pgwire import Settle, Statement, leave_pipeline, send, settle, wire

ExecStatus = pq.ExecStatus


Statements = Sequence[tuple[Statement | bytes, Sequence[Any]]]
"""Statements to send, each with its values in order: a `Statement` (prepared on the connection once, then executed
by name), or SQL sent unnamed."""


def dump(connection: Any, statements: Statements) -> list[tuple[Statement | bytes, Any]]:
    """`statements`' values dumped by the connection's adapters, as sent."""
    tx = wire(connection).transformer
    return [(statement, tx.dump_sequence(values, [PyFormat.TEXT] * len(values)) if values else None)
            for statement, values in statements]


def defer(connection: Any, statements: Statements, told: Settle | None, *, at_commit: bool = False) -> None:
    """Queue `statements` on the connection, to be sent at the head of its next exchange in the same transaction
    (a read's, store/pgwire.py; a write's, `send_writes`; a commit's, `send_writes(commit=True)`); `told` gets their
    row counts then. Whatever else runs a statement on the connection sends them first (store/db.py).

    With `at_commit` (no `told`), only with the transaction's COMMIT, after every other write deferred: the audit
    appends, whose statement locks the log's head, which is then held from there to the COMMIT alone, whatever the
    transaction runs meanwhile (a group of writes, store/groups.py: the next write's reads and ORM statements)."""
    w = wire(connection)
    if at_commit:
        assert told is None, "a write sent with the COMMIT has no count to judge"
        w.tail.extend(dump(connection, statements))
        return
    first = len(w.pending)
    w.pending.extend(dump(connection, statements))
    if told is not None:
        w.settle.append((first, len(w.pending), told))


_QUICK_COMMIT = b"SET LOCAL synchronous_commit TO off"
FLUSH = Statement("SELECT pg_logical_emit_message(true, 'verifier', '')")
"""A statement that writes a record to the WAL (a transactional logical-decoding message, which no one decodes): a
transaction of it commits synchronously (the session's `synchronous_commit`), so its COMMIT returns once the WAL is
on disk up to its commit record, and with it every commit before it. Sent after a quick COMMIT in the same pipeline
(`send_writes`), in the implicit transaction that the pipeline's sync commits; prepared on the connection once."""


def send_writes(connection: Any, statements: Statements, *, commit: bool = False,
                quick: bool = False) -> Generator[Wait, Ready, list[int]]:
    """Run `statements` (PostgreSQL's SQL with $n placeholders, and the values in order) in one pipeline, in the
    connection's transaction, after the writes deferred on it (`defer`; their settlers told their counts): the number
    of rows each of `statements` wrote. With `commit`, the transaction's COMMIT ends the pipeline (psycopg then finds
    no transaction to commit). A statement the server refuses raises its psycopg error once the pipeline is drained
    (the transaction is then aborted, to be rolled back); a connection lost raises psycopg's OperationalError.

    With `quick` (and `commit`), the COMMIT does not wait for the WAL to reach the disk (`synchronous_commit` off for
    this transaction only), so its locks (the audit log's head) are let go of at once, and `FLUSH` follows it in the
    same pipeline: the server runs it after the COMMIT, in a transaction of its own committed synchronously at the
    pipeline's sync, so that what this returns from is on disk, as after an ordinary COMMIT, in the same round trip.
    Concurrent flushes share the server's WAL flushes (its group commit)."""
    pg: pq.abc.PGconn = connection.pgconn
    w = wire(connection)
    pending, settlers = w.take()
    if commit and w.tail:  # the writes deferred to the COMMIT, after the others (`defer(at_commit=True)`)
        pending = pending + w.take_tail()
    begin = not connection.autocommit and pg.transaction_status == pq.TransactionStatus.IDLE
    # Not with the COMMIT: a transaction in error (psycopg's commit decides then), or writes whose counts are yet to be
    # judged (a refusal must still roll them back; psycopg's commit sends the COMMIT after).
    commit = commit and pg.transaction_status != pq.TransactionStatus.INERROR and not settlers
    if begin and commit and not pending and not statements:
        return []  # nothing was sent in this transaction: nothing to commit
    quick = quick and commit
    sent = pending + dump(connection, statements)
    expected: list[Any] = []  # what each result answers: a statement's prepare (its name) or a command (None)
    preparing: set[bytes] = set()
    pg.enter_pipeline_mode()
    try:
        if begin:
            pg.send_query_params(connection._get_tx_start_command(), None)
            expected.append(None)
        for statement, dumped in sent:
            send(pg, w, statement, dumped, expected, preparing, None)
        if commit:
            if quick:
                pg.send_query_params(_QUICK_COMMIT, None)
                expected.append(None)
            pg.send_query_params(b"COMMIT", None)
            expected.append(None)
            if quick:
                send(pg, w, FLUSH, None, expected, preparing, None)
        pg.pipeline_sync()
        while pg.flush():
            if (yield Wait.RW) & Ready.R:
                pg.consume_input()
        answers: list[pq.abc.PGresult] = []  # the last result of each command
        last: pq.abc.PGresult | None = None
        while True:
            while not pg.is_busy():
                result = pg.get_result()
                if result is None:
                    if last is None:
                        break  # nothing more arrived yet
                    answers.append(last)
                    last = None
                elif result.status == ExecStatus.PIPELINE_SYNC:
                    counts = _counts(connection, answers, expected, w.prepared)[begin:begin + len(sent)]
                    settle(settlers, counts)
                    return counts[len(pending):]
                else:
                    last = result
            while not (yield Wait.R):
                pass  # the waiting interval passed: wait on
            pg.consume_input()
    finally:
        leave_pipeline(pg)


def _counts(connection: Any, answers: list[pq.abc.PGresult], expected: list[Any], prepared: set[bytes]) -> list[int]:
    """The row count of each command of the pipeline (not of the prepares, whose names are noted as prepared); the
    first error raised once every answer is read."""
    if len(answers) != len(expected):
        raise errors.InternalError(f"{len(answers)} answers to {len(expected)} pipeline commands")
    failure: errors.Error | None = None
    counts: list[int] = []
    for name, result in zip(expected, answers):
        if result.status == ExecStatus.FATAL_ERROR:
            failure = failure or errors.error_from_result(result, encoding=connection.info.encoding)
        elif result.status == ExecStatus.PIPELINE_ABORTED:
            failure = failure or errors.PipelineAborted("pipeline aborted")
        elif name is not None:
            prepared.add(name)
        else:
            counts.append(int(result.command_tuples or 0))
    if failure is not None:
        raise failure
    return counts
