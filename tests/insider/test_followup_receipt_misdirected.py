"""Relief paid into an insider's account: the household tells the follow-up it got nothing (or only part), and the
county reviewer who looks into it finds the money went elsewhere. Closing the alert with a note alone left the
household unpaid and the fund short. Closing it as 核实未收到 (`misdirected`) now opens, in the same transaction, the
recovery (追回) of what the household did not get and a supplementary payment (补发) of it, which another county
reviewer confirms and which is never paid to the account the money went to: its payee is changed first (a change on
the paid case that only a county reviewer approves). No one person sends money anywhere."""

from __future__ import annotations

import json
from datetime import timedelta

from deviation_helpers import person
from insider_kit import (COUNTY, closed_misdirected, followup_body, head_of, paid_onto_sly, payee_changed,
                         receipt_followup)
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview
from verifier.payments.models import PayeeCorrection, PaymentItem, Recovery, SupplementaryPayment
from verifier.store.tables import Case, User

HOME_ACCOUNT = "6217000000000012345"
_body, _paid_onto_sly, _followup = followup_body, paid_onto_sly, receipt_followup


def _counts(ctx) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)))  # type: ignore[return-value]
                     for m in (FollowupReceiptReview, Recovery, SupplementaryPayment))


def test_attack_money_sent_to_an_insider_is_recovered_and_paid_again_to_the_household(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    cases, items = sly_paid
    item_id, paid = items[cases[0]]
    today = ctx.clock.today().isoformat()
    fid = _followup(client, users, cases[0], today, "no", "0")

    # An old client sending only the note: 422 naming the outcome, in Chinese; nothing written.
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome", r.text
    assert "请选择核实结果" in r.text, r.text
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "maybe"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome", r.text
    assert _counts(ctx) == (0, 0, 0)

    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["outcome"] == "misdirected" and closed["recovery_id"] and closed["supplement_id"], closed
    # Closing twice: 409, and still one of each.
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev2"),
                    json={"note": "再次", "outcome": "misdirected"})
    assert r.status_code == 409, r.text
    assert _counts(ctx) == (1, 1, 1)
    with ctx.db.read() as s:
        rec = s.get(Recovery, closed["recovery_id"])
        sup = s.get(SupplementaryPayment, closed["supplement_id"])
        assert (rec.case_id, rec.amount, rec.paid_amount, rec.due_amount, rec.status, rec.round_id) == (
            cases[0], paid, paid, 0, "open", None)
        assert (sup.case_id, sup.amount, sup.status, sup.confirmed_by, sup.round_id) == (
            cases[0], paid, "open", None, None)
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.in_(
            ("recovery.opened", "case.supplement_opened", "followup.receipt_resolved"))).order_by(AuditEntry.idx)))
        resolved = s.scalars(select(AuditEntry).where(AuditEntry.action == "followup.receipt_resolved")).one()
    assert actions == ["recovery.opened", "case.supplement_opened", "followup.receipt_resolved"]
    said = json.loads(resolved.entry)["payload"]
    assert (said["outcome"], said["recovery_id"], said["supplement_id"]) == ("misdirected", rec.id, sup.id)
    [alert] = client.get("/api/followups/receipt-alerts?status=resolved", headers=users.headers("rev2")).json()["items"]
    assert (alert["outcome"], alert["recovery_id"], alert["supplement_id"], alert["supplement_status"]) == (
        "misdirected", rec.id, sup.id, "open")
    r = client.get(f"/api/recoveries/{rec.id}", headers=users.headers("fin1"))
    assert r.status_code == 200 and r.json()["outstanding"] == r.json()["amount"], r.text

    # Nothing is paid on one reviewer's word: a batch does not take the supplement, its closer may not confirm it.
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [cases[0]]})
    assert r.status_code == 422 and "另一名县级复核人员确认" in r.text, r.text
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev1"))
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and r.json()["confirmed_by"] == users.ids["rev2"], r.text

    # Confirmed, it is still not paid to sly's account: the batch leaves it out, saying why.
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [cases[0]]})
    assert r.status_code == 422 and "补发暂不支付" in r.text, r.text
    # The payee of the paid case may now be changed, by people who took no part in paying it nor in its follow-up:
    # a supervisor who took no part asks, a county reviewer who did not close the alert approves.
    person(ctx, users, "sup3", "insurer_supervisor")
    head = head_of(client, users.headers("sup3"), cases[0])
    r = client.post(f"/api/cases/{cases[0]}/payee", headers=users.headers("sup3"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": HOME_ACCOUNT, "reason": "改回户主本人账户"})
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("sly"))
    assert r.status_code == 403 and "申请了该案件的收款人变更" in r.text, r.text
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [cases[0]]})
    assert r.status_code == 201, r.text
    with ctx.db.read() as s:
        [again] = s.scalars(select(PaymentItem).where(PaymentItem.batch_id == r.json()["id"])).all()
        first = s.get(PaymentItem, item_id)
        assert (again.case_id, again.amount, again.supplement_id, again.payee_correction_id) == (
            cases[0], paid, sup.id, change)
        assert again.payee_account_index != first.payee_account_index

    # The recovery's repayment is recorded by finance and confirmed by another person, as any recovery's.
    r = client.post(f"/api/recoveries/{rec.id}/repayments", headers=users.headers("fin1"), json={
        "amount": alert["paid_amount"], "paid_on": today, "reference": "BKRET0001"})
    assert r.status_code in (200, 201), r.text
    r = client.post(f"/api/recovery-repayments/{r.json()['id']}/confirm", headers=users.headers("fin2"))
    assert r.status_code == 200, r.text
    assert client.get(f"/api/recoveries/{rec.id}", headers=users.headers("fin1")).json()["status"] == "repaid"


