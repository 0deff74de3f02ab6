"""The case page says why each visit no longer current ended, derived from the case's record (visits do not keep
it): 已改期 for one replaced by a later visit, 未能核查 after a visit that came to nothing, 核查被退回 after its check
was sent back, 异议成立后撤销 after an upheld objection; not 已改期 for every one."""

from __future__ import annotations

import re

from door_kit import door_files
from factories import make_case, staff
from pagekit import FACTORY_PASSWORD, officers_of

from verifier.cases import service as case_service

COUNTY = "340223"


def _states(html: str) -> list[str]:
    """The 状态 cells of the case page's 走访安排 table, in order."""
    return re.findall(r'<td class="visit-state">([^<]*)</td>', html)


def _reschedule(ctx, case_id: str, why: str) -> None:  # type: ignore[no-untyped-def]
    other, sup = staff(ctx, COUNTY, 1), staff(ctx, COUNTY, 0).supervisor
    with ctx.db.begin() as session:
        case_service.schedule(session, case_id, officers=[other.officer1.id, other.officer2.id],
                              visit_on=ctx.clock.today(), vehicle="车09", principal=sup, clock=ctx.clock, reason=why)


def test_a_rescheduled_visit_and_one_that_came_to_nothing(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    moved = make_case(ctx, stage="scheduled", head_name="甲户主", team=0)
    _reschedule(ctx, moved, "原核查员病假")
    failed = make_case(ctx, stage="scheduled", head_name="乙户主", team=0)
    pages.login(officers_of(ctx, failed)[0], FACTORY_PASSWORD)
    day = re.search(r'name="visited_on" value="([0-9-]+)"', pages.get(f"/cases/{failed}/visit-attempt").text)
    assert day is not None
    r = pages.post(f"/cases/{failed}/visit-attempt", {"visited_on": day.group(1), "outcome": "not_home",
                                                      "note": "全家外出务工"}, files=door_files(day.group(1)))
    assert r.status_code == 303
    _reschedule(ctx, failed, "另派核查员")

    pages.as_("sup1", "insurer_supervisor")
    assert _states(pages.get(f"/cases/{moved}").text) == ["已改期", "当前安排"]
    assert _states(pages.get(f"/cases/{failed}").text) == ["未能核查", "当前安排"]
    # the API's case says it too, by code
    shown = pages.client.get(f"/api/cases/{failed}", headers=pages.users.headers("sup1")).json()
    assert [v["ended"] for v in shown["visits"]] == ["failed", None]


def test_a_visit_whose_check_was_sent_back(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="丙户主")
    pages.as_("sup1", "insurer_supervisor")
    r = pages.post(f"/cases/{case_id}/determination/send-back", {"reason": "家庭成员人数与户籍不符", "confirm": "yes"})
    assert r.status_code == 303
    assert _states(pages.get(f"/cases/{case_id}").text) == ["核查被退回"]


def test_a_visit_ended_by_an_upheld_objection(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", village="东村", head_name="丁户主", team=0)
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    assert pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    r = pages.post(notice_url + "/objections", {"case_id": case_id, "received_on": today, "summary": "家中有小轿车"})
    assert r.status_code == 303
    objection = re.search(r'action="/objections/(obj_\w+)/resolution"', pages.get(notice_url).text).group(1)  # type: ignore[union-attr]
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "upheld", "note": "核实有车", "confirm": "yes"})
    assert r.status_code == 303
    assert _states(pages.get(f"/cases/{case_id}").text) == ["异议成立后撤销"]
    _reschedule(ctx, case_id, "异议成立，另派核查员")
    assert _states(pages.get(f"/cases/{case_id}").text) == ["异议成立后撤销", "当前安排"]
