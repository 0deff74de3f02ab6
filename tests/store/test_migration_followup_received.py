"""Migration 0051: a follow-up recorded before it was never asked whether the household received the relief: its
`received` stays NULL, read as 未询问 (`unknown`) and raising no alert; the database refuses an answer it does not know
and an amount beside "yes" or beside no answer; the open alerts are counted through a partial index; the downgrade takes the columns and the review table away and keeps the follow-up."""

from __future__ import annotations

import pytest
from migration_rows import PAID_ITEM, downgrade, upgraded_with
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier.accounts.auth import Principal
from verifier.followups import receipt
from verifier.followups.schemas import followup_out
from verifier.followups.models import Followup
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade

ROWS = [
    *PAID_ITEM,
    "INSERT INTO followup (id, case_id, payment_item_id, county_code, due_on, done_on, method, income_change, "
    "risk_remains, satisfaction, new_needs, recorded_by, recorded_at) VALUES ('fup_1', 'case_1', 'pi_1', '340223', "
    "'2020-07-01', '2020-06-20', 'phone', 'same', false, 'satisfied', '[]', 'o', :now)",
]


def test_follow_ups_recorded_before_read_as_not_asked(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, "0050", ROWS)
        everyone = Principal(id="usr_rev", username="rev", display_name="rev", roles=("county_reviewer",),
                             counties=())
        with Session(db.engine) as session:
            row = session.get(Followup, "fup_1")
            assert row is not None and (row.received, row.received_amount) == (None, None)
            assert followup_out(row).received == "unknown"
            assert [f.received for f in receipt.for_case(session, "case_1")] == ["unknown"]
            assert receipt.open_count(session, everyone) == 0  # never asked: no alert
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text("UPDATE followup SET received = 'maybe' WHERE id = 'fup_1'"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # an amount only beside no or partly
            conn.execute(text("UPDATE followup SET received = 'yes', received_amount = 100 WHERE id = 'fup_1'"))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:  # nor beside a question never asked
            conn.execute(text("UPDATE followup SET received = NULL, received_amount = 100 WHERE id = 'fup_1'"))
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE followup SET received = 'partly', received_amount = 5000 WHERE id = 'fup_1'"))
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("followup")}
        assert indexes["ix_followup_not_received_county"]["column_names"] == ["county_code"]
        with db.engine.connect() as conn:  # partial: only the follow-ups answered no or partly
            definition = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_followup_not_received_county'")
                                     if conn.dialect.name == "sqlite" else
                                     text("SELECT indexdef FROM pg_indexes WHERE indexname ="
                                          " 'ix_followup_not_received_county' AND schemaname = current_schema()"))
        assert "WHERE" in str(definition).upper() and "partly" in str(definition), definition
        with Session(db.engine) as session:
            assert receipt.open_count(session, everyone) == 1

        downgrade(db, "0050")
        assert current_revision(db) == "0050"
        columns = {c["name"] for c in inspect(db.engine).get_columns("followup")}
        assert not {"received", "received_amount"} & columns
        assert "ix_followup_not_received_county" not in {i["name"] for i in inspect(db.engine).get_indexes("followup")}
        assert "followup_receipt_review" not in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM followup")).scalars().all() == ["fup_1"]
        upgrade(db)  # and up again
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
