"""The tired clerk's forms in Chromium: typos sent (a spreadsheet's numbers where text was meant, a half person, an
amount to the tenth of a fen), each answered in Chinese beside what is wrong, with everything else still there; a
double click doing one thing; the back button and a stale tab after a form was sent."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from desk import Staff, flow_day, page_problems

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
    assert page_problems(_Shown(["公示"], paper=["拟救助金额合计114500.00元"])) == []  # a document as printed


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
