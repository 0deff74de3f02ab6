"""Migration 0060: each request to waive a recovery keeps its own row (recovery_waiver_request) with its end, so a
declined request's reason no longer sits in `recovery.waiver_confirm_note` (the confirming words' column) to be
overwritten. The upgrade fills the rows from the log (requests, declines, confirmations, withdrawals) and the
recovery's columns, a digest matched to the columns' texts; it moves an open recovery's last decline reason out of
`waiver_confirm_note`. It refuses nothing; the downgrade is refused while a text would be kept nowhere in clear after
it, and otherwise puts the last decline's reason back."""

from __future__ import annotations

import hashlib

from alembic.script import ScriptDirectory
from migration_rows import NOW, PAID_ITEM, REVIEWER, downgrade, logged, refused, upgraded_with
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from verifier.payments import recovery_reading
from verifier.store.db import Database
from verifier.store.migrate import alembic_config, current_revision, head_revision, upgrade

BEFORE = ScriptDirectory.from_config(alembic_config()).get_revision("0060").down_revision
assert isinstance(BEFORE, str)


def _recovery(rid: str, status: str, **columns: str | None) -> str:
    names = ", ".join(columns)
    values = ", ".join("NULL" if v is None else f"'{v}'" for v in columns.values())
    return ("INSERT INTO recovery (id, case_id, round_id, county_code, contract_id, amount, repaid, status, "
            f"paid_amount, due_amount, opened_by, opened_at{', ' if columns else ''}{names}) VALUES ('{rid}', "
            f"'case_1', NULL, '340223', 'c', 100, 0, '{status}', 100, 0, 'r', :now{', ' if columns else ''}{values})")


def _sha(said: str) -> str:
    return hashlib.sha256(said.encode()).hexdigest()


ROWS = [
    *PAID_ITEM,
    # 'rcv_4': asked (reason logged in clear), declined; asked, declined (the column holds this reason); asked again
    _recovery("rcv_4", "open", waive_reason="再次申请", waiver_requested_by="rv1",
              waiver_requested_at="2020-06-01 04:00:00", waiver_confirm_note="仍有能力"),
    # 'rcv_5': a request the columns name and the log does not
    _recovery("rcv_5", "open", waive_reason="请求核销", waiver_requested_by="rv1", waiver_requested_at=NOW),
    # 'rcv_6': asked and confirmed, both by digest
    _recovery("rcv_6", "waived", waive_reason="无力偿还", waiver_requested_by="rv1", waiver_requested_at=NOW,
              waiver_confirm_note="同意", closed_by="rv2", closed_at="2020-06-01 06:00:00"),
    # 'rcv_7': asked, then withdrawn (result corrected) while the request waited; `waive_reason` the withdrawal's
    _recovery("rcv_7", "withdrawn", waive_reason="结果更正", waiver_requested_by="rv1", waiver_requested_at=NOW,
              closed_by="rv2", closed_at="2020-06-01 05:00:00"),
]
LOG = [
    logged(1, "recovery.waiver_requested", "rcv_4", "rv1", "2020-06-01 02:00:00", {"reason": "无力偿还"}),
    logged(2, "recovery.waiver_declined", "rcv_4", "rv2", "2020-06-01 02:30:00",
           {"requested_by": "rv1", "reason_sha256": _sha("有稳定收入")}),
    logged(3, "recovery.waiver_requested", "rcv_4", "rv1", "2020-06-01 03:00:00", {"reason_sha256": _sha("户主重病")}),
    logged(4, "recovery.waiver_declined", "rcv_4", "rv3", "2020-06-01 03:30:00",
           {"requested_by": "rv1", "reason_sha256": _sha("仍有能力")}),
    logged(5, "recovery.waiver_requested", "rcv_4", "rv1", "2020-06-01 04:00:00", {"reason_sha256": _sha("再次申请")}),
    logged(6, "recovery.waiver_requested", "rcv_6", "rv1", NOW, {"reason_sha256": _sha("无力偿还")}),
    logged(7, "recovery.waived", "rcv_6", "rv2", "2020-06-01 06:00:00",
           {"requested_by": "rv1", "confirmation_sha256": _sha("同意")}),
    logged(8, "recovery.waiver_requested", "rcv_7", "rv1", NOW, {"reason_sha256": _sha("等待中")}),
    logged(9, "recovery.withdrawn", "rcv_7", "rv2", "2020-06-01 05:00:00", {"reason_sha256": _sha("结果更正")}),
]
KNOWN = {
    "rcv_4": [("rv1", "02:00", "无力偿还", "declined", "rv2", "02:30", None),  # its reason overwritten: kept nowhere
              ("rv1", "03:00", None, "declined", "rv3", "03:30", "仍有能力"),  # moved from waiver_confirm_note
              ("rv1", "04:00", "再次申请", None, None, None, None)],
    "rcv_5": [("rv1", "02:00", "请求核销", None, None, None, None)],
    "rcv_6": [("rv1", "02:00", "无力偿还", "confirmed", "rv2", "06:00", "同意")],
    "rcv_7": [("rv1", "02:00", None, "withdrawn", "rv2", "05:00", None)],
}


