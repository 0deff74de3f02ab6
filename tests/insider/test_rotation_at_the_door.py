"""Rotation (轮换: the officers who checked a household last time do not check it again) was asked only when a visit
was scheduled. Two ways round it remained for one person alone:

- an officer held the visits of two cases of one household (two causes) at once, by hand or by the planner, and
  checked both, one after the other: the household met him twice in a row;
- the rule was not asked again when the visit was recorded: a visit scheduled before the household's latest check
  on another case (by the same officer, through another visit; or before the rule held) still let him record the
  check, a visit without a check, and photos, on the API, its shortcut and the phone pages.

Now the scheduling (by hand and the planner) sends no officer to a household's case while he holds a visit of another
of its cases still to be made (in a small county by hand with the reason, as for last time's officers); and the
check, a visit without a check and the evidence ask the rule as it holds at that moment (`domain.rotation`), in the
scheduling's words. A visit scheduled by hand with its reason after the household's latest check (the small county's
way) stands."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from factories import head_on_record, staff
from insider_kit import COUNTY, check_body, dated_photo
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier import demo
from verifier.domain.rotation import LAST_OFFICER, OPEN_VISIT, VISIT_ENDED
from verifier.store.tables import Case, Check, Evidence, Visit, VisitAttempt


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


def _check(ctx: Any, client: Any, headers: dict[str, str], case_id: str, officers: list[str], *,
           keyed: str | None = None) -> Any:
    """The check over the API: by its shortcut, or (`keyed`, an Idempotency-Key) by Litestar's route."""
    head, head_id = head_on_record(ctx, case_id)
    return client.post(f"/api/cases/{case_id}/check", headers={**headers, **({"Idempotency-Key": keyed} if keyed
                                                                                else {})},
                       json=check_body(head, head_id, officers, ctx.clock.today().isoformat()))


def _written(ctx: Any, case_id: str) -> tuple[str, int, int, int]:
    with ctx.db.read() as session:
        return (session.scalar(select(Case.status).where(Case.id == case_id)),
                *(int(session.scalar(select(func.count()).select_from(t).where(t.case_id == case_id)))
                  for t in (Check, VisitAttempt, Evidence)))


def _body(visit_on: str, ids: list[str]) -> dict[str, Any]:
    """A visit by hand on `visit_on`, in the team's own vehicle (one team a vehicle a day)."""
    return {"officers": ids, "visit_on": visit_on, "vehicle": f"车-{ids[0][-4:]}{ids[1][-4:]}"}


def test_attack_one_officer_holds_both_causes_of_a_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    today = ctx.clock.today().isoformat()

    # The planner, both cases screened: never one officer on both.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    planned = {a["case_id"]: set(a["officers"]) for a in r.json()["assignments"]}
    assert {illness, disaster} <= set(planned) and not planned[illness] & planned[disaster], planned

    # By hand: off1 goes to the illness case; then (the next day) to the disaster case, with a fine-sounding
    # reason: refused.
    r = client.post(f"/api/cases/{illness}/schedule", headers=sup,
                    json={**_body(today, [off["off1"], off["off2"]]), "reason": "农户约定今日在家"})
    assert r.status_code == 200, r.text
    tomorrow = (ctx.clock.today() + timedelta(days=1)).isoformat()
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**_body(tomorrow, [off["off1"], off["off3"]]), "reason": "熟悉该户情况"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": OPEN_VISIT}]
    assert _written(ctx, disaster) == ("screened", 0, 0, 0)
    # the schedule form says who holds the household's other visit before the supervisor picks
    pages = Pages(client, users)
    pages.login("sup")
    form = pages.get(f"/cases/{disaster}/schedule").text
    assert 'id="rotation-open"' in form and "已排定走访该户另一案件" in form
    # nor does the planner send them to it while they hold the other
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    mine = [a for a in r.json()["assignments"] if a["case_id"] == disaster]
    assert mine and not {off["off1"], off["off2"]} & set(mine[0]["officers"]), mine
    # Others: taken.
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**_body(today, [off["off3"], off["off4"]]), "reason": "农户约定今日在家"})
    assert r.status_code == 200, r.text


