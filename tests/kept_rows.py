"""Rows several tests start from, built once per test process and copied for each test that asks for them.

A kept start is a fixture made by `kept(name, build)`: the first test (in its process, at its fixed time) that asks
for it has `ctx` started as usual and `build(ctx)` run through the real services; the database and the home (its
keys, its log's signer) are then kept, and every later test that asks for it starts from a copy of them instead (on
SQLite the file, copied with the backup API; on PostgreSQL every table's rows, copied from a schema of their own,
with the sequences where they were: tests/copykit.py). The fixture hands out what `build` returned (e.g. the case
ids). A copy is the same rows, keys and log the build left, at the time the build left a fixed clock: a test from a
copy sees what the first test saw.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import copykit

BUILDS: dict[str, Callable[[Any], Any]] = {}


@dataclass
class Kept:
    folder: Path  # home/ (and test.db on SQLite)
    value: Any
    schema: copykit.KeptSchema | None = None  # PostgreSQL: the schema holding the rows, and the sequences
    clock_at: datetime | None = None  # a fixed clock's time where the build left it


_KEPT: dict[tuple[str, datetime], Kept] = {}
_GIVEN: dict[str, Any] = {}  # what the running test's kept start handed out, by its name
COPIED: set[str] = set()  # the kept starts the running test's context is a copy of (not built in it)


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


def restore(name: str, at: datetime, settings: Any, db: Any, clock: Any, each_commit: bool = True) -> Any:
    """The test's context on a copy of the kept rows and home of `name` at time `at` (its keys and signer, the
    checkpoint hook, as conftest's `_start` makes it), its fixed clock where the build left it; None when none are
    kept yet (the test builds them)."""
    from verifier.audit import checkpoints
    from verifier.context import Context
    from verifier.store.vault import Vault

    found = _KEPT.get((name, at))
    COPIED.discard(name)
    if found is None:
        return None
    COPIED.add(name)
    shutil.copytree(found.folder / "home", settings.home, dirs_exist_ok=True)
    if found.schema is None:
        copykit.sqlite_copy(found.folder / "test.db", Path(db.engine.url.database))
    else:
        copykit.pg_restore(db.engine, found.schema)
    _GIVEN[name] = found.value
    if found.clock_at is not None and hasattr(clock, "at"):
        clock.at = found.clock_at  # the time the build left, as the first test has it
    signer = checkpoints.Signer.load(settings, create=False)
    context = Context(settings=settings, db=db, vault=Vault.from_dir(settings.keys_dir, create=False), clock=clock,
                      signer=signer)
    if each_commit:  # conftest.signs_each_commit
        checkpoints.install(db, signer)
    return context


def keep(name: str, at: datetime, context: Any, factory: pytest.TempPathFactory) -> None:
    """Build `name` in this test's context and keep its rows and home for the next tests."""
    value = BUILDS[name](context)
    folder = factory.mktemp("kept")
    shutil.copytree(context.settings.home, folder / "home")
    found = Kept(folder=folder, value=value, clock_at=getattr(context.clock, "at", None))
    if context.db.is_sqlite:
        copykit.sqlite_copy(Path(context.db.engine.url.database), folder / "test.db")
    else:
        found.schema = copykit.pg_keep(context.settings.database_url)
    _KEPT[(name, at)] = found
    _GIVEN[name] = value
