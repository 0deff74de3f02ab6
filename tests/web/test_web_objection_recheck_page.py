"""An upheld objection on the pages: the clerk who upholds it is told where the case goes (back to be scheduled, by
other officers), and the supervisor's scheduling page says, before any pick, that the objection was upheld and which
officers may not make the re-check, each marked in the lists (the form refused them only once sent)."""

from __future__ import annotations

import re

from factories import make_case, staff
from pagekit import status_of

COUNTY = "340223"


def test_the_upheld_objection_is_explained_to_the_clerk_and_to_the_supervisor(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", village="东村", head_name="甲户主", team=0)
    team0, team1 = staff(ctx, COUNTY, 0), staff(ctx, COUNTY, 1)
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    assert pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    text = pages.get(notice_url).text
    assert "异议成立（撤出名单，退回由其他核查员重新核查）" not in text  # no objection yet: no resolution form
    r = pages.post(notice_url + "/objections", {"case_id": case_id, "received_on": today, "summary": "家中有小轿车"})
    assert r.status_code == 303
    text = pages.get(notice_url).text
    assert "异议成立（撤出名单，退回由其他核查员重新核查）" in text
    objection = re.search(r'action="/objections/(obj_\w+)/resolution"', text).group(1)
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "upheld", "note": "核实有车", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == notice_url + "?done=objection_upheld"
    assert status_of(ctx, case_id) == "screened"
    shown = pages.get(r.headers["location"]).text
    assert "异议成立：该户已撤出名单，案件退回待排期，由保险公司主管另派核查员重新入户核查" in shown

    pages.as_("sup2", "insurer_supervisor")
    listed = pages.get("/schedule").text  # the waiting list marks the case, and only it
    assert listed.count("异议成立，须另派核查员") == 1
    row = listed.split(f'href="/cases/{case_id}"')[1].split("</tr>")[0]
    assert "异议成立，须另派核查员" in row
    text = pages.get(f"/cases/{case_id}/schedule").text
    panel = text.split('id="objection-recheck"')[1].split("</div>")[0]
    assert "本案公示期间异议成立，须由其他核查员重新入户核查" in panel
    for officer in (team0.officer1, team0.officer2):
        name = f"{officer.display_name}（{officer.username}）"
        assert f"{name}：参加过异议成立的核查" in panel
        assert f'value="{officer.id}">{name}（不能安排：参加过异议成立的核查）' in text
    free = team1.officer1
    assert free.username not in panel
    assert f'value="{free.id}">{free.display_name}（{free.username}）</option>' in text

    # sent anyway: refused at the field, as before, and the page still says why
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team0.officer1.id, "officer_2": free.id,
                                                  "visit_on": today, "vehicle": "车09", "reason": "熟悉该户"})
    assert r.status_code == 422 and "该核查员参加过异议成立的核查" in r.text and 'id="objection-recheck"' in r.text

    # a case with no upheld objection shows no such panel, and no officer marked
    other = make_case(ctx, stage="screened", team=1)
    text = pages.get(f"/cases/{other}/schedule").text
    assert 'id="objection-recheck"' not in text and "不能安排" not in text


def test_a_dismissed_objection_says_it_was_dealt_with(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", village="东村", head_name="乙户主")
    pages.as_("clerk1", "town_clerk")
    pages.as_("clerk2", "town_clerk")  # who dismisses it is not who recorded it
    today = clock.today().isoformat()
    pages.as_("clerk1", "town_clerk")
    assert pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    assert pages.post(notice_url + "/objections", {"case_id": case_id, "received_on": today,
                                                   "summary": "反映有车"}).status_code == 303
    objection = re.search(r'action="/objections/(obj_\w+)/resolution"', pages.get(notice_url).text).group(1)
    pages.as_("clerk2", "town_clerk")
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "dismissed", "note": "车辆已转让"})
    assert r.status_code == 303 and r.headers["location"] == notice_url + "?done=resolved", r.text
    assert status_of(ctx, case_id) == "in_notice"


def test_after_a_check_sent_back_the_page_names_the_second_account_and_the_old_visit_is_no_work(  # type: ignore[no-untyped-def]
        pages, ctx, clock) -> None:
    """The same panel after a check sent back, naming the officers' second accounts (linked by a password) too; and
    the sent-back visit, were it still held (an old case's), is on no officer's list, its check page and photos
    refused (the photos on 回避拦截记录)."""
    import json

    from sqlalchemy import func, select

    from verifier.audit.models import AuditEntry
    from verifier.domain.objection_recheck import OWN_STALE
    from verifier.store.tables import Case, Evidence, User, Visit

    case_id = make_case(ctx, stage="checked", head_name="丙户主", team=0)
    team0 = staff(ctx, COUNTY, 0)
    pages.as_("sup3", "insurer_supervisor")
    r = pages.client.post(f"/api/cases/{case_id}/send-back", headers=pages.users.headers("sup3"),
                          json={"reason": "票据金额不符"})
    assert r.status_code == 200, r.text
    pal = pages.users.add("pal", "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:
        session.get(User, pal).password_set_by = team0.officer1.id
    pages.as_("sup3", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}/schedule").text
    panel = text.split('id="objection-recheck"')[1].split("</div>")[0]
    assert "本案的核查已被退回，须由其他核查员重新入户核查。" in panel and "异议成立" not in panel
    assert f"{team0.officer1.display_name}（{team0.officer1.username}）：参加过被退回的核查" in panel
    assert "（pal）：账号与参加过被退回的核查的核查员有密码关联" in panel
    assert "（pal）（不能安排：账号与参加过被退回的核查的核查员有密码关联）" in text

    with ctx.db.begin() as session:  # as an old case's: its visit still active, the case scheduled
        session.get(Case, case_id).status = "scheduled"
        session.scalars(select(Visit).where(Visit.case_id == case_id)).one().active = True
    pages.login(team0.officer1.username, "factory-password")
    assert f"/cases/{case_id}" not in pages.get("/visits").text
    assert f'href="/cases/{case_id}/check"' not in pages.get(f"/cases/{case_id}").text  # no 录入核查 offered
    r = pages.get(f"/cases/{case_id}/check")
    assert r.status_code == 403 and OWN_STALE in r.text
    r = pages.post(f"/cases/{case_id}/check", {"visited_on": clock.today().isoformat()},
                   files={"photos": ("door.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")})
    assert r.status_code == 403 and OWN_STALE in r.text
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Evidence).where(Evidence.case_id == case_id)) == 0
        kept = [json.loads(e)["payload"] for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.action == "recusal.refused", AuditEntry.actor == team0.officer1.id))]
    assert [(k["step"], k["why"]) for k in kept] == [("evidence", "sent_back")]

    # the supervisor's list of late visits says it is to be scheduled anew
    clock.advance(days=1)
    pages.as_("sup3", "insurer_supervisor")
    late = pages.get("/schedule").text.split('id="late"')[1].split("</section>")[0]
    row = late.split(f'href="/cases/{case_id}"')[1].split("</tr>")[0]
    assert "该走访已失效，须另派核查员" in row and f'href="/cases/{case_id}/schedule"' in row
