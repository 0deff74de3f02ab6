"""Migration 0055: a 核实已收到 closing waiting for its second look may be returned (退回) instead of confirmed; the
returned closing stays beside the one after it, so a follow-up has one closing not returned (a unique index of those)
where the database had one closing a follow-up. Closings before it are not returned; the database refuses a return
of any closing but one waiting for its second look, without a time or a note, and by the closer; the downgrade keeps
the closings, and is refused while a returned one exists."""

from __future__ import annotations


import pytest
from migration_rows import NEXT_CLOSING, NOT_RECEIVED, PAID_ITEM, downgrade, open_alerts, refused, upgraded_with
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.followups import receipt
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

ROWS = [
    *PAID_ITEM,
    NOT_RECEIVED,
    "INSERT INTO followup_receipt_review (id, followup_id, case_id, county_code, note, outcome, resolved_by, "
    "resolved_at, second_needed) VALUES ('frr_1', 'fup_1', 'case_1', '340223', '已核实', 'received', 'r', :now, true)",
]
RETURN = ("UPDATE followup_receipt_review SET returned_by = 'x', returned_at = resolved_at, return_note = '钱没到' "
          "WHERE id = 'frr_1'")




def test_a_returned_closing_is_kept_beside_the_next_and_the_database_keeps_the_return_honest(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0054", ROWS)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT returned_by, returned_at, return_note FROM followup_receipt_review"
                                     )).all() == [(None, None, None)]  # nothing returned before
        assert open_alerts(db, "returned") == (1, ["fup_1:0"])  # 待复核, as it was
        refused(db, NEXT_CLOSING, id="frr_2")  # one closing not returned a follow-up
        for bad in ("UPDATE followup_receipt_review SET returned_by = 'r', returned_at = resolved_at, "
                    "return_note = '钱没到'",  # the closer's own
                    "UPDATE followup_receipt_review SET returned_by = 'x', return_note = '钱没到'",  # no time
                    "UPDATE followup_receipt_review SET returned_by = 'x', returned_at = resolved_at",  # no note
                    "UPDATE followup_receipt_review SET returned_by = 'x', returned_at = resolved_at, "
                    "return_note = '钱没到', confirmed_by = 'y', confirmed_at = resolved_at",  # confirmed and returned
                    "UPDATE followup_receipt_review SET returned_by = 'x', returned_at = resolved_at, "
                    "return_note = '钱没到', second_needed = false"):  # no second look waited
            refused(db, bad)

        with db.engine.begin() as conn:
            conn.execute(text(RETURN))
        assert open_alerts(db, "returned") == (1, ["fup_1:1"])  # open again, the returned closing shown
        with db.engine.begin() as conn:
            conn.execute(text(NEXT_CLOSING), {"id": "frr_2"})  # another reviewer closes it anew
        assert open_alerts(db, "returned") == (0, [])
        refused(db, NEXT_CLOSING, id="frr_3")
        with Session(db.engine) as session:
            [shown] = receipt.for_case(session, "case_1")
        assert (shown.resolved_by, [r.resolved_by for r in shown.returned]) == ("r2", ["r"])

        with pytest.raises(RuntimeError, match="被退回"):
            downgrade(db, "0054")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM followup_receipt_review WHERE id = 'frr_2'"))
            conn.execute(text("UPDATE followup_receipt_review SET returned_by = NULL, returned_at = NULL, "
                              "return_note = NULL"))
        downgrade(db, "0054")
        assert current_revision(db) == "0054"
        assert not {"returned_by", "returned_at", "return_note"} & {
            c["name"] for c in inspect(db.engine).get_columns("followup_receipt_review")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup_receipt_review")).scalars().all() == ["frr_1"]
        refused(db, NEXT_CLOSING, id="frr_2")  # one closing a follow-up, as before
        upgrade(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
