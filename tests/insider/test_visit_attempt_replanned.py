"""A visit attempt is dated by the rule a check's visit day meets (`late_entry.problems`), no stricter and no looser.
Every re-plan makes a new visit, so an attempt dated before its visit was scheduled was refused outright: the officers
who found nobody home on Monday, the visit re-planned on Tuesday before they recorded it, could not enter it truly.
Now it is taken with the reason for the late entry (补录原因), as a check would be. And on a case already overdue, an
attempt dated back at all needs that reason, as a check does (each day back would make the visit seem earlier)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from door_kit import upload_door_photo
from factories import COUNTY, make_case
from sqlalchemy import select

from verifier.cases.service import due_date
from verifier.store.tables import Case, User, Visit, VisitAttempt
from web.pagekit import FACTORY_PASSWORD

BODY = {"outcome": "not_home", "note": "邻居说全家外出务工"}


def _officers(ctx: Any, case_id: str) -> tuple[list[str], list[str]]:
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return [session.get(User, o).username for o in visit.officer_ids], list(visit.officer_ids)


def _headers(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": FACTORY_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _attempts(ctx: Any, case_id: str) -> list[VisitAttempt]:
    with ctx.db.read() as session:
        return list(session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id)))


def test_monday_attempt_recorded_after_tuesdays_replan(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    monday = ctx.clock.today()
    names, ids = _officers(ctx, case_id)
    ctx.clock.advance(days=1)  # Tuesday: the supervisor plans the visit anew, the same officers
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"),
                    json={"officers": names, "visit_on": ctx.clock.today().isoformat(), "vehicle": "车09",
                          "reason": "原定核查员改日再去"})
    assert r.status_code in (200, 201), r.text
    url = f"/api/cases/{case_id}/visit-attempts"
    headers = _headers(client, names[0])
    body = {**BODY, "officers": ids, "visited_on": monday.isoformat(),
            "evidence": [upload_door_photo(client, headers, case_id, monday)]}  # taken Monday, sent Tuesday
    r = client.post(url, headers=headers, json=body)  # before the new visit was planned: the reason is asked for
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "late_entry_reason" and "安排日期" in error["message"], r.text
    assert "走访日期" in error["message"] and "核查日期" not in error["message"]
    r = client.post(url, headers=headers, json={**body, "late_entry_reason": "周一走访后当天未能录入，周二已重新安排"})
    assert r.status_code in (200, 201), r.text
    [attempt] = _attempts(ctx, case_id)
    assert attempt.visited_on == monday and attempt.late_reason == "周一走访后当天未能录入，周二已重新安排"
    assert attempt.note == BODY["note"]  # the officers' note as they wrote it, the reason beside it


def test_overdue_case_attempt_dated_back_needs_the_reason(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    with ctx.db.read() as session:
        due = due_date(session, session.get(Case, case_id))
    ctx.clock.advance(days=(due - ctx.clock.today()).days + 2)  # the case is overdue today
    names, ids = _officers(ctx, case_id)
    url = f"/api/cases/{case_id}/visit-attempts"
    headers = _headers(client, names[0])
    yesterday = ctx.clock.today() - timedelta(days=1)
    body = {**BODY, "officers": ids, "visited_on": yesterday.isoformat(),
            "evidence": [upload_door_photo(client, headers, case_id, yesterday)]}
    r = client.post(url, headers=headers, json=body)
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "late_entry_reason" and "逾期" in error["message"] and due.isoformat() in error["message"]
    assert "核查日期" not in error["message"], error["message"]
    assert _attempts(ctx, case_id) == []
    r = client.post(url, headers=headers, json={**body, "late_entry_reason": "昨天走访，村里没有手机信号"})
    assert r.status_code in (200, 201), r.text
    assert len(_attempts(ctx, case_id)) == 1
