"""One field officer, alone at his desk, records a visit that came to nothing (nobody home, refused, moved away)
naming both assigned officers, and gives no photo: the case goes back to be scheduled, the month's figures count a
visit and two person-visits, and the supervisor reads 家中无人 where nobody went. A check has its photos (with their
camera times, shown to the supervisor who confirms it); a visit without a check had nothing. Now it is recorded only
with a photo taken at the household on the visit day (`checks.attempts.door_problems`, the rule a county re-check's
visit meets): its camera time on `visited_on` (Asia/Shanghai), received by the server no earlier than that day, and
not a photo of another household's case; 422 naming `evidence` in Chinese otherwise, nothing written, on the API and
on the officer's phone page. The photos are kept on the attempt (`visit_attempt.evidence`, migration 0069), in its
audit entry and on the case page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from door_kit import door_files, door_photo, upload_door_photo
from factories import make_case
from recheck_kit import dated_photo
from sqlalchemy import select

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.checks import attempts
from verifier.store.tables import Case, User, Visit, VisitAttempt
from web.pagekit import FACTORY_PASSWORD, Pages


def _team(ctx: Any, case_id: str) -> tuple[list[str], list[str]]:
    """The usernames and ids of the officers of the case's active visit."""
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return [session.get(User, o).username for o in visit.officer_ids], list(visit.officer_ids)


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": FACTORY_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _nothing_written(ctx: Any, case_id: str) -> None:
    with ctx.db.read() as session:
        assert list(session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id))) == []
        assert session.get(Case, case_id).status == "scheduled"
        assert session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == case_id,
                                                          AuditEntry.action == "case.visit_failed")) is None


def _evidence_error(r: Any) -> str:
    assert r.status_code == 422, r.text
    said = [e["message"] for e in r.json()["errors"] if e["field"] == "evidence"]
    assert said, r.text
    return str(said[0])


def test_attack_one_officer_records_nobody_home_without_going(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    names, ids = _team(ctx, case_id)
    one = _login(client, names[0])
    today = ctx.clock.today()
    url = f"/api/cases/{case_id}/visit-attempts"
    body = {"visited_on": today.isoformat(), "officers": ids, "outcome": "not_home", "note": "敲门无人应"}

    # no photo: refused whatever the outcome said (a refusal or a move would serve the same end), nothing written
    for outcome in attempts.OUTCOMES:
        said = _evidence_error(client.post(url, headers=one, json={**body, "outcome": outcome}))
        assert said == attempts.DOOR_PHOTO_REQUIRED and "门前" in said and "走访当天" in said
    _nothing_written(ctx, case_id)

    # a photo taken another day, one without a camera time, a hash never uploaded: none proves the visit
    old = upload_door_photo(client, one, case_id, today - timedelta(days=3))
    bare = upload_door_photo(client, one, case_id, today, content=dated_photo(None))
    r = client.post(url, headers=one, json={**body, "evidence": [old, bare]})
    assert _evidence_error(r) == attempts.DOOR_PHOTO_REQUIRED
    r = client.post(url, headers=one, json={**body, "evidence": ["0" * 64]})
    assert r.status_code == 422 and any(e["field"] == "evidence[0]" for e in r.json()["errors"]), r.text
    # one photo of the day for every household of the village: a photo of another household's case counts not
    neighbour = make_case(ctx, stage="scheduled", head_name="隔壁户")
    assert _team(ctx, neighbour)[1] == ids  # the same pair visits both
    shared = door_photo(today)
    upload_door_photo(client, one, neighbour, today, content=shared)
    theirs = upload_door_photo(client, one, case_id, today, content=shared)
    r = client.post(url, headers=one, json={**body, "evidence": [theirs]})
    assert _evidence_error(r) == attempts.DOOR_PHOTO_REQUIRED
    assert any(e["field"] == "evidence[0]" and e["message"] == attempts.ANOTHER_HOUSEHOLDS_PHOTO
               for e in r.json()["errors"]), r.text
    _nothing_written(ctx, case_id)

    # the photo taken at the door that day: recorded, the photos kept with it and on its audit entry
    door = upload_door_photo(client, one, case_id, today)
    r = client.post(url, headers=one, json={**body, "evidence": [old, door]})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        [attempt] = session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id))
        assert attempt.evidence == [old, door]
        entry = session.scalar(select(AuditEntry.entry).where(AuditEntry.subject == case_id,
                                                              AuditEntry.action == "case.visit_failed"))
    payload = decode_entry(entry).payload
    assert payload["evidence"] == [old, door] and payload["photos_on_the_day"] == 1
    users.add("sup", "insurer_supervisor", counties=("340223",))
    shown = client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()["visit_attempts"]
    assert [a["evidence"] for a in shown] == [[old, door]]


