"""A proposal to withdraw a 核实未收到 closing (撤回核实未收到) could not be dropped or declined: it waited forever, or
stood beside a closing that could no longer be withdrawn. Now its proposer drops it (撤销提议) and another county
reviewer declines it (驳回撤回), each with a reason; the proposal is kept as ended (who, when, how, why; the log holds
the reasons' SHA-256 only), its audit entry in the same transaction, and a new proposal may follow. The proposals of a
closing are numbered: a confirmation, a drop or a decline names the one its page showed, and a stale one is refused.

The insider: the closer (or an account linked to them, a payer, the recorder, a relative) declining a withdrawal of
the closing to keep its second payment flowing; the proposer declining their own (to look like a second person's
no); someone not the proposer "dropping" it to get round the decline's rule; one reviewer declining every proposal
in turn; a proposer dropping and proposing anew (another reason, or through a linked account) under a confirmation
already on its way."""

from __future__ import annotations

import json
import re

import pytest
from deviation_helpers import person
from insider_kit import (COUNTY, declare_ties, entries_but_refusals, head_of, household_member, misdirected_closing,
                         refusals_of)
from sqlalchemy import select
from web.pagekit import Pages

from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.followups import receipt
from verifier.followups.models import FollowupReceiptReview, FollowupReceiptWithdrawEnded
from verifier.payments.models import Recovery, SupplementaryPayment
from verifier.store.tables import User

WHY = "核实时看错了银行流水：钱实际已入户主本人的卡"
NO = "银行流水确实显示钱进了别人的卡，核实未收到无误"
DROPPED = "再次核对流水，钱确实没有到户"


def _propose(client, users, fid: str, who: str, reason: str = WHY):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw", headers=users.headers(who),
                       json={"reason": reason})


def _confirm(client, users, fid: str, who: str, proposal: int | None = None):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw/confirm", headers=users.headers(who),
                       **({"json": {"proposal": proposal}} if proposal is not None else {}))


def _drop(client, users, fid: str, who: str, proposal: int, reason: str = DROPPED):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw/drop", headers=users.headers(who),
                       json={"proposal": proposal, "reason": reason})


def _decline(client, users, fid: str, who: str, proposal: int, reason: str = NO):  # type: ignore[no-untyped-def]
    return client.post(f"/api/followups/{fid}/receipt-review/withdraw/decline", headers=users.headers(who),
                       json={"proposal": proposal, "reason": reason})


def _state(ctx, fid: str, rec: str, sup: str):  # type: ignore[no-untyped-def]
    """The follow-up's closings (who proposed a withdrawal now, who confirmed it), its ended proposals (number, who
    proposed, how ended, by whom), the recovery's and the supplement's status."""
    with ctx.db.read() as session:
        rows = [(r.withdraw_proposed_by, r.withdrawn_by) for r in session.scalars(
            select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid)
            .order_by(FollowupReceiptReview.resolved_at, FollowupReceiptReview.id))]
        ended = [(e.proposal, e.proposed_by, e.ended, e.ended_by) for e in session.scalars(
            select(FollowupReceiptWithdrawEnded).where(FollowupReceiptWithdrawEnded.followup_id == fid)
            .order_by(FollowupReceiptWithdrawEnded.proposal))]
        return rows, ended, session.get(Recovery, rec).status, session.get(SupplementaryPayment, sup).status


def _entries(ctx, fid: str, action: str) -> list[dict]:  # type: ignore[type-arg, no-untyped-def]
    with ctx.db.read() as session:
        return [json.loads(bytes(e)) for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.subject == fid, AuditEntry.action == action).order_by(AuditEntry.idx))]


