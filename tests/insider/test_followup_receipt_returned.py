"""A household says it got nothing; the money went to an account changed after the check, and one county reviewer
closed the alert as 核实已收到. The second reviewer could only confirm it: disagreeing (the money did not arrive, the
closer wrong or colluding), all they could do was leave it 待复核. They may now return it (退回重新核实) with why: the
alert is open again on the list, the case page and the home count, the returned closing kept as it was with who
returned it and why, and another reviewer closes it anew — never its closer. The same people who may not confirm
may not return (the closer, the follow-up's recorder, who took part in paying it, an account linked to one of them by
a password, a relative), each refused try kept on 回避拦截记录 under 退回; once; another county's reads as none."""

from __future__ import annotations

import pytest
from deviation_helpers import person
from insider_kit import (declare_ties, entries_but_refusals, given_to, head_of, household_member, kept_flow,
                         paid_onto_sly, receipt_followup, refusals_of)
from sqlalchemy import select
from web.pagekit import Pages, card_count

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview
from verifier.payments.models import SupplementaryPayment
from verifier.store.tables import User

CARD = "未收到救助金待核实"
WHY = "银行流水显示钱进了尾号9991的卡，不是户主的卡"
RETURNED = "核实了这次未收到救助金的回访（核实已收到），已被另一名县级审核人员退回"


def _open(client, users) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/followups/receipt-alerts", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    return [a["followup_id"] for a in r.json()["items"]]


def _closed_received(ctx, client, users, *, closer: str = "rev1") -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """sly's change paid the first case onto his card (`paid_onto_sly`); off9 recorded its follow-up (no), `closer`
    closed it as 核实已收到: waiting for its second look. The cases and the follow-up."""
    cases, _ = paid_onto_sly(ctx, client, users)
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(closer),
                    json={"note": "户主说卡在自己手里，钱应该到了", "outcome": "received"})
    assert r.status_code == 200 and r.json()["second_needed"] is True, r.text
    return cases, fid


closed_received_kept = kept_flow("closed_received_kept", _closed_received)


@pytest.fixture
def closed_received(users, closed_received_kept):  # type: ignore[no-untyped-def]
    """`_closed_received`, built over HTTP by the process's first test that asks for it and kept (the tests only add
    to it): the next start from a copy of its rows, keys, log and time (insider_kit.kept_flow)."""
    return given_to(users, closed_received_kept)


def _reviews(ctx, fid: str) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [(r.resolved_by, r.returned_by, r.note) for r in session.scalars(
            select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid)
            .order_by(FollowupReceiptReview.resolved_at, FollowupReceiptReview.id))]


def _actions(ctx, fid: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == fid)
                                    .order_by(AuditEntry.idx)))


