"""Every role's everyday pages walked once more in Chromium (README "A walk through every role's day, in an English
browser too"): a village meeting and its notice entered by a clerk whose browser speaks English, the notice's
objection phone refused beside its field with its hidden part opened and what was typed kept, the meeting's scanned
minutes opened alone without a 404 for the icon, names in a phone's case list read whole, and the officer's home
counting the overdue visits that 我的走访 shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from desk import Desk


@pytest.fixture(scope="module")
def clerk(server, browser):  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "clerk", start="/meetings/new", locale="en-US")
    yield desk
    desk.close()


def test_a_meeting_and_its_notice_from_an_english_browser(clerk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    scan = tmp_path / "签到表.jpg"
    Image.new("RGB", (300, 400), "white").save(scan, "JPEG")
    desk = clerk
    desk.follow("main a[href^='/meetings/new?']")  # the village awaiting its meeting
    day = desk.page.locator("#f-held_on").input_value()
    rows = desk.page.locator("input[name^=case_]").count()
    desk.fill({"#f-venue": "村委会", "#f-members_expected": "７", "#f-attendees": "张三（村支书）\n李四\n王五\n赵六\n钱七",
               "#f-minutes": "逐户评议，均同意"})
    for n in range(1, rows + 1):
        desk.fill({f"input[name=result_{n}][value=pass]": True})
    desk.page.set_input_files("input[name=minutes_scan]", str(scan))
    assert desk.submit("form#meeting", expect=r"/meetings/mtg_\w+\?done=meeting") == 1
    # the scanned minutes opened alone: the browser asks /favicon.ico by itself, and finds the icon
    scan_link = desk.page.locator("main a[href*='/minutes/']").first.get_attribute("href")
    desk.page.goto(desk.base + scan_link)
    desk.page.wait_for_load_state("load")
    desk.page.wait_for_timeout(300)
    assert [m for m in desk.console if "404" in m] == []
    desk.console.clear()
    desk.failures.clear()

    desk.go("/notices")
    desk.follow("main a.button[href^='/notices/new?']")
    assert desk.page.locator("form[action='/notices/new'] details").get_attribute("open") is None
    desk.page.locator("form[action='/notices/new'] summary").click()
    desk.fill({"#f-posted_on": day.replace("-", "/"), "#f-objection_phone": "0556-abc", "#f-number": "城政〔2026〕12号"})
    with desk.refusal(422):
        assert desk.submit("form[action='/notices/new']") == 1
    assert "电话号码只能填写数字和短横线" in desk.page.locator("#objection_phone-error").inner_text()
    assert desk.page.locator("form[action='/notices/new'] details").get_attribute("open") is not None
    assert desk.page.locator("#f-number").input_value() == "城政〔2026〕12号"
    assert desk.page.locator("#f-posted_on").input_value() == day.replace("-", "/")
    desk.fill({"#f-objection_phone": "０５５６－５２０１２３４"})  # typed with a full-width input method
    assert desk.submit("form[action='/notices/new']", expect=r"/notices/ntc_\w+\?done=notice") == 1
    assert "0556-5201234" in desk.text()


def test_names_in_the_phone_case_list_are_read_whole(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer1", phone=True, start="/cases")
    try:
        heads = desk.page.locator("main table tbody tr td:nth-child(2) a:first-child")
        assert heads.count() > 10
        lines = heads.evaluate_all("as => as.map(a => [a.innerText, a.getClientRects().length])")
        assert [h for h, n in lines if n != 1] == [], "a name broken over lines on a phone"
        assert desk.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the table scrolls in its box
    finally:
        desk.close()


def test_the_officer_home_counts_the_overdue_visits_the_visits_page_shows(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer1", phone=True, start="/")
    try:
        cards = dict(desk.page.locator("main .card").evaluate_all(
            "cs => cs.filter(c => c.querySelector('.count')).map(c => [c.querySelector('.title').innerText, "
            "Number(c.querySelector('.count').innerText)])"))
        desk.go("/visits")
        headings = desk.page.locator("main h2").all_inner_texts()
        shown = {re.sub(r"（\d+）$", "", h): int(re.search(r"（(\d+)）$", h).group(1)) for h in headings
                 if re.search(r"（\d+）$", h)}
        overdue = shown.get("已超过核查期限", 0) + shown.get("已过走访日期，尚未录入", 0)
        assert overdue >= 1  # the demo has a visit planned after its check's due date
        assert cards["逾期未核查"] == overdue
        assert cards["今天的走访"] == shown.get("今天", 0) and cards["之后的走访"] == shown.get("之后", 0)
    finally:
        desk.close()
