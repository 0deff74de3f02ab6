"""Rotation (轮换) barred last time's officers, but not their second accounts: an account linked to one of theirs by
a password (he set its password, or one person set both and either still has it) is the same person, yet it could be
sent by hand, planned, and record the check, a visit without a check and photos on the household's next case.

Now the accounts linked to a barred officer are barred alike (`domain.rotation.LINKED_LAST_OFFICER`,
`LINKED_OPEN_VISIT`): the scheduling by hand refuses them, the planner leaves them out (within one plan too), the door
refuses them; the small county counts them as the same person when it counts the officers it has left. And the
schedule that ends a visit the rule stopped says why in its audit entry (`visit_ended_why`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from factories import head_on_record, staff
from insider_kit import COUNTY, check_body, dated_photo
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier import demo
from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.domain import planning
from verifier.domain.rotation import LAST_OFFICER, LINKED_LAST_OFFICER, LINKED_OPEN_VISIT, LINKED_VISIT_ENDED
from verifier.store.tables import Case, Check, Evidence, User, Visit, VisitAttempt


def _two_causes(ctx: Any) -> tuple[Any, str, str]:
    """A household with two cases (illness, disaster), both screened: (the county's staff team 0, the two ids)."""
    s = staff(ctx, COUNTY, 0)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    today = ctx.clock.today()
    hh = demo.new_household("城关镇", "东村")
    ids = []
    for cause in ("illness", "disaster"):
        case_id = demo.refer(ctx, team, hh, cause=cause, amount="1000.00", referred_on=today - timedelta(days=2),
                             county=COUNTY)
        demo.advance_to(ctx, team, case_id, hh, "screened", on=today, vehicle="")
        ids.append(case_id)
    return s, ids[0], ids[1]


def _body(visit_on: str, ids: list[str], reason: str = "农户约定今日在家") -> dict[str, Any]:
    return {"officers": ids, "visit_on": visit_on, "vehicle": f"车-{ids[0][-4:]}{ids[1][-4:]}", "reason": reason}


def _check(ctx: Any, client: Any, headers: dict[str, str], case_id: str, officers: list[str]) -> Any:
    head, head_id = head_on_record(ctx, case_id)
    return client.post(f"/api/cases/{case_id}/check", headers=headers,
                       json=check_body(head, head_id, officers, ctx.clock.today().isoformat()))


def _link(ctx: Any, account: str, *, set_by: str, fresh: bool = False) -> None:
    """`account`'s password set by `set_by` (`fresh`: not changed since): a password links them (or links `account`
    to another account `set_by` set the password of, while either still has it)."""
    with ctx.db.begin() as session:
        user = session.get(User, account)
        user.password_set_by = set_by
        user.password_change_required = fresh


def _written(ctx: Any, case_id: str) -> tuple[str, int, int, int, int]:
    with ctx.db.read() as session:
        return (session.scalar(select(Case.status).where(Case.id == case_id)),
                int(session.scalar(select(func.count()).select_from(Visit).where(Visit.case_id == case_id))),
                *(int(session.scalar(select(func.count()).select_from(t).where(t.case_id == case_id)))
                  for t in (Check, VisitAttempt, Evidence)))


def _checked_by(ctx: Any, client: Any, users: Any, case_id: str, team: list[str], who: str) -> None:
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json=_body(today, team))
    assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    r = _check(ctx, client, users.headers(who), case_id, team)
    assert r.status_code == 201, r.text
    ctx.clock.advance(minutes=30)


def test_attack_last_times_officer_sends_his_second_account(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """off1 checked the household's illness case; his second account (he set its password), or one the admin opened
    with his and not yet changed, is refused on its disaster case by hand and left out by the planner."""
    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("adm", "admin")
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    pal, twin = (users.add(n, "field_officer", counties=(COUNTY,)) for n in ("pal", "twin"))
    _link(ctx, pal, set_by=off["off1"])
    _link(ctx, off["off1"], set_by=users.ids["adm"])
    _link(ctx, twin, set_by=users.ids["adm"], fresh=True)
    _checked_by(ctx, client, users, illness, [off["off1"], off["off2"]], "off1")
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()

    for account in (pal, twin):
        r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json=_body(today, [off["off3"], account]))
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == [{"field": "officers[1]", "message": LINKED_LAST_OFFICER}]
        assert "密码关联" in LINKED_LAST_OFFICER and "轮换规则" in LINKED_LAST_OFFICER
    assert _written(ctx, disaster) == ("screened", 0, 0, 0, 0)
    # the schedule form names them before the supervisor picks
    pages = Pages(client, users)
    pages.login("sup")
    form = pages.get(f"/cases/{disaster}/schedule").text
    said = form[form.index('id="rotation-linked"'):].split("</p>")[0]
    assert "密码关联" in said and "pal" in said and "twin" in said and "off3" not in said, said
    # The planner, many times over (preview): never off1, off2, nor off1's linked accounts, on the disaster case.
    for days in (1, 2, 3):
        r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": days})
        assert r.status_code == 200, r.text
        mine = [a for a in r.json()["assignments"] if a["case_id"] == disaster]
        assert mine and not {off["off1"], off["off2"], pal, twin} & set(mine[0]["officers"]), mine
    # Other officers: taken.
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json=_body(today, [off["off3"], off["off4"]]))
    assert r.status_code == 200, r.text