def test_attack_the_people_who_may_not_confirm_return_the_closing(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The closer, the recorder (a reviewer too), the batch's releaser (a reviewer too), the closer's password-linked
    account and a relative of the household return the closing: 403 in Chinese, nothing written, each kept on
    回避拦截记录 under 退回; another county's reviewer: 404 as if there were no such follow-up."""
    person(ctx, users, "off9", "field_officer", "county_reviewer")  # records the follow-up, and reviews too
    fin1 = person(ctx, users, "fin1", "finance", "county_reviewer")  # released the batch
    person(ctx, users, "rev_pal", "county_reviewer")
    person(ctx, users, "rev_kin", "county_reviewer")
    person(ctx, users, "rev_far", "county_reviewer", counties=("340224",))
    cases, fid = _closed_received(ctx, client, users)
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    household, _, id_number = household_member(ctx, cases[0])
    declare_ties(client, users.headers("rev_kin"), id_number)

    before = entries_but_refusals(ctx)
    url = f"/api/followups/{fid}/receipt-review/return"
    for who, said in (("rev1", "核实了这次未收到救助金的回访（核实已收到）"), ("off9", "录入了这次回访"),
                      ("fin1", "发放了支付批次"), ("rev_pal", "密码关联")):
        r = client.post(url, headers=users.headers(who), json={"note": WHY})
        assert r.status_code == 403 and "须由另一名县级审核人员复核" in r.json()["detail"] and said in r.text, (who, r.text)
    r = client.post(url, headers=users.headers("rev_kin"), json={"note": WHY})
    assert r.status_code in (403, 422) and "回避" in r.text, r.text
    r = client.post(url, headers=users.headers("rev_far"), json={"note": WHY})
    assert r.status_code == 404 and "没有这次回访" in r.text and cases[0] not in r.text, r.text
    assert entries_but_refusals(ctx) == before
    for who in ("rev1", "off9", "fin1", "rev_pal", "rev_kin"):
        kept = refusals_of(ctx, users.ids[who])
        assert [k["step"] for k in kept] == ["receipt_return"], (who, kept)
    [kept] = refusals_of(ctx, fin1.id)
    assert (kept["subject"], kept["households"]) == (cases[0], [household]), kept
    assert _reviews(ctx, fid) == [(users.ids["rev1"], None, "户主说卡在自己手里，钱应该到了")]
    assert _open(client, users) == [fid]  # still 待复核, not returned

    # On 回避拦截记录 the step has its Chinese name.
    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/recusal-refusals")
    assert listed.status_code == 200 and "退回回访核实已收到" in listed.text, listed.text


def test_returned_the_alert_is_open_again_and_its_closer_may_not_close_it(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """rev2 returns rev1's closing over the API with why: kept, marked, audited, open again everywhere; a second
    return or a confirmation after it: 409; rev1 (and his password-linked account) may not close it again nor be the
    second look at the next closing; rev3 closes it as 核实已收到 again, which waits for a second look as before."""
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev_pal", "county_reviewer")
    cases, fid = closed_received
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    url = f"/api/followups/{fid}/receipt-review/return"
    for note, said in (("", "请填写退回的理由"), ("   ", "请填写退回的理由"), ("长" * 2001, "不能超过 2000 个字")):
        r = client.post(url, headers=users.headers("rev2"), json={"note": note})
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["note"], r.text
        assert said in r.text, r.text
    r = client.post(url, headers=users.headers("rev2"), json={"note": WHY})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["resolved_by"], body["returned_by"], body["return_note"]) == (
        users.ids["rev1"], users.ids["rev2"], WHY), body
    assert _reviews(ctx, fid) == [(users.ids["rev1"], users.ids["rev2"], "户主说卡在自己手里，钱应该到了")]
    assert _actions(ctx, fid) == ["followup.record", "followup.receipt_resolved", "followup.receipt_returned"]

    # Once: a double return, a later confirmation, by anyone: 409 in Chinese; nothing more written.
    for who, path in (("rev2", "return"), ("rev3", "return"), ("rev3", "confirm")):
        r = client.post(f"/api/followups/{fid}/receipt-review/{path}", headers=users.headers(who),
                        json={"note": WHY} if path == "return" else None)
        assert r.status_code == 409 and "已被退回" in r.json()["detail"], (who, path, r.text)
    assert len(_reviews(ctx, fid)) == 1 and _actions(ctx, fid)[-1] == "followup.receipt_returned"

    # Open again: on the API (with the returned closing), the list, the case page and the home count.
    assert _open(client, users) == [fid]
    [alert] = client.get("/api/followups/receipt-alerts", headers=users.headers("rev3")).json()["items"]
    assert (alert["resolved_by"], alert["second_waits"]) == (None, False), alert
    [returned] = alert["returned"]
    assert (returned["resolved_by"], returned["returned_by"], returned["return_note"], returned["outcome"]) == (
        users.ids["rev1"], users.ids["rev2"], WHY, "received"), returned
    pages = Pages(client, users)
    pages.login("rev3")
    assert card_count(pages.get("/").text, CARD) == 1
    listed = pages.get("/receipt-alerts").text
    assert "已退回" in listed and WHY in listed and "退回重新核实" in listed
    assert f'action="/receipt-alerts/{fid}/resolve"' in listed  # rev3 may close it
    case_page = pages.get(f"/cases/{cases[0]}").text
    assert "已退回" in case_page and WHY in case_page and "未收到救助金待核实" in case_page

    # The closer may not close it again (403, on 回避拦截记录 under 核实), nor his password-linked account; his list
    # offers no form.
    before = entries_but_refusals(ctx)
    for who, said in (("rev1", RETURNED), ("rev_pal", "密码关联")):
        r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(who),
                        json={"note": "我再核实一次，钱到了", "outcome": "received"})
        assert r.status_code == 403 and said in r.json()["detail"], (who, r.text)
        assert [k["step"] for k in refusals_of(ctx, users.ids[who])] == ["receipt_review"], who
    assert entries_but_refusals(ctx) == before and len(_reviews(ctx, fid)) == 1
    pages.login("rev1")
    mine = pages.get("/receipt-alerts").text
    assert f'action="/receipt-alerts/{fid}/resolve"' not in mine and "您的核实已被退回" in mine
    r = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": "钱到了", "outcome": "received"})
    assert r.status_code == 403 and "已被另一名县级审核人员退回" in r.text, r.text

    # rev3 closes it anew as 核实已收到: a second look is needed again, and rev1 may not give it.
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev3"),
                    json={"note": "户主补登存折后确认钱到了", "outcome": "received"})
    assert r.status_code == 200 and r.json()["second_needed"] is True, r.text
    assert _open(client, users) == [fid]
    for who in ("rev1", "rev_pal"):
        for path in ("confirm", "return"):
            r = client.post(f"/api/followups/{fid}/receipt-review/{path}", headers=users.headers(who),
                            json={"note": WHY} if path == "return" else None)
            assert r.status_code == 403 and "须由另一名县级审核人员复核" in r.json()["detail"], (who, path, r.text)
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    assert _open(client, users) == []
    assert _reviews(ctx, fid) == [(users.ids["rev1"], users.ids["rev2"], "户主说卡在自己手里，钱应该到了"),
                                  (users.ids["rev3"], None, "户主补登存折后确认钱到了")]
    closed = pages.get("/receipt-alerts?status=resolved").text
    assert "已退回" in closed and WHY in closed and "户主补登存折后确认钱到了" in closed


