"""The tired clerk's forms in Chromium: typos sent (a spreadsheet's numbers where text was meant, a half person, an
amount to the tenth of a fen), each answered in Chinese beside what is wrong, with everything else still there; a
double click doing one thing; the back button and a stale tab after a form was sent."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from desk import DEMO_YEAR, Staff, flow_day, page_problems
from village_kit import minutes_scan

from verifier.domain.idnumber import make_id_number


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


class _Shown:
    """A page as `page_problems` reads it, without a browser: to show the checks can fail."""

    def __init__(self, texts: list[str], *, paper: list[str] = (), hints: list[str] = ()) -> None:  # type: ignore[assignment]
        self.seen = {"texts": texts, "paper": list(paper), "hints": list(hints), "messages": [], "title": "首页"}

    def evaluate(self, script: str) -> Any:
        return self.seen


def test_the_page_check_finds_what_a_clerk_should_not_read() -> None:
    assert page_problems(_Shown(["已接收", "1,200.00", "2026-06-01 09:30"])) == []
    assert page_problems(_Shown(["received"])) == ["a code without its label 'received'"]
    assert page_problems(_Shown(["low_income"]))  # a snake_case code
    assert page_problems(_Shown(["发布于 2026-06-01T09:30:00+00:00"]))
    assert page_problems(_Shown(["拟救助金额 114500.00 元"]))
    assert page_problems(_Shown(["金额"], hints=["please type the amount"]))
    assert page_problems(_Shown(["公示"], paper=["拟救助金额合计114500.00元"]))  # a document as printed, too
    assert page_problems(_Shown(["公示"], paper=["拟救助金额合计114,500.00元"])) == []


def test_a_spreadsheet_with_typos_is_refused_in_chinese_line_by_line(staff, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The cells a spreadsheet keeps as numbers (an ID number, a date typed as 46000, a half person, 12.345 yuan)
    used to be refused in English."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期", "家庭人口"])
    good = make_id_number("340223", date(1970, 3, 5), 611)
    book.active.append([float(good), "甲", "城关镇", "东村", "非贫低收入户", "因病", 12.345, 46000, 2.5])
    book.active.append(["3.40223E+17", "乙", "城关镇", "东村", "一般户", "因病", "1200", flow_day(0), "十二"])
    xlsx = tmp_path / "医保局名单.xlsx"
    book.save(xlsx)
    desk = staff.desk("supervisor", start="/referrals/import")
    desk.fill({"#f-channel": "medical_insurance"})
    desk.page.set_input_files("#f-file", str(xlsx))
    with desk.refusal(422):
        assert desk.submit("form[action='/referrals/import']") == 1  # checked: every line read in Chinese
    problems = desk.text("main section.panel table")
    for told in ("身份证号被存成了数字", "46000 是数字而不是日期", "超过两位小数", "家庭人口应为整数", "科学计数法",
                 "无法识别的户类型「一般户」"):
        assert told in problems, problems
    assert desk.page.locator("#f-channel").input_value() == "medical_insurance"  # the choice is kept


def _error_beside(desk, field_id: str) -> str:  # type: ignore[no-untyped-def]
    """The error shown in the same block as the field `#field_id` (empty when none)."""
    return str(desk.page.evaluate("""(id) => {
        const input = document.getElementById(id);
        const block = input && input.closest('.field, fieldset');
        const error = block && block.querySelector('.error');
        return error ? error.innerText.trim() : '';
    }""", field_id))


def test_an_officer_on_a_phone_sends_a_check_with_typos_then_right(staff) -> None:  # type: ignore[no-untyped-def]
    """On a 390×844 phone whose browser does not check patterns: an amount with three decimals, letters in an
    amount and a 17-digit ID number come back named beside their fields, in Chinese, with everything else kept;
    a double click sends once; the back button and a stale tab cannot record the check twice."""
    desk = staff.desk("officer1", phone=True, start="/visits")
    desk.follow(".visit .go a")
    check_url = desk.path
    assert check_url.endswith("/check")
    stale = desk.second_tab(check_url)
    spouse = make_id_number("340223", date(1962, 3, 4), 17)
    typed = {"#f-members-1-name": "张桂兰", "#f-members-1-id_number": spouse[:17], "#f-income-wages": "3000.123",
             "#f-income-business_net": "12a0", "#f-rigid_expenditure-medical_self_paid": "42000",
             "#f-note": "已核对医疗票据"}
    desk.page.evaluate("document.getElementById('check-form').noValidate = true")
    desk.fill({**typed, "#f-members-0-labour": "partial", "#f-members-1-relation": "spouse",
               "#f-members-1-labour": "none", "input[name=stable_income][value=no]": True})
    with desk.refusal(422):
        assert desk.submit("#check-form") == 1
    assert desk.path == check_url
    shown = desk.page.evaluate("""() => { const r = document.querySelector('main form [aria-invalid=true]')
        .getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }""")
    assert shown, "the first field to correct is not in view"
    assert "18 位" in _error_beside(desk, "f-members-1-id_number")
    assert "两位小数" in _error_beside(desk, "f-income-wages")
    assert "金额" in _error_beside(desk, "f-income-business_net")
    assert _error_beside(desk, "f-rigid_expenditure-medical_self_paid") == ""
    for selector, value in typed.items():
        assert desk.page.input_value(selector) == value, selector
    assert desk.page.is_checked("input[name=stable_income][value=no]")
    assert desk.page.input_value("#f-members-1-relation") == "spouse"

    desk.fill({"#f-members-1-id_number": spouse, "#f-income-wages": "3000.12", "#f-income-business_net": "120"})
    assert desk.submit("#check-form", expect=r"/cases/case_\w+\?done=check$") == 1
    assert "入户核查已提交" in desk.flash()
    case_page = desk.path

    # The form's address again (from the history, or the back button and a reload): the check is in, it is shown.
    desk.go(check_url)
    assert desk.path == case_page.replace("done=check", "done=check_done"), desk.path
    assert "入户核查已提交，无需再填写" in desk.flash()
    stale.page.evaluate("document.getElementById('check-form').noValidate = true")
    stale.fill({**typed, "#f-members-1-id_number": spouse, "#f-income-wages": "3000.12", "#f-income-business_net": "120",
                "#f-members-0-labour": "partial", "#f-members-1-relation": "spouse", "#f-members-1-labour": "none",
                "input[name=stable_income][value=no]": True})
    stale.submit("#check-form", double=False, expect=r"done=already$")  # the first one counted; nothing more kept
    assert "重复提交未再保存" in stale.flash()
    stale.page.close()
    desk.go(case_page)
    assert desk.text().count("已核对医疗票据") == 1


def test_a_sampling_round_started_again_from_a_stale_tab_is_the_same_round(staff) -> None:  # type: ignore[no-untyped-def]
    """The county reviewer starts a round (a double click: one round), then sends the same form from a tab left open:
    a second open round for the same county, period and method used to be created beside the first, which the two
    parties then committed to apart. Now the stale tab lands on the round already started, and says so."""
    desk = staff.desk("reviewer", start="/sampling")
    stale = desk.second_tab("/sampling")
    before = int(re.search(r"共 (\d+) 条", desk.text()).group(1))  # type: ignore[union-attr]
    for tab in (desk, stale):  # the year so far, with the demo's checks in it, sampled by amount: the demo's round by
        # household has drawn from these weeks already (a period is sampled once per kind), its round by amount is
        # not frozen yet
        tab.page.check("input[name=kind][value=monetary]")
        tab.fill({"#f-checked_from": f"{DEMO_YEAR}-01-01"})
    assert desk.submit("#start", expect=r"/sampling/smp_\w+\?done=round$") == 1
    started = desk.path.split("?")[0]
    assert stale.submit("#start", double=False, expect=r"done=round_already$") == 1
    assert stale.path.split("?")[0] == started and "重复提交未再创建" in stale.flash()
    desk.go("/sampling")
    assert int(re.search(r"共 (\d+) 条", desk.text()).group(1)) == before + 1  # type: ignore[union-attr]
    stale.close()


def test_a_village_meeting_sent_again_from_a_stale_tab_opens_the_meeting_recorded(staff) -> None:  # type: ignore[no-untyped-def]
    """The town clerk records a village's review meeting, then sends the same form from a tab left open: it used to
    come back as 未能保存 with nothing marked and no household left on the form, as if the meeting were lost."""
    desk = staff.desk("clerk", start="/meetings/new")
    desk.follow("main a[href^='/meetings/new?']")
    stale = desk.second_tab(desk.path)
    for tab in (desk, stale):
        tab.fill({"#f-venue": "村委会会议室", "#f-members_expected": "7",
                  "#f-attendees": "刘建国、陈志强、杨秀英、黄德明、周桂兰", "#f-minutes": "逐户评议，举手表决。"})
        tab.page.set_input_files("#f-minutes_scan", files=[{"name": "评议会记录.pdf", "mimeType": "application/pdf",
                                                             "buffer": minutes_scan()}])
        for radio in tab.page.locator("#meeting input[type=radio][value=pass]").all():
            radio.check()
    assert desk.submit("#meeting", expect=r"/meetings/mtg_\w+\?done=meeting$") == 1
    recorded = desk.path.split("?")[0]
    assert stale.submit("#meeting", double=False, expect=r"done=meeting_already$") == 1
    assert stale.path.split("?")[0] == recorded and "重复提交未再保存" in stale.flash()
    stale.close()