def test_attack_the_second_account_of_who_holds_the_other_cause(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """off1 holds the illness case's visit; his second account is not sent to the disaster case (two causes at once:
    the same person would check the household twice in a row)."""
    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    pal = users.add("pal", "field_officer", counties=(COUNTY,))
    _link(ctx, pal, set_by=off["off1"])
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{illness}/schedule", headers=sup, json=_body(today, [off["off1"], off["off2"]]))
    assert r.status_code == 200, r.text
    tomorrow = (ctx.clock.today() + timedelta(days=1)).isoformat()
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json=_body(tomorrow, [pal, off["off3"]]))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": LINKED_OPEN_VISIT}]
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    mine = [a for a in r.json()["assignments"] if a["case_id"] == disaster]
    assert mine and not {off["off1"], off["off2"], pal} & set(mine[0]["officers"]), mine


def test_the_planner_sends_no_person_to_two_causes_in_one_plan_through_his_two_accounts() -> None:
    """Within one plan: a and his second account c, b and his d; the household's two cases cannot both be placed
    (teams a+b and c+d would meet it twice); without the links they are."""
    start = date(2026, 3, 2)  # a Monday
    cases = [planning.PlanCase(case_id=f"c{i}", town="城关镇", village="东村", referred_on=start, due_on=start,
                               household="h1") for i in (1, 2)]
    vehicles = [planning.Vehicle("v1"), planning.Vehicle("v2")]

    def placed(links: dict[str, frozenset[str]]) -> list[str]:
        officers = [planning.Officer(o, capacity_per_day=1, linked=links.get(o, frozenset())) for o in "abcd"]
        plan = planning.plan_visits(cases, officers, vehicles, start=start, days=1)
        return sorted(a.case_id for a in plan.assignments)

    assert placed({}) == ["c1", "c2"]
    linked = {"a": frozenset("c"), "c": frozenset("a"), "b": frozenset("d"), "d": frozenset("b")}
    assert placed(linked) == ["c1"]


def test_attack_the_second_account_records_at_the_door(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """pal, on the disaster case's visit with off3, is made off1's second account; off1 checks the illness case: pal
    is refused the check, a visit without a check and photos (his partner told the visit ended); the supervisor's
    schedule lists it to send anew, and the schedule that ends it says why in its audit entry."""
    from verifier.web.labels import REASSIGNS, VISIT_ENDED

    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    pal = users.add("pal", "field_officer", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    for case_id, team in ((illness, [off["off1"], off["off2"]]), (disaster, [pal, off["off3"]])):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json=_body(today, team))
        assert r.status_code == 200, r.text
    _link(ctx, pal, set_by=off["off1"])  # the link made after both were scheduled
    ctx.clock.advance(minutes=30)
    r = _check(ctx, client, users.headers("off1"), illness, [off["off1"], off["off2"]])
    assert r.status_code == 201, r.text
    ctx.clock.advance(minutes=30)

    team = [pal, off["off3"]]
    refused = [{"field": "officers[0]", "message": LINKED_LAST_OFFICER}]
    for who in ("pal", "off3"):
        r = _check(ctx, client, users.headers(who), disaster, team)
        assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    r = client.post(f"/api/cases/{disaster}/visit-attempts", headers=users.headers("pal"), json={
        "visited_on": today, "officers": team, "outcome": "not_home", "note": ""})
    assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    for who, said in (("pal", LINKED_LAST_OFFICER), ("off3", LINKED_VISIT_ENDED)):
        r = client.post(f"/api/cases/{disaster}/evidence", headers=users.headers(who),
                        files={"file": ("door.jpg", dated_photo(None), "image/jpeg")})
        assert r.status_code == 403 and r.json()["detail"] == said, r.text
    pages = Pages(client, users)
    pages.login("pal")
    for url in (f"/cases/{disaster}/check", f"/cases/{disaster}/visit-attempt"):
        r = pages.get(url)
        assert r.status_code == 403 and LINKED_LAST_OFFICER in r.text, (url, r.status_code)
    assert _written(ctx, disaster) == ("scheduled", 1, 0, 0, 0)

    # The supervisor's schedule lists it to be sent anew; sending others ends it, and the entry says why.
    pages = Pages(client, users)
    pages.login("sup")
    listed = pages.get("/schedule").text
    waiting = listed[listed.index('id="waiting"'):]
    assert f'href="/cases/{disaster}"' in waiting and REASSIGNS["rotation"] in waiting
    with ctx.db.read() as session:
        stopped = session.scalars(select(Visit.id).where(Visit.case_id == disaster, Visit.active.is_(True))).one()
    ctx.clock.advance(minutes=5)
    r = pages.post(f"/cases/{disaster}/schedule", {"officer_1": off["off3"], "officer_2": off["off4"],
                                                   "vehicle": "车01", "visit_on": today, "reason": "轮换，换人核查"})
    assert r.status_code == 303, r.text
    with ctx.db.read() as session:
        [entry] = [decode_entry(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.subject == disaster, AuditEntry.action == "case.schedule")
            .order_by(AuditEntry.idx.desc()).limit(1))]
    assert entry.payload["visit_ended"] == [stopped] and entry.payload["visit_ended_why"] == "rotation"
    assert "reason" not in entry.payload and "轮换，换人核查" not in str(entry.payload), entry.payload
    assert not {k for k in entry.payload if k.startswith("officers_stood")}, entry.payload
    assert VISIT_ENDED["rotation"] in pages.get(f"/cases/{disaster}").text
    r = _check(ctx, client, users.headers("off3"), disaster, [off["off3"], off["off4"]])
    assert r.status_code == 201, r.text


