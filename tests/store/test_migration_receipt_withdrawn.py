"""Migration 0056: a 核实未收到 closing may be withdrawn (撤回) by two county reviewers; the withdrawn closing stays
beside the one after it, so a follow-up's current closing is the one neither returned nor withdrawn. Closings before
it are not withdrawn; the database refuses a withdrawal of any closing but a 核实未收到, one without its proposer, time
or reason, and one confirmed by its proposer or by the closer; the downgrade is refused while a withdrawal is on
record, and otherwise keeps the closings."""

from __future__ import annotations


import pytest
from migration_rows import MISDIRECTED, NEXT_CLOSING, downgrade, open_alerts, refused, upgraded_with
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.followups import receipt
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

ROWS = MISDIRECTED
PROPOSED = ("UPDATE followup_receipt_review SET withdraw_proposed_by = 'p', withdraw_proposed_at = resolved_at, "
            "withdraw_reason = '看错了流水' WHERE id = 'frr_1'")




def test_a_withdrawn_closing_is_kept_beside_the_next_and_the_database_keeps_two_people(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0055", ROWS)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT withdraw_proposed_by, withdraw_reason, withdrawn_by, withdrawn_at "
                                     "FROM followup_receipt_review")).all() == [(None, None, None, None)]
        assert open_alerts(db, "withdrawn") == (0, [])  # closed, as it was
        refused(db, NEXT_CLOSING, id="frr_2")  # one current closing a follow-up
        for bad in ("UPDATE followup_receipt_review SET withdraw_proposed_by = 'p', "
                    "withdraw_proposed_at = resolved_at",  # no reason
                    "UPDATE followup_receipt_review SET withdrawn_by = 'x', withdrawn_at = resolved_at",  # unproposed
                    PROPOSED.replace("WHERE", ", withdrawn_by = 'p', withdrawn_at = resolved_at WHERE"),  # proposer
                    PROPOSED.replace("WHERE", ", withdrawn_by = 'r', withdrawn_at = resolved_at WHERE"),  # closer
                    PROPOSED.replace("WHERE", ", withdrawn_by = 'x' WHERE"),  # no time
                    PROPOSED.replace("WHERE", ", outcome = 'received', recovery_id = NULL, "
                                              "supplement_id = NULL WHERE")):  # not a 核实未收到
            refused(db, bad)

        with db.engine.begin() as conn:
            conn.execute(text(PROPOSED))
        assert open_alerts(db, "withdrawn") == (0, [])  # proposed only: the closing stands
        refused(db, NEXT_CLOSING, id="frr_2")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE followup_receipt_review SET withdrawn_by = 'x', withdrawn_at = resolved_at"))
        assert open_alerts(db, "withdrawn") == (1, ["fup_1:1"])  # open again, the withdrawn closing shown
        with db.engine.begin() as conn:
            conn.execute(text(NEXT_CLOSING), {"id": "frr_2"})  # another reviewer closes it anew
        assert open_alerts(db, "withdrawn") == (0, [])
        refused(db, NEXT_CLOSING, id="frr_3")
        with Session(db.engine) as session:
            [shown] = receipt.for_case(session, "case_1")
        assert (shown.resolved_by, shown.outcome) == ("r2", "received")

        with pytest.raises(RuntimeError, match="撤回"):
            downgrade(db, "0055")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM followup_receipt_review WHERE id = 'frr_2'"))
            conn.execute(text("UPDATE followup_receipt_review SET withdraw_proposed_by = NULL, "
                              "withdraw_proposed_at = NULL, withdraw_reason = NULL, withdrawn_by = NULL, "
                              "withdrawn_at = NULL"))
        downgrade(db, "0055")
        assert current_revision(db) == "0055"
        assert not {"withdraw_proposed_by", "withdrawn_by", "withdrawn_at"} & {
            c["name"] for c in inspect(db.engine).get_columns("followup_receipt_review")}
        refused(db, NEXT_CLOSING, id="frr_2")  # one closing not returned a follow-up, as before
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
