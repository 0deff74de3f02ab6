"""The pages a tired clerk corrects things on, walked in Chromium: the town clerk enters an application (an ID number
with a wrong check digit refused, everything typed kept) and corrects it (an emptied name stopped by the browser in
Chinese, a day that does not exist refused beside the day, a double click saving once, Back and Forward after the
refusal and after the success showing normal pages, never the browser's 确认重新提交表单 page); the field officer on a
phone hands a household's need to a department (转交部门: a mistyped case number said beside the box, a wrong day
and no need chosen said together, one referral for a double click and for the form sent again after Back); the
supervisor proposes to merge two households and to move a member out and the county reviewer confirms each
(searched by name, refused without a reason, one proposal for a double click, the merged household not offered again
after Back, its form sent again from an old link refused in Chinese). Every page shown is checked by `Desk.checked()` (Chinese only, no raw code, no console error) and
`no_ids`."""

from __future__ import annotations

from datetime import date

import desk as walks
from desk import FITS, Desk, back, flow_day, no_ids, shot

from verifier.domain.idnumber import make_id_number

staff, walk = walks.staff, walks.walk  # the walks' module fixtures


def relations(desk: Desk) -> list[str]:
    """What each member of the household the page is about is to its head (其他, 配偶, ...)."""
    return [t.strip() for t in desk.page.locator("#home tbody td:nth-child(3)").all_inner_texts()]


