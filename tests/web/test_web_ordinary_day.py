"""What a clerk, a county reviewer and a finance officer meet on an ordinary day, read as they read it: a county by
its name, not its code alone."""

from __future__ import annotations

import re

from factories import make_case


def test_the_fund_page_names_the_contracts_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("fin-day", "finance")
    fund = pages.get("/fund").text
    line = re.search(r"合同 demo-2020 · 县（区）([^·<]*)·", fund)
    assert line and line.group(1).strip() == "示范县（340223）", line and line.group(0)


def test_the_household_file_names_its_county_and_says_when_no_phone_is_known(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened", head_name="钱日常")
    pages.as_("rev-day", "county_reviewer")
    household = re.search(r'href="(/households/hh_\w+)"', pages.get(f"/cases/{case_id}").text).group(1)
    facts = re.search(r'<dl class="facts">(.*?)</dl>', pages.get(household).text, re.S).group(1)
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", facts))
    assert shown["县（区）"] == "示范县（340223）" and "县（区）代码" not in shown
    assert shown["联系电话"] == "未登记"  # not an empty line that reads as a page fault
