"""0035's unique indexes on a database that already holds twins (two requests at once got past the application's
check before the database refused them): the upgrade keeps every row as it was, the earliest of each key holds it,
and no new twin can join them."""

from __future__ import annotations

import hashlib

import pytest
from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

LATER = "2020-06-01 03:00:00"
ROUND = ("INSERT INTO sampling_round (id, county_code, kind, stratified, checked_from, checked_to, contract_id, "
         "contract_hash, confidence, tolerable_rate, expected_rate, min_rate, income_tolerance, status, "
         "reveal_within_days, population_total, created_by, created_at) VALUES (:id, '340223', 'attribute', false, "
         "'2020-05-01', '2020-05-31', 'c', 'h', '0.95', '0.05', '0.00', '0.10', '0.10', 'open', 7, 0, 'u', :at)")
GRANT = ("INSERT INTO role_grant (id, user_id, role, status, proposed_by, proposed_at) "
         "VALUES (:id, 'usr_1', 'finance', 'pending', 'usr_0', :at)")
MEETING = ("INSERT INTO village_meeting (id, county_code, town, village, held_on, venue, attendees, minutes, "
           "households, recorded_by, recorded_at) VALUES (:id, '340223', 't', 'v', '2020-05-20', 'x', 'x', 'x', 1, "
           "'u', :at)")


def test_twins_written_before_the_indexes_stay_and_no_new_one_joins_them(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0019")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="reviewed")  # in the columns it had then
        upgrade(db, "0034")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO app_user (id, username, display_name, password_hash, roles, counties, "
                              "active, created_at) VALUES ('usr_1', 'u1', 'u1', 'x', '[]', '[]', true, :now)"),
                         {"now": NOW})
            for n, at in ((1, NOW), (2, LATER)):
                conn.execute(text(ROUND), {"id": f"smp_{n}", "at": at})
                conn.execute(text(GRANT), {"id": f"rgr_{n}", "at": at})
                conn.execute(text(MEETING), {"id": f"mtg_{n}", "at": at})
                conn.execute(text("INSERT INTO village_review (id, case_id, held_on, result, recorded_by, "
                                  "recorded_at) VALUES (:id, 'case_1', '2020-05-20', 'pass', 'u', :at)"),
                             {"id": f"rev_{n}", "at": at})
                conn.execute(text("INSERT INTO village_meeting_review (review_id, meeting_id) VALUES (:r, :m)"),
                             {"r": f"rev_{n}", "m": f"mtg_{n}"})
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sampling_round WHERE status = 'open'")).scalar() == 2
            assert conn.execute(text("SELECT count(*) FROM role_grant WHERE status = 'pending'")).scalar() == 2
            keys = dict(conn.execute(text("SELECT id, households_key FROM village_meeting")).tuples().all())
        assert keys == {"mtg_1": hashlib.sha256(b"case_1").hexdigest(), "mtg_2": None}
        for sql, params in ((ROUND, {"id": "smp_3", "at": LATER}), (GRANT, {"id": "rgr_3", "at": LATER}),
                            ("UPDATE village_meeting SET households_key = :k WHERE id = 'mtg_2'",
                             {"k": keys["mtg_1"]})):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text(sql), params)
        upgrade(db)  # and again: nothing to do
    finally:
        db.dispose()