def test_dropped_then_declined_each_kept_and_a_new_proposal_follows(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """rev3 proposes (1) and drops it with a reason; he proposes again (2), rev4 declines it; rev4 proposes (3) and
    rev2 confirms it. Each end kept (who, when, how, why), audited in its transaction with the reasons' SHA-256 only;
    the closing stands until the confirmation. Twice, or none waiting: 409; a blank reason: 422."""
    for name in ("rev3", "rev4"):
        person(ctx, users, name, "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    ids = users.ids
    for end in (_drop, _decline):  # nothing proposed: nothing to end
        r = end(client, users, fid, "rev3", 1)
        assert r.status_code == 409 and "没有待确认的撤回提议" in r.json()["detail"], r.text

    r = _propose(client, users, fid, "rev3")
    assert r.status_code == 200 and r.json()["withdraw_proposal"] == 1, r.text
    for reason in ("", "  ", "长" * 2001):
        r = _drop(client, users, fid, "rev3", 1, reason)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["reason"], r.text
        assert "撤销" in r.text, r.text
    r = _drop(client, users, fid, "rev3", 1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["withdraw_proposed_by"], body["withdraw_proposal"], body["withdrawn_by"]) == (None, None, None)
    [gone] = body["withdraw_ended"]
    assert (gone["proposal"], gone["proposed_by"], gone["reason"], gone["ended"], gone["ended_by"],
            gone["end_reason"]) == (1, ids["rev3"], WHY, "dropped", ids["rev3"], DROPPED), gone
    assert _state(ctx, fid, rec, sup) == ([(None, None)], [(1, ids["rev3"], "dropped", ids["rev3"])], "open", "open")
    for end in (_drop, _decline):  # the double click, or a tab left open: 409, nothing more written
        before = entries_but_refusals(ctx)
        r = end(client, users, fid, "rev3" if end is _drop else "rev4", 1)
        assert r.status_code == 409 and "没有待确认的撤回提议" in r.json()["detail"], r.text
        assert entries_but_refusals(ctx) == before
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 409 and "还没有人提议撤回" in r.json()["detail"], r.text

    r = _propose(client, users, fid, "rev3", "户主补登存折，发现钱在自己卡上")  # a new proposal may follow
    assert r.status_code == 200 and r.json()["withdraw_proposal"] == 2, r.text
    r = _decline(client, users, fid, "rev4", 2, " ")
    assert r.status_code == 422 and "驳回" in r.text, r.text
    r = _decline(client, users, fid, "rev4", 2)
    assert r.status_code == 200, r.text
    assert [(e["proposal"], e["ended"], e["ended_by"]) for e in r.json()["withdraw_ended"]] == [
        (1, "dropped", ids["rev3"]), (2, "declined", ids["rev4"])]
    assert _state(ctx, fid, rec, sup)[2:] == ("open", "open")  # declined: the recovery and the supplement go on

    assert _propose(client, users, fid, "rev4").json()["withdraw_proposal"] == 3
    r = _confirm(client, users, fid, "rev2", 3)
    assert r.status_code == 200 and r.json()["withdrawn_by"] == ids["rev2"], r.text
    assert _state(ctx, fid, rec, sup) == ([(ids["rev4"], ids["rev2"])], [
        (1, ids["rev3"], "dropped", ids["rev3"]), (2, ids["rev3"], "declined", ids["rev4"])], "withdrawn", "withdrawn")

    # The log: each end once, in its transaction, the reasons by their SHA-256, never in words.
    [dropped] = _entries(ctx, fid, "followup.receipt_withdraw_dropped")
    [declined] = _entries(ctx, fid, "followup.receipt_withdraw_declined")
    assert (dropped["actor"], dropped["payload"]["proposal"], dropped["payload"]["reason_sha256"],
            dropped["payload"]["proposal_reason_sha256"]) == (ids["rev3"], 1, text_digest(DROPPED), text_digest(WHY))
    assert (declined["actor"], declined["payload"]["proposal"], declined["payload"]["proposed_by"],
            declined["payload"]["reason_sha256"]) == (ids["rev4"], 2, ids["rev3"], text_digest(NO))
    with ctx.db.read() as session:
        logged = [bytes(e).decode("utf-8") for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.subject.in_((fid, rec, case))))]
    assert logged and not [e for e in logged if "流水" in e or "存折" in e], logged

    # The alerts read keeps the ended proposals, oldest first.
    [alert] = client.get("/api/followups/receipt-alerts?status=all", headers=users.headers("rev4")).json()["items"]
    assert [(e["proposal"], e["ended"], e["end_reason"]) for e in alert["withdraw_ended"]] == [
        (1, "dropped", DROPPED), (2, "declined", NO)], alert

    # So does the case page's 回访 section (through the stage's read model), as the alerts page shows them: how each
    # ended, who proposed it, when and why, who ended it, when and why.
    with ctx.db.read() as session:
        [shown] = receipt.for_case(session, case)
    assert [(e.proposal, e.proposed_by, e.reason, e.ended, e.ended_by, e.end_reason) for e in shown.withdraw_ended] == [
        (1, ids["rev3"], WHY, "dropped", ids["rev3"], DROPPED),
        (2, ids["rev3"], "户主补登存折，发现钱在自己卡上", "declined", ids["rev4"], NO)]
    pages = Pages(client, users)
    pages.login("rev4")
    page = pages.get(f"/cases/{case}").text
    ended = re.findall(r'<p class="small withdraw-ended" id="ended-[^"]+">(.*?)</p>', page, re.S)
    assert len(ended) == 2, page
    assert "已撤销提议" in ended[0] and "rev3 提议撤回核实未收到" in ended[0] and WHY in ended[0]
    assert "rev3 撤销提议" in ended[0] and DROPPED in ended[0]
    assert "已驳回撤回" in ended[1] and "户主补登存折" in ended[1] and "rev4 驳回撤回" in ended[1] and NO in ended[1]
    assert 'class="small withdrawn-closing"' in page  # beside the closing the third proposal withdrew


