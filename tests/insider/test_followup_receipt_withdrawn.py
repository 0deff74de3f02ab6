"""A 核实未收到 closing made by mistake — or by an insider who wants a second payment to flow — could not be
withdrawn at all: its recovery and its supplement stood. Now one county reviewer proposes the withdrawal with a
reason and another confirms it (撤回核实未收到): never the proposer, nor the closer, nor anyone the second look's rule
bars (who took part in paying it, the follow-up's recorder, an account linked to one of them or to the proposer by a
password, a relative), each refused try kept on 回避拦截记录. Confirmed, in one transaction with its audit entries, the
closing is kept and marked withdrawn, the recovery and the supplement are withdrawn, and the alert is open again;
only while the supplement is in no batch and the recovery has collected nothing (409 naming why)."""

from __future__ import annotations

import pytest
from deviation_helpers import person
from insider_kit import (COUNTY, declare_ties, entries_but_refusals, head_of, household_member, misdirected_closing,
                         refusals_of)
from sqlalchemy import select
from web.pagekit import Pages, card_count

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview
from verifier.payments.models import PaymentItem, Recovery, SupplementaryPayment
from verifier.store.tables import User

WHY = "核实时看错了银行流水：钱实际已入户主本人的卡"
CARD = "未收到救助金待核实"


def _state(ctx, fid: str, rec: str, sup: str) -> tuple[list[tuple[str | None, str | None]], str, str]:  # type: ignore[no-untyped-def]
    """The follow-up's closings (who proposed the withdrawal, who confirmed it), the recovery's and the supplement's
    status."""
    with ctx.db.read() as session:
        rows = [(r.withdraw_proposed_by, r.withdrawn_by) for r in session.scalars(
            select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid)
            .order_by(FollowupReceiptReview.resolved_at, FollowupReceiptReview.id))]
        return rows, session.get(Recovery, rec).status, session.get(SupplementaryPayment, sup).status


def _actions(ctx, *subjects: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject.in_(subjects))
                                    .order_by(AuditEntry.idx)))


def _open(client, users) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/followups/receipt-alerts", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    return [a["followup_id"] for a in r.json()["items"]]


def _propose(client, users, fid: str, who: str, reason: str = WHY):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw", headers=users.headers(who),
                       json={"reason": reason})


