"""The one way the tests keep a database (and home) built once per test process and copy it for later tests.

SQLite: the file, copied with the backup API (or, for a few tables, their rows into the target's empty ones).
PostgreSQL: the rows kept in a schema of their own (the one they were built in, or a copy of the search path's), and
put back into the test's emptied schema with one INSERT .. SELECT per table that holds rows (parents first), its
sequences set where the kept ones stood, so ids go on as after a build of its own. Used by conftest's start copy
(`_STARTED`), tests/kept_rows.py, tests/audit/tamper_helpers.py and tests/module_kit.py (a schema of its own)."""

from __future__ import annotations

import atexit
import importlib
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


def sqlite_copy(source: Path, target: Path, tables: Sequence[Any] | None = None) -> None:
    """The whole of `source` over `target` (the backup API); given `tables`, only their rows, into the target's
    (empty) tables of those names."""
    if tables is None:
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS kept", (str(source),))
        conn.executescript("BEGIN; " + "; ".join(_inserting(t, "main", "kept") for t in tables) + "; COMMIT")
        conn.execute("DETACH DATABASE kept")
    finally:
        conn.close()


def schema_url(base: str, schema: str) -> str:
    """`base` (a PostgreSQL URL) with `schema` on its search path."""
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def new_schema(base: str, prefix: str) -> str:
    """A new, empty schema named `prefix`_..., dropped when the process ends."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    _run(base, f'CREATE SCHEMA "{schema}"')
    atexit.register(drop_schema, base, schema)
    return schema


@contextmanager
def own_schema(base: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty schema, for the block (dropped after it)."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    _run(base, f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(base, schema)
    finally:
        _run(base, f'DROP SCHEMA "{schema}" CASCADE')


def drop_schema(base: str, schema: str) -> None:
    try:
        _run(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    except Exception:
        pass


@dataclass
class KeptSchema:
    """PostgreSQL rows kept in `schema`: the tables holding rows (parents first) and the sequences where they stood."""
    schema: str
    tables: list[Any] = field(default_factory=list)
    sequences: list[tuple[str, int | None, int]] = field(default_factory=list)  # name, last value, start


def pg_kept(base: str, schema: str, tables: Sequence[Any] | None = None) -> KeptSchema:
    """What `schema` (built there, with every table of `tables` and their sequences) holds, to copy later."""
    engine = create_engine(schema_url(base, schema), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _described(conn, schema, _or_every(tables))
    finally:
        engine.dispose()


def pg_keep(url: str, tables: Sequence[Any] | None = None) -> KeptSchema:
    """The rows of the schema on `url`'s search path copied into a new schema of their own (dropped when the process
    ends), with where its sequences stand."""
    tables = _or_every(tables)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            schema = f"k_{secrets.token_hex(6)}"
            statements = [f'CREATE SCHEMA "{schema}"']
            statements += [f'CREATE TABLE "{schema}"."{t.name}" AS SELECT * FROM "{t.name}"' for t in tables]
            conn.exec_driver_sql("; ".join(statements))
            kept = _described(conn, schema, tables, sequences_of="current_schema()")
    finally:
        engine.dispose()
    atexit.register(drop_schema, url, schema)
    return kept


def pg_restore(engine: Any, kept: KeptSchema) -> None:
    """The kept rows into the (empty) tables on `engine`'s search path, and its sequences where the kept ones stood,
    in one transaction and one round trip."""
    with engine.begin() as conn:
        conn.exec_driver_sql(pg_restoring(kept))


def pg_restoring(kept: KeptSchema) -> str:
    statements = [_inserting(t, None, kept.schema) for t in kept.tables]
    statements += [f"SELECT setval('\"{n}\"', {int(v) if v is not None else int(s)}, {v is not None})"
                   for n, v, s in kept.sequences]
    return "; ".join(statements) or "SELECT 1"


def _inserting(table: Any, into: str | None, source: str) -> str:
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    target = f'"{into}"."{table.name}"' if into else f'"{table.name}"'
    return f'INSERT INTO {target} ({columns}) SELECT {columns} FROM "{source}"."{table.name}"'


def _described(conn: Any, schema: str, tables: list[Any], sequences_of: str = ":s") -> KeptSchema:
    holding = [t for t in tables
               if conn.execute(text(f'SELECT EXISTS (SELECT FROM "{schema}"."{t.name}")')).scalar()]
    sequences = [(n, v, s) for n, v, s in conn.execute(text(
        f"SELECT sequencename, last_value, start_value FROM pg_sequences WHERE schemaname = {sequences_of}"),
        {"s": schema}).all()]
    return KeptSchema(schema, holding, sequences)


def _or_every(tables: Sequence[Any] | None) -> list[Any]:
    if tables is not None:
        return list(tables)
    from verifier.store.base import Base

    importlib.import_module("verifier.store.models")  # every table registered on Base.metadata
    return list(Base.metadata.sorted_tables)


def _run(base: str, statement: str) -> None:
    engine = create_engine(base, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
