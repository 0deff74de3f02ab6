"""Migrations run on a SQLite or PostgreSQL database that holds data: tables that other tables' rows point at can
still be altered (SQLite copies a table to alter it), and no reference is left broken."""

from __future__ import annotations

from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade


def test_a_database_that_has_drawn_a_sample_upgrades(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="paid")
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
