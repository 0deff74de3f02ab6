"""Migration 0013 (county-scoped reads) gives the entries already in the log the county of their subject; the rest concern no county."""

from __future__ import annotations

from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import upgrade

NOW = "2020-06-01 02:00:00"


def test_existing_entries_get_the_county_of_their_subject(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0002")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, period_end, "
                              "budget, source, loaded_at) VALUES ('c', 'h', 't', '[\"340223\"]', '2020-01-01', "
                              "'2020-12-31', 0, '', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                              "created_at) VALUES ('hh_1', '340224', 't', 'v', 'low_income', 'h', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO relief_case (id, household_id, county_code, town, village, household_group, "
                              "cause, contract_id, contract_hash, contract_year, status, referred_on, reported_amount, "
                              "created_at, updated_at, version) VALUES ('case_1', 'hh_1', '340224', 't', 'v', "
                              "'low_income', 'illness', 'c', 'h', 2020, 'received', '2020-05-01', 0, :now, :now, 1)"),
                         {"now": NOW})
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