def test_returned_then_closed_as_misdirected_opens_the_recovery(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """The returner was right: another reviewer closes the reopened alert as 核实未收到, which opens the recovery and
    the supplement as any misdirected closing does; the returned closing stays on record beside it."""
    person(ctx, users, "rev3", "county_reviewer")
    cases, fid = closed_received
    r = client.post(f"/api/followups/{fid}/receipt-review/return", headers=users.headers("rev2"), json={"note": WHY})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev3"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200 and r.json()["supplement_id"], r.text
    sup = r.json()["supplement_id"]
    assert _open(client, users) == []
    r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        assert session.get(SupplementaryPayment, sup).confirmed_by == users.ids["rev2"]
    assert [(who, back) for who, back, _ in _reviews(ctx, fid)] == [(users.ids["rev1"], users.ids["rev2"]),
                                                                  (users.ids["rev3"], None)]
    resolved = client.get("/api/followups/receipt-alerts?status=resolved", headers=users.headers("rev2")).json()
    [alert] = resolved["items"]
    assert alert["outcome"] == "misdirected" and [r["returned_by"] for r in alert["returned"]] == [users.ids["rev2"]]


def test_the_page_returns_once_with_a_note(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """On 未收到救助金 the second reviewer has 退回重新核实 with a note box beside 复核确认已收到: a blank note is
    refused naming 退回理由; a tired clerk's double click returns once."""
    _, fid = closed_received
    pages = Pages(client, users)
    pages.login("rev1")  # the closer's own list offers him neither
    mine = pages.get("/receipt-alerts").text
    assert f'id="second-{fid}"' in mine and "return-closing" not in mine and "confirm-closing" not in mine
    pages.login("rev2")
    listed = pages.get("/receipt-alerts").text
    assert f'action="/receipt-alerts/{fid}/confirm-closing"' in listed
    assert f'action="/receipt-alerts/{fid}/return-closing"' in listed and "退回重新核实" in listed
    assert f'id="return-{fid}" name="note"' in listed
    refused = pages.post(f"/receipt-alerts/{fid}/return-closing", {"note": " ", "status": "open", "q": "", "page": "1"})
    assert refused.status_code == 422 and "退回理由：请填写退回的理由" in refused.text, refused.text
    form = {"note": WHY, "status": "open", "q": "", "page": "1"}
    done = pages.post(f"/receipt-alerts/{fid}/return-closing", form)
    assert done.status_code == 303 and "done=receipt_returned" in done.headers["location"], done.text
    again = pages.post(f"/receipt-alerts/{fid}/return-closing", form)  # the double click
    assert again.status_code == 409 and "已被退回" in again.text, again.text
    assert [back for _, back, _ in _reviews(ctx, fid)] == [users.ids["rev2"]]
    assert _actions(ctx, fid).count("followup.receipt_returned") == 1
    shown = pages.get(done.headers["location"]).text
    assert "已退回" in shown and WHY in shown and "原核实人不能再核实" in shown


def test_attack_the_returned_closer_chooses_where_the_supplement_goes(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """rev1 closed the alert as 核实已收到 (the money was with sly); rev2 returned it and rev3 found it misdirected,
    which opens the supplement. The payee change before the supplement is refused to the misdirected closing's closer
    and to who took part in paying it, so the one who moved the money does not choose where the supplement goes. The
    closer whose 核实已收到 was returned stood by the diversion as much: he, and his password-linked account, may not
    approve (nor reject) that change either — 403 naming the returned closing, kept on 回避拦截记录 under 审批收款人变更.
    Another county reviewer may."""
    person(ctx, users, "rev3", "county_reviewer")
    person(ctx, users, "rev_pal", "county_reviewer")
    person(ctx, users, "sup3", "insurer_supervisor")
    cases, fid = closed_received
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    r = client.post(f"/api/followups/{fid}/receipt-review/return", headers=users.headers("rev2"), json={"note": WHY})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev3"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200 and r.json()["supplement_id"], r.text
    r = client.post(f"/api/supplements/{r.json()['supplement_id']}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    head = head_of(client, users.headers("sup3"), cases[0])
    body = {"account_name": head, "bank": "农村商业银行", "account_number": "6222020000000088882", "reason": "户主换卡"}
    r = client.post(f"/api/cases/{cases[0]}/payee", headers=users.headers("sup3"), json=body)
    assert r.status_code == 201, r.text
    change = r.json()["id"]

    before = entries_but_refusals(ctx)
    for who, verb, said in (("rev1", "approve", RETURNED), ("rev1", "reject", RETURNED),
                            ("rev_pal", "approve", "密码关联")):
        r = client.post(f"/api/payee-changes/{change}/{verb}", headers=users.headers(who), json={})
        assert r.status_code == 403 and "补发前的收款人变更" in r.json()["detail"] and said in r.text, (who, r.text)
    assert entries_but_refusals(ctx) == before
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev1"])] == ["payee_decide", "payee_decide"]
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_pal"])] == ["payee_decide"]
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev2"), json={})
    assert r.status_code == 200, r.text


def test_attack_after_a_return_one_reviewer_closes_it_as_received_for_good(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The check named a payee who is no household member (王代收): rev1's 核实已收到 waited for a second look and rev2
    returned it, the money not arrived. A later check then lists 王代收 among the members, so the alert no longer
    reads as an outside payee: rev3's 核实已收到 closed it alone, the disagreement of two reviewers buried by a third.
    After a return a 核实已收到 waits for a second look whatever the account reads now, and rev2 may give it."""
    from insider_kit import outside_payee_received

    from verifier.store.tables import Case, Check, Member

    for name, role in (("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer"),
                       ("rev3", "county_reviewer")):
        person(ctx, users, name, role)

    fid, cases = outside_payee_received(ctx, client, users)
    r = client.post(f"/api/followups/{fid}/receipt-review/return", headers=users.headers("rev2"), json={"note": WHY})
    assert r.status_code == 200, r.text
    with ctx.db.begin() as session:  # the latest check now lists the payee as a member, one on record
        latest = session.scalars(select(Check).where(Check.case_id == cases[0]).order_by(Check.seq.desc())).first()
        household = session.scalar(select(Case.household_id).where(Case.id == cases[0]))
        session.add(Member(id="mem_wang", household_id=household, name="王代收", id_number_enc=b"x",
                           id_number_bidx="bidx_wang", relation="other", labour="full"))
        latest.members = [*latest.members, {**latest.members[0], "member_id": "mem_wang", "name": "王代收",
                                            "relation": "other"}]
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev3"),
                    json={"note": "代收人说钱已交给户主", "outcome": "received"})
    assert r.status_code == 200 and r.json()["second_needed"] is True, r.text
    assert _open(client, users) == [fid]
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev3"))
    assert r.status_code == 403 and "（这次回访此前的核实已收到被退回）" in r.json()["detail"], r.text
    pages = Pages(client, users)
    pages.login("rev2")
    listed = pages.get("/receipt-alerts").text
    assert f'id="second-{fid}">此前的核实已被退回：' in listed and f"/receipt-alerts/{fid}/confirm-closing" in listed
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    assert _open(client, users) == []


def test_the_page_keeps_the_typed_reason_when_the_return_is_refused(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """rev_pal's password was set by rev1, the closer: his list offers the second look (password links are read on
    submit), he types why and presses 退回重新核实: 403 naming the link, the reason still in its box, kept on
    回避拦截记录 under 退回; the closing not returned."""
    person(ctx, users, "rev_pal", "county_reviewer")
    _, fid = closed_received
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
    pages = Pages(client, users)
    pages.login("rev_pal")
    refused = pages.post(f"/receipt-alerts/{fid}/return-closing", {"note": WHY, "status": "open", "q": "", "page": "1"})
    assert refused.status_code == 403 and "密码关联" in refused.text, refused.text
    box = refused.text.split(f'id="return-{fid}"', 1)[1].split("</textarea>", 1)[0]
    assert box.endswith(f">{WHY}"), box
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_pal"])] == ["receipt_return"]
    assert [back for _, back, _ in _reviews(ctx, fid)] == [None]


def test_a_return_and_a_confirmation_at_once_one_of_them_stands(ctx, client, users, closed_received) -> None:  # type: ignore[no-untyped-def]
    """rev2 returns the closing while rev3 confirms it, at the same moment (two connections): one wins, the other is
    told the closing is returned or confirmed already (409), one audit entry; never a closing both returned and
    confirmed, nor an alert closed after it was returned."""
    from race_kit import at_once

    from verifier.accounts.auth import principal_of
    from verifier.domain.errors import InvalidState
    from verifier.followups import receipt_second
    from verifier.store.db import Database

    person(ctx, users, "rev3", "county_reviewer")
    _, fid = closed_received
    with ctx.db.read() as session:
        who = {n: principal_of(session.get(User, users.ids[n])) for n in ("rev2", "rev3")}
    done: list[str] = []
    refused: list[str] = []

    def act(n: int) -> None:
        db = Database(ctx.settings.database_url)
        try:
            with db.begin() as session:
                if n == 0:
                    receipt_second.return_closing(session, fid, WHY, principal=who["rev2"], clock=ctx.clock)
                else:
                    receipt_second.confirm_closing(session, fid, principal=who["rev3"], clock=ctx.clock)
            done.append("returned" if n == 0 else "confirmed")
        except InvalidState as exc:
            refused.append(str(exc))
        finally:
            db.dispose()

    assert at_once(2, act) == []
    assert len(done) == 1 and len(refused) == 1, (done, refused)
    with ctx.db.read() as session:
        [row] = session.scalars(select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == fid))
        assert (row.returned_by is None) != (row.confirmed_by is None), (row.returned_by, row.confirmed_by)
    actions = _actions(ctx, fid)
    assert actions.count("followup.receipt_returned") + actions.count("followup.receipt_confirmed") == 1, actions
    assert _open(client, users) == ([fid] if done == ["returned"] else [])
