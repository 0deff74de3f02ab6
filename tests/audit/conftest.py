"""Fixtures for the audit log: a signing key under the test's home, and a log with the checkpoint hook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from verifier.audit import log
from verifier.audit.checkpoints import CheckpointHook, Signer, install, issue_checkpoint
from verifier.audit.models import (
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditKey,
    AuditNode,
)
from verifier.clock import FixedClock
from verifier.settings import Settings
from verifier.store.base import Base
from verifier.store.db import Database

from tamper_helpers import append_entries

Appender = Callable[..., list[int]]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database holding only the audit log's tables: the log depends on no other table, and the
    tests stay quick on PostgreSQL, where each one gets a fresh schema."""
    database = Database(database_url)
    tables = [model.__table__ for model in (AuditEntry, AuditNode, AuditHead, AuditCheckpoint, AuditKey)]
    # The `database_url` of a test asking for `db` mostly holds every table already: one look at which it has (not
    # one per table, as create_all's check; a third of the tamper tests' statements on PostgreSQL)
    present = set(inspect(database.engine).get_table_names())
    missing = [table for table in tables if table.name not in present]
    if missing:
        Base.metadata.create_all(database.engine, tables=missing, checkfirst=False)  # type: ignore[arg-type]
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2020, 6, 3, 8, 30, tzinfo=UTC))


@pytest.fixture
def signer(settings: Settings) -> Signer:
    return Signer.load(settings, create=True)


@pytest.fixture
def hook(db: Database, signer: Signer, clock: FixedClock) -> Iterator[CheckpointHook]:
    """The log's head exists, a checkpoint of the empty log is signed, and every commit signs a new one."""
    with db.begin() as session:
        log.ensure_head(session)
    issue_checkpoint(db, signer, clock=clock)
    installed = install(db, signer, clock=clock)
    yield installed
    installed.close()


@pytest.fixture
def add_entries(db: Database, clock: FixedClock) -> Appender:
    """Append `count` entries, one transaction each (so one checkpoint each when the hook is installed)."""

    def add(count: int, *, database: Database | None = None, actor: str = "u_clerk", per_transaction: int = 1) -> list[int]:
        return append_entries(database or db, clock, count, actor=actor, per_transaction=per_transaction)

    return add
