"""The browser's own check of a field before sending (required, pattern) speaks Chinese, whatever language the
browser itself is set to: Debian's Chromium here speaks English ("Please fill out this field."), as a clerk's
borrowed computer may."""

from __future__ import annotations

from browserkit import log_in_at


def _message(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return page.eval_on_selector(selector, "el => el.validationMessage")


def test_a_field_the_browser_refuses_says_why_in_chinese_and_lets_go_once_corrected(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        log_in_at(page, server, "supervisor", "/schedule")
        page.fill("#f-days", "abc")
        page.locator("form[action='/schedule/plan'] button[type=submit]").first.click()
        assert _message(page, "#f-days") == "请填写排期天数（整数，最多两位）"
        assert page.url.endswith("/schedule")  # nothing was sent
        page.fill("#f-days", "5")
        assert _message(page, "#f-days") == ""  # corrected: the field is valid again

        page.goto(server + "/schedule")
        page.click("a:has-text('手动安排')")
        page.wait_for_url("**/schedule")
        page.click("main form button[type=submit]")
        messages = page.eval_on_selector_all("main form select, main form input:not([type=hidden])",
                                             "els => els.map(e => e.validationMessage).filter(Boolean)")
        assert messages and all(m in ("请选择一项", "请填写此项") for m in messages), messages
    finally:
        page.close()
