"""Migration 0059: a recovery keeps the second reviewer's words confirming its waiver (`waiver_confirm_note`), a batch
each county sign-off decision (`payment_batch_signoff`), since the audit log holds only their SHA-256. The upgrade
fills both from what is known: the log's entries name every decision and hold the text itself when written before the
log kept digests; a digest is matched to the batch's latest opinion; a batch the log does not name gets its columns'
decisions; anything else stays NULL. It refuses nothing; the downgrade is refused while a note or an opinion would be
kept nowhere in clear after it, and otherwise keeps the batches' columns as they were."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from migration_rows import REVIEWER, SIGNOFF_HISTORY, SIGNOFF_LOG, downgrade, refused, upgraded_with
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.payments import recovery_reading
from verifier.payments import service as payments
from verifier.store.db import Database
from verifier.store.migrate import alembic_config, current_revision, head_revision, upgrade

BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0059").down_revision
assert isinstance(BEFORE, str)
ADDED = ("INSERT INTO payment_batch_signoff (id, batch_id, decision, decided_by, decided_at, opinion) VALUES "
         "(:id, 'pb_1', :how, 'rv3', '2020-06-01 02:10:00', :opinion)")


def _history(db: Database) -> dict[str, list[tuple[str, str, str, str | None]]]:
    """Each batch's sign-off history as the service reads it: (decision, who, when (UTC, to the minute), opinion)."""
    with Session(db.engine) as session:
        return {b: [(d.decision, d.decided_by, d.decided_at.strftime("%H:%M"), d.opinion)
                    for d in payments.signoffs_of(session, b)] for b in ("pb_1", "pb_2")}


def _notes(db: Database) -> dict[str, str | None]:
    with Session(db.engine) as session:
        return {r: recovery_reading.get_recovery(session, r, REVIEWER)["waiver_confirm_note"] for r in ("rcv_2", "rcv_3")}


KNOWN = {
    "pb_1": [("refused", "rv1", "02:30", "票据不全"),  # logged in clear: an opinion the batch had lost
             ("refused", "rv1", "03:00", None),  # logged by digest, then overwritten: kept nowhere in clear
             ("given", "rv2", "04:00", "同意发放")],  # by digest, and the batch's latest: its text
    "pb_2": [("refused", "rv1", "05:00", "请补充票据")],  # not in the log: from the batch's columns
}


def test_the_upgrade_keeps_what_is_known_and_the_downgrade_keeps_what_would_be_lost(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, BEFORE, SIGNOFF_HISTORY, entries=SIGNOFF_LOG)
        assert _history(db) == KNOWN
        assert _notes(db) == {"rcv_2": "已核实，同意核销", "rcv_3": None}
        with db.engine.connect() as conn:  # the batches' own columns as they were
            assert conn.execute(text("SELECT id, signoff_opinion FROM payment_batch ORDER BY id")).all() == [
                ("pb_1", "同意发放"), ("pb_2", "请补充票据")]
        refused(db, ADDED, id="x1", how="lost", opinion="")  # a decision of no known kind

        # a note, or an opinion, the downgrade would leave nowhere in clear: refused, nothing dropped
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE recovery SET waiver_confirm_note = '经复核同意' WHERE id = 'rcv_3'"))
        with pytest.raises(RuntimeError, match="确认意见"):
            downgrade(db, BEFORE)
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE recovery SET waiver_confirm_note = NULL WHERE id = 'rcv_3'"))
            conn.execute(text(ADDED), {"id": "x1", "how": "refused", "opinion": "只在签批记录中"})
        with pytest.raises(RuntimeError, match="签批意见"):
            downgrade(db, BEFORE)
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM payment_batch_signoff WHERE id = 'x1'"))

        # what is kept elsewhere in clear (the log's text, the batch's latest) lets it go down; up again, the same
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE
        assert "payment_batch_signoff" not in inspect(db.engine).get_table_names()
        assert "waiver_confirm_note" not in {c["name"] for c in inspect(db.engine).get_columns("recovery")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, signoff_opinion, signoff_refused_by FROM payment_batch "
                                     "ORDER BY id")).all() == [("pb_1", "同意发放", "rv1"), ("pb_2", "请补充票据", "rv1")]
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert _history(db) == KNOWN
        assert _notes(db) == {"rcv_2": "已核实，同意核销", "rcv_3": None}
    finally:
        db.dispose()
