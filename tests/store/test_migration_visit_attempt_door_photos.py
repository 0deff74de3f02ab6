"""Migration 0069: the door photos of a visit that produced no check (`visit_attempt.evidence`). An attempt recorded
before keeps NULL (it was not asked for one). The downgrade is refused while an attempt names its photos (dropping
them would lose what proved a visit), and leaves the database at 0068 otherwise; upgraded again, the column is back."""

from __future__ import annotations

import pytest
from migration_rows import downgrade, upgraded_with
from sqlalchemy import inspect, text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

ATTEMPT = ("INSERT INTO visit_attempt (id, case_id, visited_on, officer_ids, outcome, note, recorded_by, recorded_at) "
           "VALUES ('att_1', 'case_1', '2020-05-20', '[]', 'not_home', NULL, 'u', :now)")


def _attempt_photos(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT evidence FROM visit_attempt ORDER BY id"))]


def test_door_photos_are_kept_and_the_downgrade_keeps_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0068", [ATTEMPT], status="scheduled")
        assert current_revision(db) == head_revision()
        assert _attempt_photos(db) == [None]  # recorded before the photo was asked for

        with db.engine.begin() as conn:
            conn.execute(text("UPDATE visit_attempt SET evidence = :photos"), {"photos": '["' + "a" * 64 + '"]'})
        with pytest.raises(RuntimeError, match="门前照片"):
            downgrade(db, "0068")
        assert current_revision(db) == head_revision()

        with db.engine.begin() as conn:
            conn.execute(text("UPDATE visit_attempt SET evidence = NULL"))
        downgrade(db, "0068")
        assert current_revision(db) == "0068"
        assert "evidence" not in {c["name"] for c in inspect(db.engine).get_columns("visit_attempt")}
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert "evidence" in {c["name"] for c in inspect(db.engine).get_columns("visit_attempt")}
        assert _attempt_photos(db) == [None]
    finally:
        db.engine.dispose()