def test_partly_received_recovers_only_the_difference_and_received_opens_nothing(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    cases, items = sly_paid
    today = ctx.clock.today().isoformat()
    partly = _followup(client, users, cases[0], today, "partly", "500.00")
    no = _followup(client, users, cases[1], today, "no", "0")
    r = client.post(f"/api/followups/{no}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示已入账，户主不知道卡里有钱", "outcome": "received"})
    assert r.status_code == 200 and r.json()["outcome"] == "received", r.text
    assert (r.json()["recovery_id"], r.json()["supplement_id"]) == (None, None)
    assert _counts(ctx) == (1, 0, 0)
    r = client.post(f"/api/followups/{partly}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "监护人只转交了五百元", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    paid = items[cases[0]][1]
    with ctx.db.read() as s:
        rec = s.get(Recovery, r.json()["recovery_id"])
        sup = s.get(SupplementaryPayment, r.json()["supplement_id"])
        assert (rec.amount, rec.paid_amount, rec.due_amount) == (paid - 50000, paid, 50000)
        assert sup.amount == paid - 50000
    got = client.get("/api/followups/receipt-alerts?status=resolved", headers=users.headers("rev2")).json()["items"]
    assert {a["followup_id"]: a["outcome"] for a in got} == {no: "received", partly: "misdirected"}


def test_whoever_took_part_in_paying_it_opens_nothing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Who may close stays as before: the releaser who is also a county reviewer, and the approver of the change who is
    one too, are refused the misdirected closing (403) and nothing is opened; a reviewer who took no part closes it."""
    person(ctx, users, "fin1", "finance", "county_reviewer")
    person(ctx, users, "sup2", "insurer_supervisor", "county_reviewer")
    cases, _ = _paid_onto_sly(ctx, client, users)
    fid = _followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    for who, said in (("fin1", "发放了支付批次"), ("sup2", "批准了该案件的收款人变更"), ("sly", "此功能仅限")):
        r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(who),
                        json={"note": "已核实", "outcome": "misdirected"})
        assert r.status_code == 403 and said in r.text, (who, r.text)
    assert _counts(ctx) == (0, 0, 0)
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200 and _counts(ctx) == (1, 1, 1), r.text


SECOND_ACCOUNT = "6222020000000088882"


_closed_misdirected = closed_misdirected


def _pending(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(PayeeCorrection).where(
            PayeeCorrection.status == "pending")))


def test_attack_who_moved_the_money_does_not_choose_where_the_supplement_goes(ctx, client, users, closed_misdirected_case) -> None:  # type: ignore[no-untyped-def]
    """sly, whose change sent the relief to his card, asks for a new change to a second account of his; the closing
    reviewer would approve it and the supplement be paid there. Neither may: 403 in Chinese naming why, nothing
    written; nor may the follow-up's recorder or the closer reject a fair change."""
    case_id = closed_misdirected_case
    head = head_of(client, users.headers("sly"), case_id)
    body = {"account_name": head, "bank": "农村商业银行", "account_number": SECOND_ACCOUNT, "reason": "户主换卡"}
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sly"), json=body)
    assert r.status_code == 403 and "您申请了该案件的收款人变更" in r.text, r.text
    assert _pending(ctx) == 0
    person(ctx, users, "sup3", "insurer_supervisor")
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup3"), json=body)
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    for who, verb, said in (("rev1", "approve", "核实了这次未收到救助金的回访"),
                            ("rev1", "reject", "核实了这次未收到救助金的回访"),
                            ("sup2", "reject", "批准了该案件的收款人变更"),
                            ("fin1", "reject", "发放了支付批次")):
        r = client.post(f"/api/payee-changes/{change}/{verb}", headers=users.headers(who), json={})
        assert r.status_code == 403 and said in r.text, (who, verb, r.text)
    # Nor an account whose password the closer set: the roster's password link, as the follow-up's 回避 reads it.
    person(ctx, users, "rev_pal", "county_reviewer")
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev_pal"))
    assert r.status_code == 403 and "密码关联" in r.text, r.text
    assert _pending(ctx) == 1
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text


def test_partly_with_no_amount_is_not_closed_as_misdirected(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    """部分收到 with no amount: closing it as misdirected would recover and pay again the whole sum. 422 naming the
    amount, in Chinese, nothing written; closing it as received still works."""
    cases, _ = sly_paid
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=_body(cases[0], ctx.clock.today().isoformat(), received="partly"))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "户主说只拿到一部分", "outcome": "misdirected"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome", r.text
    assert "没有记录户称收到的金额" in r.text, r.text
    assert _counts(ctx) == (0, 0, 0)
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示全额入账", "outcome": "received"})
    assert r.status_code == 200 and _counts(ctx) == (1, 0, 0), r.text


def _another_supplement(ctx, users, case_id: str, amount: int = 10000) -> str:  # type: ignore[no-untyped-def]
    """A second supplementary payment of the case (as a sampling round's re-check opens one), confirmed, opened after
    the misdirected one."""
    with ctx.db.begin() as s:
        first = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == case_id)).one()
        sup = SupplementaryPayment(id="sup_other", case_id=case_id, round_id=None, county_code=first.county_code,
                                   contract_id=first.contract_id, determination_id=first.determination_id,
                                   amount=amount, status="open", opened_by=users.ids["rev2"],
                                   opened_at=first.opened_at + timedelta(seconds=1), confirmed_by=users.ids["rev1"],
                                   confirmed_at=first.opened_at + timedelta(seconds=2))
        s.add(sup)
    return "sup_other"


