"""Migration 0064: `login_attempt.digest` (the keyed digest of the ID number a counted look-up was of,
accounts/probes.py). The upgrade adds it empty on the rows there (each still counts once, as it did: login attempts,
searches and the look-ups counted before); the downgrade drops it and keeps the rows (the older code counts every
row), and a later upgrade adds it again."""

from __future__ import annotations

from migration_rows import downgrade
from sqlalchemy import inspect, text

from migration_cache import at_revision

from verifier.store.db import Database
from verifier.store.migrate import current_revision, upgrade

BEFORE = "0063"  # the revision before 0064's
ROW = "INSERT INTO login_attempt (bucket, at) VALUES (:bucket, '2026-12-06 10:00:00')"


def _columns(db: Database) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("login_attempt")}


def test_the_upgrade_adds_the_digest_empty_and_the_downgrade_drops_it_keeping_the_rows(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text(ROW), [{"bucket": "a" * 64}, {"bucket": "b" * 64}])
        upgrade(db, "0064")
        assert current_revision(db) == "0064" and "digest" in _columns(db)
        with db.engine.begin() as conn:
            assert [tuple(r) for r in conn.execute(text(
                "SELECT bucket, digest FROM login_attempt ORDER BY bucket"))] == [("a" * 64, None), ("b" * 64, None)]
            conn.execute(text("INSERT INTO login_attempt (bucket, at, digest) VALUES (:b, '2026-12-06 10:01:00', :d)"),
                         {"b": "a" * 64, "d": "c" * 64})
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE and "digest" not in _columns(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM login_attempt")).scalar() == 3
        upgrade(db, "0064")
        assert "digest" in _columns(db)
    finally:
        db.dispose()
