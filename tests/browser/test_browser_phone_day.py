"""A field officer's day on a 390 px phone (touch), and the supervisor at a desk: a check typed as a phone's keyboard
types it (full-width digits, ¥, 元, thousands commas) is sent once on a double tap and recorded; nobody home is
recorded from the visit card; the supervisor's 排期 shows what happened at that door and whose visits are late."""

from __future__ import annotations

from browserkit import log_in_at
from door_kit import door_photo

PHONE = {"width": 390, "height": 844}


def _phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    return context


def _posts(page) -> list[str]:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


def _sideways(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_a_check_typed_on_a_phone_keyboard_is_sent_once_and_recorded(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = _phone(browser)
    page = context.new_page()
    log_in_at(page, server, "officer1", "/visits")
    assert _sideways(page) == 0
    page.locator(".visit .go a", has_text="录入核查结果").first.tap()
    page.wait_for_url("**/check")
    assert _sideways(page) == 0
    back = page.locator("a", has_text="← 我的走访").bounding_box()
    assert back is not None and back["height"] >= 40  # the way back is a thumb's size

    page.select_option("#f-members-0-labour", "partial")
    page.fill("#f-income-wages", "￥１２，０００元")  # an IME in full-width mode, with the currency sign
    page.fill("#f-income-transfer_net", "1 200.5")
    page.fill("#f-rigid_expenditure-medical_self_paid", "８０００元")
    page.fill("#f-bills-0-amount", "8,000")
    page.fill("#f-bills-0-issuer", "县人民医院")
    page.fill("#f-bills-0-number", "ZY-88")
    page.locator("label.choice", has_text="无").tap()
    invalid = page.evaluate("[...document.querySelectorAll('main form :invalid')].map(e => e.name)")
    assert invalid == []  # the browser's own check lets all of it through
    posts = _posts(page)
    page.locator("button", has_text="提交核查结果").dblclick()  # a second tap on a slow network
    page.wait_for_url("**/cases/*?done=check")
    assert [p for p in posts if p.endswith("/check")] == [posts[0]] and len(posts) == 1
    assert "入户核查已提交" in page.inner_text(".flash.ok")
    body = page.inner_text("main")
    assert "12,000.00" in body and "1,200.50" in body and "8,000.00" in body
    assert _sideways(page) == 0
    page.locator("a", has_text="← 我的走访").tap()  # on to the day's next visit
    page.wait_for_url("**/visits")
    context.close()


def test_nobody_home_from_the_visit_card_and_the_supervisor_plans_again(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = _phone(browser)
    page = context.new_page()
    log_in_at(page, server, "officer3", "/visits")
    card = page.locator(".visit").first
    head = card.locator(".place").inner_text().split("户")[0]
    card.locator("a", has_text="未能核查").tap()
    page.wait_for_url("**/visit-attempt")
    assert _sideways(page) == 0
    page.locator("label.choice", has_text="家中无人").tap()
    page.fill("#f-note", "邻居说全家外出务工，约一周后回")
    # the door's photo, taken on the visit's day as the form gives it
    page.set_input_files("#f-photos", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                               "buffer": door_photo(page.input_value("#f-visited_on"))}])
    posts = _posts(page)
    page.locator("main form button[type=submit]").dblclick()
    page.wait_for_url("**/visits?done=attempt")
    assert len(posts) == 1
    assert "案件退回主管重新安排走访" in page.inner_text("main")
    context.close()

    desk = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    desk.set_default_timeout(10_000)
    page = desk.new_page()
    log_in_at(page, server, "supervisor", "/schedule")
    row = page.locator("#waiting ~ .table-wrap tr", has_text=head)
    assert "家中无人" in row.inner_text() and "邻居说全家外出务工" in row.inner_text()
    late = page.locator("#late")
    assert late.is_visible() and "已逾期" in late.inner_text()  # the demo's other overdue visits, with their officers
    assert head not in late.inner_text()  # the visit recorded is no longer owed
    desk.close()
