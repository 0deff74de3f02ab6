"""退回重新核实 on 未收到救助金, clicked twice by a tired second reviewer: the closing (核实已收到 of a payee outside
the household, insider_kit.outside_payee_received) is returned once, with one audit entry, and the page says so in
Chinese; the same form sent again from a tab left open is refused in Chinese, nothing written. The server serves
the test's own database, built with the kits (browserkit.serving)."""

from __future__ import annotations

from deviation_helpers import person
from desk import Desk
from browserkit import serving
from insider.insider_kit import outside_payee_received
from sqlalchemy import select
from users_kit import PASSWORD

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview

WHY = "银行流水显示钱进了代收人的卡，户主本人没有收到"


def test_a_double_click_on_return_returns_the_closing_once(ctx, client, users, browser) -> None:  # type: ignore[no-untyped-def]
    for name, role in (("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer")):
        person(ctx, users, name, role)
    fid, _ = outside_payee_received(ctx, client, users)
    form = f"form[action='/receipt-alerts/{fid}/return-closing']"

    with serving(ctx.settings.home, ctx.db.url) as base:
        desk = Desk.login_as(browser, base, "rev2", start="/receipt-alerts", password=PASSWORD)
        stale = desk.second_tab("/receipt-alerts")  # the same list, left open in another tab
        assert "收款人不是本户成员" in desk.text(f"#second-{fid}")
        desk.fill({f"#return-{fid}": WHY})
        assert desk.submit(form, expect=r"done=receipt_returned") == 1  # the double click sent one form
        assert "已退回：这次回访重新列入待核实" in desk.flash()
        assert desk.page.locator(form).count() == 0  # open again: nothing left to return

        stale.fill({f"#return-{fid}": WHY})
        with stale.refusal(409):
            stale.submit(form, double=False)
        assert "这次回访的核实已被退回" in stale.flash()  # why, in Chinese; nothing written

    with ctx.db.read() as session:
        returned = list(session.scalars(select(FollowupReceiptReview.returned_by)
                                        .where(FollowupReceiptReview.followup_id == fid)))
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == fid)))
    assert returned == [users.ids["rev2"]]
    assert actions.count("followup.receipt_returned") == 1