def _change_home(ctx, client, users, case_id: str) -> str:  # type: ignore[no-untyped-def]
    if "sup3" not in users.ids:
        person(ctx, users, "sup3", "insurer_supervisor")
    return payee_changed(client, users, case_id, by="sup3", approver="rev2", account=HOME_ACCOUNT,
                         reason="改回户主本人账户")


def test_attack_another_supplement_of_the_case_is_not_paid_to_the_misdirected_account(ctx, client, users, closed_misdirected_case) -> None:  # type: ignore[no-untyped-def]
    """The misdirected supplement set aside, another supplement of the same case (a sampling round's) would be paid
    to the case's payee, still sly's account: the batch leaves it out saying why, until the payee is changed."""
    case_id = closed_misdirected_case
    with ctx.db.begin() as s:
        first = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == case_id)).one()
        first.status, first.withdrawn_reason = "withdrawn", "复核结果更正"
    other = _another_supplement(ctx, users, case_id)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 422 and "补发暂不支付" in r.text, r.text
    change = _change_home(ctx, client, users, case_id)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 201, r.text
    with ctx.db.read() as s:
        [item] = s.scalars(select(PaymentItem).where(PaymentItem.batch_id == r.json()["id"])).all()
        assert (item.supplement_id, item.payee_correction_id, item.amount) == (other, change, 10000)


def test_a_second_supplement_of_a_case_is_told_as_skipped_not_dropped(ctx, client, users, closed_misdirected_case) -> None:  # type: ignore[no-untyped-def]
    """Two confirmed supplements open on one case: the batch pays the older and tells the other as skipped, with why
    (a batch pays a case once)."""
    case_id = closed_misdirected_case
    _change_home(ctx, client, users, case_id)
    other = _another_supplement(ctx, users, case_id, amount=12345)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 201, r.text
    assert [(k["case_id"], "123.45 元" in k["reason"] and "留待下一个批次" in k["reason"])
            for k in r.json()["skipped"]] == [(case_id, True)], r.text
    with ctx.db.read() as s:
        [item] = s.scalars(select(PaymentItem).where(PaymentItem.batch_id == r.json()["id"])).all()
        assert item.supplement_id != other
        assert s.get(SupplementaryPayment, other).status == "open"


def test_the_closers_password_link_does_not_confirm_and_a_case_no_longer_paid_is_not_closed_misdirected(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    """The supplement's confirmation: not by an account whose password its opener (the closer) set (403, Chinese).
    A misdirected closing of a case no longer paid: 409 in Chinese, nothing written."""
    cases, _ = sly_paid
    today = ctx.clock.today().isoformat()
    fid = _followup(client, users, cases[0], today, "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    sup = r.json()["supplement_id"]
    person(ctx, users, "rev_pal", "county_reviewer")
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev_pal"))
    assert r.status_code == 403 and "密码关联" in r.text, r.text

    other = _followup(client, users, cases[1], today, "no", "0")
    with ctx.db.begin() as session:
        session.get(Case, cases[1]).status = "withdrawn"
    r = client.post(f"/api/followups/{other}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 409 and "已支付" in r.text, r.text
    assert _counts(ctx) == (1, 1, 1)


def test_a_relative_confirming_the_supplement_is_refused_under_its_own_step(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    """A county reviewer who declared a member of the household as a relative confirms its 补发: refused (回避), kept on
    回避拦截记录 under 确认补发 (`supplement_confirm`), not under the re-check's step; nothing confirmed."""
    from insider_kit import declare_ties, household_member, refusals_of

    cases, _ = sly_paid
    person(ctx, users, "rev_kin", "county_reviewer")
    _, _, id_number = household_member(ctx, cases[0])
    declare_ties(client, users.headers("rev_kin"), id_number)
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    sup = r.json()["supplement_id"]
    r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev_kin"))
    assert r.status_code in (403, 422) and "回避" in r.text, r.text
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_kin"])] == ["supplement_confirm"]
    with ctx.db.read() as session:
        assert session.get(SupplementaryPayment, sup).confirmed_by is None
