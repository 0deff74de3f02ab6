"""Migration 0054: a 核实已收到 closing of an account changed after the check waits for a second county reviewer.
Closings before it need none (they stay closed) and name no confirmer; the database refuses a second look on any
closing but 核实已收到, a confirmer on a closing that needs none, and the closer confirming their own. The downgrade
keeps the closings, and is refused while one still waits for its second look."""

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
    "INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, outcome, resolved_by, "
    "resolved_at) VALUES ('frr_1', 'fup_1', 'case_1', '340223', '已核实', 'received', 'r', :now)",
]
EVERYONE = Principal(id="usr_rev", username="rev", display_name="rev", roles=("county_reviewer",), counties=())


def _resolved(db: Database) -> int:
    with Session(db.engine) as session:
        return receipt.alerts(session, EVERYONE, Vault(os.urandom(32), os.urandom(32)), status="resolved")[1]


def test_closings_before_stay_closed_and_the_database_keeps_the_second_look_honest(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0053", ROWS)
        assert _resolved(db) == 1
        for bad in ("UPDATE followup_receipt_review SET confirmed_by = 'x', confirmed_at = resolved_at",  # none needed
                    "UPDATE followup_receipt_review SET second_needed = true, confirmed_by = 'r', "
                    "confirmed_at = resolved_at",  # the closer's own
                    "UPDATE followup_receipt_review SET second_needed = true, confirmed_by = 'x'",  # no time
                    "UPDATE followup_receipt_review SET second_needed = true, outcome = NULL"):  # not 核实已收到
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text(bad))
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE followup_receipt_review SET second_needed = true"))
        assert _resolved(db) == 0  # 待复核: open again
        with pytest.raises(RuntimeError, match="待另一名县级审核人员复核"):
            downgrade(db, "0053")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE followup_receipt_review SET confirmed_by = 'x', confirmed_at = resolved_at"))
        assert _resolved(db) == 1

        downgrade(db, "0053")
        assert current_revision(db) == "0053"
        assert not {"second_needed", "confirmed_by", "confirmed_at"} & {
            c["name"] for c in inspect(db.engine).get_columns("followup_receipt_review")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup_receipt_review")).scalars().all() == ["frr_1"]
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
