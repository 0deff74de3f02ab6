"""What a clerk, a county reviewer and a finance officer meet on an ordinary day, read as they read it: a county by
its name, not its code alone."""

from __future__ import annotations

import re

from factories import make_case
from pagekit import status_of
from village_kit import ATTENDEES, MEMBERS, meeting_files


def test_the_fund_page_names_the_contracts_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("fin-day", "finance")
    fund = pages.get("/fund").text
    line = re.search(r"合同 demo-2020 · 县（区）([^·<]*)·", fund)
    assert line and line.group(1).strip() == "示范县（340223）", line and line.group(0)


def test_the_household_file_names_its_county_and_says_when_no_phone_is_known(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened", head_name="钱日常")
    pages.as_("rev-day", "county_reviewer")
    household = re.search(r'href="(/households/hh_\w+)"', pages.get(f"/cases/{case_id}").text).group(1)
    facts = re.search(r'<dl class="facts">(.*?)</dl>', pages.get(household).text, re.S).group(1)
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", facts))
    assert shown["县（区）"] == "示范县（340223）" and "县（区）代码" not in shown
    assert shown["联系电话"] == "未登记"  # not an empty line that reads as a page fault


def test_the_meeting_and_the_household_file_have_a_way_back(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A saved village meeting leads the clerk back to the villages still waiting; anyone else, and the household
    file, back to the case list; the case list and the meetings held as this tab last showed them (`data-list`:
    app.js puts back the filters, search and page it kept for that list)."""
    ids = [make_case(ctx, village="东村")]
    pages.as_("clerk-day", "town_clerk")
    r = pages.post("/meetings/new", {"county_code": "340223", "town": "城关镇", "village": "东村",
                                     "held_on": "2020-06-01", "venue": "东村村委会", "attendees": ATTENDEES,
                                     "members_expected": MEMBERS, "minutes": "逐户评议。", "case_1": ids[0],
                                     "result_1": "pass"}, files=meeting_files())
    assert r.status_code == 303, r.text
    meeting = r.headers["location"].split("?")[0]
    shown = pages.get(meeting).text
    assert '<a href="/meetings/new" data-list="/meetings/new">← 村级评议会（待评议的村）</a>' in shown
    assert '<a href="/meetings" data-list="/meetings">已召开的村级评议会</a>' in shown
    pages.as_("rev-back", "county_reviewer")
    assert re.search(r'id="way-back"><a href="/cases" data-list="/cases">← 案件列表</a>', pages.get(meeting).text)
    household = re.search(r'href="(/households/hh_\w+)"', pages.get(f"/cases/{ids[0]}").text).group(1)
    assert re.search(r'id="way-back"><a href="/cases" data-list="/cases">← 案件列表</a>', pages.get(household).text)


def test_screening_out_asks_for_the_confirmation_box(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """不通过 closes the case for good: a tired click on the wrong choice, even with a reason typed, changes nothing
    until the box is ticked; every mistake is told at once and what was typed comes back; 通过 needs no box."""
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk-screen", "town_clerk")
    form = re.search(r'<form[^>]*id="screening".*?</form>', pages.get(f"/cases/{case_id}").text, re.S).group(0)
    assert 'name="confirm" value="yes"' in form and "确认结案（不能撤回）" in form
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject"})
    assert r.status_code == 422 and "不通过时须填写原因" in r.text and "不通过将结案，不能撤回：请勾选确认框" in r.text
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject", "reason": "家庭有稳定工资收入"})
    assert r.status_code == 422 and 'id="confirm-error"' in r.text
    assert "家庭有稳定工资收入</textarea>" in r.text and 'value="reject" checked' in r.text
    assert status_of(ctx, case_id) == "received"
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject", "reason": "家庭有稳定工资收入",
                                                    "confirm": "yes"})
    assert r.status_code == 303 and status_of(ctx, case_id) == "screened_out"
    other = make_case(ctx, stage="received")
    assert pages.post(f"/cases/{other}/screening", {"decision": "pass"}).status_code == 303


def test_the_sampling_parameters_table_names_the_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-params", "county_reviewer")
    text = pages.get("/sampling").text
    assert "<tr><td>demo-2020</td><td>示范县（340223）</td>" in text


def test_the_household_files_names_days_and_times_are_read_whole_on_a_phone(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """At 390 px the file's tables broke 李秀/英 and 2026-/10-07 over two lines (the case list's names were kept
    whole already): a name, a day and a time cell is `td.name` (or `.when`), which never wraps."""
    case_id = make_case(ctx, stage="checked", head_name="钱日常")
    pages.as_("rev-whole", "county_reviewer")
    household = re.search(r'href="(/households/hh_\w+)"', pages.get(f"/cases/{case_id}").text).group(1)
    page = pages.get(household).text
    members = page.split('id="section-members"')[1].split("</table>")[0]
    assert '<td class="name">钱日常</td>' in members
    checks = page.split('id="section-checks"')[1].split("</table>")[0]
    assert re.search(r'<td class="name">\d{4}-\d\d-\d\d</td>', checks), checks
    timeline = page.split('id="timeline"')[1].split("</table>")[0]
    assert re.search(r'<td class="when">\d{4}-\d\d-\d\d \d\d:\d\d</td>', timeline)
    assert '<td class="name">身份证号' not in page  # other cells are as they were


def test_the_notices_list_reads_its_meeting_and_status_whole_on_a_phone(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The notice's 名单 on a 390 px phone broke 评议会 2026-/10-/16 and 公示/中 a character or a few a line, each
    row 143 px tall: the meeting's link and the status are read whole (the table scrolls in its box)."""
    from factories import staff

    from verifier.notices import service as notices

    ids = [make_case(ctx, village="东村")]
    pages.as_("clerk-wall", "town_clerk")
    r = pages.post("/meetings/new", {"county_code": "340223", "town": "城关镇", "village": "东村",
                                     "held_on": "2020-06-01", "venue": "东村村委会", "attendees": ATTENDEES,
                                     "members_expected": MEMBERS, "minutes": "逐户评议。", "case_1": ids[0],
                                     "result_1": "pass"}, files=meeting_files())
    assert r.status_code == 303, r.text
    with ctx.db.begin() as session:
        notice = notices.post_notice(session, notices.NoticeRequest(county_code="340223", town="城关镇", village="东村",
                                                                    posted_on=ctx.clock.today()),
                                     principal=staff(ctx).clerk, clock=ctx.clock)
    listed = pages.get(f"/notices/{notice.id}").text.split("<h2>名单</h2>")[1].split("</table>")[0]
    assert re.search(r'<a class="when" href="/meetings/mtg_\w+">评议会 2020-06-01</a>', listed), listed
    assert '<td class="name">公示中</td>' in listed


def test_the_notices_list_marks_the_notice_with_objections_to_resolve(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """待处理异议 1 on the clerk's home led to every open notice, none saying which had the objection: the clerk opened
    each. The list marks the notice whose objections wait (how many), linked to its 异议; a notice without, no mark."""
    a = make_case(ctx, stage="determined", village="东村", head_name="甲异议")
    b = make_case(ctx, stage="determined", village="西村", head_name="乙无异议")
    pages.as_("clerk-obj", "town_clerk")
    today = clock.today().isoformat()
    urls = []
    for case_id, village in ((a, "东村"), (b, "西村")):
        assert pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass"}).status_code == 303
        r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": village,
                                        "posted_on": today})
        urls.append(r.headers["location"].split("?")[0])
    for summary in ("家中有营运车辆", "家中有人在外务工"):
        r = pages.post(urls[0] + "/objections", {"case_id": a, "received_on": today, "summary": summary})
        assert r.status_code == 303, r.text
    listed = pages.get("/notices", params={"status": "open"}).text
    marks = re.findall(r'<a class="badge no" href="(/notices/ntc_\w+)#objections">待处理异议 (\d+) 条</a>', listed)
    assert marks == [(urls[0], "2")], marks
    assert f'href="{urls[0]}#objections"' in listed and 'id="objections"' in pages.get(urls[0]).text
