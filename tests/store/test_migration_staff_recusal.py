"""Migration 0043 (回避申报): two new tables, nothing existing changed; a declaration made after the upgrade binds an
account created before it, and one person's same ID number twice is refused by the database as by the service."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from migration_cache import at_revision
from verifier.store.db import Database
from verifier.store.migrate import current_revision, upgrade


def test_the_tables_come_with_0043_and_one_live_entry_per_person(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0042")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO app_user (id, username, display_name, password_hash, roles, counties, active, created_at) "
                "VALUES ('usr_1', 'off', '核查员', 'x', '[\"field_officer\"]', '[\"340223\"]', true, "
                "'2026-01-01 00:00:00+00')"))
        upgrade(db, "0043")
        assert current_revision(db) == "0043"
        insert = text("INSERT INTO staff_tie (id, user_id, relation, id_number_enc, id_number_bidx, declared_by, "
                      "declared_at, removed_at) VALUES (:id, 'usr_1', 'parent', :enc, 'b1', 'usr_1', "
                      "'2026-01-02 00:00:00+00', :removed)")
        with db.engine.begin() as conn:
            conn.execute(insert, {"id": "tie_1", "enc": b"sealed", "removed": "2026-01-03 00:00:00+00"})
            conn.execute(insert, {"id": "tie_2", "enc": b"sealed", "removed": None})  # the removed one is no clash
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(insert, {"id": "tie_3", "enc": b"sealed", "removed": None})
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("INSERT INTO staff_tie (id, user_id, relation, id_number_enc, id_number_bidx, "
                              "declared_by, declared_at) VALUES ('tie_4', 'usr_1', 'cousin', :enc, 'b2', 'usr_1', "
                              "'2026-01-02 00:00:00+00')"), {"enc": b"x"})
    finally:
        db.engine.dispose()
