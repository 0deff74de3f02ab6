"""Each test's engines compile their statements into one cache per test process (see `share_compiled_statements`)."""

from __future__ import annotations

from typing import Any

from verifier.store.db import Database

_SHARED_DIALECTS: dict[str, Any] = {}
_SHARED_STATEMENTS: dict[str, Any] = {}


def share_compiled_statements(database: Database) -> None:
    """Each test's engines compile their statements into one cache per test process, as one engine would.

    SQLAlchemy keeps compiled statements per engine, keyed by its dialect object, and each test makes new engines: a
    test compiled every statement it sent again (about a sixth of the suite's time). Each new engine here speaks
    through the process's first dialect of its kind (made the same way by `Database`, initialised by a first
    connection before it is shared) and its cache; only the compiling is shared, not connections or state."""
    from sqlalchemy.util import LRUCache

    for engine in {database.engine, database.read_engine}:
        kind = engine.url.drivername
        shared = _SHARED_DIALECTS.get(kind)
        if shared is None:
            with engine.connect():
                pass  # the dialect reads the server's version and features on its first connection
            _SHARED_DIALECTS[kind] = engine.dialect
            _SHARED_STATEMENTS[kind] = LRUCache(5000)
            shared = engine.dialect
        engine.dialect = shared
        engine.pool._dialect = shared  # SQLAlchemy 2.0's pool keeps its own reference (tests/test_conftest_sharing.py)
        engine._compiled_cache = _SHARED_STATEMENTS[kind]
