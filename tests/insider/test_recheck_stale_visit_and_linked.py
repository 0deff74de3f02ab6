"""Two ways round "the officers of the first check do not make the check again" that remained:

- a case whose objection was upheld before its visit was ended on upholding (and a case under review, whose visit was
  never ended) still has its old visit, active, held by the officer whose figures are in doubt: he could not record
  the check any more, but the case was on his list and he could add photos and scans to it, which the re-check's
  officers then find among the case's evidence;
- after a check sent back (退回) or a review request (复核申请), only the officers themselves were barred, not their
  second accounts linked by a password (they were after an upheld objection).

Now one rule (`domain.objection_recheck`, `cases.service.recheck_barred`) says who makes no check of the case again,
whichever way it came back: the officers of the checks in doubt and the accounts linked to theirs by a password. A
visit one of them holds is no work on anyone's list; evidence sent to it is refused (403, kept on 回避拦截记录 under
`evidence`; his partner on it is told it ended), a visit without a check and the check itself are refused (422
naming the officer); the scheduling by hand and the planner leave the second account out, as after an objection."""

from __future__ import annotations

from typing import Any

from factories import make_case, staff
from insider_kit import (COUNTY, as_the_old_code_left_it, check_body, dated_photo, entries_but_refusals,
                         head_on_record, objection_upheld, refusals_of)
from sqlalchemy import func, select

from verifier.accounts.auth import principal_of
from verifier.cases import fieldlist
from verifier.cases.route_sheet import route_sheets
from verifier.cases.service import officer_home
from verifier.domain.objection_recheck import (LINKED_REVIEWED, LINKED_SENT_BACK, LINKED_STALE, OBJECTED_OFFICER,
                                               OWN_STALE, REVIEWED_OFFICER, VISIT_ENDED)
from verifier.store.tables import Case, Evidence, User, Visit


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _evidence(ctx: Any, case_id: str) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Evidence).where(Evidence.case_id == case_id)))


def _photo(client: Any, headers: dict[str, str], case_id: str) -> Any:
    return client.post(f"/api/cases/{case_id}/evidence", headers=headers,
                       files={"file": ("door.jpg", dated_photo(None), "image/jpeg")})


def _listed(ctx: Any, user_id: str, case_id: str) -> tuple[bool, int]:
    """Whether the officer's visits list (我的走访: as work, not apart as 已停用（须改派）) or his route sheet of the
    visit's day shows the case, and how many visits his home page counts."""
    with ctx.db.read() as session:
        user = principal_of(session.get(User, user_id))
        cards = fieldlist.visit_cards(session, user, ctx.vault, ctx.clock.today())
        home = officer_home(session, user, ctx.clock.today())
        visit_on = session.scalar(select(Visit.visit_on).where(Visit.case_id == case_id, Visit.active.is_(True)))
        sheet = route_sheets(session, user, ctx.vault, day=visit_on, officer_id=None) if visit_on else []
    on_sheet = any(stop.case_id == case_id for page in sheet for stop in page.stops)
    return any(c.case.id == case_id and c.stopped is None for c in cards) or on_sheet, home.today + home.overdue + home.later


def _attempt(client: Any, headers: dict[str, str], case_id: str, officers: list[str]) -> Any:
    return client.post(f"/api/cases/{case_id}/visit-attempts", headers=headers, json={
        "visited_on": "", "officers": officers, "outcome": "not_home", "note": ""})


def _linked_to(ctx: Any, users: Any, officer_id: str, name: str = "pal") -> str:
    """A field officer's second account: he set its password."""
    pal = users.add(name, "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:
        session.get(User, pal).password_set_by = officer_id
    return str(pal)


def test_attack_the_officer_objected_to_adds_photos_to_his_old_visit(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = objection_upheld(ctx, client, users)
    as_the_old_code_left_it(ctx, case_id)  # scheduled, team 0's visit still active
    team0, team1 = staff(ctx, COUNTY, 0), staff(ctx, COUNTY, 1)
    own = _login(client, team0.officer1.username)
    before, written = _evidence(ctx, case_id), entries_but_refusals(ctx)

    # Not on his list, nor his partner's: no work to do.
    for officer in (team0.officer1, team0.officer2):
        assert _listed(ctx, officer.id, case_id) == (False, 0)
    # A photo (by the API) from either: refused, said in Chinese, nothing written, on record.
    r = _photo(client, own, case_id)
    assert r.status_code == 403 and r.json()["detail"] == OWN_STALE, r.text
    r = _photo(client, _login(client, team0.officer2.username), case_id)
    assert r.status_code == 403 and r.json()["detail"] == OWN_STALE, r.text
    assert (_evidence(ctx, case_id), entries_but_refusals(ctx)) == (before, written)
    kept = refusals_of(ctx, team0.officer1.id)
    assert [(k["step"], k["case_id"], k["why"]) for k in kept] == [("evidence", case_id, "objection")]
    # A visit that came to nothing, recorded on it: refused as the check is.
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=own, json={
        "visited_on": today, "officers": [team0.officer1.id, team0.officer2.id], "outcome": "not_home"})
    assert r.status_code == 422, r.text
    assert {e["message"] for e in r.json()["errors"]} == {OBJECTED_OFFICER}
    with ctx.db.read() as session:
        assert session.scalar(select(Case.status).where(Case.id == case_id)) == "scheduled"

    # Other officers, scheduled anew, add theirs and record the re-check; team 0's visit is gone.
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [team1.officer1.id, team1.officer2.id], "visit_on": today, "vehicle": "车01",
        "reason": "异议成立，换人重新核查"})
    assert r.status_code == 200, r.text
    fresh = _login(client, team1.officer1.username)
    assert _listed(ctx, team1.officer1.id, case_id)[0]
    r = _photo(client, fresh, case_id)
    assert r.status_code == 201, r.text
    assert _photo(client, own, case_id).status_code == 403  # not assigned now
    head, head_id = head_on_record(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=fresh,
                    json=check_body(head, head_id, [team1.officer1.id, team1.officer2.id], today, wages="90000.00"))
    assert r.status_code == 201, r.text