def _confirm(client, users, fid: str, who: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw/confirm", headers=users.headers(who))


def test_attack_one_person_alone_cannot_withdraw_the_closing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The recorder and the batch's releaser (county reviewers too) may not propose it; the proposer may not confirm
    their own proposal, nor the closer, the recorder, the releaser, an account whose password the proposer set, the
    closer's password-linked account or a relative: 403 in Chinese, nothing written, each kept on 回避拦截记录;
    another county's reviewer: 404. Before any proposal nobody confirms (409); a blank reason: 422; twice: 409."""
    person(ctx, users, "off9", "field_officer", "county_reviewer")  # records the follow-up, and reviews too
    fin1 = person(ctx, users, "fin1", "finance", "county_reviewer")  # released the batch
    for name in ("rev3", "rev_pal", "rev_mate", "rev_kin"):
        person(ctx, users, name, "county_reviewer")
    person(ctx, users, "rev_far", "county_reviewer", counties=("340224",))
    case, fid, rec, sup = misdirected_closing(ctx, client, users)
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev3"]  # the proposer's pal
        session.get(User, users.ids["rev_mate"]).password_set_by = users.ids["rev1"]  # the closer's
    household, _, id_number = household_member(ctx, case)
    declare_ties(client, users.headers("rev_kin"), id_number)

    before = entries_but_refusals(ctx)
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 409 and "还没有人提议撤回" in r.json()["detail"], r.text
    for who, said in (("off9", "录入了这次回访"), ("fin1", "发放了支付批次")):
        r = _propose(client, users, fid, who)
        assert r.status_code == 403 and "撤回核实未收到不能由参与这笔支付或这次回访的人员提议" in r.json()["detail"], r.text
        assert said in r.text, (who, r.text)
        assert [k["step"] for k in refusals_of(ctx, users.ids[who])] == ["receipt_withdraw_propose"], who
    for reason in ("", "  ", "长" * 2001):
        r = _propose(client, users, fid, "rev3", reason)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"], r.text
        assert "撤回" in r.text, r.text
    r = _propose(client, users, fid, "rev_far")
    assert r.status_code == 404 and "没有这次回访" in r.text and case not in r.text, r.text
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(None, None)], "open", "open")

    r = _propose(client, users, fid, "rev3")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["withdraw_proposed_by"], body["withdraw_reason"], body["withdrawn_by"]) == (
        users.ids["rev3"], WHY, None), body
    r = _propose(client, users, fid, "rev2", "再提议一次")
    assert r.status_code == 409 and "已有人提议" in r.json()["detail"], r.text
    # The proposal alone withdraws nothing: the closing stands, the recovery and the supplement stay open.
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], None)], "open", "open")
    assert _open(client, users) == []

    before = entries_but_refusals(ctx)
    for who, said in (("rev3", "提议了撤回这次核实未收到"), ("rev1", "核实了这次未收到救助金的回访（核实未收到）"),
                      ("off9", "录入了这次回访"), ("fin1", "发放了支付批次"), ("rev_pal", "密码关联"),
                      ("rev_mate", "密码关联")):
        r = _confirm(client, users, fid, who)
        assert r.status_code == 403 and "撤回核实未收到须由另一名县级审核人员确认" in r.json()["detail"], (who, r.text)
        assert said in r.text, (who, r.text)
    r = _confirm(client, users, fid, "rev_kin")
    assert r.status_code in (403, 422) and "回避" in r.text, r.text
    r = _confirm(client, users, fid, "rev_far")
    assert r.status_code == 404 and case not in r.text, r.text
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], None)], "open", "open")
    for who in ("rev3", "rev1", "rev_pal", "rev_mate", "rev_kin"):
        assert [k["step"] for k in refusals_of(ctx, users.ids[who])] == ["receipt_withdraw_confirm"], who
    [_, kept] = refusals_of(ctx, fin1.id)
    assert (kept["step"], kept["subject"], kept["households"]) == ("receipt_withdraw_confirm", case, [household])

    # On 回避拦截记录 the steps have their Chinese names.
    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/recusal-refusals")
    assert listed.status_code == 200, listed.text
    assert "提议撤回回访核实未收到" in listed.text and "确认撤回回访核实未收到" in listed.text