def test_the_clerk_enters_an_application_and_corrects_it(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("clerk", start="/applications/new")
    form = "form[action='/applications/new']"
    good = make_id_number("340223", date(1968, 4, 9), 311)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")  # the check digit mistyped
    typed = {"#f-name": "钱望秋", "#f-id_number": wrong, "#f-town": "城关镇", "#f-village": "北村",
             "#f-household_group": "exited_low_standard", "#f-cause": "illness", "#f-amount": "8,600",
             "#f-referred_on": flow_day(3).replace("-", "/"), "#f-note": "户主住院两次"}
    desk.fill(typed)
    with desk.refusal(422):
        assert desk.submit(form) == 1
    error = desk.text("#id_number-error")
    assert "身份证" in error or "校验" in error, error
    for field, value in typed.items():
        assert desk.page.locator(field).input_value() == value, field
    desk.fill({"#f-id_number": good})
    assert desk.submit(form, expect=r"/cases/case_\w+\?done=application") == 1  # a double click: one case
    case = desk.path.split("?")[0]
    walk["case"] = case
    no_ids(desk)
    back(desk)  # onto the refused answer: the empty form again, by GET
    assert desk.path == "/applications/new"
    back(desk, forward=True)
    assert desk.path.startswith(case)

    desk.follow("#edit-application a")
    edit = desk.path
    form = f"form[action='{edit}']"
    assert desk.page.locator("#f-name").input_value() == "钱望秋"
    no_ids(desk)
    desk.fill({"#f-name": ""})  # emptied by mistake: the browser stops it, saying so in Chinese
    assert desk.submit(form, blocked=True) == 0
    assert desk.page.locator("#f-name").evaluate("e => e.validationMessage") == "请填写此项"
    day = f"{flow_day(0)[:4]}/2/30"
    desk.fill({"#f-name": "钱望秋（户主）", "#f-referred_on": day, "#f-amount": "9600"})
    with desk.refusal(422):
        assert desk.submit(form) == 1
    assert "没有这一天" in desk.text("#referred_on-error")
    assert desk.page.locator("#f-name").input_value() == "钱望秋（户主）"
    assert desk.page.locator("#f-referred_on").input_value() == day
    assert desk.page.locator("#f-amount").input_value() == "9600"
    assert desk.path == edit  # the refused answer stands as the form's own address
    back(desk)
    assert desk.path == edit
    back(desk, forward=True)
    assert desk.path == edit
    desk.fill({"#f-name": "钱望秋（户主）", "#f-referred_on": flow_day(4), "#f-amount": "9600"})
    assert desk.submit(form, expect=rf"{case}\?done=application_edited") == 1  # a double click: saved once
    assert "申请信息已修改" in desk.flash() and "9,600.00" in desk.text()
    no_ids(desk)
    back(desk)  # the form again, as now saved; sent again as it is: nothing to change, said in Chinese
    assert desk.path == edit and desk.page.locator("#f-name").input_value() == "钱望秋（户主）"
    with desk.refusal(422):
        assert desk.submit(form, double=False) == 1
    assert "没有修改任何内容" in desk.text("main")

    phone = Desk.login_as(staff.browser, staff.base, "clerk", phone=True, start=edit)
    try:
        assert phone.page.evaluate(FITS)
        no_ids(phone)
    finally:
        phone.close()


def test_the_officer_hands_a_need_to_a_department_on_a_phone(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("supervisor", start="/cases?status=checked")
    number = desk.page.locator("main table tbody tr").first.locator("td").first.inner_text().strip()
    head = desk.page.locator("main table tbody tr").first.locator("td").nth(1).inner_text().split()[0]
    phone = Desk.login_as(staff.browser, staff.base, "officer1", phone=True, start="/need-referrals")
    try:
        assert phone.page.evaluate(FITS)
        mistyped = number[:-2] + number[-1]  # a digit left out
        phone.fill({"#f-case": mistyped})
        with phone.refusal(404):
            phone.submit("#refer-case", double=False)
        assert "没有这个案件编号" in phone.text("#case-error")
        assert phone.page.locator("#f-case").input_value() == mistyped
        assert phone.page.evaluate(FITS)
        # as a phone's input method types it: full-width digits and dash
        phone.fill({"#f-case": number.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))})
        phone.submit("#refer-case", double=False, expect=r"/need-referrals/new\?case=")
        assert f"{head}户" in phone.text("main")
        no_ids(phone)
        form = "form[action='/need-referrals/new']"
        phone.fill({"#f-due_on": f"{flow_day(0)[:4]}/2/30", "#f-note": "户主慢性病，每月门诊自付约八百元"})
        assert phone.submit(form, blocked=True) == 0  # no need chosen: the browser says so, in Chinese
        assert phone.page.locator("input[name=need]").first.evaluate("e => e.validationMessage") == "请选择一项"
        phone.fill({"input[name=need][value=medical_assistance]": True})
        with phone.refusal(422):
            assert phone.submit(form) == 1
        assert "没有这一天" in phone.text("#due_on-error")
        assert phone.page.locator("#f-note").input_value() == "户主慢性病，每月门诊自付约八百元"
        assert phone.page.locator("input[name=need][value=medical_assistance]").is_checked()
        assert phone.page.evaluate(FITS)
        refused_at = phone.path
        phone.fill({"#f-due_on": ""})
        assert phone.submit(form, expect=r"done=need_referred") == 1  # a double click: one referral
        rows = phone.page.locator("main table tbody tr")
        assert rows.count() == 1 and "医疗救助" in rows.first.inner_text()
        no_ids(phone)
        back(phone)  # onto the refused answer: the form of the household again, by GET
        assert phone.path == refused_at and f"{head}户" in phone.text("main")
        phone.fill({"input[name=need][value=medical_assistance]": True})
        assert phone.submit(form, double=False, expect=r"done=need_already") == 1
        assert "重复提交未再保存" in phone.flash()
        assert phone.page.locator("main table tbody tr").count() == 1
    finally:
        phone.close()


