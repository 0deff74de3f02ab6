"""A town clerk may record a household's village review and post its notice alone (a town with one clerk must work).
What that clerk could do alone, before: invent the meeting and say the notice hung on the wall, so that its period
ran out with nobody in the village having read it, and the case went on to payment. Now the notice's posting is
confirmed by a second person (who neither posted it nor recorded a village review of its households) with a photo of
it taken within its period, and until then no batch pays its cases; a meeting decides only with its quorum by name
and the scan of its signed minutes (notices/posting.py, domain/village_meeting.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from factories import COUNTY, make_case
from insider_kit import reviewed_and_posted
from recheck_kit import dated_photo
from sqlalchemy import func, select
from village_kit import wall_photo

from verifier.accounts.auth import principal_of
from verifier.audit.models import AuditEntry
from verifier.payments import batch_list
from verifier.notices.models import Notice, VillageFile
from verifier.store.tables import Case, Check, Determination, User, Visit


def _written(ctx: Any) -> tuple[int, ...]:
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action.not_like("user.%"))),
                session.scalar(select(func.count()).select_from(VillageFile)),
                session.scalar(select(func.count()).select_from(Notice).where(Notice.posting_confirmed_by.is_not(None))))


def _photo(client: Any, headers: dict[str, str], notice_id: str, content: bytes) -> Any:
    return client.post(f"/api/notices/{notice_id}/photos", headers=headers,
                       files={"file": ("公示张贴.jpg", content, "image/jpeg")})


def _posted_and_closed(ctx: Any, client: Any, users: Any) -> tuple[str, str]:
    """One clerk records the review (the documented body) and posts the notice; its period runs; the clerk closes it
    (documented: closing is not refused). Returns (case id, notice id)."""
    case_id = make_case(ctx, village="东村")
    notice = reviewed_and_posted(client, users.headers("clerk"), case_id, ctx.clock.today().isoformat())
    assert notice["posting"] == {"needs_confirmation": True, "awaiting_second_person": True, "confirmed_by": None,
                                 "confirmed_at": None, "note": None, "without_dated_photo": False, "photos": []}
    return case_id, notice["id"]


def test_attack_one_clerk_attests_the_wall_alone_and_nothing_is_paid(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    clerk, claims = users.headers("clerk"), users.headers("claims")
    case_id, notice_id = _posted_and_closed(ctx, client, users)
    posted_on = ctx.clock.today()

    # The clerk photographs "the wall" (any photo of the day will do) and confirms the posting: refused.
    r = _photo(client, clerk, notice_id, wall_photo(posted_on))
    assert r.status_code == 201 and r.json()["in_period"] is True, r.text
    before = _written(ctx)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=clerk, json={})
    assert r.status_code == 403 and "张贴须由另一人确认" in r.text, r.text
    assert _written(ctx) == before

    # The notice runs out and is closed (INTERFACE.md: 409 only before ends_on or with an objection open)...
    ctx.clock.advance(days=7)
    r = client.post(f"/api/notices/{notice_id}/close", headers=clerk)
    assert r.status_code == 200 and r.json()["posting"]["awaiting_second_person"] is True, r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "ready_to_pay"
    # ...but no batch pays the case: neither "every case ready" nor the case chosen by hand.
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 422 and "没有待支付的案件" in r.text, r.text
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 422 and "公示张贴待第二人确认" in r.text, r.text
    with ctx.db.read() as session:  # the claims page says why, and where to look
        who = principal_of(session.get(User, users.ids["claims"]))
        assert batch_list.waiting_for_the_wall(session, who) == 1 and batch_list.ready_by_county(session, who) == []


def test_a_clerk_who_recorded_the_review_does_not_confirm_the_notice_another_posted(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Two clerks sharing the work do not make two witnesses: the one who recorded the village review (the meeting's
    result) does not confirm the wall either."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    case_id = make_case(ctx, village="东村")
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk2"),
                    json={"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=users.headers("clerk"),
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    notice_id = r.json()["id"]
    assert _photo(client, users.headers("clerk2"), notice_id, wall_photo(ctx.clock.today())).status_code == 201
    before = _written(ctx)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("clerk2"), json={})
    assert r.status_code == 403 and "录入了该公示中农户的村级评议" in r.text, r.text
    assert _written(ctx) == before


def test_attack_a_bare_review_skips_the_meeting_and_only_the_county_reviewer_confirms_its_wall(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The documented `POST /api/cases/{id}/village-review` still records a household's review on its own: no
    attendance, no signed minutes, one clerk's word for the village's meeting. The notice listing it is then
    confirmed on the wall by the county reviewer only, who says how they satisfied themselves of that review; the
    insurer's officer at the village, enough for a notice of meetings with signed minutes, is refused naming the
    household. A photo from before the notice went up proves nothing."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("officer", "field_officer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    officer, reviewer = users.headers("officer"), users.headers("reviewer")
    case_id, notice_id = _posted_and_closed(ctx, client, users)
    posted_on = ctx.clock.today()

    r = _photo(client, officer, notice_id, wall_photo(posted_on - timedelta(days=3)))  # before it went up
    assert r.status_code == 201 and r.json()["in_period"] is False, r.text
    r = _photo(client, officer, notice_id, dated_photo(None))  # no camera time at all
    assert r.status_code == 201 and r.json()["taken_on"] is None, r.text
    before = _written(ctx)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer, json={"note": "查阅了记录"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos", r.text
    assert "须至少有一张在公示期内" in r.text
    assert _written(ctx) == before
    # A photo already offered for another notice, or a PDF, is refused at upload.
    r = client.post(f"/api/notices/{notice_id}/photos", headers=officer,
                    files={"file": ("scan.pdf", b"%PDF-1.4\n% not a photo\n%%EOF\n", "application/pdf")})
    assert r.status_code == 422, r.text

    ctx.clock.advance(days=2)
    r = _photo(client, officer, notice_id, wall_photo(posted_on + timedelta(days=2)))
    assert r.status_code == 201 and r.json()["in_period"] is True, r.text
    with ctx.db.read() as session:
        head = session.get(Case, case_id).household.head_name
    before = _written(ctx)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=officer, json={"note": "入户时看到"})
    assert r.status_code == 403 and f"{head}户" in r.text and "县级复核员" in r.text, r.text
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer, json={})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note", r.text
    assert _written(ctx) == before
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer,
                    json={"note": "到村查阅了村委会的纸质评议记录和签到表"})
    assert r.status_code == 200, r.text
    got = r.json()["posting"]
    assert got["awaiting_second_person"] is False and got["confirmed_by"] == users.ids["reviewer"]
    assert len(got["photos"]) == 3 and [p["in_period"] for p in got["photos"]] == [False, False, True]
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.posting_confirm")).one()
        assert entry.actor == users.ids["reviewer"] and entry.subject == notice_id
        payload = json.loads(entry.entry)["payload"]
        assert payload["photos_in_period"] == [got["photos"][2]["sha256"]] and payload["bare_reviews"] == [case_id]
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer, json={})
    assert r.status_code == 409, r.text  # once

    ctx.clock.advance(days=5)
    assert client.post(f"/api/notices/{notice_id}/close", headers=users.headers("clerk")).status_code == 200
    r = client.post("/api/payment-batches", headers=users.headers("claims"), json={"county_code": COUNTY})
    assert r.status_code == 201 and r.json()["item_count"] == 1, r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "in_batch"


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_attack_the_insurer_who_decided_the_case_vouches_for_its_wall(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The insurer's officers who went on a household's home check, and its supervisor who confirmed the
    determination, found the case eligible: their saying its notice hung on the wall is the deciding side vouching
    for itself. Refused, nothing written; an officer of the insurer who decided none of the notice confirms."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    case_id, notice_id = _posted_and_closed(ctx, client, users)
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
        confirmer = session.scalars(select(Determination.confirmed_by).where(Determination.case_id == case_id)).one()
        insiders = {session.get(User, uid).username for uid in [*check.officer_ids, confirmer]}
    assert len(insiders) == 3  # two officers at the door, the supervisor who confirmed the determination
    for username in sorted(insiders):
        headers = _login(client, username)
        r = _photo(client, headers, notice_id, wall_photo(ctx.clock.today()))
        assert r.status_code == 201, r.text  # a photo of the wall is welcome from anyone who was there
        before = _written(ctx)
        r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=headers,
                        json={"note": "到村看到"})
        assert r.status_code == 403 and "入户核查或核定" in r.text, r.text
        assert _written(ctx) == before
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("reviewer"),
                    json={"note": "到村看到，查阅了评议记录"})
    assert r.status_code == 200 and r.json()["posting"]["confirmed_by"] == users.ids["reviewer"], r.text


def test_attack_a_file_of_another_notice_or_meeting_through_this_ones_path(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A wall photo or a meeting's minutes is served under its own notice or meeting only: the hash of another
    village's file under this notice's path (or a meeting's path) is 404, on the API and the pages."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("officer", "field_officer", counties=(COUNTY,))
    officer = users.headers("officer")
    _, first = _posted_and_closed(ctx, client, users)
    case_id = make_case(ctx, village="西村")
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    assert client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                       json={"held_on": today, "result": "pass", "note": ""}).status_code == 201
    second = client.post("/api/notices", headers=clerk, json={"county_code": COUNTY, "town": "城关镇",
                                                              "village": "西村", "posted_on": today}).json()["id"]
    sha = _photo(client, officer, second, wall_photo(ctx.clock.today())).json()["sha256"]
    assert client.get(f"/api/notices/{second}/photos/{sha}", headers=officer).status_code == 200
    assert client.get(f"/api/notices/{first}/photos/{sha}", headers=officer).status_code == 404
    with ctx.db.read() as session:
        photo = session.scalars(select(VillageFile).where(VillageFile.sha256 == sha)).one()
        assert photo.notice_id == second



def test_attack_the_clerk_claims_a_wall_nobody_photographed_in_time(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Nobody photographed the notice within its period (or it was open at the upgrade and its period had ended):
    without a way out its cases would be held from payment for good. The way out still takes a second person: the
    county reviewer, saying how the posting was verified; the clerk who posted it, or the insurer's officer, cannot
    take it, and the confirmation is marked as made without a dated photo (audit, API, page)."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("officer", "field_officer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    reviewer = users.headers("reviewer")
    case_id, notice_id = _posted_and_closed(ctx, client, users)
    ctx.clock.advance(days=9)
    assert client.post(f"/api/notices/{notice_id}/close", headers=users.headers("clerk")).status_code == 200
    before = _written(ctx)
    for who in ("clerk", "officer"):
        r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers(who),
                        json={"note": "村委会说已张贴", "without_dated_photo": True})
        assert r.status_code == 403, r.text
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer, json={"note": "村委会说已张贴"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos", r.text  # not without saying so
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer,
                    json={"note": " ", "without_dated_photo": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note", r.text
    assert _written(ctx) == before
    r = client.post("/api/payment-batches", headers=users.headers("claims"), json={"county_code": COUNTY})
    assert r.status_code != 201 or r.json()["item_count"] == 0, r.text
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=reviewer,
                    json={"note": "村委会出具了书面说明；到村查阅了评议记录，看到公示仍在公开栏", "without_dated_photo": True})
    assert r.status_code == 200, r.text
    got = r.json()["posting"]
    assert got["confirmed_by"] == users.ids["reviewer"] and got["without_dated_photo"] is True
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.posting_confirm")).one()
        payload = json.loads(entry.entry)["payload"]
        assert payload["without_dated_photo"] is True and payload["photos_in_period"] == []
    r = client.post("/api/payment-batches", headers=users.headers("claims"), json={"county_code": COUNTY})
    assert r.status_code == 201 and r.json()["item_count"] == 1, r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "in_batch"


def test_attack_the_supervisor_who_chose_the_officers_or_sent_the_check_back_vouches_for_its_wall(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The insurer's supervisor who scheduled the household's visit (chose the officers who found it eligible), and
    the one who sent a check of it back for another visit, had their hand in the decision too: refused, nothing
    written. (The rows are set here as scheduling and sending back leave them: `Visit.planned_by`,
    `Check.sent_back_by`.)"""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("scheduler", "insurer_supervisor", counties=(COUNTY,))
    users.add("sender", "insurer_supervisor", counties=(COUNTY,))
    users.add("outsider", "insurer_supervisor", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    case_id, notice_id = _posted_and_closed(ctx, client, users)
    with ctx.db.begin() as session:
        visits = list(session.scalars(select(Visit).where(Visit.case_id == case_id)))
        assert visits, "the case's visit was scheduled"
        for visit in visits:
            visit.planned_by = users.ids["scheduler"]
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
        check.sent_back_by = users.ids["sender"]
    outsider = users.headers("outsider")
    assert _photo(client, outsider, notice_id, wall_photo(ctx.clock.today())).status_code == 201
    for who in ("scheduler", "sender"):
        before = _written(ctx)
        r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers(who),
                        json={"note": "到村看到"})
        assert r.status_code == 403 and "入户核查或核定" in r.text, r.text
        assert _written(ctx) == before
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("reviewer"),
                    json={"note": "到村看到，查阅了评议记录"})
    assert r.status_code == 200, r.text
