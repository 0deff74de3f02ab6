"""Migration 0013 (county-scoped reads) gives the entries already in the log the county of their subject; the rest concern no county."""

from __future__ import annotations

from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import upgrade


def test_existing_entries_get_the_county_of_their_subject(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0002")
        with db.engine.begin() as conn:
            insert_case(conn, county="340224", status="received")
            for idx, subject in enumerate(("usr_1", "case_1", "c", "case_1")):
                conn.execute(text("INSERT INTO audit_entry (idx, time, actor, role, action, subject, entry, leaf_hash) "
                                  "VALUES (:i, :now, 'a', 'r', 'x', :s, :e, :h)"),
                             {"i": idx, "now": NOW, "s": subject, "e": b"{}", "h": bytes(32)})
        upgrade(db)
        with db.engine.connect() as conn:
            counties = conn.execute(text("SELECT county_code FROM audit_entry ORDER BY idx")).scalars().all()
        assert counties == [None, "340224", None, "340224"]
    finally:
        db.dispose()
