"""Migration 0053: an alert closed before the closing asked what was found keeps no outcome and reads as 未记录
(`unknown`), linking nothing; the database refuses an outcome it does not know, a misdirected closing without its
recovery and supplement, and links beside any other closing; a recovery or supplement may have no round (a
follow-up's). The downgrade takes the columns away and keeps the closing."""

from __future__ import annotations

import os

import pytest
from migration_rows import NOT_RECEIVED, PAID_ITEM, downgrade, upgraded_with
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal
from verifier.followups import receipt
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade
from verifier.store.vault import Vault

ROWS = [
    *PAID_ITEM,
    NOT_RECEIVED,
    "INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, resolved_by, resolved_at) "
    "VALUES ('frr_1', 'fup_1', 'case_1', '340223', '已核实', 'r', :now)",
]


def test_alerts_closed_before_read_as_outcome_not_recorded(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0052", ROWS)
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

        downgrade(db, "0052")
        assert current_revision(db) == "0052"
        assert not {"outcome", "recovery_id", "supplement_id"} & {
            c["name"] for c in inspect(db.engine).get_columns("followup_receipt_review")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup_receipt_review")).scalars().all() == ["frr_1"]
        upgrade(db)  # and up again
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
