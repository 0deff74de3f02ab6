"""Migration 0049: every roster import made before was in force, so it becomes confirmed at its import time, by the
marker `migration:0049` (never by its importer: nobody confirmed it, and the pages say 迁移前已生效), and the county's
roster stays what it was; an import made after waits as pending, one a county."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal
from verifier.roster.comparison import listing, review
from verifier.roster.service import current_import
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

BEFORE = "0048"
INSERT = text("INSERT INTO roster_import (id, county_code, filename, file_sha256, rows, imported_by, imported_at) "
              "VALUES (:id, :county, 'm.csv', :sha, 1, 'usr_rev', :at)")


def test_imports_made_before_stay_in_force_and_later_ones_wait(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            for i, (county, at) in enumerate([("340223", "2026-01-01 00:00:00+00"), ("340223", "2026-02-01 00:00:00+00"),
                                              ("340224", "2026-01-15 00:00:00+00")]):
                conn.execute(INSERT, {"id": f"ros_{i}", "county": county, "sha": str(i) * 64, "at": at})
                conn.execute(text("INSERT INTO roster_entry (import_id, county_code, id_number_bidx, category) "
                                  "VALUES (:id, :county, 'b', 'exited')"), {"id": f"ros_{i}", "county": county})
        upgrade(db)
        assert current_revision(db) == head_revision()
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("roster_import")}
        assert "ix_roster_import_county_status_at" in indexes and "ix_roster_import_county_at" not in indexes
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, confirmed_by, confirmed_at IS NOT NULL FROM roster_import "
                                     "ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("ros_0", "confirmed", "migration:0049", True),
                                            ("ros_1", "confirmed", "migration:0049", True),
                                            ("ros_2", "confirmed", "migration:0049", True)]
        everyone = Principal(id="usr_aud", username="aud", display_name="aud", roles=("auditor",), counties=())
        with Session(db.engine) as session:
            assert current_import(session, "340223").id == "ros_1"  # type: ignore[union-attr]
            assert current_import(session, "340224").id == "ros_2"  # type: ignore[union-attr]
            listed = listing(session, everyone)
            seen = review(session, "ros_1", everyone)
        assert {r.who(r.confirmed_by) for r in listed} == {"迁移前已生效（无第二人确认）"}
        assert seen.subject.migrated and not seen.subject.from_command_line
        pending = text("INSERT INTO roster_import (id, county_code, filename, file_sha256, rows, imported_by, "
                       "imported_at, status) VALUES (:id, '340223', 'n.csv', :sha, 1, 'usr_rev', "
                       "'2026-03-01 00:00:00+00', 'pending')")
        with db.engine.begin() as conn:
            conn.execute(pending, {"id": "ros_3", "sha": "3" * 64})
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # one pending import a county
            conn.execute(pending, {"id": "ros_4", "sha": "4" * 64})
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE roster_import SET status = 'maybe' WHERE id = 'ros_3'"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # a file once a county …
            conn.execute(INSERT, {"id": "ros_5", "county": "340223", "sha": "1" * 64, "at": "2026-03-02 00:00:00+00"})
        with db.engine.begin() as conn:  # … unless it was rejected
            conn.execute(text("UPDATE roster_import SET status = 'rejected' WHERE id = 'ros_3'"))
            conn.execute(pending, {"id": "ros_6", "sha": "3" * 64})
        with Session(db.engine) as session:  # the pending one is no county's roster
            assert current_import(session, "340223").id == "ros_1"  # type: ignore[union-attr]
    finally:
        db.dispose()
