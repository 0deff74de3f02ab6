"""The finance desk in Chromium: a double click on 审批通过 approves the batch once (it never cancels it), and
cancelling a batch takes a ticked confirmation in its own panel. Also: 退出, then Back, shows no case page."""

from __future__ import annotations

import re
from pathlib import Path

from browserkit import log_in_at

DESK = {"width": 1280, "height": 900}
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_double_click_on_approve_approves_once_and_cancel_needs_a_confirmation(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    log_in_at(page, server, "finance1", "/payments?todo=approve")
    page.click("a[href^='/payments/pb_']")
    page.wait_for_url(re.compile(r".*/payments/pb_\w+$"))
    url = page.url
    assert page.locator("h1 .badge").inner_text() == "待审批"
    _shot(page, "batch-to-approve.png")

    posts.clear()
    page.check("#approve input[name=confirm]")
    page.dblclick("#approve button[type=submit]")
    page.wait_for_url(url + "?done=batch_approved")
    page.wait_for_load_state("load")
    assert page.locator("h1 .badge").inner_text() == "已审批"
    assert "批次已审批" in page.content() and "批次已撤销" not in page.content()
    assert [p for p in posts if p.endswith("/cancel")] == []  # the second click cancelled nothing
    assert len([p for p in posts if p.endswith("/approve")]) == 1
    _shot(page, "batch-approved.png")

    # Cancelling: the button alone does nothing (the box is required), in its own panel below the items.
    cancel = page.locator("#cancel button[type=submit]")
    assert page.locator("#cancel").bounding_box()["y"] > page.locator("#items").bounding_box()["y"]
    posts.clear()
    cancel.dblclick()
    assert [p for p in posts if p.endswith("/cancel")] == []
    assert page.evaluate("document.querySelector('#cancel input[name=confirm]').validity.valueMissing")
    page.reload()
    assert page.locator("h1 .badge").inner_text() == "已审批"
    page.check("#cancel input[name=confirm]")
    _shot(page, "batch-cancel-confirmed.png")
    page.click("#cancel button[type=submit]")
    page.wait_for_url(url + "?done=batch_cancelled")
    assert page.locator("h1 .badge").inner_text() == "已撤销"
    assert blocked == []
    context.close()


def test_after_logging_out_back_shows_no_case_page(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in_at(page, server, "supervisor", "/cases?status=paid")
    page.click("#results tbody a[href^='/cases/case_']")
    page.wait_for_url(re.compile(r".*/cases/case_\w+$"))
    head = page.locator("h1").inner_text().split("户")[0]
    assert head and "支付" in page.content()
    pay = page.locator("#payments")
    assert "已发放" in pay.inner_text() or "已对账" in pay.inner_text()
    history = page.locator("h2:has-text('办理记录') + .table-wrap").inner_text()
    assert "审批支付批次" in history and "payment_batch" not in history and "usr_" not in history
    _shot(page, "case-payments.png")

    page.goto(server + "/logout")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login.*"))
    page.go_back()
    page.wait_for_load_state("load")
    assert head not in page.content()
    context.close()


def test_upholding_an_objection_needs_its_confirmation(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESK, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in_at(page, server, "clerk", "/notices?status=open")
    page.click("main table a[href^='/notices/']")
    page.wait_for_url(re.compile(r".*/notices/\w+$"))
    notice = page.url
    page.select_option("#f-case_id", index=1)
    page.fill("#f-summary", "村民反映该户家中有营运车辆")
    page.click("#objection button[type=submit]")
    page.wait_for_url(notice + "?done=objection")

    form = page.locator("form[action$='/resolution']")
    form.locator("input[value=upheld]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").dblclick()
    page.wait_for_load_state("load")
    assert "请勾选确认框" in page.content() and "待处理" in page.content()
    _shot(page, "objection-needs-confirmation.png")
    form = page.locator("form[action$='/resolution']")
    form.locator("input[value=upheld]").check()
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(notice + "?done=objection_upheld")
    assert "异议成立" in page.content() and "另派核查员重新入户核查" in page.content()
    context.close()
