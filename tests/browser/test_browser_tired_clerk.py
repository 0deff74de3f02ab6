"""A tired clerk's day in Chromium, again: lists searched by what they show (a sampling round by its name, a batch
by its county's name or its number in small letters), and a list with nothing to show says what is missing and how
to see every row."""

from __future__ import annotations

import re

import pytest
from desk import Staff


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def _search(desk, form: str, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    desk.fill({f"{form} input[name=q]": text})
    with desk.page.expect_navigation():
        desk.page.locator(f"{form} input[name=q]").press("Enter")
    desk.checked()
    return desk.page.locator("main table a[href^='/sampling/smp_'], main table a[href^='/payments/pb_']").all_inner_texts()


def test_a_sampling_round_is_searched_by_its_name(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer", start="/sampling")
    names = desk.page.locator("main table a[href^='/sampling/smp_']").all_inner_texts()
    assert len(names) == 2 and desk.page.locator("#f-round-q").get_attribute("placeholder") == "县（区）、抽样方式、核查期间或轮次编号"
    money = [n for n in names if "按金额抽样" in n]
    assert _search(desk, "#round-search", "按金额") == money
    assert _search(desk, "#round-search", "示范县 按户") == [n for n in names if "按户抽样" in n]
    period = re.search(r"\d{4}-\d\d-\d\d 至 (\d{4}-\d\d-\d\d)", money[0]).group(1)
    assert set(_search(desk, "#round-search", period)) <= set(names) and money[0] in _search(desk, "#round-search", period)
    assert _search(desk, "#round-search", "黄山区") == []
    assert "没有符合条件的抽样轮次" in desk.text()
    desk.follow("main a:text('显示全部轮次')")
    assert desk.page.locator("main table a[href^='/sampling/smp_']").count() == 2


def test_a_batch_is_found_by_its_county_name_or_its_number_in_small_letters(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("finance1", start="/payments")
    codes = desk.page.locator("main table a[href^='/payments/pb_']").all_inner_texts()
    assert codes and _search(desk, "main form[role=search]", "示范") == codes
    assert _search(desk, "main form[role=search]", codes[0][-7:].lower()) == [codes[0]]


def test_an_empty_list_says_what_is_missing_and_shows_every_row_on_a_click(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("finance1", start="/recoveries")
    assert "没有追回中的款项" in desk.text("#recoveries-none")
    desk.follow("#recoveries-none a")
    assert desk.page.locator("#f-status").input_value() == "all"
    desk = staff.desk("reviewer", start="/payee-changes?status=rejected")
    assert "没有符合条件的收款人变更" in desk.text("#changes-none")
    desk.follow("#changes-none a")
    assert desk.page.locator("#f-status").input_value() == "all" and desk.page.locator("#payee-changes").count() == 1


def test_the_way_back_from_a_batch_or_a_round_is_the_list_as_it_was_left(staff) -> None:  # type: ignore[no-untyped-def]
    """← 支付批次 on a batch, ← 抽样复核 on a round, ← 案件列表 on a household file: back to the list as filtered and
    searched, not its first page."""
    desk = staff.desk("finance1", start="/payments")
    desk.go("/payments?status=reconciled&q=p26")
    desk.follow("main table a[href^='/payments/pb_']")
    desk.follow("main a[data-list='/payments']")
    assert desk.path == "/payments?status=reconciled&q=p26"
    desk.go("/payments")  # the list opened plain again: its way back is plain too
    desk.follow("main table a[href^='/payments/pb_']")
    assert desk.page.locator("main a[data-list='/payments']").get_attribute("href") == "/payments"

    desk = staff.desk("reviewer", start="/sampling?q=%E6%8C%89%E9%87%91%E9%A2%9D")
    desk.follow("main table a[href^='/sampling/smp_']")
    desk.follow("main a[data-list='/sampling']")
    assert desk.path == "/sampling?q=%E6%8C%89%E9%87%91%E9%A2%9D"
    # the household file (一户一档) reached from a case of a filtered list leads back to that list, not all cases
    desk.go("/cases?status=paid")
    desk.follow("main table a[href^='/cases/case_']")
    desk.follow("#household-file-link")
    desk.follow("#way-back a[data-list='/cases']")
    assert desk.path == "/cases?status=paid"
