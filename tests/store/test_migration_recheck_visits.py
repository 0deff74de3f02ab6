"""Migration 0041 (the county's visit behind a re-check; who chose a visit's officers): results recorded before keep
their figures, with no visit (NULL day, member, signed record and photos): the pages say they were recorded before the
evidence was asked for; visits scheduled before keep their officers, with no record of who chose them (NULL), not
counted in the shares of hand-picked visits."""

from __future__ import annotations

from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import text

from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade


def test_results_recorded_before_keep_their_figures_and_carry_no_visit(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="paid")  # in the columns of its time; numbered on the way up
        upgrade(db, "0040")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO sampling_round (id, county_code, kind, stratified, checked_from, checked_to, contract_id, "
                "contract_hash, confidence, tolerable_rate, expected_rate, min_rate, income_tolerance, method, "
                "population_size, population_total, population_digest, seed, status, created_by, created_at) "
                "VALUES ('smp_1', '340223', 'attribute', false, '2020-05-01', '2020-05-31', 'c', 'h', '0.95', '0.05', "
                "'0.00', '0.10', '0.10', 'x', 1, 0, :digest, :digest, 'drawn', 'u', :now)"),
                {"now": NOW, "digest": "0" * 64})
            conn.execute(text("INSERT INTO sampling_member (round_id, case_id, stratum, weight) "
                              "VALUES ('smp_1', 'case_1', '', 0)"))
            conn.execute(text("INSERT INTO sampling_item (round_id, case_id, stage, stratum, position, units) "
                              "VALUES ('smp_1', 'case_1', 1, '', 0, 1)"))
            conn.execute(text("INSERT INTO visit (id, case_id, visit_on, due_on, officer_ids, vehicle, active, "
                              "planned_by, created_at) VALUES ('visit_1', 'case_1', '2020-05-10', '2020-05-11', "
                              "'[\"o1\", \"o2\"]', 'v1', true, 'sup', :now)"), {"now": NOW})
            conn.execute(text(
                "INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, "
                "business_net, property_net, transfer_net, productive_costs, medical_self_paid, schooling, "
                "disaster_loss, stable_income, cross_checks, evidence, recorded_by, recorded_at) VALUES ('chk_1', "
                "'case_1', 1, '2020-05-10', '[]', '[]', 1, 0, 0, 0, 0, 0, 0, 0, 0, false, '[]', '[]', 'u', :now)"),
                {"now": NOW})
            conn.execute(text(
                "INSERT INTO sampling_result (round_id, case_id, per_capita_income, eligible, baseline, check_id, "
                "insurer_eligible, insurer_per_capita_income, deviation, reasons, recorded_by, recorded_at) VALUES "
                "('smp_1', 'case_1', 300000, true, 'determination', 'chk_1', true, 300000, false, '[]', 'u', :now)"),
                {"now": NOW})
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT per_capita_income, visited_on, met_member_id, signed_form, evidence "
                                    "FROM sampling_result")).one()
            assert row == (300000, None, None, None, None)
            assert conn.execute(text("SELECT count(*) FROM recheck_evidence")).scalar() == 0
            assert conn.execute(text("SELECT planned_by, by_hand, reason FROM visit")).one() == ("sup", None, None)
        upgrade(db)  # and again: nothing to do
    finally:
        db.dispose()