def test_attack_one_person_alone_cannot_end_a_proposal(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """rev3 proposes the withdrawal. The closer declining it (his closing, its second payment flowing), his
    password-linked account, the follow-up's recorder, the batch's releaser, a relative: refused (403 in Chinese,
    each kept on 回避拦截记录 under 驳回撤回), nothing written; the proposer may not decline his own (it would read as a
    second person's no), nor may anyone but him drop it (the closer "dropping" it round the decline's rule);
    another county's reviewer: 404. rev4 declines it; proposed again, rev4 may not decline it again: one reviewer
    alone does not keep the closing in place against every proposal (rev2 may)."""
    person(ctx, users, "off9", "field_officer", "county_reviewer")
    fin1 = person(ctx, users, "fin1", "finance", "county_reviewer")
    for name in ("rev3", "rev4", "rev_mate", "rev_kin"):
        person(ctx, users, name, "county_reviewer")
    person(ctx, users, "rev_far", "county_reviewer", counties=("340224",))
    case, fid, rec, sup = misdirected_closing(ctx, client, users)
    ids = users.ids
    with ctx.db.begin() as session:
        session.get(User, ids["rev_mate"]).password_set_by = ids["rev1"]  # the closer's
    household, _, id_number = household_member(ctx, case)
    declare_ties(client, users.headers("rev_kin"), id_number)
    assert _propose(client, users, fid, "rev3").status_code == 200

    before = entries_but_refusals(ctx)
    for who, said in (("rev1", "核实了这次未收到救助金的回访（核实未收到）"), ("rev_mate", "密码关联"),
                      ("off9", "录入了这次回访"), ("fin1", "发放了支付批次"),
                      ("rev3", "提议了撤回这次核实未收到（不再撤回的，请撤销自己的提议）")):
        r = _decline(client, users, fid, who, 1)
        assert r.status_code == 403 and "驳回撤回核实未收到须由另一名县级审核人员作出" in r.json()["detail"], (who, r.text)
        assert said in r.text, (who, r.text)
        assert [k["step"] for k in refusals_of(ctx, ids[who])] == ["receipt_withdraw_decline"], who
    r = _decline(client, users, fid, "rev_kin", 1)
    assert r.status_code in (403, 422) and "回避" in r.text, r.text
    for who in ("rev1", "rev2"):  # not the proposer: no drop, whatever else they may do
        r = _drop(client, users, fid, who, 1)
        assert r.status_code == 403 and "只有提议人可以撤销自己的撤回提议" in r.json()["detail"], (who, r.text)
    assert [k["step"] for k in refusals_of(ctx, ids["rev1"])] == ["receipt_withdraw_decline", "receipt_withdraw_drop"]
    for end in (_drop, _decline):
        r = end(client, users, fid, "rev_far", 1)
        assert r.status_code == 404 and "没有这次回访" in r.text and case not in r.text, r.text
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(ids["rev3"], None)], [], "open", "open")
    [kept] = refusals_of(ctx, fin1.id)  # the trace names the case and its household
    assert (kept["step"], kept["subject"], kept["households"]) == ("receipt_withdraw_decline", case, [household])

    assert _decline(client, users, fid, "rev4", 1).status_code == 200
    assert _propose(client, users, fid, "rev3", "复核银行回单，钱在户主卡上").json()["withdraw_proposal"] == 2
    r = _decline(client, users, fid, "rev4", 2)
    assert r.status_code == 403 and "驳回过这次核实未收到此前的撤回提议" in r.json()["detail"], r.text
    assert _state(ctx, fid, rec, sup)[:2] == ([(ids["rev3"], None)], [(1, ids["rev3"], "declined", ids["rev4"])])
    r = _decline(client, users, fid, "rev2", 2)
    assert r.status_code == 200, r.text

    # On 回避拦截记录 the new steps have their Chinese names.
    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/recusal-refusals")
    assert listed.status_code == 200, listed.text
    assert "驳回撤回回访核实未收到的提议" in listed.text and "撤销撤回回访核实未收到的提议" in listed.text


