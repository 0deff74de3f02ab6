"""A visit that produced no check (nobody home) ends the visit and sends the case back to be scheduled: an officer
who never went could record one dated back to any day, even before the visit was scheduled, so the case seems visited
in time, with none of the questions a check dated back meets. Now a visit attempt is dated as a check is: never
after today, and dated back more than `late_entry.LATE_ENTRY_DAYS` days, before its visit was scheduled, or at all on
an overdue case, only with the reason for the late entry (补录原因), over the API and the officer's form (which keeps what was typed); the
reason is kept beside the attempt's note (`late_reason`), both shown, and its digest on the audit record."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from door_kit import door_files, upload_door_photo
from factories import make_case
from sqlalchemy import select

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.domain import late_entry
from verifier.store.tables import User, Visit, VisitAttempt
from web.pagekit import FACTORY_PASSWORD, Pages


def _officers(ctx: Any, case_id: str) -> tuple[list[str], list[str]]:
    """The usernames and ids of the officers of the case's active visit."""
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return [session.get(User, o).username for o in visit.officer_ids], list(visit.officer_ids)


def _attempts(ctx: Any, case_id: str) -> list[VisitAttempt]:
    with ctx.db.read() as session:
        return list(session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id)))


def test_attack_nobody_home_dated_before_the_visit_was_scheduled(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    ctx.clock.advance(days=10)  # the household referred well before its visit is scheduled
    case_id = make_case(ctx, stage="scheduled")
    scheduled = ctx.clock.today()
    ctx.clock.advance(days=late_entry.LATE_ENTRY_DAYS + 3)
    today = ctx.clock.today()
    names, ids = _officers(ctx, case_id)
    r = client.post("/api/auth/login", json={"username": names[0], "password": FACTORY_PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    url = f"/api/cases/{case_id}/visit-attempts"
    back = (scheduled + timedelta(days=1)).isoformat()
    before = scheduled - timedelta(days=1)
    # taken at the door on either day (`door_kit`): the day is what is in question here
    photos = [upload_door_photo(client, headers, case_id, day) for day in (back, before)]
    body = {"officers": ids, "outcome": "not_home", "note": "邻居说全家外出务工", "evidence": photos}

    # before the visit was scheduled: refused without the reason (with it, taken: test_visit_attempt_replanned.py)
    r = client.post(url, headers=headers, json={**body, "visited_on": (scheduled - timedelta(days=1)).isoformat()})
    assert r.status_code == 422, r.text
    assert any(e["field"] == "late_entry_reason" and "补录原因" in e["message"] for e in r.json()["errors"]), r.text
    # after today: refused
    r = client.post(url, headers=headers, json={**body, "visited_on": (today + timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "visited_on", r.text
    # dated back beyond the allowance without the reason: refused, the reason asked for
    r = client.post(url, headers=headers, json={**body, "visited_on": back})
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "late_entry_reason" and "补录原因" in error["message"], r.text
    assert "走访日期" in error["message"] and "核查日期" not in error["message"]
    assert _attempts(ctx, case_id) == []

    # the officer's form: the same refusal, what was typed kept
    pages = Pages(client, users)
    pages.login(names[0], FACTORY_PASSWORD)
    form = pages.get(f"/cases/{case_id}/visit-attempt")
    assert form.status_code == 200 and 'name="late_entry_reason"' in form.text and "补录原因" in form.text
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": back, "outcome": "not_home",
                                                       "note": "邻居说全家外出务工"})
    assert r.status_code == 422 and "须填写补录原因" in r.text, r.text[:3000]
    assert re.search(rf'name="visited_on"[^>]*value="{back}"', r.text) and "邻居说全家外出务工" in r.text
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": (scheduled - timedelta(days=1)).isoformat(),
                                                       "outcome": "not_home", "late_entry_reason": "无信号"})
    assert r.status_code == 422 and "须填写补录原因" in r.text and "无信号" in r.text
    assert _attempts(ctx, case_id) == []
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": back, "outcome": "not_home",
                                                       "note": "邻居说全家外出务工", "late_entry_reason": "村里没有手机信号"},
                   files=door_files(back))
    assert r.status_code == 303, r.text[:3000]
    [attempt] = _attempts(ctx, case_id)
    assert attempt.visited_on.isoformat() == back and attempt.late_reason == "村里没有手机信号"
    assert attempt.note == "邻居说全家外出务工"  # the officers' note as they wrote it, the reason beside it
    page = pages.get(f"/cases/{case_id}").text
    assert f'id="attempt-late-{attempt.id}">补录原因：村里没有手机信号<' in page and "邻居说全家外出务工" in page
    # the supervisor planning the next visit reads both, each on its line
    plan = pages.as_("planner", "insurer_supervisor").get("/schedule").text
    assert ">邻居说全家外出务工</span><br><span class=\"muted small\">补录原因：村里没有手机信号</span>" in plan
    with ctx.db.read() as session:
        payload = decode_entry(session.scalars(select(AuditEntry.entry).where(AuditEntry.subject == case_id)
                                               .order_by(AuditEntry.idx.desc())).first()).payload
    assert payload["attempt_id"] == attempt.id and payload["late_entry_reason_sha256"]
    assert payload["recorded_days_after"] == (today - scheduled).days - 1