def _hm(at: str | None) -> str | None:
    return at[11:16] if at else None


def _history(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Each recovery's requests as the page reads them: (asker, when, reason, outcome, by, when, note)."""
    with Session(db.engine) as session:
        return {r: [(w["asked_by"], _hm(w["asked_at"]), w["reason"], w["outcome"], w["ended_by"], _hm(w["ended_at"]),
                     w["note"]) for w in recovery_reading.get_recovery(session, r, REVIEWER)["waiver_requests"]]
                for r in KNOWN}


def _notes(db: Database) -> list[tuple[str, str | None]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT id, waiver_confirm_note FROM recovery ORDER BY id"))]


def test_the_upgrade_keeps_every_request_known_and_the_downgrade_keeps_what_would_be_lost(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgraded_with(db, BEFORE, ROWS, entries=LOG)
        assert _history(db) == KNOWN
        # the decline's reason left the confirming words' column; the confirmation stayed
        assert _notes(db) == [("rcv_4", None), ("rcv_5", None), ("rcv_6", "同意"), ("rcv_7", None)]
        refused(db, "INSERT INTO recovery_waiver_request (id, recovery_id, asked_by, outcome) VALUES "
                "('x1', 'rcv_5', 'rv1', 'lost')")  # an end of no known kind

        # a text the downgrade would leave nowhere in clear: refused, nothing dropped
        for statement, said in (
                ("UPDATE recovery_waiver_request SET reason = '只在记录中' WHERE recovery_id = 'rcv_5'", "申请的原因"),
                ("UPDATE recovery_waiver_request SET note = '另一意见' WHERE recovery_id = 'rcv_6'", "确认意见"),
                ("UPDATE recovery_waiver_request SET note = '较早的驳回' WHERE recovery_id = 'rcv_4' "
                 "AND ended_by = 'rv2'", "驳回原因")):
            with db.engine.begin() as conn:
                before = conn.execute(text("SELECT id, reason, note FROM recovery_waiver_request")).all()
                conn.execute(text(statement))
            with pytest.raises(RuntimeError, match=said):
                downgrade(db, BEFORE)
            assert current_revision(db) == head_revision()
            with db.engine.begin() as conn:
                for rid, reason, note in before:
                    conn.execute(text("UPDATE recovery_waiver_request SET reason = :reason, note = :note "
                                      "WHERE id = :id"), {"id": rid, "reason": reason, "note": note})

        # what is kept elsewhere in clear (the log's text, the columns) lets it go down: the last decline's reason
        # back in the column, as the code before read it; up again, the same
        downgrade(db, BEFORE)
        assert current_revision(db) == BEFORE
        assert "recovery_waiver_request" not in inspect(db.engine).get_table_names()
        assert _notes(db) == [("rcv_4", "仍有能力"), ("rcv_5", None), ("rcv_6", "同意"), ("rcv_7", None)]
        upgrade(db)
        assert current_revision(db) == head_revision()
        assert _history(db) == KNOWN
    finally:
        db.dispose()