def test_attack_a_decliner_declines_the_next_proposal_through_a_linked_account(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """rev4 declines proposal 1; rev3 proposes again (2). rev4 may not decline it, nor may rev_pal, whose password
    rev4 set (one person's second account: 403 naming the link, kept on 回避拦截记录, nothing written); rev2 may."""
    for name in ("rev3", "rev4", "rev_pal"):
        person(ctx, users, name, "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    ids = users.ids
    with ctx.db.begin() as session:
        session.get(User, ids["rev_pal"]).password_set_by = ids["rev4"]
    assert _propose(client, users, fid, "rev3").status_code == 200
    assert _decline(client, users, fid, "rev4", 1).status_code == 200
    assert _propose(client, users, fid, "rev3", "复核银行回单，钱在户主卡上").json()["withdraw_proposal"] == 2

    before = entries_but_refusals(ctx)
    r = _decline(client, users, fid, "rev_pal", 2)
    assert r.status_code == 403, r.text
    assert "驳回过这次核实未收到此前撤回提议的人员有密码关联" in r.json()["detail"], r.text
    assert [k["step"] for k in refusals_of(ctx, ids["rev_pal"])] == ["receipt_withdraw_decline"]
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(ids["rev3"], None)], [(1, ids["rev3"], "declined", ids["rev4"])],
                                          "open", "open")
    r = _decline(client, users, fid, "rev2", 2)
    assert r.status_code == 200, r.text


