"""A visit dated back: the officers type the visit day, so a field officer could date a late visit back to any day
since the referral and understate its lateness (`days_late`) against the contract's deadline. A real visit recorded
late (no signal in the village) must still be taken, so a check recorded more than 3 days after its visit day is
taken only with a reason for the late entry (补录原因); the gap and the reason are in its audit entry and before the
supervisor who confirms the determination."""

from __future__ import annotations

import json
from datetime import timedelta

from factories import make_case
from insider_kit import COUNTY, check_body, head_on_record, schedule
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Check

REASON = "村里没有手机信号，纸质记录回乡镇后补录"


def test_attack_an_officer_dates_a_late_visit_back(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today = ctx.clock.today()
    referred = today - timedelta(days=30)  # due by referred + 10 days: any visit from today - 20 on is late
    case_id = make_case(ctx, stage="screened", referred_on=referred)
    officers, sup, off = [users.ids["off1"], users.ids["off2"]], users.headers("sup"), users.headers("off1")
    schedule(client, sup, case_id, officers, today.isoformat())
    head = head_on_record(ctx, case_id)

    # The visit made today, dated back to five days after the referral: on time on paper, no reason given.
    dated_back = (referred + timedelta(days=5)).isoformat()
    body = check_body(*head, officers, dated_back)
    for reason in (None, "", "   ", "补录"):  # none, blank, or too short to say anything
        sent = body if reason is None else {**body, "late_entry_reason": reason}
        r = client.post(f"/api/cases/{case_id}/check", headers=off, json=sent)
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["late_entry_reason"], errors
        assert "补录原因" in errors[0]["message"] and "25 天" in errors[0]["message"], errors
    with ctx.db.read() as session:  # nothing half-written
        assert session.get(Case, case_id).status == "scheduled"
        assert session.scalar(select(Check.id).where(Check.case_id == case_id)) is None

    # With a reason it is taken: still "on time" by its visit day, but the gap is kept and shown.
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json={**body, "late_entry_reason": f"  {REASON} "})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        check = session.scalar(select(Check).where(Check.case_id == case_id))
        assert (check.days_late, check.recorded_days_after, check.late_entry_reason) == (0, 25, REASON)
        entries = session.scalars(select(AuditEntry).where(AuditEntry.subject == case_id,
                                                           AuditEntry.action == "case.record_check")).all()
        assert len(entries) == 1
        payload = json.loads(entries[0].entry)["payload"]
        assert (payload["visited_on"], payload["days_late"]) == (dated_back, 0)
        assert (payload["recorded_days_after"], payload["late_entry_reason_sha256"]) == (25, text_digest(REASON))
        assert "late_entry_reason" not in payload  # the check keeps the text; the log its SHA-256

    shown = client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]
    assert (shown["recorded_days_after"], shown["late_entry"], shown["late_entry_reason"]) == (25, True, REASON)

    # The supervisor sees the gap and the reason where the determination is confirmed, and on the case page.
    pages = Pages(client, users)
    pages.login("sup2")
    page = pages.get(f"/cases/{case_id}/determination")
    assert page.status_code == 200, page.text
    assert 'id="late-entry"' in page.text and "晚了 25 天" in page.text and REASON in page.text
    case_page = pages.get(f"/cases/{case_id}")
    assert 'id="late-entry-1"' in case_page.text and "第 25 天才录入" in case_page.text and REASON in case_page.text


def test_a_visit_recorded_within_three_days_needs_no_reason(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    day = ctx.clock.today()
    case_id = make_case(ctx, stage="screened", referred_on=day - timedelta(days=5))  # due in 5 days
    officers, sup = [users.ids["off1"], users.ids["off2"]], users.headers("sup")
    schedule(client, sup, case_id, officers, day.isoformat())
    ctx.clock.advance(days=3)  # visited on the day scheduled, recorded 3 days later (still before the due date)
    visited = day.isoformat()
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("off1"),
                    json=check_body(*head_on_record(ctx, case_id), officers, visited))
    assert r.status_code == 201, r.text
    shown = client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]
    assert (shown["recorded_days_after"], shown["late_entry"], shown["late_entry_reason"]) == (3, False, None)
    page = Pages(client, users)
    page.login("sup")
    assert 'id="late-entry' not in page.get(f"/cases/{case_id}").text


def _checks(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return len(session.scalars(select(Check)).all())


def test_attack_an_officer_dates_an_overdue_visit_back_within_three_days(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Within the 3 days no reason used to be asked: on a case already overdue, each day set back took a day off its
    lateness, unexplained. Now a day set back on an overdue case is explained like a late entry."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    day = ctx.clock.today()
    case_id = make_case(ctx, stage="screened", referred_on=day - timedelta(days=12))  # due 2 days ago
    officers, sup, off = [users.ids["off1"], users.ids["off2"]], users.headers("sup"), users.headers("off1")
    schedule(client, sup, case_id, officers, day.isoformat())
    ctx.clock.advance(days=2)  # visited 2 days after scheduling (4 days late), recorded that day
    body = check_body(*head_on_record(ctx, case_id), officers, day.isoformat())  # dated back to the schedule's day
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json=body)
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "late_entry_reason" and "今天录入已逾期" in error["message"], error
    assert _checks(ctx) == 0
    # The day it was made: taken without a reason, 4 days late.
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json={**body, "visited_on": today})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
    assert (check.days_late, check.late_entry_reason) == (4, None)


def test_attack_a_visit_dated_before_it_was_scheduled(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officers were sent today, and the check says they went yesterday: explained, or refused."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today = ctx.clock.today()
    case_id = make_case(ctx, stage="screened", referred_on=today - timedelta(days=5))  # on time either way
    officers, sup, off = [users.ids["off1"], users.ids["off2"]], users.headers("sup"), users.headers("off1")
    schedule(client, sup, case_id, officers, today.isoformat())
    body = check_body(*head_on_record(ctx, case_id), officers, (today - timedelta(days=1)).isoformat())
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json=body)
    assert r.status_code == 422, r.text
    assert "早于本次走访的安排日期" in r.json()["errors"][0]["message"] and _checks(ctx) == 0
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json={**body, "late_entry_reason": REASON})
    assert r.status_code == 201, r.text
    shown = client.get(f"/api/cases/{case_id}", headers=sup).json()["checks"][0]
    assert shown["late_entry_reason"] == REASON
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.subject == case_id,
                                                         AuditEntry.action == "case.record_check")).one()
    assert json.loads(entry.entry)["payload"]["late_entry_reason_sha256"] == text_digest(REASON)
