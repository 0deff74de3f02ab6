"""Migration 0057: a proposal to withdraw a 核实未收到 closing may end without a withdrawal, dropped by its proposer or
declined by another county reviewer, and is kept in `followup_receipt_withdraw_ended`. A proposal waiting before it
still waits (the closing's first, numbered 1) and may be confirmed; the database refuses a drop by anyone but the
proposer, a decline by the proposer, an end of an unknown kind, and a second row of a closing's number; the downgrade
is refused while an ended proposal is on record, and otherwise keeps the waiting proposal."""

from __future__ import annotations

import pytest
from migration_rows import MISDIRECTED, REVIEWER, downgrade, refused, upgraded_with
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.followups import receipt, receipt_withdraw
from verifier.followups.models import FollowupReceiptReview
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

PROPOSED = ("UPDATE followup_receipt_review SET withdraw_proposed_by = 'p', withdraw_proposed_at = resolved_at, "
            "withdraw_reason = '看错了流水' WHERE id = 'frr_1'")
ENDED = ("INSERT INTO followup_receipt_withdraw_ended (id, review_id, followup_id, county_code, proposal, proposed_by, "
         "proposed_at, reason, ended, ended_by, ended_at, end_reason) VALUES (:id, 'frr_1', 'fup_1', '340223', "
         ":proposal, 'p', '2020-06-01 02:00:00', '看错了流水', :how, :by, '2020-06-02 02:00:00', '核对无误')")


def _waiting(db: Database) -> tuple[str | None, int]:
    """Who proposed the closing's waiting withdrawal, and its number."""
    with Session(db.engine) as session:
        review = session.get(FollowupReceiptReview, "frr_1")
        assert review is not None
        return review.withdraw_proposed_by, receipt_withdraw.proposal_number(session, review)


def test_a_waiting_proposal_stays_and_an_ended_one_is_kept_by_the_database_rules(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0056", [*MISDIRECTED, PROPOSED])
        assert _waiting(db) == ("p", 1)  # the proposal before 0057 still waits, the closing's first
        with Session(db.engine) as session:
            [alert] = receipt.alerts(session, REVIEWER, _vault(), status="resolved")[0]
        assert (alert.withdraw_proposed_by, alert.withdraw_proposal, alert.withdraw_ended) == ("p", 1, ())

        for bad in ({"id": "e1", "proposal": "1", "how": "dropped", "by": "x"},  # dropped by another
                    {"id": "e1", "proposal": "1", "how": "declined", "by": "p"},  # declined by its proposer
                    {"id": "e1", "proposal": "1", "how": "lost", "by": "x"},  # an unknown end
                    {"id": "e1", "proposal": "0", "how": "declined", "by": "x"}):  # numbered from 1
            refused(db, ENDED, **bad)
        with db.engine.begin() as conn:  # as `receipt_withdraw.decline` writes it: kept, the closing's columns cleared
            conn.execute(text(ENDED), {"id": "e1", "proposal": 1, "how": "declined", "by": "x"})
            conn.execute(text("UPDATE followup_receipt_review SET withdraw_proposed_by = NULL, "
                              "withdraw_proposed_at = NULL, withdraw_reason = NULL WHERE id = 'frr_1'"))
        refused(db, ENDED, id="e2", proposal="1", how="dropped", by="p")  # one row a closing's number
        assert _waiting(db) == (None, 2)
        with Session(db.engine) as session:
            [alert] = receipt.alerts(session, REVIEWER, _vault(), status="resolved")[0]
        assert alert.withdraw_proposal is None
        assert [(e.proposal, e.ended, e.ended_by) for e in alert.withdraw_ended] == [(1, "declined", "x")]

        with pytest.raises(RuntimeError, match="已驳回"):
            downgrade(db, "0056")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM followup_receipt_withdraw_ended"))
            conn.execute(text(PROPOSED))  # a waiting proposal: 0056 keeps it
        downgrade(db, "0056")
        assert current_revision(db) == "0056"
        assert "followup_receipt_withdraw_ended" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT withdraw_proposed_by FROM followup_receipt_review")).all() == [("p",)]
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert _waiting(db) == ("p", 1)
    finally:
        db.dispose()


def _vault():  # type: ignore[no-untyped-def]
    import os

    from verifier.store.vault import Vault

    return Vault(os.urandom(32), os.urandom(32))