def test_a_proposal_dropped_and_made_anew_is_not_confirmed_by_a_page_showing_the_old_one(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """rev2's page shows rev3's proposal (1, its reason); rev3 drops it and proposes anew with another reason (2):
    rev2's confirmation or decline of 1 is refused (409 naming the one that waits), nothing written. rev3 drops it
    again and his password-linked account proposes (3): rev3 may not confirm it (dropping does not reset who may
    confirm: the proposer's linked accounts stay barred); rev2 confirms 3."""
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev_pal", "county_reviewer")
    _, fid, rec, sup = misdirected_closed
    ids = users.ids
    with ctx.db.begin() as session:
        session.get(User, ids["rev_pal"]).password_set_by = ids["rev3"]
    assert _propose(client, users, fid, "rev3").status_code == 200
    pages = Pages(client, users)
    pages.login("rev2")
    shown = pages.get("/receipt-alerts?status=resolved").text
    assert 'name="proposal" value="1"' in shown and WHY in shown

    assert _drop(client, users, fid, "rev3", 1).status_code == 200
    assert _propose(client, users, fid, "rev3", "另一个理由").json()["withdraw_proposal"] == 2
    before = entries_but_refusals(ctx)
    r = _confirm(client, users, fid, "rev2", 1)
    assert r.status_code == 409 and "第 2 条" in r.json()["detail"] and "刷新页面" in r.json()["detail"], r.text
    r = _decline(client, users, fid, "rev2", 1)
    assert r.status_code == 409 and "第 2 条" in r.json()["detail"], r.text
    r = _drop(client, users, fid, "rev3", 1)
    assert r.status_code == 409 and "第 2 条" in r.json()["detail"], r.text
    form = {"status": "resolved", "q": "", "page": "1", "confirm": "yes", "proposal": "1"}
    stale = pages.post(f"/receipt-alerts/{fid}/confirm-withdrawal", form)  # the page left open
    assert stale.status_code == 409 and "现在待确认的是另一条提议" in stale.text, stale.text
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup)[2:] == ("open", "open")

    assert _drop(client, users, fid, "rev3", 2).status_code == 200
    assert _propose(client, users, fid, "rev_pal").json()["withdraw_proposal"] == 3
    r = _confirm(client, users, fid, "rev3", 3)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    r = _confirm(client, users, fid, "rev2", 3)
    assert r.status_code == 200, r.text
    assert _state(ctx, fid, rec, sup) == ([(ids["rev_pal"], ids["rev2"])], [
        (1, ids["rev3"], "dropped", ids["rev3"]), (2, ids["rev3"], "dropped", ids["rev3"])], "withdrawn", "withdrawn")


def test_a_proposal_beside_a_closing_that_can_no_longer_be_withdrawn_is_declined(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """Proposed, then the payee changed back home and a batch took the supplement: the confirmation is refused (409)
    and the page offers none, but another reviewer declines the proposal there (it no longer stands beside the
    closing), and a new proposal is refused naming the batch."""
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "sup3", "insurer_supervisor")
    person(ctx, users, "rev5", "county_reviewer")
    case, fid, rec, sup = misdirected_closed
    assert _propose(client, users, fid, "rev3").status_code == 200
    head = head_of(client, users.headers("sup3"), case)
    r = client.post(f"/api/cases/{case}/payee", headers=users.headers("sup3"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": "6217000000000012345",
        "reason": "改回户主本人账户"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("rev5"))
    assert r.status_code == 200, r.text
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [case]})
    assert r.status_code == 201, r.text
    assert _confirm(client, users, fid, "rev2", 1).status_code == 409

    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert "暂不能撤回" in listed and "confirm-withdrawal" not in listed
    assert f'action="/receipt-alerts/{fid}/decline-withdrawal"' in listed and "驳回撤回" in listed
    form = {"status": "resolved", "q": "", "page": "1", "proposal": "1"}
    blank = pages.post(f"/receipt-alerts/{fid}/decline-withdrawal", {**form, "reason": " "})
    assert blank.status_code == 422 and "驳回理由：请填写驳回撤回的理由" in blank.text, blank.text
    done = pages.post(f"/receipt-alerts/{fid}/decline-withdrawal", {**form, "reason": NO})
    assert done.status_code == 303 and "done=receipt_withdraw_declined" in done.headers["location"], done.text
    told = pages.get(done.headers["location"]).text
    assert "已驳回撤回提议" in told and NO in told and "撤回待确认" not in told
    again = pages.post(f"/receipt-alerts/{fid}/decline-withdrawal", {**form, "reason": NO})  # the double click
    assert again.status_code == 409 and "没有待确认的撤回提议" in again.text, again.text
    assert _state(ctx, fid, rec, sup) == ([(None, None)], [(1, users.ids["rev3"], "declined", users.ids["rev2"])],
                                          "open", "in_batch")
    r = _propose(client, users, fid, "rev3")
    assert r.status_code == 409 and "已列入支付批次" in r.json()["detail"], r.text


