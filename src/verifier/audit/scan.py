"""Reading the stored log to verify it: one read-only snapshot, raw row streams, and the checkpoint check.

Shared by the sequential pass (`verify.py`), which names the first bad index, and the fast pass
(`fastpass.py`), which checks ranges of the log, in several processes where the machine has the cores.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from .notes import NoteError, VerifierKey, open_checkpoint

if TYPE_CHECKING:  # not imported at run time: the fast pass's workers read through the driver alone (fastworkers.py)
    from sqlalchemy import Connection

    from ..store.db import Database


def _libpq_version() -> int:
    try:
        import psycopg
    except ImportError:
        return 0
    return int(psycopg.pq.version())


_CHUNKED_ROWS: bool | None = None  # libpq 17 or later; looked up at the first stream from PostgreSQL


def _chunked_rows() -> bool:
    global _CHUNKED_ROWS
    if _CHUNKED_ROWS is None:
        _CHUNKED_ROWS = _libpq_version() >= 170000
    return _CHUNKED_ROWS


class Bad(Exception):
    """The log is not intact; `index` is the first entry that cannot be shown intact."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


@contextmanager
def reader(db: Database) -> Iterator[Connection]:
    """A connection whose transactions are read-only and each see one consistent state of the log
    (repeatable read on PostgreSQL; on SQLite every read transaction is a snapshot)."""
    with db.read_engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        yield conn


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of the log."""
    with reader(db) as conn, conn.begin():
        yield conn


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection for a while. Verifying makes millions of short-lived rows and lists but
    no reference cycles; each collection would walk every object the program holds (3-40% of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Streams:
    """Row streams straight from the driver (the hot loop needs no ORM rows), fetched in batches."""

    def __init__(self, conn: Connection | None, batch: int, *, raw: Any = None, pg: bool = False) -> None:
        """Over `conn`'s driver connection, or (`conn` None) over the driver connection `raw`, PostgreSQL's if `pg`."""
        self.raw: Any = conn.connection.dbapi_connection if conn is not None else raw
        self.pg = conn.dialect.name == "postgresql" if conn is not None else pg
        self.batch = batch
        self.cursors: list[Any] = []
        self.streams: list[Iterator[Any]] = []

    def _sql(self, sql: str) -> str:
        """Queries are written with SQLite's `?` placeholders; psycopg takes `%s`."""
        return sql.replace("?", "%s") if self.pg else sql

    def cursor(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """A cursor that has run `sql`: on PostgreSQL a server-side one, rows in binary (bytea arrives as
        bytes without hex decoding); closed by `close`."""
        cur = self.raw.cursor(name=f"audit_verify_{len(self.cursors)}", binary=True) if self.pg else self.raw.cursor()
        self.cursors.append(cur)
        cur.execute(self._sql(sql), params)
        return cur

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows one by one. On SQLite the cursor itself: `next()` on it runs in C, no generator frame."""
        cur = self.cursor(sql, params)
        # On PostgreSQL, batches until an empty one, flattened: all in C, so `next()` resumes no generator.
        return chain.from_iterable(iter(partial(cur.fetchmany, self.batch), [])) if self.pg else cur

    def batches(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[list[tuple[Any, ...]]]:
        """The rows as lists of up to `batch` rows: the hot loop resumes no generator per row."""
        fetch, size = self.cursor(sql, params).fetchmany, self.batch
        while rows := fetch(size):
            yield rows

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row at once (for results of bounded size)."""
        cur = self.raw.cursor(binary=True) if self.pg else self.raw.cursor()
        try:
            cur.execute(self._sql(sql), params)
            return cur.fetchall()
        finally:
            cur.close()

    def chunks(self, sql: str, params: tuple[Any, ...], size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows as lists of `size` (the last may be shorter); the cursor is closed once they are read.
        On PostgreSQL the server streams them (libpq's chunked-rows mode, libpq 17 and later) while the
        client works on the last chunk: no round trip per chunk. Until the rows are read or `close` is
        called, the connection runs no other query."""
        chunks = self._chunks(sql, params, size)
        self.streams.append(chunks)
        return chunks

    def _chunks(self, sql: str, params: tuple[Any, ...], size: int) -> Iterator[list[tuple[Any, ...]]]:
        if self.pg and _chunked_rows():
            cur = self.raw.cursor(binary=True)
            rows = cur.stream(self._sql(sql), params, size=size)
            try:
                while chunk := list(islice(rows, size)):
                    yield chunk
            finally:
                rows.close()  # a stream left half-read is cancelled, so the connection can run queries again
                cur.close()
            return
        cur = self.cursor(sql, params)
        try:
            while chunk := cur.fetchmany(size):
                yield chunk
        finally:
            cur.close()

    def first(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        cur = self.raw.cursor()
        try:
            cur.execute(self._sql(sql), params)
            return cur.fetchone()
        finally:
            cur.close()

    def close(self) -> None:
        for chunks in self.streams:
            chunks.close()  # type: ignore[attr-defined]
        self.streams.clear()
        # Ending the transaction closes them as well; closing early frees server-side cursors sooner.
        for cur in self.cursors:
            cur.close()
        self.cursors.clear()


class CheckpointCheck:
    """Checks stored checkpoints against the roots the entries give, and counts those that verified."""

    def __init__(self, keys: Iterable[VerifierKey]) -> None:
        self.keys = list(keys)
        self.checkpoints = 0
        self.proven = 0  # entries [0, proven) are covered by a checkpoint that verified
        self.origin: str | None = None

    def check(self, row: tuple[Any, ...], root: bytes) -> None:
        """`row` is (tree_size, root, key_id, note) as stored; `root` is the entries' root at that size."""
        size, stored_root, stored_key_id, note_text = int(row[0]), bytes(row[1]), row[2], row[3]
        where = f"checkpoint for size {size}"
        unproven = self.proven
        try:
            checkpoint, note = open_checkpoint(note_text, self.keys)
        except NoteError as exc:
            raise Bad(unproven, f"{where}: {exc}") from None
        if checkpoint.size != size:
            raise Bad(unproven, f"{where}: its note is for size {checkpoint.size}")
        if checkpoint.root != stored_root:
            raise Bad(unproven, f"{where}: its note's root differs from the stored root")
        signers = {k.key_id_hex: k for k in note.verified_by}
        if stored_key_id not in signers:
            raise Bad(unproven, f"{where}: recorded as signed by key {stored_key_id}, "
                                f"but signed by {', '.join(signers)}")
        if checkpoint.origin != signers[stored_key_id].name:
            raise Bad(unproven, f"{where}: origin {checkpoint.origin!r} is not its signer's name")
        if self.origin is None:
            self.origin = checkpoint.origin
        elif checkpoint.origin != self.origin:
            raise Bad(unproven, f"{where}: origin {checkpoint.origin!r} differs from {self.origin!r}")
        if checkpoint.root != root:
            raise Bad(unproven, f"{where}: its signed root differs from the root of the stored entries "
                                f"{unproven}..{size - 1}: they were rewritten, or the checkpoint forged")
        self.checkpoints += 1
        self.proven = size
