"""撤回核实未收到 clicked through on 未收到救助金, on a 核实未收到 closing the test's own kit made (the demo has none:
insider_kit.misdirected_closing; the server serves the test's database, browserkit.serving): reviewer A (rev3) proposes
the withdrawal with a reason; reviewer B (rev2) declines it (驳回撤回) with a reason; A proposes anew, and B's tab
left open on the first proposal is refused in Chinese when it confirms (a stale page, nothing written); B confirms
the new one from the list drawn anew: the recovery and the supplement withdrawn, the alert open again, each step
once whatever the double clicks."""

from __future__ import annotations

from browserkit import serving
from deviation_helpers import person
from desk import Desk
from insider.insider_kit import misdirected_closing
from sqlalchemy import select
from users_kit import PASSWORD

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview, FollowupReceiptWithdrawEnded
from verifier.payments.models import Recovery, SupplementaryPayment

WHY = "核实时看错了银行流水：钱实际已入户主本人的卡"
NO = "银行流水确实显示钱进了别人的卡，核实未收到无误"
AGAIN = "户主补登存折，钱确在本人卡上"
LIST = "/receipt-alerts?status=resolved"


def test_a_reviewer_proposes_another_declines_then_confirms_a_new_proposal(ctx, client, users, browser) -> None:  # type: ignore[no-untyped-def]
    for name, role in (("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer"),
                       ("rev3", "county_reviewer")):
        person(ctx, users, name, role)
    _, fid, rec, sup = misdirected_closing(ctx, client, users)
    propose, decline, confirm = (f"form[action='/receipt-alerts/{fid}/{what}-withdrawal']"
                                 for what in ("propose", "decline", "confirm"))

    with serving(ctx.settings.home, ctx.db.url) as base:
        a = Desk.login_as(browser, base, "rev3", start="/receipt-alerts", password=PASSWORD).go(LIST)
        a.fill({f"#withdraw-reason-{fid}": WHY})
        assert a.submit(propose, expect=r"done=receipt_withdraw_proposed") == 1
        assert "撤回已提议" in a.flash()
        assert "撤回待确认" in a.text(f"#withdraw-{fid}") and WHY in a.text(f"#alert-{fid}")
        assert a.page.locator(decline).count() == 0 and a.page.locator(confirm).count() == 0  # not his own

        b = Desk.login_as(browser, base, "rev2", start="/receipt-alerts", password=PASSWORD).go(LIST)
        stale = b.second_tab(LIST)  # the first proposal, left open in another tab
        b.fill({f"#decline-reason-{fid}": NO})
        assert b.submit(decline, expect=r"done=receipt_withdraw_declined") == 1
        assert "已驳回撤回提议" in b.flash()
        row = b.text(f"#alert-{fid}")
        assert "已驳回撤回" in row and NO in row and WHY in row and "撤回待确认" not in row

        a.go(LIST)  # a new proposal may follow the declined one
        a.fill({f"#withdraw-reason-{fid}": AGAIN})
        assert a.submit(propose, expect=r"done=receipt_withdraw_proposed") == 1

        stale.fill({f"{confirm} input[name=confirm]": True})
        with stale.refusal(409):
            stale.submit(confirm, double=False)
        assert "现在待确认的是另一条提议" in stale.flash()  # why, in Chinese; nothing written

        b.go(LIST)
        assert AGAIN in b.text(f"#withdraw-{fid}")
        assert b.page.locator(decline).count() == 0  # he declined the first: another reviewer declines this one
        b.fill({f"{confirm} input[name=confirm]": True})
        assert b.submit(confirm, expect=r"done=receipt_withdrawn") == 1
        assert "已撤回核实未收到" in b.flash()
        b.go("/receipt-alerts")  # open again, the withdrawn closing and the declined proposal on record
        row = b.text(f"#alert-{fid}")
        assert "已撤回" in row and "已驳回撤回" in row and AGAIN in row

    with ctx.db.read() as session:
        closings = [(r.withdraw_proposed_by, r.withdraw_reason, r.withdrawn_by) for r in session.scalars(
            select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid))]
        ended = [(e.proposal, e.ended, e.ended_by) for e in session.scalars(
            select(FollowupReceiptWithdrawEnded).where(FollowupReceiptWithdrawEnded.followup_id == fid))]
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == fid)))
        statuses = (session.get(Recovery, rec).status, session.get(SupplementaryPayment, sup).status)
    assert closings == [(users.ids["rev3"], AGAIN, users.ids["rev2"])]
    assert ended == [(1, "declined", users.ids["rev2"])]
    assert [actions.count(a) for a in ("followup.receipt_withdraw_proposed", "followup.receipt_withdraw_declined",
                                       "followup.receipt_withdrawn")] == [2, 1, 1]
    assert statuses == ("withdrawn", "withdrawn")
