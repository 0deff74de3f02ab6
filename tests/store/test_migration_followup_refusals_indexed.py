"""Migration 0052: the refusals' partial index (`ix_audit_entry_refusals_county_time`, built before 0048's
`ix_audit_entry_refused_county_time` is dropped) names the follow-ups refused to
who took part in paying them (`followup.refused`) beside the 回避 refusals, so 回避拦截记录 and its warning read
both by county and time; the downgrade puts the 回避-only index back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import alembic_config, upgrade

INDEX = "ix_audit_entry_refusals_county_time"
OLD = "ix_audit_entry_refused_county_time"  # 0048's, 回避 refusals only


def _definition(db: Database, index: str = INDEX) -> str | None:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index})
        return conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"
                                " AND schemaname = current_schema()"), {"n": index})  # each test has its schema


def test_the_refusals_index_holds_the_follow_up_refusals(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        assert "followup.refused" in _definition(db) and "recusal.refused" in _definition(db)
        assert _definition(db, OLD) is None  # built under a new name, then the old one dropped
        cfg = alembic_config()
        with db.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0051")
        old = _definition(db, OLD)
        assert old is not None and "followup.refused" not in old and "recusal.refused" in old
        assert _definition(db) is None
        upgrade(db)
        assert "followup.refused" in _definition(db) and _definition(db, OLD) is None
    finally:
        db.dispose()
