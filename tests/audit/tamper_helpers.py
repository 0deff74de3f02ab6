"""Shared by the tamper tests: raw SQL on the log's tables, a forger's recomputed tree, and a populated log built
once per test process and copied for each test that tampers with it."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from verifier.audit import log, merkle
from verifier.audit.checkpoints import Signer, install, issue_checkpoint
from verifier.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditKey, AuditNode
from verifier.clock import FixedClock
from verifier.settings import Settings, normalise_database_url
from verifier.store.base import Base
from verifier.store.db import Database

import copykit

LOG_TABLES = [model.__table__ for model in (AuditEntry, AuditNode, AuditHead, AuditCheckpoint, AuditKey)]
START = datetime(2020, 6, 3, 8, 30, tzinfo=UTC)  # the audit tests' fixed clock


def sql(db: Database, statement: str, **params: object) -> list:
    with db.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def rewrite_tree(db: Database) -> None:
    """Recompute every stored node and the head from the stored leaf hashes, as a careful forger would."""
    leaves = [bytes(h) for (h,) in sql(db, "SELECT leaf_hash FROM audit_entry ORDER BY idx")]
    compact = merkle.CompactRange()
    nodes = [node for leaf in leaves for node in compact.append(leaf)]
    sql(db, "DELETE FROM audit_node")
    with db.engine.begin() as conn:
        if nodes:
            conn.execute(text("INSERT INTO audit_node (level, idx, hash) VALUES (:l, :i, :h)"),
                         [{"l": lvl, "i": i, "h": h} for lvl, i, h in nodes])
        conn.execute(text("UPDATE audit_head SET size = :s, compact = :c"), {"s": compact.size, "c": compact.to_bytes()})


def append_entries(db: Database, clock: FixedClock, count: int, *, actor: str = "u_clerk",
                   per_transaction: int = 1) -> list[int]:
    """Append `count` entries, `per_transaction` to a transaction (so one checkpoint each when the hook is
    installed), a second apart."""
    indices: list[int] = []
    for start in range(0, count, per_transaction):
        with db.begin() as session:
            for k in range(start, min(count, start + per_transaction)):
                indices.append(log.append(
                    session,
                    actor=actor,
                    role="town_clerk",
                    action="case.screen",
                    subject=f"case_{k:04d}",
                    payload={"decision": "pass", "amount": f"{k * 100}.00", "note": "村民代表评议通过"},
                    contract_hash="c" * 64 if k % 2 else None,
                    clock=clock,
                ))
                clock.advance(seconds=1)
    return indices


def build_log(db: Database, settings: Settings, size: int) -> None:
    """`size` entries, one transaction each, with a signed checkpoint of the empty log and one after each
    commit, signed by a key made under `settings.home`."""
    Base.metadata.create_all(db.engine, tables=LOG_TABLES)  # type: ignore[arg-type]
    signer = Signer.load(settings, create=True)
    clock = FixedClock(START)
    with db.begin() as session:
        log.ensure_head(session)
    issue_checkpoint(db, signer, clock=clock)
    hook = install(db, signer, clock=clock)
    try:
        append_entries(db, clock, size)
    finally:
        hook.close()


_KEPT: dict[tuple[str, int], tuple[Path, Any]] = {}
"""Per test process: the log of each size as `build_log` leaves it (a home with its key, and a SQLite file or a
PostgreSQL schema), copied for each test. Its twenty-odd signed transactions cost more than most tamper tests."""


def copy_of_a_log(db: Database, settings: Settings, size: int, factory: pytest.TempPathFactory) -> Signer:
    """Into this test's database (the log's tables, empty) and home: the rows and key `build_log(size)` makes, from
    the process's copy (made the first time; tests/copykit.py copies it). Each test tampers with its own copy. Returns its signer."""
    kept = _KEPT.get((db.dialect, size))
    if kept is None:
        kept = _KEPT[db.dialect, size] = _keep(db, size, factory.mktemp("log"))
    home, source = kept
    shutil.copytree(home, settings.home, dirs_exist_ok=True)
    if db.is_sqlite:
        copykit.sqlite_copy(source, Path(db.engine.url.database), LOG_TABLES)
    else:
        copykit.pg_restore(db.engine, source)
    return Signer.load(settings)


def _keep(db: Database, size: int, folder: Path) -> tuple[Path, Any]:
    (folder / "home").mkdir()
    if db.is_sqlite:
        url = f"sqlite:///{folder / 'log.db'}"
    else:
        base = normalise_database_url(os.environ["VERIFIER_TEST_DATABASE_URL"])
        schema = copykit.new_schema(base, "k")
        url = copykit.schema_url(base, schema)
    kept = Database(url)
    try:
        build_log(kept, Settings(home=folder / "home", database_url=url), size)
    finally:
        kept.dispose()
    source: Any = folder / "log.db" if db.is_sqlite else copykit.pg_kept(base, schema, LOG_TABLES)
    return folder / "home", source