def test_attack_the_phone_page_says_what_is_missing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled", head_name="钱秋生")
    names, _ = _team(ctx, case_id)
    pages = Pages(client, users)
    pages.login(names[0], FACTORY_PASSWORD)
    today = ctx.clock.today().isoformat()
    fields = {"visited_on": today, "outcome": "not_home", "note": "邻居说全家外出务工"}
    r = pages.post(f"/cases/{case_id}/visit-attempt", fields)
    assert r.status_code == 422 and attempts.DOOR_PHOTO_REQUIRED in r.text, r.text[:3000]
    assert "邻居说全家外出务工" in r.text  # what was typed is kept
    _nothing_written(ctx, case_id)
    # a file that is no photo: refused by its name, in Chinese (the store's own words translated)
    r = pages.post(f"/cases/{case_id}/visit-attempt", fields, files=[("photos", ("门牌.txt", b"not a photo", "text/plain"))])
    said = re.search(r"照片“门牌\.txt”：([^<]*)", r.text)
    assert r.status_code == 422 and said is not None and re.search(r"[\u4e00-\u9fff]", said.group(1)), r.text[:3000]
    assert not re.search(r"[a-z]{3,}", said.group(1)), said.group(1)  # (the formats it names aside: JPEG, PNG)
    _nothing_written(ctx, case_id)
    form = pages.get(f"/cases/{case_id}/visit-attempt").text  # the form asks for the photo with the rest
    assert 'enctype="multipart/form-data"' in form and 'name="photos"' in form and "门前照片" in form
    # a photo of another day, sent with the form: told, and kept (not asked for again)
    r = pages.post(f"/cases/{case_id}/visit-attempt", fields,
                   files=door_files(ctx.clock.today() - timedelta(days=2)))
    assert r.status_code == 422 and attempts.DOOR_PHOTO_REQUIRED in r.text
    kept = re.search(r'name="evidence\.0" value="([0-9a-f]{64})"', r.text)
    assert kept is not None, r.text[:3000]
    _nothing_written(ctx, case_id)

    # sent again as the browser does (the kept photo as its hidden hash), with the door's photo of the day
    r = pages.post(f"/cases/{case_id}/visit-attempt", {**fields, "evidence.0": kept.group(1)},
                   files=door_files(today))
    assert r.status_code == 303, r.text[:3000]
    with ctx.db.read() as session:
        [attempt] = session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id))
    assert len(attempt.evidence) == 2 and attempt.evidence[0] == kept.group(1)  # the other day's photo kept too
    page = pages.as_("sup2", "insurer_supervisor").get(f"/cases/{case_id}").text
    assert f'id="attempt-photos-{attempt.id}"' in page
    assert f'/cases/{case_id}/evidence/{attempt.evidence[1]}' in page
    # beside each, when its camera says it was taken and when it was sent: the supervisor sees a photo of another day
    shown = re.search(rf'id="attempt-photos-{attempt.id}">(.*?)</span></li>', page, re.S)
    assert shown is not None, page[:3000]
    assert f"拍摄 {today} 10:15" in shown.group(1) and f"拍摄 {ctx.clock.today() - timedelta(days=2)} 10:15" in shown.group(1)
    assert shown.group(1).count("上传 ") == 2
    # the supervisor planning the next visit is pointed to them from the waiting list's row
    plan = pages.as_("sup2", "insurer_supervisor").get("/schedule").text
    assert (f'id="tried-photos-{case_id}" href="/cases/{case_id}#attempt-photos-{attempt.id}">门前照片 2 张'
            in plan), plan[:3000]


def test_attack_a_second_attempt_proved_by_the_first_ones_photo(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officers really went once and the household was out; the case is planned again the same day and one of
    them, at his desk, records a second failed visit on that day, naming the first one's photo: a visit and two
    person-visits more, the case sent back again. A photo already named by an attempt (or a check) of the case proves
    no other visit."""
    case_id = make_case(ctx, stage="scheduled")
    names, ids = _team(ctx, case_id)
    one = _login(client, names[0])
    today = ctx.clock.today()
    url = f"/api/cases/{case_id}/visit-attempts"
    body = {"visited_on": today.isoformat(), "officers": ids, "outcome": "not_home", "note": "敲门无人应"}
    door = upload_door_photo(client, one, case_id, today)
    assert client.post(url, headers=one, json={**body, "evidence": [door]}).status_code == 201
    users.add("sup", "insurer_supervisor", counties=("340223",))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"),
                    json={"officers": names, "visit_on": today.isoformat(), "vehicle": "车09"})
    assert r.status_code in (200, 201), r.text

    r = client.post(url, headers=one, json={**body, "evidence": [door]})
    assert _evidence_error(r) == attempts.DOOR_PHOTO_REQUIRED
    assert any(e["field"] == "evidence[0]" and e["message"] == attempts.USED_BEFORE for e in r.json()["errors"]), r.text
    with ctx.db.read() as session:
        assert len(list(session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id)))) == 1
        assert session.get(Case, case_id).status == "scheduled"
    # a photo of the second visit itself: recorded
    again = upload_door_photo(client, one, case_id, today, content=door_photo(today) + b"\0")
    r = client.post(url, headers=one, json={**body, "evidence": [again]})
    assert r.status_code == 201, r.text