def test_the_supervisor_merges_two_households_and_moves_a_member(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("supervisor", start="/cases?status=checked")
    rows = desk.page.locator("main table tbody tr")
    other = rows.nth(2).locator("td").nth(1).inner_text().split()[0]  # 朱秀英: the other household, by name
    desk.follow("main table tbody tr:first-child a[href^='/cases/case_']")
    case = desk.path
    desk.follow("#household-actions a[href*='/merge']")
    merge_page = desk.path.split("?")[0]
    form = "#merge"
    assert desk.page.locator(form).count() == 0  # nothing to merge with before a search
    desk.fill({"#f-q": "查无此人"})
    desk.submit("#find", double=False)
    assert desk.page.locator("#none-found").count() == 1
    spouses = relations(desk).count("配偶")
    desk.fill({"#f-q": other})
    desk.submit("#find", double=False, expect=r"q=")
    no_ids(desk)
    shot(desk, "merge-found")
    assert desk.submit(form, blocked=True) == 0  # no household chosen: the browser says so
    desk.fill({f"{form} input[name=other]": True, f"{form} input[name=keep][value=this]": True,
               "#f-head_relation": "spouse", "#f-reason": "   ", f"{form} input[name=confirm]": True})
    with desk.refusal(422):
        assert desk.submit(form) == 1
    assert "合并原因" in desk.text("#reason-error")
    assert desk.page.locator(f"{form} input[name=other]").first.is_checked()
    assert desk.page.locator("#f-head_relation").input_value() == "spouse"
    back(desk)
    back(desk, forward=True)
    desk.fill({f"{form} input[name=other]": True, "#f-reason": "夫妻二人分别登记为两户",
               f"{form} input[name=confirm]": True})
    absorbed = desk.page.locator(f"{form} input[name=other]:checked").get_attribute("value")
    assert desk.submit(form, expect=r"done=household_merge_proposed") == 1  # a double click: proposed once
    assert desk.path.startswith("/household-proposals/") and "待另一位" in desk.flash()
    no_ids(desk)
    second = staff.desk("reviewer", start=desk.path.split("?")[0])  # another person sees what it changes and confirms it
    assert second.page.locator("#proposal-sides tbody tr").count() == 2
    assert second.submit("#confirm-form", expect=r"done=household_change_confirmed") == 1  # merged once
    no_ids(second)
    back(desk)  # the form found again by its search: the merged household is no longer offered, or refused
    # the other household's head joins as the spouse; its own spouse does not become a second one (其他)
    assert relations(desk).count("配偶") == spouses + 1 and "其他" in relations(desk)
    assert desk.page.locator(form).count() == 0  # the merged household has no members left: not found again
    assert desk.text("#none-found") == "没有找到符合的家庭。"
    changes = desk.page.locator("#household-history li").count()
    no_ids(desk)
    # The check page's link to merge that household (other=…), followed after the merge (a tab left open): the
    # household is shown, but the form sent again is refused, saying where it went, and nothing is merged twice.
    desk.go(f"{merge_page}?other={absorbed}&case={case.split('/')[-1]}")
    desk.fill({f"{form} input[name=other]": True, "#f-reason": "夫妻二人分别登记为两户",
               f"{form} input[name=confirm]": True})
    with desk.refusal(409):
        assert desk.submit(form, double=False) == 1
    refused = desk.text("main .flash.warn")
    assert refused.startswith("该户已于此前并入") and refused.endswith(
        "户（不再有成员），不能再次合并或迁移；请到保留的那一户办理"), refused
    assert desk.page.locator("#household-history li").count() == changes >= 1
    no_ids(desk)

    desk.go(case)
    desk.follow("#household-actions a[href*='/move']")
    form = "#move"
    members = desk.page.locator(f"{form} input[name=member]")
    assert members.count() >= 3
    leaving = members.last.get_attribute("value")
    desk.fill({f"{form} input[name=member][value='{leaving}']": True, f"{form} input[name=to][value=new]": True,
               "#f-reason": "   "})
    with desk.refusal(422):
        assert desk.submit(form) == 1
    assert desk.text("#reason-error")
    assert desk.page.locator(f"{form} input[name=member][value='{leaving}']").is_checked()
    desk.fill({"#f-reason": "儿子结婚分户"})
    assert desk.submit(form, expect=r"done=member_move_proposed") == 1  # a double click: proposed once
    no_ids(desk)
    second = staff.desk("reviewer", start=desk.path.split("?")[0])
    assert second.submit("#confirm-form", expect=r"done=household_change_confirmed") == 1  # moved once
    back(desk)
    assert desk.page.locator(f"{form} input[name=member][value='{leaving}']").count() == 0  # moved: not offered

    phone = Desk.login_as(staff.browser, staff.base, "supervisor", phone=True, start=desk.path)
    try:
        assert phone.page.evaluate(FITS)
        no_ids(phone)
    finally:
        phone.close()