def test_a_visit_stopped_with_no_link_says_why_in_its_schedule_entry(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county's only two officers on both causes: the first check stops the second visit (too few others); the
    supervisor schedules them again by hand with his reason, and the entry names the stop (`rotation_by_hand`)."""
    s, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    team = [s.officer1.id, s.officer2.id]
    for case_id in (illness, disaster):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json=_body(today, team, "本县仅有两名核查员"))
        assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    r = client.post("/api/auth/login", json={"username": s.officer1.username, "password": "factory-password"})
    one = {"Authorization": f"Bearer {r.json()['token']}"}
    assert _check(ctx, client, one, illness, team).status_code == 201
    ctx.clock.advance(minutes=5)
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json=_body(today, team, "本县仅有两名核查员，已核查该户因病案件"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        [entry] = [decode_entry(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.subject == disaster, AuditEntry.action == "case.schedule")
            .order_by(AuditEntry.idx.desc()).limit(1))]
    assert entry.payload["visit_ended_why"] == "rotation_by_hand" and len(entry.payload["visit_ended"]) == 1
    assert "reason_sha256" in entry.payload and "本县" not in str(entry.payload)
    assert _check(ctx, client, one, disaster, team).status_code == 201


def test_a_small_county_counts_a_second_account_as_the_same_officer(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county's officers: off1 and off2 (last time's), pal (off1's second account) and off3. Counting pal as
    another, the county would have two others and refuse off1 outright; counted as off1, it has one: the household's
    officers may go again by hand, only with the reason (as a small county's)."""
    from verifier.cases.service import SAME_OFFICERS_REASON

    s, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    pal = users.add("pal", "field_officer", counties=(COUNTY,))
    off3 = users.add("off3", "field_officer", counties=(COUNTY,))
    team = [s.officer1.id, s.officer2.id]
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{illness}/schedule", headers=sup, json=_body(today, team))
    assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    r = client.post("/api/auth/login", json={"username": s.officer1.username, "password": "factory-password"})
    assert _check(ctx, client, {"Authorization": f"Bearer {r.json()['token']}"}, illness, team).status_code == 201
    ctx.clock.advance(minutes=30)

    # not yet linked: two others (pal, off3), off1 is refused outright (the visit the next day: off1 is out today)
    tomorrow = (ctx.clock.today() + timedelta(days=1)).isoformat()
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json=_body(tomorrow, [s.officer1.id, off3]))
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "officers[0]", "message": LAST_OFFICER}], r.text
    _link(ctx, pal, set_by=s.officer1.id)
    body = _body(tomorrow, [pal, off3])
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json={**body, "reason": ""})
    assert r.status_code == 422 and r.json()["errors"] == [{"field": "reason", "message": SAME_OFFICERS_REASON}], r.text
    assert _written(ctx, disaster) == ("screened", 0, 0, 0, 0)
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**body, "reason": "本县其他核查员不足，已核查该户因病案件"})
    assert r.status_code == 200, r.text
    # the county reviewer's list of hand-picked visits worth a look says the household's officer went again
    from verifier.accounts.auth import principal_of
    from verifier.cases import hand_picked

    reviewer = users.add("rev", "county_reviewer", counties=(COUNTY,))
    with ctx.db.read() as session:
        listed = hand_picked.to_review(session, principal_of(session.get(User, reviewer)), since=ctx.clock.today())
    assert [v["flags"] for v in listed if v["case_id"] == disaster] == [["same_officers"]], listed
    r = _check(ctx, client, users.headers("pal"), disaster, [pal, off3])
    assert r.status_code == 201, r.text