def test_confirmed_the_recovery_and_supplement_are_withdrawn_and_the_alert_is_open_again(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """rev3 proposes, rev2 confirms: one transaction withdraws the recovery and the supplement and marks the closing
    withdrawn (kept: who proposed, when, why, who confirmed), each audited; the alert is open again on the API, the
    list, the case page and the home count, the withdrawn closing shown. Again: 409. The closer of the withdrawn
    closing (and his password-linked account) may not close it again; another reviewer closes it anew."""
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev4", "county_reviewer")
    person(ctx, users, "rev_mate", "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_mate"]).password_set_by = users.ids["rev1"]
    assert _propose(client, users, fid, "rev3").status_code == 200
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["withdraw_proposed_by"], body["withdraw_reason"], body["withdrawn_by"], body["resolved_by"]) == (
        users.ids["rev3"], WHY, users.ids["rev2"], users.ids["rev1"]), body
    assert body["withdrawn_at"] and body["withdraw_proposed_at"], body
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], users.ids["rev2"])], "withdrawn", "withdrawn")
    with ctx.db.read() as session:
        assert WHY in session.get(SupplementaryPayment, sup).withdrawn_reason
    tail = [a for a in _actions(ctx, fid, rec, case) if "withdraw" in a]
    assert tail == ["followup.receipt_withdraw_proposed", "recovery.withdrawn", "case.supplement_withdrawn",
                    "followup.receipt_withdrawn"], tail
    with ctx.db.read() as session:  # the reason is free text: the log holds its SHA-256, never the words
        payloads = [bytes(e).decode("utf-8") for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.subject.in_((fid, rec, case))))]
    assert payloads and not [p for p in payloads if "看错了银行流水" in p], payloads

    # Once: again, by anyone, 409; nothing more written.
    for who in ("rev2", "rev4"):
        r = _confirm(client, users, fid, who)
        assert r.status_code == 409 and "没有核实未收到" in r.json()["detail"], r.text
    r = _propose(client, users, fid, "rev4")
    assert r.status_code == 409, r.text

    # Open again everywhere, the withdrawn closing on record.
    assert _open(client, users) == [fid]
    [alert] = client.get("/api/followups/receipt-alerts", headers=users.headers("rev4")).json()["items"]
    assert (alert["resolved_by"], alert["outcome"], alert["withdraw_proposed_by"]) == (None, None, None), alert
    [gone] = alert["withdrawn"]
    assert (gone["resolved_by"], gone["withdraw_proposed_by"], gone["withdraw_reason"], gone["withdrawn_by"]) == (
        users.ids["rev1"], users.ids["rev3"], WHY, users.ids["rev2"]), gone
    pages = Pages(client, users)
    pages.login("rev4")
    assert card_count(pages.get("/").text, CARD) == 1
    listed = pages.get("/receipt-alerts").text
    assert "已撤回" in listed and WHY in listed and f'action="/receipt-alerts/{fid}/resolve"' in listed
    case_page = pages.get(f"/cases/{case}").text
    assert "已撤回" in case_page and WHY in case_page and "未收到救助金待核实" in case_page

    # The withdrawn closing's closer does not close it again (nor his password-linked account).
    before = entries_but_refusals(ctx)
    for who, said in (("rev1", "已被两名县级审核人员撤回"), ("rev_mate", "密码关联")):
        r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(who),
                        json={"note": "还是钱没到", "outcome": "misdirected"})
        assert r.status_code == 403 and said in r.json()["detail"], (who, r.text)
    assert entries_but_refusals(ctx) == before
    pages.login("rev1")
    mine = pages.get("/receipt-alerts").text
    assert f'action="/receipt-alerts/{fid}/resolve"' not in mine and "您的核实未收到已被撤回" in mine
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev4"),
                    json={"note": "户主补登存折，钱在自己卡上", "outcome": "received"})
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        rows = session.scalars(select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid)
                               .order_by(FollowupReceiptReview.resolved_at, FollowupReceiptReview.id)).all()
        assert [(r.resolved_by, r.outcome, r.withdrawn_by) for r in rows] == [
            (users.ids["rev1"], "misdirected", users.ids["rev2"]), (users.ids["rev4"], "received", None)]


def _changed_home(ctx, client, users, case: str) -> None:  # type: ignore[no-untyped-def]
    """The payee changed back to the household before the supplement is paid: sup3 asks, rev5 approves (the test's
    clock stands still, so to `receipt.involved` they read as changers before the item: neither confirms here)."""
    person(ctx, users, "sup3", "insurer_supervisor")
    person(ctx, users, "rev5", "county_reviewer")
    head = head_of(client, users.headers("sup3"), case)
    r = client.post(f"/api/cases/{case}/payee", headers=users.headers("sup3"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": "6217000000000012345",
        "reason": "改回户主本人账户"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("rev5"))
    assert r.status_code == 200, r.text


def _change_and_batch(ctx, client, users, case: str) -> str:  # type: ignore[no-untyped-def]
    """The payee changed back to the household (`_changed_home`) and a batch takes the supplement: the batch."""
    _changed_home(ctx, client, users, case)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_a_supplement_in_a_batch_or_money_collected_is_not_withdrawn(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """Proposed, then a batch takes the supplement: the confirmation is refused naming the batch (409, nothing
    written), and so is a new proposal's ground; the batch cancelled, the supplement waits again and the withdrawal
    goes through. A repayment recorded on the recovery (waiting for confirmation): refused naming it."""
    person(ctx, users, "rev3", "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    assert _propose(client, users, fid, "rev3").status_code == 200
    batch = _change_and_batch(ctx, client, users, case)
    with ctx.db.read() as session:
        code = session.scalar(select(PaymentItem.batch_id).where(PaymentItem.supplement_id == sup))
    assert code == batch
    before = entries_but_refusals(ctx)
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 409 and "已列入支付批次" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], None)], "open", "in_batch")
    pages = Pages(client, users)
    pages.login("rev2")  # the list says so, and offers no confirmation
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert "撤回待确认" in listed and "暂不能撤回" in listed and "confirm-withdrawal" not in listed
    r = client.post(f"/api/payment-batches/{batch}/cancel", headers=users.headers("claims1"))
    assert r.status_code == 200, r.text
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 200, r.text
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], users.ids["rev2"])], "withdrawn", "withdrawn")
    # Withdrawn, the supplement is not paid by a later batch either.
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case]})
    assert r.status_code == 422, r.text


