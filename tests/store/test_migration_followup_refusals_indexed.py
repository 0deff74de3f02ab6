"""Migration 0052: the refusals' partial index (`ix_audit_entry_refused_county_time`) names the follow-ups refused to
who took part in paying them (`followup.refused`) beside the 回避 refusals, so 回避拦截记录 and its warning read
both by county and time; the downgrade puts the 回避-only index back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import alembic_config, upgrade

INDEX = "ix_audit_entry_refused_county_time"


def _definition(db: Database) -> str:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return str(conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": INDEX}))
        return str(conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"
                                    " AND schemaname = current_schema()"), {"n": INDEX}))  # each test has its schema


def test_the_refusals_index_holds_the_follow_up_refusals(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        assert "followup.refused" in _definition(db) and "recusal.refused" in _definition(db)
        cfg = alembic_config()
        with db.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0051")
        assert "followup.refused" not in _definition(db) and "recusal.refused" in _definition(db)
        upgrade(db)
        assert "followup.refused" in _definition(db)
    finally:
        db.dispose()
