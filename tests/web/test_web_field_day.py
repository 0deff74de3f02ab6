"""A field officer's day with nobody home at a door, and the supervisor planning the next visit: the visit card offers
未能核查 beside 录入核查结果 (no need to open the long check form first), and the supervisor's 待排期 list says what
happened at the last visit (day, outcome, the officers' note, how many visits came to nothing)."""

from __future__ import annotations

import re

from door_kit import door_files
from factories import free_team, make_case, staff
from pagekit import FACTORY_PASSWORD, officers_of, status_of


def _schedule_row(html: str, case_id: str) -> str:
    row = re.search(r'<tr><td><a href="/cases/' + case_id + r'">.*?</tr>', html, re.S)
    assert row is not None
    return row.group(0)


def test_nobody_home_is_recorded_from_the_visit_card_and_told_to_the_supervisor(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled", head_name="钱秋生")
    untried = make_case(ctx, stage="screened", head_name="孙冬梅")
    officer = officers_of(ctx, case_id)[0]
    pages.login(officer, FACTORY_PASSWORD)
    card = pages.get("/visits").text.split(f'id="visit-{case_id}"')[1].split('<div class="visit')[0]
    assert f'href="/cases/{case_id}/check"' in card and f'href="/cases/{case_id}/visit-attempt"' in card
    assert "未能核查（家中无人、拒绝等）" in card
    visited = pages.get(f"/cases/{case_id}/visit-attempt").text
    day = re.search(r'name="visited_on" value="([0-9-]+)"', visited)
    assert day is not None
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": day.group(1), "outcome": "not_home",
                                                       "note": "邻居说全家外出务工，约一周后回"},
                   files=door_files(day.group(1)))
    assert r.status_code == 303 and status_of(ctx, case_id) == "screened"

    pages.as_("planner", "insurer_supervisor")
    html = pages.get("/schedule").text
    assert "<th>上次走访</th>" in html
    row = _schedule_row(html, case_id)
    assert day.group(1) in row and "家中无人" in row and "邻居说全家外出务工，约一周后回" in row
    assert "第 " not in row  # the first visit that came to nothing: no count
    assert "家中无人" not in _schedule_row(html, untried)

    # planned again, and nobody home again: the list counts the visits that came to nothing
    team = staff(ctx, team=free_team(ctx))
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team.officer1.id, "officer_2": team.officer2.id,
                                                  "vehicle": "车03", "visit_on": day.group(1),
                                                  "reason": "原核查员请假"})
    assert r.status_code == 303 and status_of(ctx, case_id) == "scheduled"
    pages.login(team.officer1.username, FACTORY_PASSWORD)
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": day.group(1), "outcome": "refused", "note": ""},
                   files=door_files(day.group(1)))
    assert r.status_code == 303 and status_of(ctx, case_id) == "screened"
    pages.login("planner")
    row = _schedule_row(pages.get("/schedule").text, case_id)
    assert "拒绝核查（第 2 次未能核查）" in row and "邻居说" not in row  # the latest visit's outcome and note


def test_the_supervisor_sees_whose_visits_are_late(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import update

    from verifier.store.tables import Visit

    late = make_case(ctx, stage="scheduled", head_name="郑迟到")
    on_time = make_case(ctx, stage="scheduled", head_name="冯准时")
    officers = officers_of(ctx, late)
    today = clock.today()
    with ctx.db.begin() as session:  # the visit was planned for three days ago, due yesterday; nothing recorded since
        session.execute(update(Visit).where(Visit.case_id == late, Visit.active.is_(True))
                        .values(visit_on=today - timedelta(days=3), due_on=today - timedelta(days=1)))
        session.execute(update(Visit).where(Visit.case_id == on_time, Visit.active.is_(True))
                        .values(visit_on=today, due_on=today + timedelta(days=5)))
    pages.as_("planner2", "insurer_supervisor")
    html = pages.get("/schedule").text
    assert 'id="late"' in html
    section = html.split('id="late"')[1].split("</section>")[0]
    row = re.search(r'<tr><td><a href="/cases/' + late + r'">.*?</tr>', section, re.S)
    assert row is not None and "郑迟到" in row.group(0)
    assert "已过 3 天" in row.group(0) and "已逾期 1 天" in row.group(0)
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert cells[2].count("、") == 1 and all(o in cells[2] for o in officers)  # the pair who owe the visit
    assert "冯准时" not in section
    pages.as_("planner-other", "insurer_supervisor", counties=("999999",))  # another county's supervisor
    assert "郑迟到" not in pages.get("/schedule").text
