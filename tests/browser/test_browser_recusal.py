"""回避申报 in a real browser: an officer opens it from the header of any page, declares his mother's ID number, sees
it masked, and asks for its removal (which waits for an admin); no script is blocked by the page's policy."""

from __future__ import annotations

from datetime import date

from browserkit import log_in_at

from verifier.domain.idnumber import make_id_number
from verifier.domain.masking import mask_id


def test_an_officer_declares_his_mother_and_sees_her_number_masked(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        log_in_at(page, server, "officer3", "/")
        page.click("header a[href='/account/recusal']")
        page.wait_for_url(server + "/account/recusal")
        assert "我的回避申报" in page.content()
        mother = make_id_number("340223", date(1950, 2, 3), 412)
        page.select_option("#f-relation", "parent")
        page.fill("#f-id_number", mother)
        page.click("form[action='/account/recusal'] button[type=submit]")
        page.wait_for_selector("#recusal-entries")
        html = page.content()
        assert mask_id(mother) in html and mother not in html and "父母" in html
        page.fill("#recusal-entries input[name=reason]", "填错了")
        page.click("#recusal-entries button[type=submit]")
        page.wait_for_selector("text=待另一位管理员确认")
        assert mask_id(mother) in page.content()  # still in force until an admin confirms
        assert blocked == []
    finally:
        page.close()
