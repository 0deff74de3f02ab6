"""Migration 0058: every register import made before was in force, so it becomes confirmed at its import time by the
marker `migration:0058` (never by its importer: nobody confirmed it), and the registers consulted stay what they
were; an import made after waits as pending, consulted by nobody. The database refuses a confirmation by the
importer and a decision without its who, when (and a decline without its reason); a file is taken once per county
and kind unless declined. The downgrade is refused while an import is pending or declined (the older code would
consult it), and otherwise keeps the imports."""

from __future__ import annotations

from datetime import date

import pytest
from migration_rows import downgrade, refused
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.registers.service import in_force
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

BEFORE = "0057"  # the revision before 0058's
INSERT = ("INSERT INTO register_import (id, county_code, kind, bureau, as_of, valid_until, filename, file_sha256, "
          "rows, imported_by, imported_at{more}) VALUES (:id, '340223', 'vehicle', '交警', '2026-01-01', "
          "'2026-12-31', 'v.csv', :sha, 1, 'usr_rev', :at{values})")
OLD = text(INSERT.format(more="", values=""))
PENDING = INSERT.format(more=", status", values=", 'pending'")


def _in_force(db: Database) -> list[str]:
    with Session(db.engine) as session:
        return [r.id for r in in_force(session, "340223", date(2026, 6, 1))]


def test_imports_made_before_stay_in_force_and_later_ones_wait(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, BEFORE)
        with db.engine.begin() as conn:
            for i, at in enumerate(["2026-01-01 00:00:00+00", "2026-02-01 00:00:00+00"]):
                conn.execute(OLD, {"id": f"reg_{i}", "sha": str(i) * 64, "at": at})
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, confirmed_by, confirmed_at IS NOT NULL, declined_by "
                                     "FROM register_import ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("reg_0", "confirmed", "migration:0058", True, None),
                                            ("reg_1", "confirmed", "migration:0058", True, None)]
        assert _in_force(db) == ["reg_1"]  # the latest, as before

        with db.engine.begin() as conn:  # a later import: pending, consulted by nobody
            conn.execute(text(PENDING), {"id": "reg_2", "sha": "2" * 64, "at": "2026-03-01 00:00:00+00"})
        assert _in_force(db) == ["reg_1"]
        refused(db, PENDING, id="reg_3", sha="2" * 64, at="2026-03-02 00:00:00+00")  # the same file again
        for bad in ("UPDATE register_import SET status = 'maybe' WHERE id = 'reg_2'",
                    # confirmed by its importer, or with nobody or no time
                    "UPDATE register_import SET status = 'confirmed', confirmed_by = 'usr_rev', "
                    "confirmed_at = imported_at WHERE id = 'reg_2'",
                    "UPDATE register_import SET status = 'confirmed', confirmed_at = imported_at WHERE id = 'reg_2'",
                    "UPDATE register_import SET status = 'confirmed', confirmed_by = 'x' WHERE id = 'reg_2'",
                    # declined without a reason
                    "UPDATE register_import SET status = 'declined', declined_by = 'x', declined_at = imported_at "
                    "WHERE id = 'reg_2'"):
            refused(db, bad)

        with pytest.raises(RuntimeError, match="尚未确认生效"):
            downgrade(db, BEFORE)
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:  # declined: its file may be sent again; still no downgrade
            conn.execute(text("UPDATE register_import SET status = 'declined', declined_by = 'usr_rev2', "
                              "declined_at = imported_at, decline_reason = '不是正式版本' WHERE id = 'reg_2'"))
            conn.execute(text(PENDING), {"id": "reg_3", "sha": "2" * 64, "at": "2026-03-02 00:00:00+00"})
        with pytest.raises(RuntimeError, match="尚未确认生效"):
            downgrade(db, BEFORE)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE register_import SET status = 'confirmed', confirmed_by = 'usr_rev2', "
                              "confirmed_at = imported_at WHERE id = 'reg_3'"))
        assert _in_force(db) == ["reg_3"]
        with pytest.raises(RuntimeError, match="尚未确认生效"):
            downgrade(db, BEFORE)  # the declined one remains
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM register_import WHERE id = 'reg_2'"))
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE
        assert not {"status", "confirmed_by", "declined_by", "decline_reason"} & {
            c["name"] for c in inspect(db.engine).get_columns("register_import")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM register_import")).scalar() == 3  # nothing dropped
        refused(db, INSERT.format(more="", values=""), id="reg_4", sha="2" * 64,
                at="2026-03-03 00:00:00+00")  # a file once a county and kind, as before
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