def test_attack_the_officer_records_the_second_cause_after_the_first(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The household's two visits, both off1's, as the code before left them (scheduled before the rule held). He
    checks the first; at the second the rule, asked again, refuses him everywhere he could record."""
    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{illness}/schedule", headers=sup,
                    json={**_body(today, [off["off1"], off["off2"]]), "reason": "农户约定今日在家"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**_body(today, [off["off3"], off["off4"]]), "reason": "农户约定今日在家"})
    assert r.status_code == 200, r.text
    with ctx.db.begin() as session:  # the visit as a schedule before the rule made it: off1 on both
        visit = session.scalars(select(Visit).where(Visit.case_id == disaster, Visit.active.is_(True))).one()
        visit.officer_ids = [off["off1"], off["off3"]]
    ctx.clock.advance(minutes=30)
    one = users.headers("off1")
    r = _check(ctx, client, one, illness, [off["off1"], off["off2"]])
    assert r.status_code == 201, r.text
    ctx.clock.advance(minutes=30)

    team = [off["off1"], off["off3"]]
    refused = [{"field": "officers[0]", "message": LAST_OFFICER}]
    # the check: by the shortcut, and by the route (an Idempotency-Key)
    r = _check(ctx, client, one, disaster, team)
    assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    r = _check(ctx, client, one, disaster, team, keyed="rotation-second-cause")
    assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    # his partner, who may record too: the team is the same
    r = _check(ctx, client, users.headers("off3"), disaster, team)
    assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    # a visit that came to nothing
    r = client.post(f"/api/cases/{disaster}/visit-attempts", headers=one, json={
        "visited_on": today, "officers": team, "outcome": "not_home", "note": ""})
    assert r.status_code == 422 and r.json()["errors"] == refused, r.text
    # photos, from him and from his partner
    for name, said in (("off1", LAST_OFFICER), ("off3", VISIT_ENDED)):
        r = client.post(f"/api/cases/{disaster}/evidence", headers=users.headers(name),
                        files={"file": ("door.jpg", dated_photo(None), "image/jpeg")})
        assert r.status_code == 403 and r.json()["detail"] == said, r.text
    # the phone pages: the check's form, sending it, the visit without a check
    pages = Pages(client, users)
    pages.login("off1")
    for url in (f"/cases/{disaster}/check", f"/cases/{disaster}/visit-attempt"):
        r = pages.get(url)
        assert r.status_code == 403 and LAST_OFFICER in r.text, (url, r.status_code)
    r = pages.post(f"/cases/{disaster}/check", {"visited_on": today},
                   files={"photos": ("door.jpg", dated_photo(None), "image/jpeg")})
    assert r.status_code == 403 and LAST_OFFICER in r.text, r.status_code
    assert _written(ctx, disaster) == ("scheduled", 0, 0, 0)

    # Scheduled anew with others: they record it.
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**_body(today, [off["off3"], off["off4"]]), "reason": "轮换，换人核查"})
    assert r.status_code == 200, r.text
    r = _check(ctx, client, users.headers("off3"), disaster, [off["off3"], off["off4"]])
    assert r.status_code == 201, r.text


def test_a_small_county_sends_its_two_officers_to_both_causes_with_the_reason_given_again(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county's only two officers may go to both of a household's cases, by hand with a reason; but the reason
    given before the first check was recorded does not cover the second check: the supervisor schedules it again,
    knowing who checked the household last, and says why."""
    s, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    team = [s.officer1.id, s.officer2.id]
    today = ctx.clock.today().isoformat()
    r = client.post(f"/api/cases/{illness}/schedule", headers=sup, json={**_body(today, team), "reason": "本县仅有两名核查员"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json=_body(today, team))
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"], r.text
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup, json={**_body(today, team), "reason": "本县仅有两名核查员"})
    assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    r = client.post("/api/auth/login", json={"username": s.officer1.username, "password": "factory-password"})
    one = {"Authorization": f"Bearer {r.json()['token']}"}
    r = _check(ctx, client, one, illness, team)
    assert r.status_code == 201, r.text
    ctx.clock.advance(minutes=30)
    r = _check(ctx, client, one, disaster, team)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": LAST_OFFICER},
                                  {"field": "officers[1]", "message": LAST_OFFICER}]
    assert _written(ctx, disaster) == ("scheduled", 0, 0, 0)
    ctx.clock.advance(minutes=5)
    r = client.post(f"/api/cases/{disaster}/schedule", headers=sup,
                    json={**_body(today, team), "reason": "本县仅有两名核查员，已核查该户因病案件"})
    assert r.status_code == 200, r.text
    r = _check(ctx, client, one, disaster, team)
    assert r.status_code == 201, r.text


