"""Migration 0042 (a meeting's attendance and signed minutes; a notice's posting confirmed by a second person):
meetings recorded before keep NULL attendance and scan (their page says so); notices closed before need no
confirmation (`posting_needs_confirmation` false), so the cases they cleared are not held from payment; notices
still open need it (still on the wall, a second person can still go), so their cases wait for it once cleared; one
whose period had already ended can have no photo of the period, so the county reviewer confirms it on a note."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from migration_cache import at_revision
from migration_rows import NOW, insert_case
from sqlalchemy import select, text

from verifier.accounts.auth import Principal
from verifier.audit.models import AuditEntry
from verifier.clock import FixedClock
from verifier.domain.errors import ValidationFailed
from verifier.notices.posting import UNCONFIRMED_CASES, confirm_posting, posting_state
from verifier.store.db import Database
from verifier.store.migrate import current_revision, head_revision, upgrade


def test_meetings_and_notices_recorded_before_upgrade_and_hold_nothing(database_url: str) -> None:
    db = Database(database_url)
    try:
        at_revision(db, "0011")
        with db.engine.begin() as conn:
            insert_case(conn, county="340223", status="ready_to_pay")
        upgrade(db, "0041")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO village_meeting (id, county_code, town, village, held_on, venue, attendees, minutes, "
                "households, households_key, recorded_by, recorded_at) VALUES ('mtg_1', '340223', 't', 'v', "
                "'2020-05-20', '村委会', '李明', '评议', 1, :key, 'clerk', :now)"), {"now": NOW, "key": "0" * 64})
            conn.execute(text(
                "INSERT INTO notice (id, county_code, town, village, scope, contract_id, contract_hash, posted_on, "
                "ends_on, status, title, issuing_body, county_name, objection_place, objection_phone, mask_names, "
                "households, persons, total, document, document_sha256, posted_by, posted_at, closed_on, closed_by, "
                "closed_at) VALUES ('ntc_1', '340223', 't', 'v', 'village', 'c', 'h', '2020-05-21', '2020-05-28', "
                "'closed', '公示', '镇政府', '县', '镇政府', '12317', false, 1, 1, 100, :doc, :sha, 'clerk', :now, "
                "'2020-05-28', 'clerk', :now)"), {"now": NOW, "doc": b"PK", "sha": "1" * 64})
            conn.execute(text(
                "INSERT INTO village_review (id, case_id, held_on, result, recorded_by, recorded_at) VALUES "
                "('rev_1', 'case_1', '2020-05-20', 'pass', 'clerk', :now)"), {"now": NOW})
            conn.execute(text(
                "INSERT INTO home_check (id, case_id, seq, visited_on, officer_ids, members, member_count, wages, "
                "business_net, property_net, transfer_net, productive_costs, medical_self_paid, schooling, "
                "disaster_loss, stable_income, cross_checks, evidence, recorded_by, recorded_at) VALUES ('chk_1', "
                "'case_1', 1, '2020-05-10', '[]', '[]', 1, 0, 0, 0, 0, 0, 0, 0, 0, false, '[]', '[]', 'u', :now)"),
                {"now": NOW})
            conn.execute(text(
                "INSERT INTO determination (id, case_id, check_id, eligible, rule, reason, per_capita_income, basis, "
                "already_paid, relief, breakdown, capped, contract_hash, confirmed_by, confirmed_at) VALUES ('det_1', "
                "'case_1', 'chk_1', true, 'income', '', 0, 0, 0, 100, '[]', false, 'h', 'sup', :now)"),
                {"now": NOW})
            conn.execute(text(
                "INSERT INTO notice_item (id, notice_id, case_id, seq, village, head_name, household_size, cause, "
                "relief_amount, determination_id, review_id, status) VALUES ('ni_1', 'ntc_1', 'case_1', 1, 'v', 'h', "
                "1, 'illness', 100, 'det_1', 'rev_1', 'cleared')"))
            conn.execute(text(  # a notice still in its period at the upgrade, the household listed on it
                "INSERT INTO notice (id, county_code, town, village, scope, contract_id, contract_hash, posted_on, "
                "ends_on, status, title, issuing_body, county_name, objection_place, objection_phone, mask_names, "
                "households, persons, total, document, document_sha256, posted_by, posted_at) VALUES ('ntc_2', "
                "'340223', 't', 'v', 'village', 'c', 'h', '2020-06-01', '2020-06-08', 'open', '公示', '镇政府', '县', "
                "'镇政府', '12317', false, 1, 1, 100, :doc, :sha, 'clerk', :now)"),
                {"now": NOW, "doc": b"PK", "sha": "2" * 64})
            conn.execute(text(
                "INSERT INTO notice_item (id, notice_id, case_id, seq, village, head_name, household_size, cause, "
                "relief_amount, determination_id, review_id, status) VALUES ('ni_2', 'ntc_2', 'case_1', 1, 'v', 'h', "
                "1, 'illness', 100, 'det_1', 'rev_1', 'listed')"))
        upgrade(db)
        assert current_revision(db) == head_revision()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT members_expected, attendance, minutes_scan_sha256 FROM village_meeting")
                                ).one() == (None, None, None)
            rows = conn.execute(text("SELECT id, posting_needs_confirmation, posting_confirmed_by FROM notice "
                                     "ORDER BY id")).all()
            assert [(r[0], bool(r[1]), r[2]) for r in rows] == [("ntc_1", False, None), ("ntc_2", True, None)]
            assert conn.execute(select(UNCONFIRMED_CASES.subquery())).all() == []  # the paid-for case is not held
            assert conn.execute(text("SELECT count(*) FROM village_file")).scalar() == 0
        upgrade(db)  # and again: nothing to do
        with db.engine.begin() as conn:  # the open notice closes: its cleared case waits for the second person
            conn.execute(text("UPDATE notice_item SET status = 'cleared' WHERE id = 'ni_2'"))
            conn.execute(text("UPDATE notice SET status = 'closed', closed_on = '2020-06-08' WHERE id = 'ntc_2'"))
            assert [r[0] for r in conn.execute(select(UNCONFIRMED_CASES.subquery()))] == ["case_1"]
        # Its period is long over: no photo of it can be taken now. The county reviewer confirms it on a note.
        clock = FixedClock(datetime(2020, 7, 1, 2, 0, tzinfo=timezone.utc))
        reviewer = Principal(id="rev", username="rev", display_name="rev", roles=("county_reviewer",),
                             counties=("340223",))
        with pytest.raises(ValidationFailed) as info, db.begin() as session:
            confirm_posting(session, "ntc_2", note="", principal=reviewer, clock=clock, without_dated_photo=True)
        assert info.value.errors[0].field == "note"
        with db.begin() as session:
            notice = confirm_posting(session, "ntc_2", note="村委会出具书面说明，并到村看到公示仍在公开栏",
                                     principal=reviewer, clock=clock, without_dated_photo=True)
            assert posting_state(session, notice)["without_dated_photo"] is True
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.posting_confirm")).one()
            assert json.loads(entry.entry)["payload"]["without_dated_photo"] is True
        with db.engine.connect() as conn:
            assert conn.execute(select(UNCONFIRMED_CASES.subquery())).all() == []
    finally:
        db.dispose()
