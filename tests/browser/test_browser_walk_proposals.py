"""A merge or move proposal walked by the people who answer it, in Chromium: the supervisor proposes a member's move
from a case and withdraws it with a double click (one POST), then goes back to the case by the page's own link; he
proposes it again and the county reviewer, on a phone with an English browser, reaches it from her home card and the
list, refuses it first with a blank reason (said beside the box), then declines it with a double click (one POST),
every page Chinese only and no wider than the phone."""

from __future__ import annotations

from desk import FITS, Desk, no_ids


def test_a_move_withdrawn_from_a_case_then_declined_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "supervisor", start="/cases?status=determined")
    try:
        desk.follow("main table tbody tr:first-child a[href^='/cases/case_']")
        case = desk.path
        desk.follow("#household-actions a[href*='/move']")
        move = desk.path
        leaving = desk.page.locator("#move input[name=member]").last.get_attribute("value")
        form = {f"#move input[name=member][value='{leaving}']": True, "#move input[name=to][value=new]": True,
                "#f-reason": "儿子结婚分户"}
        desk.fill(form)
        assert desk.submit("#move", expect=r"done=member_move_proposed") == 1
        assert desk.submit("#withdraw-form", expect=r"done=household_change_withdrawn") == 1  # a double click
        assert "已撤销" in desk.text("#proposal-status")
        no_ids(desk)
        desk.follow("main a:has-text('← 返回案件')")
        assert desk.path == case
        desk.go(move)
        desk.fill(form)
        assert desk.submit("#move", expect=r"done=member_move_proposed") == 1
        proposal = desk.path.split("?")[0]
    finally:
        desk.close()

    phone = Desk.login_as(browser, server, "reviewer", phone=True, start="/", locale="en-US")
    try:
        card = "main a.card:has-text('合并迁移待第二人确认')"
        assert int(phone.page.locator(f"{card} .count").inner_text()) >= 1
        phone.follow(card)
        phone.follow(f"#household-proposals a[href='{proposal}']")
        assert phone.page.evaluate(FITS)
        phone.fill({"#f-reason": "   "})
        with phone.refusal(422):
            assert phone.submit("#decline-form") == 1
        assert phone.text("#reason-error") == "请说明驳回的原因"
        phone.fill({"#f-reason": "尚未办理分户手续"})
        assert phone.submit("#decline-form", expect=r"done=household_change_declined") == 1  # a double click
        assert "已驳回" in phone.text("#proposal-status") and "尚未办理分户手续" in phone.text("main")
        assert phone.page.evaluate(FITS)
        no_ids(phone)
    finally:
        phone.close()
