"""Databases at an earlier migration for the migrations' tests, made once per test process on SQLite and copied.

A migration's test starts from an empty database brought to the revision before the one it tests (or first to 0011,
with a case put in there: `migration_rows.upgraded_with`). Built from nothing each time, that is most of the test's
time: every earlier migration run again, SQLite copying each table an `ALTER` touches (4-5 s for the whole chain).
Here the database reached at each revision is kept (a file of this process) and the next test asking for that
revision, or a later one, starts from the nearest kept one and runs only the migrations after it. What is kept is
exactly what the migrations made (the same revisions run in the same order, only not again), and the test's own
steps (its rows, the upgrade it tests, the downgrade) run on its own copy as before. On PostgreSQL (a schema of the
test's own) nothing is kept: the chain runs as before."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from verifier.store.db import Database
from verifier.store.migrate import current_revision, upgrade

_KEPT: dict[tuple[str, str], Path] = {}  # (chain, revision) -> a file holding the database at that revision
_DIR: Path | None = None


def _path_of(db: Database) -> Path | None:
    path = make_url(db.url).database if db.is_sqlite else None
    return Path(path) if path and path != ":memory:" and not path.startswith("file:") else None


def _copy(source: Path, target: Path) -> None:
    """The whole database, through SQLite's backup (a connection the target's engine already holds sees it)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _keep(chain: str, revision: str, path: Path) -> None:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="migration-cache-"))
    kept = _DIR / f"{chain or 'empty'}-{revision}.db"
    _copy(path, kept)
    _KEPT[(chain, revision)] = kept


def _nearest(chain: str, revision: str, at_least: str = "") -> tuple[str, Path] | None:
    ahead = [(r, p) for (c, r), p in _KEPT.items() if c == chain and at_least <= r <= revision]
    return max(ahead) if ahead else None


def at_revision(db: Database, revision: str, *, chain: str = "", seed: Callable[[Database], None] | None = None,
                seed_at: str = "0011") -> None:
    """`db`, empty, brought to `revision`. With `seed` (and a `chain` naming what it puts in): brought to `seed_at`
    first, `seed(db)` run there, then on to `revision`. Revisions are the migrations' four-digit numbers."""
    path = _path_of(db)
    if path is None:  # PostgreSQL: as before
        if seed is not None:
            upgrade(db, seed_at)
            seed(db)
        upgrade(db, revision)
        return
    near = _nearest(chain, revision, seed_at if seed is not None else "")
    if near is not None:
        _copy(near[1], path)
        if near[0] == revision:
            return
    elif seed is not None:
        at_revision(db, seed_at)
        seed(db)
        _keep(chain, seed_at, path)
    else:
        base = _nearest("", revision)
        if base is not None:
            _copy(base[1], path)
    upgrade(db, revision)
    assert current_revision(db) == revision
    _keep(chain, revision, path)
