"""Migration 0053: an alert closed before the closing asked what was found keeps no outcome and reads as 未记录
(`unknown`), linking nothing; the database refuses an outcome it does not know, a misdirected closing without its
recovery and supplement, and links beside any other closing; a recovery or supplement may have no round (a
follow-up's). The downgrade takes the columns away and keeps the closing."""

from __future__ import annotations

import os

import pytest
from alembic import command
from migration_rows import NOW, insert_case
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal
from verifier.followups import receipt
from verifier.store.db import Database
from verifier.store.migrate import alembic_config, current_revision, head_revision, upgrade
from verifier.store.vault import Vault

ROWS = [
    "INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, business_net, "
    "property_net, transfer_net, productive_costs, medical_self_paid, schooling, disaster_loss, stable_income, "
    "cross_checks, evidence, recorded_by, recorded_at) VALUES ('chk_1', 'case_1', 1, '2020-05-10', '[]', '[]', 1, "
    "0, 0, 0, 0, 0, 0, 0, 0, false, '[]', '[]', 'u', :now)",
    "INSERT INTO determination (id, case_id, check_id, eligible, rule, reason, per_capita_income, basis, "
    "already_paid, relief, breakdown, capped, contract_hash, confirmed_by, confirmed_at) VALUES ('det_1', 'case_1', "
    "'chk_1', true, 'income', '', 0, 0, 0, 100000, '[]', false, 'h', 's', :now)",
    "INSERT INTO payment_batch (id, code, county_code, contract_id, contract_hash, status, item_count, total, "
    "items_sha256, signoff_required, prepared_by, prepared_at, updated_at) VALUES ('pb_1', 'B1', '340223', 'c', 'h', "
    "'reconciled', 1, 100000, 'x', false, 'p', :now, :now)",
    "INSERT INTO payment_item (id, batch_id, seq, reference, case_id, determination_id, amount, payee_name, "
    "payee_bank, payee_check_id, status, created_at, settled_at) VALUES ('pi_1', 'pb_1', 1, 'B1-1', 'case_1', "
    "'det_1', 100000, 'h', '农村商业银行', 'chk_1', 'succeeded', :now, :now)",
    "INSERT INTO followup (id, case_id, payment_item_id, county_code, due_on, done_on, method, income_change, "
    "risk_remains, satisfaction, new_needs, received, received_amount, recorded_by, recorded_at) VALUES ('fup_1', "
    "'case_1', 'pi_1', '340223', '2020-07-01', '2020-06-20', 'phone', 'same', false, 'satisfied', '[]', 'no', 0, "
    "'o', :now)",
    "INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, resolved_by, resolved_at) "
    "VALUES ('frr_1', 'fup_1', 'case_1', '340223', '已核实', 'r', :now)",
]


def _downgrade(db: Database, revision: str) -> None:
    cfg = alembic_config()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # as `upgrade` does: SQLite copies the altered table
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, revision)
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def test_alerts_closed_before_read_as_outcome_not_recorded(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="paid")
        upgrade(db, "0052")
        with db.engine.begin() as conn:
            for row in ROWS:
                conn.execute(text(row), {"now": NOW})
        upgrade(db)
        assert current_revision(db) == head_revision()
        everyone = Principal(id="usr_rev", username="rev", display_name="rev", roles=("county_reviewer",),
                             counties=())
        with Session(db.engine) as session:
            [alert], total = receipt.alerts(session, everyone, Vault(os.urandom(32), os.urandom(32)), status="resolved")
        assert total == 1 and (alert.outcome, alert.recovery_id, alert.supplement_id) == ("unknown", None, None)
        for bad in ("UPDATE followup_receipt_review SET outcome = 'maybe'",
                    "UPDATE followup_receipt_review SET outcome = 'misdirected'"):  # without its recovery
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text(bad))
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE followup_receipt_review SET outcome = 'received'"))
        columns = {c["name"]: c for c in inspect(db.engine).get_columns("recovery")}
        assert columns["round_id"]["nullable"]
        assert {c["name"]: c for c in inspect(db.engine).get_columns("supplementary_payment")}["round_id"]["nullable"]

        _downgrade(db, "0052")
        assert current_revision(db) == "0052"
        assert not {"outcome", "recovery_id", "supplement_id"} & {
            c["name"] for c in inspect(db.engine).get_columns("followup_receipt_review")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup_receipt_review")).scalars().all() == ["frr_1"]
        upgrade(db)  # and up again
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
