"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from verifier.store import models  # noqa: F401
from verifier.store.base import Base
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade


def test_migrations_match_the_models_and_run_twice(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        upgrade(db)  # a second run changes nothing
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], "models and migrations differ; generate a migration"
    finally:
        db.dispose()