def test_the_page_offers_the_proposer_a_drop_and_others_a_decline(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """On 未收到救助金: the proposer has 撤销提议 (and no 驳回撤回), another reviewer 驳回撤回 beside the confirmation,
    the closer neither. The proposer's drop refused (blank) keeps nothing half-written and names 撤销理由; done, the
    list says so and shows the ended proposal with both reasons, and 提议撤回 is offered again."""
    person(ctx, users, "rev3", "county_reviewer")
    _, fid, rec, sup = misdirected_closed
    assert _propose(client, users, fid, "rev3").status_code == 200
    drop_form, decline_form = (f'action="/receipt-alerts/{fid}/drop-withdrawal"',
                               f'action="/receipt-alerts/{fid}/decline-withdrawal"')
    pages = Pages(client, users)
    pages.login("rev1")  # the closer
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert drop_form not in listed and decline_form not in listed and "confirm-withdrawal" not in listed
    pages.login("rev2")
    listed = pages.get("/receipt-alerts?status=resolved").text
    assert decline_form in listed and drop_form not in listed and "confirm-withdrawal" in listed
    pages.login("rev3")
    mine = pages.get("/receipt-alerts?status=resolved").text
    assert drop_form in mine and decline_form not in mine and "撤销提议" in mine
    form = {"status": "resolved", "q": "", "page": "1", "proposal": "1"}
    blank = pages.post(f"/receipt-alerts/{fid}/drop-withdrawal", {**form, "reason": ""})
    assert blank.status_code == 422 and "撤销理由：请填写撤销提议的理由" in blank.text, blank.text
    assert _state(ctx, fid, rec, sup)[:2] == ([(users.ids["rev3"], None)], [])
    done = pages.post(f"/receipt-alerts/{fid}/drop-withdrawal", {**form, "reason": DROPPED})
    assert done.status_code == 303 and "done=receipt_withdraw_dropped" in done.headers["location"], done.text
    told = pages.get(done.headers["location"]).text
    assert "撤回提议已撤销" in told and "已撤销提议" in told and DROPPED in told and WHY in told
    assert f'action="/receipt-alerts/{fid}/propose-withdrawal"' in told and drop_form not in told


@pytest.mark.parametrize("first", ["confirm", "drop"])
def test_a_confirmation_and_a_drop_race_one_wins(ctx, client, users, misdirected_closed, monkeypatch, first: str) -> None:  # type: ignore[no-untyped-def]
    """rev2 confirms the withdrawal while rev3 drops it (two connections), the other starting while `first` holds
    the closing: `first` wins, the other is refused (409): never a proposal both withdrawn and dropped."""
    import threading
    import time

    from race_kit import first_then_other

    from verifier.accounts.auth import principal_of
    from verifier.followups import receipt_withdraw

    person(ctx, users, "rev3", "county_reviewer")
    _, fid, rec, sup = misdirected_closed
    assert _propose(client, users, fid, "rev3").status_code == 200
    with ctx.db.read() as session:
        who = {n: principal_of(session.get(User, users.ids[n])) for n in ("rev2", "rev3")}
    locked = threading.Event()
    real = receipt_withdraw._pending

    def holding(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        if not locked.is_set():  # the first to get here holds the closing a while
            locked.set()
            time.sleep(0.5)
        return found

    monkeypatch.setattr(receipt_withdraw, "_pending", holding)
    done, refused = first_then_other(ctx.settings.database_url, first, locked, {
        "confirm": lambda session: receipt_withdraw.confirm(session, fid, principal=who["rev2"], clock=ctx.clock,
                                                            proposal=1),
        "drop": lambda session: receipt_withdraw.drop(session, fid, DROPPED, principal=who["rev3"], clock=ctx.clock,
                                                      proposal=1),
    })
    assert done == [first] and len(refused) == 1, (done, refused)
    rows, ended, rec_status, sup_status = _state(ctx, fid, rec, sup)
    if first == "confirm":
        assert (rows, ended, rec_status, sup_status) == ([(users.ids["rev3"], users.ids["rev2"])], [], "withdrawn",
                                                         "withdrawn"), (rows, ended)
        assert "没有核实未收到" in refused[0], refused
    else:
        assert (rows, ended, rec_status, sup_status) == ([(None, None)], [
            (1, users.ids["rev3"], "dropped", users.ids["rev3"])], "open", "open"), (rows, ended)
        assert "还没有人提议撤回" in refused[0], refused


def test_the_page_offers_no_decline_the_server_refuses_a_linked_account(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """The page's 驳回撤回 form follows the server's rule, password links too: rev_mate (whose password the closer
    set) and rev_pal (whose password an earlier decliner set) are offered no decline form, and the server refuses
    them; rev2, linked to nobody, has it."""
    for name in ("rev3", "rev4", "rev_mate", "rev_pal"):
        person(ctx, users, name, "county_reviewer")
    _, fid, rec, sup = misdirected_closed
    ids = users.ids
    with ctx.db.begin() as session:
        session.get(User, ids["rev_mate"]).password_set_by = ids["rev1"]  # the closer's
        session.get(User, ids["rev_pal"]).password_set_by = ids["rev4"]
    assert _propose(client, users, fid, "rev3").status_code == 200
    assert _decline(client, users, fid, "rev4", 1).status_code == 200
    assert _propose(client, users, fid, "rev3", "复核银行回单，钱在户主卡上").status_code == 200
    decline_form = f'action="/receipt-alerts/{fid}/decline-withdrawal"'
    pages = Pages(client, users)
    for who, offered in (("rev_mate", False), ("rev_pal", False), ("rev4", False), ("rev2", True)):
        pages.login(who)
        assert (decline_form in pages.get("/receipt-alerts?status=resolved").text) is offered, who
        if not offered:
            assert _decline(client, users, fid, who, 2).status_code == 403, who


def test_the_page_form_must_name_the_proposal(ctx, client, users, misdirected_closed) -> None:  # type: ignore[no-untyped-def]
    """The page always sends the number of the proposal it shows: a form without it, or with a bad one, is refused
    (409 in Chinese, nothing written) instead of read as "not said"; the API still takes a confirmation without it."""
    person(ctx, users, "rev3", "county_reviewer")
    _, fid, rec, sup = misdirected_closed
    assert _propose(client, users, fid, "rev3").status_code == 200
    pages = Pages(client, users)
    pages.login("rev2")
    before = entries_but_refusals(ctx)
    base = {"status": "resolved", "q": "", "page": "1"}
    for step, extra in (("confirm-withdrawal", {"confirm": "yes"}), ("decline-withdrawal", {"reason": NO})):
        for bad in ({}, {"proposal": ""}, {"proposal": "abc"}, {"proposal": "-1"}):
            r = pages.post(f"/receipt-alerts/{fid}/{step}", {**base, **extra, **bad})
            assert r.status_code == 409 and "页面没有带上撤回提议的编号" in r.text, (step, bad, r.text[:300])
    pages.login("rev3")
    r = pages.post(f"/receipt-alerts/{fid}/drop-withdrawal", {**base, "reason": DROPPED})
    assert r.status_code == 409 and "页面没有带上撤回提议的编号" in r.text, r.text[:300]
    assert entries_but_refusals(ctx) == before
    assert _state(ctx, fid, rec, sup) == ([(users.ids["rev3"], None)], [], "open", "open")
    r = _confirm(client, users, fid, "rev2")
    assert r.status_code == 200 and r.json()["withdraw_proposal"] == 1, r.text