def test_money_recorded_on_the_recovery_stops_the_withdrawal(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    person(ctx, users, "rev3", "county_reviewer")
    case, fid, rec, sup = misdirected_closing(ctx, client, users, confirmed=False)
    r = client.post(f"/api/recoveries/{rec}/repayments", headers=users.headers("fin1"), json={
        "amount": "10.00", "paid_on": ctx.clock.today().isoformat(), "reference": "BKRET0009"})
    assert r.status_code in (200, 201), r.text
    r = _propose(client, users, fid, "rev3")
    assert r.status_code == 409 and "追回已登记还款 10.00 元" in r.json()["detail"], r.text
    assert _state(ctx, fid, rec, sup) == ([(None, None)], "open", "open")


def test_the_page_proposes_and_confirms_with_a_reason_and_a_tick(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """On 未收到救助金 a county reviewer has 提议撤回核实未收到 with a reason box beside the closing; a blank reason is
    refused naming 撤回理由, a refused proposal keeps what was typed. The proposer's list shows 撤回待确认 with no
    confirmation; another reviewer's has 确认撤回核实未收到 with a tick to confirm: unticked, 422 and nothing
    written; a tired clerk's double click withdraws once."""
    person(ctx, users, "off9", "field_officer", "county_reviewer")
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev_pal", "county_reviewer")
    _, fid, rec, sup = misdirected_closing(ctx, client, users)
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["off9"]
    form = {"status": "resolved", "q": "", "page": "1"}
    pages = Pages(client, users)
    pages.login("rev3")
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert f'action="/receipt-alerts/{fid}/propose-withdrawal"' in listed and "提议撤回核实未收到" in listed
    assert f'id="withdraw-reason-{fid}" name="reason"' in listed
    refused = pages.post(f"/receipt-alerts/{fid}/propose-withdrawal", {**form, "reason": " "})
    assert refused.status_code == 422 and "撤回理由：请填写撤回的理由" in refused.text, refused.text
    pages.login("rev_pal")  # the recorder set his password: refused on submit, the reason kept in its box
    refused = pages.post(f"/receipt-alerts/{fid}/propose-withdrawal", {**form, "reason": WHY})
    assert refused.status_code == 403 and "密码关联" in refused.text, refused.text
    box = refused.text.split(f'id="withdraw-reason-{fid}"', 1)[1].split("</textarea>", 1)[0]
    assert box.endswith(f">{WHY}"), box
    pages.login("rev3")
    done = pages.post(f"/receipt-alerts/{fid}/propose-withdrawal", {**form, "reason": WHY})
    assert done.status_code == 303 and "done=receipt_withdraw_proposed" in done.headers["location"], done.text
    mine = pages.get(done.headers["location"]).text
    assert "撤回待确认" in mine and WHY in mine and "confirm-withdrawal" not in mine

    pages.login("rev2")
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert f'action="/receipt-alerts/{fid}/confirm-withdrawal"' in listed and "确认撤回核实未收到" in listed
    assert 'name="proposal" value="1"' in listed
    form = {**form, "proposal": "1"}  # the number of the proposal the page shows, as its form sends it
    unticked = pages.post(f"/receipt-alerts/{fid}/confirm-withdrawal", form)
    assert unticked.status_code == 422 and "确认撤回：请勾选确认" in unticked.text, unticked.text
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], None)], "open", "open")
    done = pages.post(f"/receipt-alerts/{fid}/confirm-withdrawal", {**form, "confirm": "yes"})
    assert done.status_code == 303 and "done=receipt_withdrawn" in done.headers["location"], done.text
    again = pages.post(f"/receipt-alerts/{fid}/confirm-withdrawal", {**form, "confirm": "yes"})  # the double click
    assert again.status_code == 409 and "没有核实未收到" in again.text, again.text
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], users.ids["rev2"])], "withdrawn", "withdrawn")
    assert _actions(ctx, fid).count("followup.receipt_withdrawn") == 1
    told = pages.get(done.headers["location"]).text
    assert "已撤回核实未收到：追回和补发已撤销" in told, told
    shown = pages.get("/receipt-alerts").text  # open again, the withdrawn closing on record
    assert f'id="alert-{fid}"' in shown and "已撤回" in shown and WHY in shown and "确认撤回" in shown