def test_attack_a_second_account_on_an_old_visit_adds_photos(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = objection_upheld(ctx, client, users)
    team0 = staff(ctx, COUNTY, 0)
    pal = _linked_to(ctx, users, team0.officer1.id)
    other1 = users.add("other1", "field_officer", counties=(COUNTY,))
    as_the_old_code_left_it(ctx, case_id, officers=[pal, other1])  # scheduled before the link was seen
    before = _evidence(ctx, case_id)

    assert _listed(ctx, pal, case_id) == (False, 0) and _listed(ctx, other1, case_id) == (False, 0)
    r = _photo(client, users.headers("pal"), case_id)
    assert r.status_code == 403 and r.json()["detail"] == LINKED_STALE, r.text
    assert [(k["step"], k["why"]) for k in refusals_of(ctx, pal)] == [("evidence", "linked_objection")]
    # his partner on that visit: the visit ended (not kept: he is tied to nobody)
    r = _photo(client, users.headers("other1"), case_id)
    assert r.status_code == 403 and r.json()["detail"] == VISIT_ENDED, r.text
    assert refusals_of(ctx, other1) == []
    assert _evidence(ctx, case_id) == before


def test_attack_a_second_account_makes_the_visit_after_a_check_sent_back(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", team=0)
    team0 = staff(ctx, COUNTY, 0)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/send-back", headers=sup, json={"reason": "医疗票据金额不符，请重新核实"})
    assert r.status_code == 200, r.text
    pal = _linked_to(ctx, users, team0.officer2.id)
    other1 = users.add("other1", "field_officer", counties=(COUNTY,))

    # Not by hand, by id or by username, in either place.
    for officers, field in (([pal, other1], "officers[0]"), ([other1, "pal"], "officers[1]")):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
            "officers": officers, "visit_on": today, "vehicle": "车01", "reason": "就近"})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": field, "message": LINKED_SENT_BACK}]
    # The planner: team 0 and "pal" left out, the case unplaced rather than given to him.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    assert [a for a in r.json()["assignments"] if a["case_id"] == case_id] == [], r.json()

    # A visit that holds him all the same (scheduled before the link was seen): no check, no visit, no photo.
    as_the_old_code_left_it(ctx, case_id, officers=[pal, other1])
    head, head_id = head_on_record(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("pal"),
                    json=check_body(head, head_id, [pal, other1], today))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": LINKED_SENT_BACK}]
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=users.headers("other1"), json={
        "visited_on": today, "officers": [other1, pal], "outcome": "refused"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[1]", "message": LINKED_SENT_BACK}]
    r = _photo(client, users.headers("pal"), case_id)
    assert r.status_code == 403 and r.json()["detail"] == LINKED_STALE
    assert [(k["step"], k["why"]) for k in refusals_of(ctx, pal)] == [("evidence", "linked_sent_back")]
    assert _listed(ctx, other1, case_id) == (False, 0)

    # Two officers tied to nobody of the check sent back make it.
    other2 = users.add("other2", "field_officer", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [other1, other2], "visit_on": today, "vehicle": "车01", "reason": "退回后换人核查"})
    assert r.status_code == 200, r.text
    assert _listed(ctx, other2, case_id)[0]
    assert _photo(client, users.headers("other2"), case_id).status_code == 201
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("other2"),
                    json=check_body(head, head_id, [other2, other1], today))
    assert r.status_code == 201, r.text


def test_attack_the_first_officers_after_a_review_request(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, wages=9_000_000, stable_income=True, team=0)  # ineligible
    team0 = staff(ctx, COUNTY, 0)
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/review-request", headers=users.headers("clerk"),
                    json={"received_on": today, "summary": "家中主要劳动力已失业，收入已下降"})
    assert r.status_code == 201, r.text

    # The first check's officer still holds its visit (a review request never ended it): photos refused, on record.
    r = _photo(client, _login(client, team0.officer1.username), case_id)
    assert r.status_code == 403 and r.json()["detail"] == OWN_STALE, r.text
    assert [(k["step"], k["why"]) for k in refusals_of(ctx, team0.officer1.id)] == [("evidence", "review")]

    # His second account is not sent by hand, and the page's refusal names why; he himself neither.
    pal = _linked_to(ctx, users, team0.officer1.id)
    other1 = users.add("other1", "field_officer", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [other1, pal], "visit_on": today, "vehicle": "车01", "reason": "就近"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[1]", "message": LINKED_REVIEWED}]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team0.officer1.id, other1], "visit_on": today, "vehicle": "车01", "reason": "就近"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": REVIEWED_OFFICER}]
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    assert [a for a in r.json()["assignments"] if a["case_id"] == case_id] == [], r.json()

    # The review's own officers: their check, then a photo after it, are theirs (not checks in doubt).
    other2 = users.add("other2", "field_officer", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [other1, other2], "visit_on": today, "vehicle": "车01", "reason": "复核换人"})
    assert r.status_code == 200, r.text
    head, head_id = head_on_record(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("other1"),
                    json=check_body(head, head_id, [other1, other2], today))
    assert r.status_code == 201, r.text
    assert _photo(client, users.headers("other1"), case_id).status_code == 201
