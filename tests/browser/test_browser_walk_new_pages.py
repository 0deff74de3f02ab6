"""The day's new pages walked in Chromium from an English browser: the county reviewer reaches 一账多户 from a home
card with its count, and the admin 回避申报管理 from one; on claims' phone the cases to choose for a batch show
their head, town and village whole (河口村, not 河/口/村) and the shared-accounts list its case numbers on one line."""

from __future__ import annotations

from desk import Desk

# How many lines each matching element's text takes (a word broken over lines takes more than one).
LINES = """els => els.filter(e => e.offsetParent !== null).map(e => {
  const r = document.createRange(); r.selectNodeContents(e);
  const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
  return [e.textContent.trim(), tops.size]; })"""


def test_the_reviewer_and_the_admin_reach_the_new_pages_from_their_home(server, browser) -> None:  # type: ignore[no-untyped-def]
    for username, title, target in (("reviewer", "一账多户待核实", "/shared-accounts"),
                                    ("admin", "回避移除待确认", "/recusal")):
        desk = Desk.login_as(browser, server, username, start="/", locale="en-US")
        try:
            card = desk.page.locator(f"main a.card:has-text('{title}')")
            assert card.locator(".count").inner_text().isdigit()
            desk.follow(f"main a.card:has-text('{title}')")
            assert desk.page.url == server + target
        finally:
            desk.close()


def test_names_villages_and_case_numbers_are_whole_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "claims", phone=True, start="/payments", locale="en-US")
    try:
        desk.follow("main a[href^='/payments/new?']")
        cells = desk.page.locator("form[data-choose] td.name, form[data-choose] td label").evaluate_all(LINES)
        assert cells and all(lines == 1 for _, lines in cells), cells
    finally:
        desk.close()
    desk = Desk.login_as(browser, server, "reviewer", phone=True, start="/shared-accounts?status=all", locale="en-US")
    try:
        numbers = desk.page.locator("main td .mono").evaluate_all(LINES)
        assert numbers and all(lines == 1 for _, lines in numbers), numbers
    finally:
        desk.close()
