"""An upheld objection now ends the case's visit and bars the officers of the checks it was against from the next
one (tests/insider/test_objection_recheck_officers.py). Two ways round that remained:

- a case whose objection was upheld before that change still has its old visit, active, held by the officer whose
  figures were objected to: he recorded the "re-check" himself, the same figures again;
- the officer's second account, linked to his by a password (he set its password, or one admin set both and
  neither was changed: `roster.service.password_links`), was neither barred from the visit nor from the check.

The check's recording itself now refuses them (`domain.objection_recheck`, 422 naming the officer, nothing written),
whatever visit they hold; the scheduling by hand refuses the second account and the planner leaves it out. Other
officers make the re-check."""

from __future__ import annotations

import re

from factories import staff
from insider_kit import COUNTY, as_the_old_code_left_it, check_body, head_on_record, objection_upheld
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.domain.objection_recheck import LINKED_OFFICER, OBJECTED_OFFICER
from verifier.roster.service import PASSWORD_LINK
from verifier.store.tables import Case, Check, User, Visit


def _written(ctx, case_id: str) -> tuple[int, int, int, str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (int(session.scalar(select(func.count()).select_from(Check).where(Check.case_id == case_id))),
                int(session.scalar(select(func.count()).select_from(Visit).where(Visit.case_id == case_id))),
                int(session.scalar(select(func.count()).select_from(AuditEntry))),
                str(session.scalar(select(Case.status).where(Case.id == case_id))))


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_the_messages_say_the_link_as_the_other_refusals_do() -> None:
    assert PASSWORD_LINK in LINKED_OFFICER and OBJECTED_OFFICER != LINKED_OFFICER


def test_attack_on_an_old_case_the_officer_objected_to_records_the_recheck_on_his_old_visit(  # type: ignore[no-untyped-def]
        ctx, client, users) -> None:
    case_id = objection_upheld(ctx, client, users)
    as_the_old_code_left_it(ctx, case_id)  # scheduled, team 0's visit still active
    team0, team1 = staff(ctx, COUNTY, 0), staff(ctx, COUNTY, 1)
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        assert visit is not None and set(visit.officer_ids) == {team0.officer1.id, team0.officer2.id}
    head, head_id = head_on_record(ctx, case_id)
    today = ctx.clock.today().isoformat()
    before = _written(ctx, case_id)
    assert before[3] == "scheduled"

    # He records the same figures again, on the visit he still holds: refused, both officers named, nothing written.
    r = client.post(f"/api/cases/{case_id}/check", headers=_login(client, team0.officer1.username),
                    json=check_body(head, head_id, [team0.officer1.id, team0.officer2.id], today))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": OBJECTED_OFFICER},
                                  {"field": "officers[1]", "message": OBJECTED_OFFICER}]
    # His partner, by username, neither.
    r = client.post(f"/api/cases/{case_id}/check", headers=_login(client, team0.officer2.username),
                    json=check_body(head, head_id, [team0.officer2.username, team0.officer1.username], today))
    assert r.status_code == 422, r.text
    assert {e["message"] for e in r.json()["errors"]} == {OBJECTED_OFFICER}
    assert _written(ctx, case_id) == before

    # The supervisor sends other officers; they record the re-check.
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [team1.officer1.id, team1.officer2.id], "visit_on": today, "vehicle": "车01",
        "reason": "异议成立，换人重新核查"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=_login(client, team1.officer1.username),
                    json=check_body(head, head_id, [team1.officer1.id, team1.officer2.id], today, wages="90000.00"))
    assert r.status_code == 201, r.text
    assert _written(ctx, case_id)[3] == "checked"


def test_attack_the_officer_objected_to_makes_the_recheck_through_his_second_account(  # type: ignore[no-untyped-def]
        ctx, client, users) -> None:
    case_id = objection_upheld(ctx, client, users)
    team0 = staff(ctx, COUNTY, 0)
    pal = users.add("pal", "field_officer", counties=(COUNTY,))
    other1 = users.add("other1", "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # team 0's first officer set the password of "pal" (his second account)
        session.get(User, pal).password_set_by = team0.officer1.id
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    before = _written(ctx, case_id)

    # Not sent by hand, in either place.
    for officers, field in (([pal, other1], "officers[0]"), ([other1, "pal"], "officers[1]")):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
            "officers": officers, "visit_on": today, "vehicle": "车01", "reason": "就近"})
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": field, "message": LINKED_OFFICER}]
    assert _written(ctx, case_id) == before

    # The planner pairs "pal" with other1 (team 0 left out): it leaves the case unplaced rather than send them.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    assert [a for a in r.json()["assignments"] if a["case_id"] == case_id] == [], r.json()
    assert case_id in {u["case_id"] for u in r.json()["unplaced"]}

    # A visit that holds "pal" all the same (an old case's, scheduled before the link was seen): the check's
    # recording refuses it, by "pal" or by his partner.
    as_the_old_code_left_it(ctx, case_id, officers=[pal, other1])
    head, head_id = head_on_record(ctx, case_id)
    before = _written(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("pal"),
                    json=check_body(head, head_id, [pal, other1], today))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": LINKED_OFFICER}]
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("other1"),
                    json=check_body(head, head_id, [other1, pal], today))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[1]", "message": LINKED_OFFICER}]
    assert _written(ctx, case_id) == before

    # Two officers with no tie to the checks objected to make it.
    other2 = users.add("other2", "field_officer", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [other1, other2], "visit_on": today, "vehicle": "车01", "reason": "异议成立，换人重新核查"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("other2"),
                    json=check_body(head, head_id, [other2, other1], today, wages="90000.00"))
    assert r.status_code == 201, r.text
    assert _written(ctx, case_id)[3] == "checked"


