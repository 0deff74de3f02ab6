"""The county reviewer's home page in Chromium: this year's charts drawn as SVG (no script), each bar named by its
<title> with its number beside it; following a bar leads to exactly the cases behind it; the month selector."""

from __future__ import annotations

import re

import pytest
from desk import Staff


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def test_the_reviewer_follows_a_chart_to_the_cases_behind_it(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer")
    page = desk.page
    charts = page.locator("#dashboard figure.chart svg")
    assert charts.count() >= 6
    paid = page.locator("#chart-stage a.bar-link", has=page.locator("title", has_text="已支付："))
    title = paid.locator("title").text_content()
    count = int(re.search(r"：(\d+) 件", title).group(1))
    assert count > 0 and f"{count} 件" in paid.locator("text.bar-value").text_content()
    with page.expect_navigation():
        paid.locator("rect").click()
    desk.checked()
    assert "chart=stage" in desk.path and "按环节：已支付" in desk.text("#chart-filter")
    rows = page.locator("#results tbody tr")
    assert rows.count() == count
    assert all("已支付" in t for t in rows.all_inner_texts())
    desk.follow("#chart-filter a[href^='/?county=']")
    assert page.locator("#dashboard").count() == 1
    page.select_option("#f-period", index=1)
    with page.expect_navigation():
        page.click("#dashboard form button[type=submit]")
    desk.checked()
    assert "1月概况" in desk.text("#dashboard-title")
