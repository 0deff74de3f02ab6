"""The day's new pages walked in Chromium from an English browser: the county reviewer reaches 一账多户 from a home
card with its count, and the admin 回避申报管理 from one; on claims' phone the cases to choose for a batch show
their head, town and village whole (河口村, not 河/口/村) and the shared-accounts list its case numbers on one line;
an officer's follow-up saying the money did not arrive, recorded on a phone, is said saved and its row reads whole,
and so do the amounts on the county reviewer's 未收到救助金 list on hers, each alert a card of its own there (no
sideways scrolling to the note box)."""

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


def test_a_follow_up_told_the_money_did_not_arrive_reads_whole_on_two_phones(server, browser) -> None:  # type: ignore[no-untyped-def]
    # the county's list (全县): officer1's own are the households he checked, whose accounts he typed at the door, and
    # those another officer follows up; he follows up one of officer3's
    desk = Desk.login_as(browser, server, "officer1", phone=True, start="/followups?all=1")
    try:
        desk.follow("main a:has-text('录入回访')")
        desk.fill({"input[name=method][value=phone]": True, "input[name=received][value=no]": True,
                   "#f-received_amount": "0", "input[name=income_change][value=same]": True,
                   "input[name=risk_remains][value=yes]": True, "input[name=satisfaction][value=satisfied]": True,
                   "#f-note": "户主说卡里没见到钱"})
        assert desk.submit("form[action='/followups']", expect=r"done=followup") == 1
        assert "回访已记录" in desk.flash() and "object at" not in desk.text()  # not the rows' repr
        head, number = (desk.page.locator(f"main table tbody tr:first-child {cell}").evaluate_all(LINES)
                        for cell in ("td.name", "td .mono"))
        assert head and number and all(lines == 1 for _, lines in head + number), (head, number)
    finally:
        desk.close()
    desk = Desk.login_as(browser, server, "reviewer", phone=True, start="/receipt-alerts")
    try:
        amounts = desk.page.locator("#receipt-alerts .num").evaluate_all(LINES)  # 支付 35,200.00 元, not 35,200.00/元
        assert amounts and all(lines == 1 for _, lines in amounts), amounts
        # each alert is a card of its own on the phone: nothing of it (the note box, the button) is beyond the screen
        wide = desk.page.evaluate("""() => { const t = document.querySelector('#receipt-alerts');
          return [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth, innerWidth]; }""")
        assert wide[0] <= wide[1] and wide[2] <= wide[3], wide
        assert desk.page.locator("#receipt-alerts td[data-label='核实']").first.is_visible()
    finally:
        desk.close()