def test_an_old_case_left_on_its_stale_visit_is_on_the_supervisors_list_and_sent_to_others(  # type: ignore[no-untyped-def]
        ctx, client, users) -> None:
    """The old case stays `scheduled` on the visit its objected officers hold, which no officer may work: it was
    found only by a mark on the late visits (and not at all before the visit was late). It is now on the scheduling
    page's list of cases to schedule, with why (原走访人员须回避，请改派), and counted by the home card 待排期; its
    scheduling form says so and offers the stale visit's officers no more; sending allowed officers ends the stale
    visit, the entry saying why, and the case leaves the list. The one rule (`cases.service.recheck_barred`) decides."""
    from web.pagekit import Pages, card_count

    from verifier.audit.canonical import decode_entry
    from verifier.cases.service import STOOD_ASIDE
    from verifier.web.labels import REASSIGN

    case_id = objection_upheld(ctx, client, users)
    as_the_old_code_left_it(ctx, case_id)  # scheduled, team 0's visit still active
    team0, team1 = staff(ctx, COUNTY, 0), staff(ctx, COUNTY, 1)
    with ctx.db.read() as session:
        stale = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        assert stale is not None and stale.visit_on >= ctx.clock.today()  # not late: the late list never showed it
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    pages = Pages(client, users)
    pages.login("sup")
    listed = pages.get("/schedule").text
    waiting = listed[listed.index('id="waiting"'):]
    assert f'href="/cases/{case_id}"' in waiting and REASSIGN in waiting, waiting
    assert REASSIGN == "原走访人员须回避，请改派"
    assert f'<a class="button small secondary" href="/cases/{case_id}/schedule">改派</a>' in waiting
    shown = int(re.findall(r"共 (\d+) 条", waiting)[0]) if "共 " in waiting else waiting.count("<tr><td><a href")
    assert card_count(pages.get("/").text, "待排期") == shown >= 1

    form = pages.get(f"/cases/{case_id}/schedule").text
    assert 'id="visit-stale"' in form and "须回避" in form
    assert not re.search(rf'<option value="{team0.officer1.id}"[^>]*selected', form)  # not offered as the visit's
    today = ctx.clock.today().isoformat()
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team0.officer1.id, "officer_2": team1.officer1.id,
                                                  "vehicle": "车01", "visit_on": today, "reason": "改派"})
    assert r.status_code == 422 and OBJECTED_OFFICER in r.text
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team1.officer1.id, "officer_2": team1.officer2.id,
                                                  "vehicle": "车01", "visit_on": today, "reason": "原走访人员须回避，改派"})
    assert r.status_code == 303, r.text
    with ctx.db.read() as session:
        visits = {v.id: v for v in session.scalars(select(Visit).where(Visit.case_id == case_id))}
        [entry] = [decode_entry(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.subject == case_id, AuditEntry.action == "case.schedule")
            .order_by(AuditEntry.idx.desc()).limit(1))]
    assert not visits[stale.id].active
    [new] = [v for v in visits.values() if v.active]
    assert set(new.officer_ids) == {team1.officer1.id, team1.officer2.id}
    assert entry.payload["visit_id"] == new.id and entry.payload["visit_ended"] == [stale.id], entry.payload
    assert entry.payload["visit_ended_why"] == STOOD_ASIDE
    assert entry.payload["officers_stood_aside"] == {team0.officer1.id: "objection", team0.officer2.id: "objection"}
    assert _written(ctx, case_id)[3] == "scheduled"
    waiting = pages.get("/schedule").text
    waiting = waiting[waiting.index('id="waiting"'):]
    assert f'href="/cases/{case_id}"' not in waiting and REASSIGN not in waiting
    assert "原走访人员须回避，已改派" in pages.get(f"/cases/{case_id}").text  # the ended visit says why
    # the new officers record the re-check
    head, head_id = head_on_record(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=_login(client, team1.officer1.username),
                    json=check_body(head, head_id, [team1.officer1.id, team1.officer2.id], today, wages="90000.00"))
    assert r.status_code == 201, r.text


def test_the_planner_sends_others_to_an_old_case_on_its_stale_visit(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The planner takes the case scheduled on a stale visit with the screened ones, never its stood-aside officers:
    the visit it plans ends the stale one, the entry saying why."""
    from verifier.audit.canonical import decode_entry
    from verifier.cases.service import STOOD_ASIDE

    case_id = objection_upheld(ctx, client, users)
    as_the_old_code_left_it(ctx, case_id)
    team1 = staff(ctx, COUNTY, 1)  # the officers free to go (team 0 made the check objected to)
    with ctx.db.read() as session:
        stale = session.scalar(select(Visit.id).where(Visit.case_id == case_id, Visit.active.is_(True)))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post("/api/schedule/plan", headers=users.headers("sup"),
                    json={"county_code": COUNTY, "from": ctx.clock.today().isoformat(), "days": 5, "apply": True})
    assert r.status_code == 200, r.text
    [placed] = [a for a in r.json()["assignments"] if a["case_id"] == case_id]
    assert set(placed["officers"]) == {team1.officer1.id, team1.officer2.id}, placed
    with ctx.db.read() as session:
        active = session.scalars(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True))).one()
        [entry] = [decode_entry(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.subject == case_id, AuditEntry.action == "case.schedule")
            .order_by(AuditEntry.idx.desc()).limit(1))]
    assert active.id != stale and set(active.officer_ids) == set(placed["officers"])
    assert (entry.payload["visit_ended"], entry.payload["visit_ended_why"]) == ([stale], STOOD_ASIDE), entry.payload
