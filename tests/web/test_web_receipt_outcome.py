"""The page of receipt alerts (/receipt-alerts) asks the closing's outcome: two radio choices in Chinese, what was typed
and chosen kept on a refusal, a double submission closing once; a closed alert says what was found and links the
recovery (追回) and the supplement (补发), which another county reviewer confirms from the same list."""

from __future__ import annotations

from deviation_helpers import person
from insider.insider_kit import released_batch, settled
from sqlalchemy import func, select

from verifier.followups.models import FollowupReceiptReview
from verifier.payments.models import Recovery, SupplementaryPayment


def _alert(ctx, client, users) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A settled batch whose first case's household said it got nothing: the follow-up's id and the case's."""
    for name, role in (("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer")):
        person(ctx, users, name, role)
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    r = client.post("/api/followups", headers=users.headers("off9"), json={
        "case_id": cases[0], "done_on": ctx.clock.today().isoformat(), "method": "visit", "income_change": "same",
        "risk_remains": False, "satisfaction": "satisfied", "new_needs": [], "note": "户主说没收到钱",
        "received": "no", "received_amount": "0"})
    assert r.status_code == 201, r.text
    return r.json()["id"], cases[0]


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_the_closing_asks_the_outcome_keeps_what_was_typed_and_closes_once(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    fid, case_id = _alert(ctx, client, users)
    pages = Pages(client, users)  # one browser: each login replaces the one before
    pages.login("fin1")
    assert pages.get(f"/cases/{case_id}/payee").status_code == 409  # paid: no payee change, yet
    pages.login("rev1")
    listed = pages.get("/receipt-alerts")
    assert listed.status_code == 200
    assert 'type="radio" name="outcome" value="received"' in listed.text
    assert 'type="radio" name="outcome" value="misdirected"' in listed.text
    assert "核实已收到" in listed.text and "核实未收到" in listed.text and "核实结果（必选）" in listed.text

    # No outcome chosen: refused in Chinese, the note kept.
    refused = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": "银行流水显示钱进了别人的卡"})
    assert refused.status_code == 422 and "核实结果：请选择核实结果" in refused.text, refused.text
    assert "银行流水显示钱进了别人的卡" in refused.text and _count(ctx, FollowupReceiptReview) == 0
    # The outcome chosen, the note left out: the choice is kept.
    refused = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": " ", "outcome": "misdirected"})
    assert refused.status_code == 422 and "核实情况：请填写" in refused.text, refused.text
    assert 'value="misdirected" required checked' in refused.text

    form = {"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"}
    done = pages.post(f"/receipt-alerts/{fid}/resolve", form)
    assert done.status_code == 303 and "done=receipt_resolved" in done.headers["location"], done.text
    again = pages.post(f"/receipt-alerts/{fid}/resolve", form)  # a double click: the second one closes nothing
    assert again.status_code == 409 and "已经核实过了" in again.text, again.text
    assert (_count(ctx, FollowupReceiptReview), _count(ctx, Recovery), _count(ctx, SupplementaryPayment)) == (1, 1, 1)

    with ctx.db.read() as s:
        rec = s.scalar(select(Recovery.id))
        sup = s.scalar(select(SupplementaryPayment.id))
    closed = pages.get("/receipt-alerts?status=resolved")
    assert "核实未收到" in closed.text and f'href="/recoveries/{rec}"' in closed.text and "追回中" in closed.text
    assert f'id="supplement-{sup}"' in closed.text and "待另一名县级复核人员确认" in closed.text
    assert "核实后确认补发" not in closed.text  # not to the reviewer who opened it
    case_page = pages.get(f"/cases/{case_id}")
    assert 'id="case-followups"' in case_page.text and "核实未收到" in case_page.text
    shown = pages.get(f"/recoveries/{rec}")
    assert shown.status_code == 200 and "回访核实未收到救助金" in shown.text and "农户称收到" in shown.text

    # The paid case's payee may now be changed, from the case page (the supplement is never paid to the old one), by
    # finance that took no part in the payment: its releaser is told why instead of being given a form to fill in
    pages.login("fin1")
    assert f'href="/cases/{case_id}/payee"' in pages.get(f"/cases/{case_id}").text
    barred = pages.get(f"/cases/{case_id}/payee")
    assert barred.status_code == 200 and 'name="account_number"' not in barred.text, barred.text
    assert "参与这笔支付" in barred.text
    person(ctx, users, "fin3", "finance")
    pages.login("fin3")
    form = pages.get(f"/cases/{case_id}/payee")
    assert form.status_code == 200 and 'name="account_number"' in form.text
    pages.login("rev1")

    # The closer confirming anyway (a form from another tab) is refused in Chinese; another reviewer confirms it.
    mine = pages.post(f"/receipt-alerts/{fid}/confirm-supplement", {"status": "resolved"})
    assert mine.status_code == 403 and "四眼原则" in mine.text, mine.text
    other = pages
    other.login("rev2")
    offered = other.get("/receipt-alerts?status=resolved")
    assert f'action="/receipt-alerts/{fid}/confirm-supplement"' in offered.text
    ok = other.post(f"/receipt-alerts/{fid}/confirm-supplement", {"status": "resolved"})
    assert ok.status_code == 303 and "done=supplement_confirmed" in ok.headers["location"], ok.text
    after = other.get("/receipt-alerts?status=resolved")
    assert "待列入支付批次" in after.text and "核实后确认补发" not in after.text
    with ctx.db.read() as s:
        assert s.get(SupplementaryPayment, sup).confirmed_by == users.ids["rev2"]


def test_a_received_closing_says_so_and_links_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    fid, _ = _alert(ctx, client, users)
    pages = Pages(client, users)
    pages.login("rev1")
    done = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": "户主不知道卡里有钱", "outcome": "received"})
    assert done.status_code == 303, done.text
    closed = pages.get("/receipt-alerts?status=resolved")
    assert "核实已收到" in closed.text and "/recoveries/" not in closed.text and "补发：" not in closed.text
    assert (_count(ctx, Recovery), _count(ctx, SupplementaryPayment)) == (0, 0)
