"""Migrations run on a SQLite or PostgreSQL database that holds data: tables that other tables' rows point at can
still be altered (SQLite copies a table to alter it), and no reference is left broken."""

from __future__ import annotations

from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

NOW = "2020-06-01 02:00:00"


def test_a_database_that_has_drawn_a_sample_upgrades(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0011")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO contract (id, content_hash, title, county_codes, period_start, period_end, "
                              "budget, source, loaded_at) VALUES ('c', 'h', 't', '[\"340223\"]', '2020-01-01', "
                              "'2020-12-31', 0, '', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO household (id, county_code, town, village, household_group, head_name, "
                              "created_at) VALUES ('hh_1', '340223', 't', 'v', 'low_income', 'h', :now)"), {"now": NOW})
            conn.execute(text("INSERT INTO relief_case (id, household_id, county_code, town, village, household_group, "
                              "cause, contract_id, contract_hash, contract_year, status, referred_on, reported_amount, "
                              "created_at, updated_at, version) VALUES ('case_1', 'hh_1', '340223', 't', 'v', "
                              "'low_income', 'illness', 'c', 'h', 2020, 'paid', '2020-05-01', 0, :now, :now, 1)"),
                         {"now": NOW})
            conn.execute(text(
                "INSERT INTO sampling_round (id, county_code, kind, stratified, checked_from, checked_to, contract_id, "
                "contract_hash, confidence, tolerable_rate, expected_rate, min_rate, income_tolerance, method, "
                "population_size, population_total, population_digest, randomness, seed, status, created_by, "
                "created_at) VALUES ('smp_1', '340223', 'attribute', false, '2020-05-01', '2020-05-31', 'c', 'h', "
                "'0.95', '0.05', '0.00', '0.10', '0.10', 'x', 1, 0, :digest, 'dice', :digest, 'drawn', 'u', :now)"),
                {"now": NOW, "digest": "0" * 64})
            conn.execute(text("INSERT INTO sampling_member (round_id, case_id, stratum, weight) "
                              "VALUES ('smp_1', 'case_1', '', 0)"))
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status, randomness FROM sampling_round")).one() == ("drawn", "dice")
            assert conn.execute(text("SELECT count(*) FROM sampling_member")).scalar() == 1
        upgrade(db)  # and again: nothing to do
    finally:
        db.dispose()
