"""Rows several tests start from, built once per test process and copied for each test that asks for them.

A kept start is a fixture made by `kept(name, build)`: the first test (in its process, at its fixed time) that asks
for it has `ctx` started as usual and `build(ctx)` run through the real services; the database and the home (its
keys, its log's signer) are then kept, and every later test that asks for it starts from a copy of them instead (on
SQLite the file, copied with the backup API; on PostgreSQL every table's rows, copied from a schema of their own,
with the sequences where they were). The fixture hands out what `build` returned (e.g. the case ids). A copy is the
same rows, keys and log the build left: a test from a copy sees what the first test saw.
"""

from __future__ import annotations

import atexit
import copy
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

BUILDS: dict[str, Callable[[Any], Any]] = {}


@dataclass
class Kept:
    folder: Path  # home/ (and test.db on SQLite)
    value: Any
    schema: str | None = None  # PostgreSQL: the schema holding the rows
    sequences: list[tuple[str, int | None, int]] = field(default_factory=list)  # name, last value, start


_KEPT: dict[tuple[str, datetime], Kept] = {}
_GIVEN: dict[str, Any] = {}  # what the running test's kept start handed out, by its name


def kept(name: str, build: Callable[[Any], Any]) -> Any:
    """A fixture named `name` giving what `build(ctx)` returned; `ctx` then starts with those rows (see above)."""
    if BUILDS.setdefault(name, build) is not build:
        raise ValueError(f"two kept starts are named {name}")

    @pytest.fixture(name=name)
    def given(ctx):  # type: ignore[no-untyped-def]
        return copy.deepcopy(_GIVEN[name])

    return given


def asked(fixturenames: Any) -> str | None:
    """The kept start a test asks for (at most one)."""
    names = [n for n in fixturenames if n in BUILDS]
    assert len(names) <= 1, names
    return names[0] if names else None


def restore(name: str, at: datetime, settings: Any, db: Any, clock: Any) -> Any:
    """The test's context on a copy of the kept rows and home of `name` at time `at` (its keys and signer, the
    checkpoint hook, as conftest's `_start` makes it); None when none are kept yet (the test builds them)."""
    from verifier.audit import checkpoints
    from verifier.context import Context
    from verifier.store.vault import Vault

    found = _KEPT.get((name, at))
    if found is None:
        return None
    shutil.copytree(found.folder / "home", settings.home, dirs_exist_ok=True)
    if found.schema is None:
        _sqlite_copy(found.folder / "test.db", Path(db.engine.url.database))
    else:
        _pg_fill(settings.database_url, found)
    _GIVEN[name] = found.value
    signer = checkpoints.Signer.load(settings, create=False)
    context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=False), clock=clock,
                      signer=signer)
    checkpoints.install(db, signer)
    return context


def keep(name: str, at: datetime, context: Any, factory: pytest.TempPathFactory) -> None:
    """Build `name` in this test's context and keep its rows and home for the next tests."""
    value = BUILDS[name](context)
    folder = factory.mktemp("kept")
    shutil.copytree(context.settings.home, folder / "home")
    found = Kept(folder=folder, value=value)
    if context.db.is_sqlite:
        _sqlite_copy(Path(context.db.engine.url.database), folder / "test.db")
    else:
        found.schema, found.sequences = _pg_keep(context.settings.database_url)
    _KEPT[(name, at)] = found
    _GIVEN[name] = value


def _sqlite_copy(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _tables() -> list[str]:
    from verifier.store.base import Base

    return [t.name for t in Base.metadata.sorted_tables]


def _pg_keep(url: str) -> tuple[str, list[tuple[str, int | None, int]]]:
    """Every table's rows of the test's schema (its search path) copied into a new schema, and its sequences."""
    schema = f"k_{secrets.token_hex(6)}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            statements = [f'CREATE SCHEMA "{schema}"']
            statements += [f'CREATE TABLE "{schema}"."{t}" AS SELECT * FROM "{t}"' for t in _tables()]
            conn.exec_driver_sql("; ".join(statements))
            sequences = [(n, v, s) for n, v, s in conn.execute(text(
                "SELECT sequencename, last_value, start_value FROM pg_sequences"
                " WHERE schemaname = current_schema()")).all()]
    finally:
        engine.dispose()
    atexit.register(_drop, url, schema)
    return schema, sequences


def _pg_fill(url: str, found: Kept) -> None:
    """The kept rows into the test's (empty) tables, parents first, and its sequences where they were."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            statements = [f'INSERT INTO "{t}" SELECT * FROM "{found.schema}"."{t}"' for t in _tables()]
            statements += [f"SELECT setval('\"{n}\"', {v if v is not None else s}, {v is not None})"
                           for n, v, s in found.sequences]
            conn.exec_driver_sql("; ".join(statements))
    finally:
        engine.dispose()


def _drop(url: str, schema: str) -> None:
    try:
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
    except Exception:
        pass