@pytest.mark.parametrize("first", ["withdrawal", "batch"])
def test_a_withdrawal_and_a_batch_taking_the_supplement_race_one_wins(ctx, client, users, misdirected_closed, monkeypatch,  # type: ignore[no-untyped-def]
                                                                       first: str) -> None:
    """rev2 confirms the withdrawal while claims1 prepares a batch of the case's supplement (two connections), the
    other one starting while `first` holds what it locked: `first` wins, the other is refused (409 naming the batch,
    or the case no longer has anything to pay). Never a withdrawn supplement in a batch, nor a closing withdrawn whose
    supplement is batched."""
    import threading
    import time

    from race_kit import first_then_other

    from verifier.accounts.auth import principal_of
    from verifier.domain.errors import InvalidState, ValidationFailed
    from verifier.followups import receipt_withdraw
    from verifier.payments import service as payments

    person(ctx, users, "rev3", "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    _changed_home(ctx, client, users, case)
    assert _propose(client, users, fid, "rev3").status_code == 200
    with ctx.db.read() as session:
        who = {n: principal_of(session.get(User, users.ids[n])) for n in ("rev2", "claims1")}
    locked = threading.Event()

    def holding(real):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            found = real(*args, **kwargs)
            locked.set()
            time.sleep(0.5)  # the other starts, and waits on what this one holds
            return found
        return run

    if first == "withdrawal":
        monkeypatch.setattr(receipt_withdraw, "undo_refusal", holding(receipt_withdraw.undo_refusal))
    else:
        monkeypatch.setattr(payments, "_open_supplements", holding(payments._open_supplements))
    done, refused = first_then_other(ctx.settings.database_url, first, locked, {
        "withdrawal": lambda session: receipt_withdraw.confirm(session, fid, principal=who["rev2"], clock=ctx.clock),
        "batch": lambda session: payments.create_batch(session, county_code=COUNTY, contract_id=None,
                                                       principal=who["claims1"], clock=ctx.clock, case_ids=[case]),
    }, refusals=(InvalidState, ValidationFailed))
    assert done == [first] and len(refused) == 1, (done, refused)
    rows, rec_status, sup_status = _state(ctx, fid, rec, sup)
    with ctx.db.read() as session:
        items = session.scalars(select(PaymentItem.status).where(PaymentItem.supplement_id == sup)).all()
    if first == "withdrawal":
        assert refused[0].startswith("batch:"), refused
        assert (rows, rec_status, sup_status, items) == ([(users.ids["rev3"], users.ids["rev2"])], "withdrawn",
                                                         "withdrawn", []), (rows, rec_status, sup_status, items)
        assert _open(client, users) == [fid]
    else:
        assert refused[0].startswith("withdrawal:") and "已列入支付批次" in refused[0], refused
        assert (rows, rec_status, sup_status, items) == ([(users.ids["rev3"], None)], "open", "in_batch",
                                                         ["pending"]), (rows, rec_status, sup_status, items)
        assert _open(client, users) == []
