"""Money and days typed as offices type them, in a Chromium that speaks English (an office's borrowed computer):
"１２，３４５．６元" and "2026年12月5日" go through the application, the check form, the re-check and the planner, the
page still reads in Chinese (no mm/dd/yyyy), and what is really wrong is stopped with a Chinese message."""

from __future__ import annotations

from datetime import date

import pytest
from browserkit import CHROMIUM, NO_CHROMIUM

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM,
                allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")

from desk import Desk  # noqa: E402

from verifier.clock import Clock  # noqa: E402
from verifier.domain.idnumber import make_id_number  # noqa: E402
from verifier.web.typed import DAY_TITLE, MONEY_TITLE, MONTH_TITLE  # noqa: E402

TYPED_MONEY = "１２，３４５．６元"
WRONG_MONEY = ["3000.123", "约三千", "-5"]


def _chinese_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _validity(desk: Desk, selector: str, value: str) -> tuple[bool, str]:
    box = desk.page.locator(selector).first
    box.fill(value)
    return box.evaluate("e => [e.checkValidity(), e.validationMessage]")


@pytest.fixture()
def english(server, browser):  # type: ignore[no-untyped-def]
    desks: list[Desk] = []

    def open_(username: str, start: str, *, phone: bool = False) -> Desk:
        desk = Desk.login_as(browser, server, username, phone=phone, start=start, locale="en-US")
        assert desk.page.evaluate("navigator.language") == "en-US"
        desks.append(desk)
        return desk

    yield open_
    for desk in desks:
        desk.close()


def test_an_application_typed_the_office_way_goes_through_in_an_english_browser(english) -> None:  # type: ignore[no-untyped-def]
    desk = english("clerk", "/applications/new")
    form = "form[action='/applications/new']"
    assert desk.page.locator("#f-referred_on").get_attribute("type") == "text"  # not a box saying mm/dd/yyyy
    assert desk.page.locator("#f-referred_on").get_attribute("placeholder") == "如 2026-12-05"
    for wrong in WRONG_MONEY:
        assert _validity(desk, "#f-amount", wrong) == [False, MONEY_TITLE], wrong
    assert _validity(desk, "#f-referred_on", "12/05/2026") == [False, DAY_TITLE]
    today = Clock().today()
    desk.fill({"#f-name": "钟望年", "#f-id_number": make_id_number("340223", date(1966, 2, 3), 517),
               "#f-town": "城关镇", "#f-village": "北村", "#f-household_group": "exited_low_standard",
               "#f-cause": "illness", "#f-amount": TYPED_MONEY, "#f-referred_on": _chinese_day(today)})
    assert desk.page.locator("#f-amount").evaluate("e => e.checkValidity()")
    assert desk.submit(form, expect=r"/cases/case_\w+\?done=application") == 1  # a double click: one case
    text = desk.text()
    assert "12,345.60" in text and today.isoformat() in text


def test_the_check_form_on_an_english_phone_takes_amounts_as_typed(english) -> None:  # type: ignore[no-untyped-def]
    desk = english("officer1", "/visits", phone=True)
    desk.follow(".visit .go a:has-text('录入核查结果')")
    for box in ("#f-income-wages", "#f-rigid_expenditure-medical_self_paid", "#f-bills-0-amount"):
        if desk.page.locator(box).count():
            assert _validity(desk, box, TYPED_MONEY) == [True, ""], box
            assert _validity(desk, box, "3000.123") == [False, MONEY_TITLE], box
            desk.page.locator(box).first.fill("")
    # the phone's own calendar stays on the officer's form: whatever the phone's language, it sends 2026-12-05
    visited = desk.page.locator("#f-visited_on")
    assert visited.get_attribute("type") == "date"
    assert visited.input_value() == visited.evaluate("e => e.value") and "-" in visited.input_value()


def test_a_recheck_and_the_planner_take_amounts_and_days_as_typed(english) -> None:  # type: ignore[no-untyped-def]
    desk = english("reviewer", "/sampling")
    desk.follow("main tr:has-text('已抽取样本') a[href^='/sampling/smp_']")
    result = "main form[id^='result-']"
    desk.page.evaluate("() => document.querySelectorAll('details.result-entry').forEach(d => d.open = true)")
    for name in ("per_capita_income", "relief_amount"):
        assert _validity(desk, f"{result} input[name={name}]", TYPED_MONEY) == [True, ""], name
        assert _validity(desk, f"{result} input[name={name}]", "约三千") == [False, MONEY_TITLE], name
    visited = f"{result} input[name=visited_on]"
    assert desk.page.locator(visited).first.get_attribute("type") == "text"
    for typed in ("2026年12月5日", "2026/12/5", "20261205", "２０２６－１２－０５"):
        assert _validity(desk, visited, typed) == [True, ""], typed
    assert _validity(desk, visited, "12/05/2026") == [False, DAY_TITLE]

    desk = english("supervisor", "/schedule")
    today = Clock().today()
    desk.fill({"#f-from": f"{today.year}/{today.month}/{today.day}", "#f-days": "5"})
    assert desk.submit("form[action='/schedule/plan']", double=False) == 1
    assert "排期预览" in desk.text() and "日期格式" not in desk.text()
    assert desk.page.input_value("#f-from") == f"{today.year}/{today.month}/{today.day}"  # kept as typed

    desk.go("/reports")
    month = desk.page.locator("#f-month")
    assert month.get_attribute("type") == "text"  # a month box would say "December 2026"
    assert _validity(desk, "#f-month", "12/2026") == [False, MONTH_TITLE]
    desk.fill({"#f-month": f"{today.year}年{today.month}月"})
    with desk.page.expect_navigation():
        desk.page.locator("main form button[type=submit]").first.click()
    assert desk.page.input_value("#f-month") == f"{today:%Y-%m}"
    assert desk.text("#report-title").endswith(f"{today:%Y-%m} 月报")
