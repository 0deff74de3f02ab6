"""Values as a person reads them on the pages: money grouped by thousands (as `yuan` shows it), also inside the
determination's reason, which the eligibility rule writes with bare amounts."""

from __future__ import annotations

import re

from factories import make_case

from verifier.web.labels import reason_zh

BARE_MONEY = re.compile(r"(?<![\d,.])\d{4,}\.\d\d(?!\d)")


def test_a_reason_shows_its_amounts_grouped() -> None:
    reason = ("per-capita net income 12000.00 is above the income line 5200.00, but the household has no stable "
              "income source and rigid expenditure 130000.00 exceeds 1.5 times household net income 8000.50")
    assert reason_zh(reason) == ("人均纯收入 12,000.00 元，高于收入线 5,200.00 元，但家庭无稳定收入来源，"
                                 "刚性支出 130,000.00 元超过家庭纯收入 8,000.50 元的 1.5 倍")
    assert reason_zh("per-capita net income -300.00 is at or below the income line 5200.00") == (
        "人均纯收入 -300.00 元，不高于收入线 5,200.00 元")


def test_a_case_closed_with_no_relief_due_says_why_in_chinese_naming_the_figure_taken_off() -> None:
    """The closing reason of a determination with no relief due carried "already paid" in English: the pages showed
    it as it was, naming paid a figure that is what the year had counted (`labels.ALREADY_COUNTED`)."""
    reason = "per-capita net income 1000.00 is at or below the income line 5200.00"
    assert reason_zh(f"{reason}; but no relief is due on a verified basis of 452000.00 (already paid 100000.00)") == (
        "人均纯收入 1,000.00 元，不高于收入线 5,200.00 元；但按核实的计算基数 452,000.00 元计算，扣除本年已计保障金 "
        "100,000.00 元后，本次没有应发的保障金")
    assert reason_zh(f"{reason}; but no relief is due on a verified basis of 3000.00 (already paid 0.00)") == (
        "人均纯收入 1,000.00 元，不高于收入线 5,200.00 元；但按核实的计算基数 3,000.00 元计算，本次没有应发的保障金")


def test_the_case_page_and_the_approval_form_show_the_reason_with_grouped_amounts(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    pages.as_("clerk1", "town_clerk")
    for url in (f"/cases/{case_id}", f"/cases/{case_id}/approval-form"):
        text = pages.get(url).text
        assert "人均纯收入" in text and "5,200.00 元" in text, url
        shown = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", text, flags=re.S)
        assert not BARE_MONEY.search(shown), (url, BARE_MONEY.search(shown))
