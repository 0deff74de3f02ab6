"""Prepared writes on PostgreSQL below psycopg's cursors: a transaction's INSERTs and UPDATEs in one libpq pipeline.

The writes' counterpart of store/pgwire.py's reads (and separate from it): psycopg's cursor costs about 50 µs of
Python per statement (a cursor, a query conversion, a flush and a poll each), more than the server takes to insert a
row. Here a batch's statements are queued in libpq's output buffer, sent with one pipeline sync, and each one's row
count read back from its result. They run on the connection of a session's transaction (opened with the transaction's
BEGIN, as psycopg would, when none is open yet: psycopg reads the state from libpq and commits or rolls back this
one), unnamed (psycopg's own cursors prepare and deallocate statements on that connection), with the values dumped by
psycopg's `Transformer` on the connection's adapters, as the reads' are.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from psycopg import errors, pq
from psycopg.adapt import PyFormat
from psycopg.waiting import Ready, Wait

from .pgwire import leave_pipeline, wire

ExecStatus = pq.ExecStatus


def send_writes(connection: Any, statements: Sequence[tuple[bytes, Sequence[Any]]],
                ) -> Generator[Wait, Ready, list[int]]:
    """Run `statements` (PostgreSQL's SQL with $n placeholders, and the values in order) in one pipeline, in the
    connection's transaction: the number of rows each wrote. A statement the server refuses raises its psycopg error
    once the pipeline is drained (the transaction is then aborted, to be rolled back); a connection lost raises
    psycopg's OperationalError."""
    pg: pq.abc.PGconn = connection.pgconn
    tx = wire(connection).transformer
    begin = not connection.autocommit and pg.transaction_status == pq.TransactionStatus.IDLE
    pg.enter_pipeline_mode()
    try:
        if begin:
            pg.send_query_params(connection._get_tx_start_command(), None)
        for sql, values in statements:
            pg.send_query_params(sql, tx.dump_sequence(values, [PyFormat.TEXT] * len(values)) if values else None)
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
                    return _counts(connection, answers, len(statements) + begin)[begin:]
                else:
                    last = result
            while not (yield Wait.R):
                pass  # the waiting interval passed: wait on
            pg.consume_input()
    finally:
        leave_pipeline(pg)


def _counts(connection: Any, answers: list[pq.abc.PGresult], expected: int) -> list[int]:
    if len(answers) != expected:
        raise errors.InternalError(f"{len(answers)} answers to {expected} pipeline commands")
    counts: list[int] = []
    for result in answers:
        if result.status == ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=connection.info.encoding)
        if result.status == ExecStatus.PIPELINE_ABORTED:
            raise errors.PipelineAborted("pipeline aborted")
        counts.append(int(result.command_tuples or 0))
    return counts
