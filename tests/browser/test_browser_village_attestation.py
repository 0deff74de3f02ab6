"""In Chromium: the clerk's village review meeting form asks for the body's size, the attendees by name and the
signed minutes' scan, and refuses a meeting short of two thirds; the notice the demo's one clerk posted waits on the
wall for a second person: the insurer's officers who checked its households are told someone else confirms, and the
county reviewer, in the village, photographs it and confirms it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from desk import Desk
from village_kit import minutes_scan, wall_photo


def test_the_clerks_meeting_form_needs_its_quorum_and_its_signed_minutes(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "clerk", start="/meetings/new")
    desk.follow("main a[href^='/meetings/new?']")
    page = desk.page
    box = page.locator("#f-members_expected")
    assert (box.get_attribute("type"), box.get_attribute("inputmode")) == ("text", "numeric")
    desk.fill({"#f-venue": "南村村委会会议室", "#f-members_expected": "９",  # typed by a Chinese input method
               "#f-attendees": "刘建国（村支书）\n陈志强（村主任）\n杨秀英（村民代表）", "#f-minutes": "逐户评议，举手表决。"})
    for radio in page.locator("#meeting input[type=radio][value=pass]").all():
        radio.check()
    scan = [{"name": "评议会记录.pdf", "mimeType": "application/pdf", "buffer": minutes_scan()}]
    # Without the scan the browser itself stops the form (the field is required).
    assert desk.submit("#meeting", blocked=True) == 0
    page.set_input_files("#f-minutes_scan", files=scan)
    with desk.refusal(422):
        assert desk.submit("#meeting", double=False) == 1
    said = desk.text()
    assert "实到 3 人（按姓名计），不足应到 9 人的三分之二（至少 6 人）" in said
    assert page.locator("#f-attendees").input_value().startswith("刘建国")  # what was typed comes back
    desk.fill({"#f-attendees": "刘建国（村支书）\n陈志强（村主任）\n杨秀英（村民代表）\n黄德明（村民代表）\n"
                               "周桂兰（村民代表）\n吴永福（驻村工作队）"})
    for radio in page.locator("#meeting input[type=radio][value=pass]").all():
        radio.check()
    page.set_input_files("#f-minutes_scan", files=scan)  # a file is chosen again after a refusal
    assert desk.submit("#meeting", expect=r"/meetings/mtg_\w+\?done=meeting$") == 1
    shown = desk.text()
    assert "应到 9 人，实到 6 人" in shown and "查看扫描件" in shown
    desk.close()


def test_the_county_reviewer_confirms_the_notice_on_the_wall(server, browser) -> None:  # type: ignore[no-untyped-def]
    clerk = Desk.login_as(browser, server, "clerk", start="/notices?posting=unconfirmed")
    assert "张贴待确认" in clerk.text()
    clerk.follow("main table a[href^='/notices/ntc_']")
    notice = clerk.path.split("?")[0]
    assert "公示由您发布，张贴须由另一人确认" in clerk.text("#posting")
    assert clerk.page.locator("#confirm-posting").count() == 0
    clerk.close()

    officer = Desk.login_as(browser, server, "officer1", start=notice)  # checked some of its households
    assert "入户核查或核定（含安排走访、选派核查员或退回核查），张贴须由另一人确认" in officer.text("#posting")
    assert officer.page.locator("#confirm-posting").count() == 0
    officer.close()

    officer = Desk.login_as(browser, server, "reviewer", start="/")
    assert "公示张贴待第二人确认" in officer.text()
    officer.go(notice)
    period = re.search(r"在公示期内（(\d{4}-\d{2}-\d{2}) 至 (\d{4}-\d{2}-\d{2})）", officer.text("#posting"))
    assert period is not None
    posted_on = date.fromisoformat(period.group(1))
    page = officer.page
    page.set_input_files("#f-photo", files=[{"name": "公示栏.jpg", "mimeType": "image/jpeg",
                                             "buffer": wall_photo(posted_on + timedelta(days=1))}])
    assert officer.submit("#wall-photo-form", double=False, expect=r"done=wall_photo") == 1
    # the demo's open notice ended weeks ago: a photo with a camera day in its period, sent only now, does not
    # count (a phone's clock set back would make one), and the page says why
    assert "公示期满 3 天后才上传，不计入" in officer.text("#wall-photos")
    officer.fill({"#f-note": "到村时看到公示贴在村务公开栏，村委会出具了书面说明", "#undated-choice input": True,
                  "#confirm-posting input[name=confirm]": True})
    assert officer.submit("#confirm-posting", expect=r"done=posting_confirmed") == 1
    said = officer.text("#posting")
    assert "已确认张贴" in said and "村委会出具了书面说明" in said and "无公示期内照片" in said
    assert officer.page.locator("#confirm-posting").count() == 0
    officer.close()
