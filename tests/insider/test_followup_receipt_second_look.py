"""A household says it got nothing; the money went to an account changed after the check (a payee change approved:
not the account recorded at the door). One county reviewer closing the alert as 核实已收到 buried the one signal of a
diverted payment. Such a closing now waits (待复核, still open on the list, the case page and the home count) until
a second county reviewer confirms it: never the closer, the follow-up's recorder, anyone who took part in paying
it, nor an account linked to one of them by a password; a refused try is on 回避拦截记录. A closing of an account
that did not change stays one person's."""

from __future__ import annotations

from deviation_helpers import person
from insider_kit import entries_but_refusals, paid_onto_sly, receipt_followup, refusals_of
from sqlalchemy import select
from web.pagekit import Pages, card_count

from verifier.audit.models import AuditEntry
from verifier.followups.models import FollowupReceiptReview
from verifier.store.tables import Case, Check, User

CARD = "未收到救助金待核实"


def _open(client, users) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get("/api/followups/receipt-alerts", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    return [a["followup_id"] for a in r.json()["items"]]


def test_attack_one_reviewer_closes_a_diverted_payment_as_received(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fin1 = person(ctx, users, "fin1", "finance", "county_reviewer")  # released the batch, and a reviewer too
    cases, _ = paid_onto_sly(ctx, client, users)  # cases[0] paid to sly's account by his approved change
    today = ctx.clock.today().isoformat()
    diverted = receipt_followup(client, users, cases[0], today, "no", "0")
    plain = receipt_followup(client, users, cases[1], today, "no", "0")  # its account never changed
    for fid in (diverted, plain):
        r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                        json={"note": "户主说卡在自己手里，钱应该到了", "outcome": "received"})
        assert r.status_code == 200, r.text
        assert r.json()["second_needed"] is (fid == diverted), r.text

    # One reviewer's word closed the plain one; the diverted one is still open, 待复核, on every page.
    assert _open(client, users) == [diverted]
    [alert] = client.get("/api/followups/receipt-alerts", headers=users.headers("rev2")).json()["items"]
    assert (alert["outcome"], alert["second_needed"], alert["second_waits"], alert["confirmed_by"]) == (
        "received", True, True, None), alert
    pages = Pages(client, users)
    pages.login("rev2")
    assert card_count(pages.get("/").text, CARD) == 1
    assert "待复核" in pages.get(f"/cases/{cases[0]}").text and "待复核" not in pages.get(f"/cases/{cases[1]}").text
    listed = pages.get("/receipt-alerts").text
    assert f"/receipt-alerts/{diverted}/confirm-closing" in listed and "复核确认已收到" in listed

    # Not the closer, not the releaser, not the follow-up's recorder, not the closer's password-linked account:
    # 403 in Chinese, nothing written, each try on 回避拦截记录.
    person(ctx, users, "rev_pal", "county_reviewer")
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev1"]
        household = session.scalar(select(Case.household_id).where(Case.id == cases[0]))
    before = entries_but_refusals(ctx)
    for who, said in (("rev1", "核实了这次未收到救助金的回访（核实已收到）"), ("fin1", "发放了支付批次"),
                      ("rev_pal", "密码关联")):
        r = client.post(f"/api/followups/{diverted}/receipt-review/confirm", headers=users.headers(who))
        assert r.status_code == 403 and "须由另一名县级审核人员复核" in r.json()["detail"] and said in r.text, (who, r.text)
    assert entries_but_refusals(ctx) == before
    [kept] = refusals_of(ctx, fin1.id)
    assert (kept["step"], kept["subject"], kept["households"]) == ("receipt_confirm", cases[0], [household]), kept
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev1"])] == ["receipt_confirm"]
    r = client.post(f"/api/followups/{diverted}/receipt-review/confirm", headers=users.headers("off9"))
    assert r.status_code == 403, r.text  # the recorder is no county reviewer at all
    assert _open(client, users) == [diverted]

    # A second reviewer who took no part confirms it on the page: closed now, both names kept, audited.
    r = pages.post(f"/receipt-alerts/{diverted}/confirm-closing", {"status": "open", "q": "", "page": "1"})
    assert r.status_code == 303, r.text
    assert _open(client, users) == [] and card_count(pages.get("/").text, CARD) == 0
    assert "待复核" not in pages.get(f"/cases/{cases[0]}").text
    with ctx.db.read() as session:
        review = session.scalar(select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == diverted))
        assert (review.resolved_by, review.confirmed_by) == (users.ids["rev1"], users.ids["rev2"])
        assert review.confirmed_at is not None
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == diverted)
                                       .order_by(AuditEntry.idx)))
    assert actions == ["followup.record", "followup.receipt_resolved", "followup.receipt_confirmed"]
    # Once; and a closing that needs no second look is not confirmed: 409 in Chinese.
    for fid in (diverted, plain):
        r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev_pal"))
        assert r.status_code == 409 and "复核" in r.json()["detail"], r.text


def test_attack_a_payee_outside_the_household_registered_at_the_door_is_closed_by_one(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The check itself named a payee who is no household member (never a change): the follow-up rule already treats
    it as a changed account, and so does the second look; the 403 and the 409 say why in Chinese."""
    from insider_kit import outside_payee_received

    for name, role in (("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer")):
        person(ctx, users, name, role)

    fid, _ = outside_payee_received(ctx, client, users)
    assert _open(client, users) == [fid]
    pages = Pages(client, users)
    pages.login("rev2")  # the list says why it waits: the payee, not the account (it said 收款账户已变更)
    assert f'id="second-{fid}">收款人不是本户成员：' in pages.get("/receipt-alerts").text
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev1"))
    assert r.status_code == 403 and "收款人不是本户成员" in r.json()["detail"], r.text
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    assert _open(client, users) == []


def test_attack_a_check_officer_confirms_the_closing_of_a_changed_account(ctx, client, users, sly_paid) -> None:  # type: ignore[no-untyped-def]
    """Where the account was changed the case's check officers may not even record the follow-up; nor may they, or an
    account linked to one of them by a password, be the second look at its 核实已收到."""
    cases, _ = sly_paid
    person(ctx, users, "rev_off", "county_reviewer", "field_officer")
    person(ctx, users, "rev_pal", "county_reviewer")
    with ctx.db.begin() as session:
        [check] = session.scalars(select(Check).where(Check.case_id == cases[0]))
        officer = check.officer_ids[0]
        check.officer_ids = [*check.officer_ids, users.ids["rev_off"]]
        session.get(User, users.ids["rev_pal"]).password_set_by = officer
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "户主说卡在自己手里，钱应该到了", "outcome": "received"})
    assert r.status_code == 200 and r.json()["second_needed"] is True, r.text
    for who, said in (("rev_off", "参与了登记该户收款账户的入户核查"), ("rev_pal", "密码关联")):
        r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers(who))
        assert r.status_code == 403 and said in r.json()["detail"], (who, r.text)
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_off"])] == ["receipt_confirm"]
    assert _open(client, users) == [fid]
    r = client.post(f"/api/followups/{fid}/receipt-review/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
