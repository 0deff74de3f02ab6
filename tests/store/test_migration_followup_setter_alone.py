"""Migration 0065: a follow-up recorded by a setter of the payee account alone (`setter_alone`) waits for a county
reviewer's second look, confirmed or refused with a reason; a refused one stays beside the next follow-up of the same
payment, so the unique constraint on payment_item_id becomes a unique index of the follow-ups not refused. The
follow-ups whose `followup.record` entry said `setter_alone` are marked and wait; the others are as they were. The
database refuses a second look of a follow-up not recorded alone, by its recorder, both ways, or a refusal without
its reason. A supervisor's assignment (`followup_assignment`) is never to himself. The downgrade is refused while one
waits, a refused one or an assignment exists, and keeps the rows otherwise."""

from __future__ import annotations

from collections import Counter

import pytest
from migration_rows import PAID_ITEM, downgrade, logged, refused, upgraded_with
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from verifier.followups import receipt, summary
from verifier.followups.models import FOLLOWUP_STANDS, Followup
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

FOLLOWUP = ("INSERT INTO followup (id, case_id, payment_item_id, county_code, due_on, done_on, method, income_change, "
            "risk_remains, satisfaction, new_needs, received, received_amount, recorded_by, recorded_at) VALUES "
            "(:id, 'case_1', 'pi_1', '340223', '2020-07-01', '2020-06-20', 'phone', 'same', false, 'satisfied', "
            "'[]', 'yes', NULL, 'o', '2020-06-20 02:00:00')")
ROWS = [*PAID_ITEM, FOLLOWUP.replace(":id", "'fup_1'")]
ENTRIES = [logged(1, "followup.record", "fup_1", "o", "2020-06-20 02:00:00",
                  {"setter_alone": True, "case_id": "case_1", "payment_item_id": "pi_1"}),
           logged(2, "followup.record", "fup_other", "o", "2020-06-20 02:00:00", {"case_id": "case_x"})]
REFUSE = ("UPDATE followup SET alone_refused_by = 'r', alone_refused_at = recorded_at, "
          "alone_refuse_reason = '户主说没有人来回访' WHERE id = 'fup_1'")
ASSIGN = ("INSERT INTO followup_assignment (id, payment_item_id, case_id, county_code, officer_id, reason, "
          "assigned_by, assigned_at) VALUES ('fas_1', 'pi_1', 'case_1', '340223', 'o2', '本县无其他核查员', 'sup', "
          "'2020-06-21 02:00:00')")
COLUMNS = {"setter_alone", "alone_confirmed_by", "alone_confirmed_at", "alone_refused_by", "alone_refused_at",
           "alone_refuse_reason"}


def _received(db: Database) -> dict[str, int]:
    """How the monthly figures count the follow-ups standing (`summary.received_as`), and the case page's marks."""
    with Session(db.engine) as session:
        standing = session.scalars(select(Followup).where(FOLLOWUP_STANDS)).all()
        marks = sorted((f.id, f.alone) for f in receipt.for_case(session, "case_1"))
        return {**Counter(summary.received_as(f) for f in standing), "marks": marks}


def test_a_setters_follow_up_waits_and_a_refused_one_is_kept_beside_the_next(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0064", ROWS, entries=ENTRIES)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, setter_alone, alone_confirmed_by, alone_refused_at FROM followup"
                                     )).all() == [("fup_1", True, None, None)]  # its entry said so: it waits
        assert _received(db) == {"review": 1, "marks": [("fup_1", "waits")]}  # not counted received until confirmed
        for bad in ("UPDATE followup SET alone_confirmed_by = 'o', alone_confirmed_at = recorded_at",  # its recorder
                    "UPDATE followup SET alone_confirmed_by = 'r'",  # no time
                    "UPDATE followup SET alone_refused_by = 'r', alone_refused_at = recorded_at",  # no reason
                    "UPDATE followup SET alone_refused_by = 'o', alone_refused_at = recorded_at, "
                    "alone_refuse_reason = 'x'",  # its recorder
                    "UPDATE followup SET alone_confirmed_by = 'r', alone_confirmed_at = recorded_at, "
                    "alone_refused_by = 'r', alone_refused_at = recorded_at, alone_refuse_reason = 'x'",  # both
                    "UPDATE followup SET setter_alone = false, alone_confirmed_by = 'r', "
                    "alone_confirmed_at = recorded_at"):  # not recorded alone
            refused(db, bad)
        refused(db, FOLLOWUP, id="fup_2")  # one standing follow-up a payment
        with pytest.raises(RuntimeError, match="待县级复核"):
            downgrade(db, "0064")
        refused(db, ASSIGN.replace("'sup'", "'o2'"))  # a supervisor assigning himself
        with db.engine.begin() as conn:
            conn.execute(text(ASSIGN))
        with pytest.raises(RuntimeError, match="指派"):
            downgrade(db, "0064")
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM followup_assignment"))
        with db.engine.begin() as conn:
            conn.execute(text(REFUSE))
            conn.execute(text(FOLLOWUP), {"id": "fup_2"})  # the next follow-up, beside the refused one
        refused(db, FOLLOWUP, id="fup_3")
        # the refused one answers nothing, and is kept on the case page
        assert _received(db) == {"yes": 1, "marks": [("fup_1", "refused"), ("fup_2", None)]}
        with pytest.raises(RuntimeError, match="退回"):
            downgrade(db, "0064")
        assert current_revision(db) == head_revision()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM followup WHERE id = 'fup_1'"))
        downgrade(db, "0064")
        assert current_revision(db) == "0064"
        assert not COLUMNS & {c["name"] for c in inspect(db.engine).get_columns("followup")}
        assert "followup_assignment" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup")).scalars().all() == ["fup_2"]
        refused(db, FOLLOWUP, id="fup_3")  # one follow-up a payment, as before
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, setter_alone FROM followup")).all() == [("fup_2", False)]
    finally:
        db.dispose()