def test_one_officer_recording_two_cases_of_a_household_at_once_records_one(ctx, client, users, database_url) -> None:  # type: ignore[no-untyped-def]
    """The county's two officers scheduled to both of a household's cases (by hand, with the reason): the first check
    recorded bars them from the second. Posted at the same moment by the same officer, each check read the other's
    household as unchecked and both committed (the case's row alone was locked); now the household's row is locked
    too before the check reads it, and the second check reads the first: refused."""
    import threading

    from verifier.accounts.auth import principal_of
    from verifier.checks import service as checks
    from verifier.domain.errors import ValidationFailed
    from verifier.domain.income import HouseholdIncome, RigidExpenditure
    from verifier.store.db import Database
    from verifier.store.tables import User

    s, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    team = [s.officer1.id, s.officer2.id]
    today = ctx.clock.today()
    for case_id in (illness, disaster):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup,
                        json={**_body(today.isoformat(), team), "reason": "本县仅有两名核查员"})
        assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    head, head_id = head_on_record(ctx, illness)
    with ctx.db.read() as session:
        officer = principal_of(session.get(User, s.officer1.id))

    def form(n: int) -> checks.CheckInput:
        return checks.CheckInput(
            visited_on=today, officers=team,
            members=[{"name": head, "id_number": head_id, "relation": "head", "labour": "partial"}],
            income=HouseholdIncome(wages=300_000), rigid=RigidExpenditure(medical_self_paid=4_000_000),
            stable_income=False, payee={"account_name": head, "bank": "农村商业银行",
                                        "account_number": "6222 0202 0011 2233 445"},
            cross_checks=[], evidence=[], note="",
            bills=[{"kind": "medical", "issuer": "县人民医院", "number": f"R{n:08d}", "amount": "40000.00"}])

    other = Database(database_url)  # the second request served by another process
    start = threading.Barrier(2)
    made: list[str] = []
    refused: list[ValidationFailed] = []
    unexpected: list[BaseException] = []

    def record(i: int, case_id: str) -> None:
        try:
            start.wait()
            with (ctx.db if i == 0 else other).begin() as session:
                made.append(checks.record_check(session, case_id, form(i), vault=ctx.vault, principal=officer,
                                                clock=ctx.clock).case_id)
        except ValidationFailed as exc:
            refused.append(exc)
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    try:
        threads = [threading.Thread(target=record, args=(i, c)) for i, c in enumerate((illness, disaster))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        other.dispose()
    assert unexpected == [] and len(made) == 1 and len(refused) == 1, (made, refused, unexpected)
    assert [p.message for p in refused[0].errors] == [LAST_OFFICER, LAST_OFFICER]
    second = disaster if made == [illness] else illness
    assert _written(ctx, second) == ("scheduled", 0, 0, 0)


def _waiting_row(pages: Any, case_id: str) -> tuple[str, int]:
    """The scheduling page's waiting list (from its heading) and the home card 待排期's count, as the supervisor sees
    them."""
    from web.pagekit import card_count

    listed = pages.get("/schedule").text
    waiting = listed[listed.index('id="waiting"'):]
    return waiting, card_count(pages.get("/").text, "待排期")


def test_a_visit_the_rotation_rule_ended_waits_for_the_supervisor_on_the_schedule(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officer told at the door 请等待主管重新安排 (the household checked since on another case by his team):
    the visit reached no supervisor, listed only the cases in doubt. Now the scheduling page lists it as to be sent
    anew (轮换规则：…), the home card 待排期 counts it, its form says why; sending others ends it."""
    from verifier.web.labels import REASSIGN_NOTES, REASSIGNS

    _, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    off = {n: users.add(n, "field_officer", counties=(COUNTY,)) for n in ("off1", "off2", "off3", "off4")}
    today = ctx.clock.today().isoformat()
    for case_id, team in ((illness, [off["off1"], off["off2"]]), (disaster, [off["off3"], off["off4"]])):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup,
                        json={**_body(today, team), "reason": "农户约定今日在家"})
        assert r.status_code == 200, r.text
    pages = Pages(client, users)
    pages.login("sup")
    waiting, before = _waiting_row(pages, disaster)
    assert f'href="/cases/{disaster}"' not in waiting  # scheduled, nothing in the way
    with ctx.db.begin() as session:  # the visit as a schedule before the rule made it: off1 on both
        visit = session.scalars(select(Visit).where(Visit.case_id == disaster, Visit.active.is_(True))).one()
        visit.officer_ids = [off["off1"], off["off3"]]
    ctx.clock.advance(minutes=30)
    r = _check(ctx, client, users.headers("off1"), illness, [off["off1"], off["off2"]])
    assert r.status_code == 201, r.text
    r = _check(ctx, client, users.headers("off3"), disaster, [off["off1"], off["off3"]])
    assert r.status_code == 422, r.text

    waiting, count = _waiting_row(pages, disaster)
    assert f'href="/cases/{disaster}"' in waiting and REASSIGNS["rotation"] in waiting, waiting
    assert REASSIGNS["rotation"].startswith("轮换规则：")
    assert f'<a class="button small secondary" href="/cases/{disaster}/schedule">改派</a>' in waiting
    assert count == before + 1
    assert REASSIGN_NOTES["rotation"] in pages.get(f"/cases/{disaster}/schedule").text
    r = pages.post(f"/cases/{disaster}/schedule", {"officer_1": off["off3"], "officer_2": off["off4"],
                                                   "vehicle": "车01", "visit_on": today, "reason": "轮换，换人核查"})
    assert r.status_code == 303, r.text
    waiting, count = _waiting_row(pages, disaster)
    assert f'href="/cases/{disaster}"' not in waiting and count == before
    r = _check(ctx, client, users.headers("off3"), disaster, [off["off3"], off["off4"]])
    assert r.status_code == 201, r.text


def test_a_small_countys_visit_the_rotation_rule_ended_says_the_supervisor_may_send_them_again(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county's only two officers, both visits scheduled by hand before either check: the second visit ends with
    the first check. The scheduling page says so, and that with no other officer to send the supervisor schedules them
    again by hand, saying why; done, they record."""
    from verifier.web.labels import REASSIGN_NOTES, REASSIGNS

    s, illness, disaster = _two_causes(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    team = [s.officer1.id, s.officer2.id]
    today = ctx.clock.today().isoformat()
    for case_id in (illness, disaster):
        r = client.post(f"/api/cases/{case_id}/schedule", headers=sup,
                        json={**_body(today, team), "reason": "本县仅有两名核查员"})
        assert r.status_code == 200, r.text
    ctx.clock.advance(minutes=30)
    r = client.post("/api/auth/login", json={"username": s.officer1.username, "password": "factory-password"})
    one = {"Authorization": f"Bearer {r.json()['token']}"}
    assert _check(ctx, client, one, illness, team).status_code == 201
    pages = Pages(client, users)
    pages.login("sup")
    waiting, _ = _waiting_row(pages, disaster)
    assert f'href="/cases/{disaster}"' in waiting and REASSIGNS["rotation_by_hand"] in waiting, waiting
    assert "请主管说明理由后手动重新安排" in REASSIGNS["rotation_by_hand"]
    assert REASSIGN_NOTES["rotation_by_hand"] in pages.get(f"/cases/{disaster}/schedule").text
    ctx.clock.advance(minutes=5)
    r = pages.post(f"/cases/{disaster}/schedule", {"officer_1": team[0], "officer_2": team[1],
                                                   "vehicle": _body(today, team)["vehicle"], "visit_on": today,
                                                   "reason": "本县仅有两名核查员，已核查该户因病案件"})
    assert r.status_code == 303, re.findall(r'class="error[^"]*"[^>]*>([^<]*)<', r.text)
    waiting, _ = _waiting_row(pages, disaster)
    assert f'href="/cases/{disaster}"' not in waiting
    assert _check(ctx, client, one, disaster, team).status_code == 201
