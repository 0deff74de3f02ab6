"""What the walk through every role's day left (README "A walk through every role's day…"), done and walked in
Chromium: a village meeting refused for its attendance keeps its scanned minutes (sent again without choosing the
file), claims chooses a batch's cases by search and village with the count and total following each tick (and kept
through Back, Forward and a reload), and the
search boxes of the lists an officer uses on a 390 px phone show their whole placeholder."""

from __future__ import annotations

import re
from pathlib import Path

from desk import FITS, Desk

CUT = """els => els.filter(e => e.offsetParent !== null && e.placeholder).map(e => {
  const cs = getComputedStyle(e); const c = document.createElement('canvas').getContext('2d'); c.font = cs.font;
  const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [e.id, e.placeholder, Math.ceil(c.measureText(e.placeholder).width), Math.floor(room)]; })"""


def test_a_refused_meeting_keeps_its_scan_and_is_sent_again_without_choosing_it(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    scan = tmp_path / "签到表.jpg"
    Image.new("RGB", (300, 400), "white").save(scan, "JPEG")
    desk = Desk.login_as(browser, server, "clerk", start="/meetings/new")
    try:
        desk.follow("main a[href^='/meetings/new?']")
        desk.page.set_viewport_size({"width": 390, "height": 844})  # on a clerk's phone the households' table scrolls
        assert desk.page.evaluate(FITS), "the meeting form is wider than a phone"  # in its box (hidden legends did not)
        desk.page.set_viewport_size({"width": 1280, "height": 900})
        rows = desk.page.locator("input[name^=case_]").count()
        desk.fill({"#f-venue": "村委会", "#f-members_expected": "7", "#f-attendees": "张三\n李四",
                   "#f-minutes": "逐户评议，均同意"})
        for n in range(1, rows + 1):
            desk.fill({f"input[name=result_{n}][value=pass]": True})
        desk.page.set_input_files("input[name=minutes_scan]", str(scan))
        with desk.refusal(422):
            assert desk.submit("form#meeting") == 1
        assert "不足应到 7 人的三分之二" in desk.text()
        assert "已上传：签到表.jpg（重新选择可替换）" in desk.text()
        assert desk.page.locator("#f-minutes_scan").evaluate("e => e.files.length") == 0
        desk.fill({"#f-attendees": "张三\n李四\n王五\n赵六\n钱七"})
        assert desk.submit("form#meeting", expect=r"/meetings/mtg_\w+\?done=meeting") == 1
        assert "查看扫描件" in desk.text()
    finally:
        desk.close()


def test_claims_finds_a_village_ticks_it_and_sees_the_count_and_total(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "claims", start="/payments")
    try:
        desk.follow("main a[href^='/payments/new?']")
        boxes = desk.page.locator("form[data-choose] input[type=checkbox][name=case_ids]")
        ready = boxes.count()
        assert ready >= 1
        count = desk.page.locator("[data-chosen-count]")
        assert count.inner_text() == str(ready)
        desk.page.locator("[data-pick=none]").click()  # no round trip: the rows shown cleared here
        assert count.inner_text() == "0" and desk.page.locator("[data-chosen-total]").inner_text() == "0.00 元"
        boxes.first.check()
        assert count.inner_text() == "1"
        total = desk.page.locator("[data-chosen-total]").inner_text()
        assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d 元", total) and total != "0.00 元"
        place = desk.page.locator("#f-place option").nth(1).get_attribute("value")
        desk.page.select_option("#f-place", place)
        assert desk.submit("form[data-choose]", button="form[data-choose] button[value=find]") == 1
        assert desk.page.locator("[data-chosen-count]").inner_text() == "1"  # the choice kept by the server
        assert desk.page.locator("[data-chosen-total]").inner_text() == total
        # Back onto the page ticked by hand, Forward onto the search's answer (a GET address, app.js): each is loaded
        # anew, every case chosen by the server, and takes back the choice it showed
        for move in (desk.page.go_back, desk.page.go_forward, desk.page.reload):
            move()
            assert desk.page.locator("[data-chosen-count]").inner_text() == "1", move
            assert desk.page.locator("[data-chosen-total]").inner_text() == total, move
        assert desk.page.locator("form[data-choose] input[name=case_ids]:checked").count() <= 1
    finally:
        desk.close()


def test_the_phone_lists_of_an_officer_show_their_whole_search_hint(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer1", phone=True, start="/")
    try:
        measured = []
        for path in ("/cases", "/visits", "/followups", "/need-referrals"):
            desk.go(path)
            boxes = desk.page.locator("input[type=search], input[type=text][name=q]")
            measured += [(path, *b) for b in boxes.evaluate_all(CUT)]
        assert len(measured) >= 7 and {m[2] for m in measured} >= {"姓名、身份证号（或后4位）、案件编号"}, measured
        assert [m for m in measured if m[3] > m[4]] == [], "a placeholder cut on the phone"
        assert desk.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        desk.close()
