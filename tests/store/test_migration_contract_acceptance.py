"""Migration 0039 (the county's acceptance of a contract): contracts already loaded were in force before the control
existed; they stay in force, each county's answer recorded as `before_control`; a contract loaded afterwards is
pending."""

from __future__ import annotations

from sqlalchemy import text

from migration_cache import at_revision
from verifier.store.db import Database
from verifier.store.migrate import upgrade

NOW = "2020-06-01 02:00:00"


def test_contracts_already_loaded_are_accepted_before_the_control_existed(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0038")
        with db.engine.begin() as conn:
            for cid, counties in (("a", '["340223"]'), ("b", '["340224", "340225"]')):
                conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, "
                                  "period_end, budget, source, loaded_at) VALUES (:id, :h, 't', :counties, "
                                  "'2020-01-01', '2020-12-31', 0, '', :now)"),
                             {"id": cid, "h": cid * 64, "counties": counties, "now": NOW})
        upgrade(db)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, status FROM contract ORDER BY id")).all() == [("a", "accepted"),
                                                                                              ("b", "accepted")]
            answers = conn.execute(text("SELECT contract_id, county_code, decision, decided_by FROM contract_decision "
                                        "ORDER BY contract_id, county_code")).all()
            assert answers == [("a", "340223", "before_control", None), ("b", "340224", "before_control", None),
                               ("b", "340225", "before_control", None)]
            conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, "
                              "period_end, budget, source, loaded_at) VALUES ('c', :h, 't', '[\"340226\"]', "
                              "'2021-01-01', '2021-12-31', 0, '', :now)"), {"h": "c" * 64, "now": NOW})
            assert conn.execute(text("SELECT status FROM contract WHERE id = 'c'")).scalar() == "pending"
    finally:
        db.dispose()
