"""A follow-up recorded by a setter of the payee account alone (the county had no other field officer,
`receipt.Involved.alone`) is not final: a county reviewer who took no part in paying the item confirms it (确认) or
refuses it with a reason (退回). Tried through the HTTP API as the insider would: the setter, who also works as a
county reviewer, confirms his own; an account whose password he set confirms it; the county reviewer who signed off
the batch, and the finance officer (also a county reviewer) who approved it, confirm it. Each is refused (403, kept
on 回避拦截记录) and none of them sees it on his to-decide list. Until confirmed, its 已收到 does not count as
received and its 未收到 alert is not closed; refused, it is kept, the payment is due again, and its recorder does
not record it again."""

from __future__ import annotations

import hashlib
import json

from deviation_helpers import person
from insider_kit import followup_body, refusals_of, setter_alone_followup as _alone
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.followups.models import Followup
from verifier.payments.models import PaymentItem
from verifier.store.tables import Check

COUNTY = "340223"
SAID = "回访待县级复核须由未参与这笔保障金支付的县级审核人员办理"


def _listed(client, users, who: str) -> dict:  # type: ignore[no-untyped-def]
    r = client.get("/api/followups/setter-alone?to_decide=1", headers=users.headers(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_attack_the_setter_his_linked_account_and_the_batch_people_confirm_the_setters_follow_up(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, cases, _ = _alone(ctx, client, users)
    for who, did in (("rev_off", "录入了这次回访"), ("rev_pal", "密码关联"), ("signer", "签批了支付批次"),
                     ("fin2", "审批了支付批次")):
        assert _listed(client, users, who)["items"] == [], who  # not his to decide
        assert _listed(client, users, who)["others"] == 1, who
        everyone = client.get("/api/followups/setter-alone", headers=users.headers(who)).json()["items"]
        assert [i["followup_id"] for i in everyone] == [fid] and did in everyone[0]["refused"], (who, everyone)
        for path, body in (("confirm", None), ("refuse", {"reason": "户主说没有人来回访"})):
            r = client.post(f"/api/followups/{fid}/setter-alone/{path}", headers=users.headers(who),
                            **({"json": body} if body else {}))
            assert r.status_code == 403 and SAID in r.json()["detail"] and did in r.json()["detail"], (who, r.text)
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_off"])] == ["followup_alone_confirm",
                                                                          "followup_alone_refuse"]
    with ctx.db.read() as session:
        f = session.get(Followup, fid)
        assert f.alone_waits and f.alone_confirmed_by is None and f.alone_refused_at is None
    # Until confirmed, its 已收到 is not counted received (待县级复核).
    month = ctx.clock.today().strftime("%Y-%m")
    figures = client.get(f"/api/followups/summary?county_code={COUNTY}&month={month}",
                         headers=users.headers("rev")).json()
    assert figures["received"] == {"review": 1} and figures["done"] == 1, figures
    # A reviewer who took no part sees it to decide and confirms it: final, counted received.
    assert [i["followup_id"] for i in _listed(client, users, "rev")["items"]] == [fid]
    r = client.post(f"/api/followups/{fid}/setter-alone/confirm", headers=users.headers("rev"))
    assert r.status_code == 200 and r.json()["setter_alone"] == "confirmed", r.text
    r = client.post(f"/api/followups/{fid}/setter-alone/confirm", headers=users.headers("rev"))
    assert r.status_code == 409, r.text
    figures = client.get(f"/api/followups/summary?county_code={COUNTY}&month={month}",
                         headers=users.headers("rev")).json()
    assert figures["received"] == {"yes": 1}, figures
    done = client.get("/api/followups/setter-alone?status=done", headers=users.headers("rev")).json()["items"]
    assert [(i["followup_id"], i["state"], i["decided_by"]) for i in done] == [(fid, "confirmed", users.ids["rev"])]


def test_a_refused_follow_up_is_kept_and_the_payment_is_due_again_but_not_to_its_recorder(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    fid, cases, _ = _alone(ctx, client, users)
    r = client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"), json={"reason": " "})
    assert r.status_code == 422 and "退回的理由" in r.text, r.text
    reason = "电话向户主本人核对：没有人来回访，户主不知道钱到了哪张卡"
    r = client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"),
                    json={"reason": reason})
    assert r.status_code == 200 and r.json()["setter_alone"] == "refused", r.text
    with ctx.db.read() as session:
        f = session.get(Followup, fid)
        assert (f.alone_refused_by, f.alone_refuse_reason) == (users.ids["rev"], reason)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.alone_refused")).one()
        item = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == cases[0]))
    payload = json.loads(entry.entry)["payload"]
    assert payload["reason_sha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert reason not in entry.entry.decode("utf-8")
    # Due again, on the county's list; its recorder may not record it again.
    due = client.get("/api/followups", headers=users.headers("rev")).json()["due"]
    assert item in {d["payment_item_id"] for d in due}
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("rev_off"),
                    json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 403 and "已被县级复核退回" in r.json()["detail"], r.text
    mine = client.get("/api/followups?mine=true", headers=users.headers("rev_off")).json()
    assert item not in {d["payment_item_id"] for d in mine["due"]}
    # Another officer, new in the county, records it: the refused one stays on record beside it.
    person(ctx, users, "off9", "field_officer")
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 201 and r.json()["setter_alone"] is None, r.text
    with ctx.db.read() as session:
        assert session.scalars(select(Followup.id).where(Followup.payment_item_id == item)).all() != [fid]
        assert len(session.scalars(select(Followup.id).where(Followup.payment_item_id == item)).all()) == 2


def test_the_setters_not_received_is_not_closed_before_the_second_look(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The setter records the other case's follow-up alone as 未收到: its alert waits, and no reviewer closes it
    until the follow-up is confirmed (409 naming why)."""
    fid, cases, _ = _alone(ctx, client, users)
    with ctx.db.begin() as session:
        second = session.scalar(select(Check).where(Check.case_id == cases[1], Check.seq == 1))
        second.officer_ids = [*second.officer_ids, users.ids["rev_off"]]
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("rev_off"),
                    json=followup_body(cases[1], today, received="no", received_amount="0"))
    assert r.status_code == 201 and r.json()["setter_alone"] == "waits", r.text
    no = r.json()["id"]
    alerts = client.get("/api/followups/receipt-alerts", headers=users.headers("rev")).json()["items"]
    assert [a["followup_id"] for a in alerts] == [no]
    r = client.post(f"/api/followups/{no}/receipt-review", headers=users.headers("rev"),
                    json={"note": "户主记错了，钱已到账", "outcome": "received"})
    assert r.status_code == 409 and "待县级复核" in r.json()["detail"], r.text
    assert client.post(f"/api/followups/{no}/setter-alone/confirm", headers=users.headers("rev")).status_code == 200
    r = client.post(f"/api/followups/{no}/receipt-review", headers=users.headers("signer"),
                    json={"note": "银行流水显示已入账", "outcome": "received"})
    assert r.status_code == 403, r.text  # the batch's signer closes nothing of it either
    r = client.post(f"/api/followups/{no}/receipt-review", headers=users.headers("rev"),
                    json={"note": "银行流水显示已入账", "outcome": "received"})
    assert r.status_code == 200, r.text


def test_the_supervisors_assignment_after_a_refusal_and_who_may_not_make_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Refused, the setter's follow-up is due again and he may not record it; the county has no one else. The
    supervisor assigns it to him with a reason (指派回访): not a supervisor whose password he set, not without a
    reason, not to someone not an officer of the county; once assigned he records it, and it waits for the second
    look again. With another officer in the county, no setter is assigned."""
    person(ctx, users, "sup", "insurer_supervisor")
    person(ctx, users, "sup_pal", "insurer_supervisor")
    fid, cases, _ = _alone(ctx, client, users)
    with ctx.db.begin() as session:
        from verifier.store.tables import User
        session.get(User, users.ids["sup_pal"]).password_set_by = users.ids["rev_off"]
        item = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == cases[0]))
    assert client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"),
                       json={"reason": "户主说没有人来回访"}).status_code == 200
    body = {"payment_item_id": item, "officer_id": users.ids["rev_off"], "reason": "本县只有这几名核查员，原回访被退回"}
    r = client.post("/api/followups/assignments", headers=users.headers("rev_off"), json=body)
    assert r.status_code == 403, r.text  # an officer does not assign himself
    r = client.post("/api/followups/assignments", headers=users.headers("sup_pal"), json=body)
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    r = client.post("/api/followups/assignments", headers=users.headers("sup"), json={**body, "reason": ""})
    assert r.status_code == 422 and "指派理由" in r.text, r.text
    r = client.post("/api/followups/assignments", headers=users.headers("sup"),
                    json={**body, "officer_id": users.ids["rev"]})
    assert r.status_code == 422 and "在岗的核查员" in r.text, r.text
    r = client.post("/api/followups/assignments", headers=users.headers("sup"), json=body)
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.assigned")).one()
    assert json.loads(entry.entry)["payload"]["reason_sha256"] == hashlib.sha256(body["reason"].encode()).hexdigest()
    assert body["reason"] not in entry.entry.decode("utf-8")
    mine = client.get("/api/followups?mine=true", headers=users.headers("rev_off")).json()
    assert item in {d["payment_item_id"] for d in mine["due"]}, mine
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("rev_off"),
                    json=followup_body(cases[0], today, received="yes", note="再次入户，户主本人说钱收到了"))
    assert r.status_code == 201 and r.json()["setter_alone"] == "waits", r.text
    again = r.json()["id"]
    assert [i["followup_id"] for i in _listed(client, users, "rev")["items"]] == [again]
    # The other case: another officer in the county now, so its setter is not assigned.
    person(ctx, users, "off9", "field_officer")
    with ctx.db.read() as session:
        other = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == cases[1]))
        first = session.scalar(select(Check).where(Check.case_id == cases[1], Check.seq == 1))
    r = client.post("/api/followups/assignments", headers=users.headers("sup"),
                    json={**body, "payment_item_id": other, "officer_id": first.recorded_by})
    assert r.status_code in (409, 422), r.text


def test_attack_a_setter_linked_to_the_batchs_approver_is_not_assigned_the_follow_up(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The setter set the password of the finance officer who approved the batch (one person behind two accounts of
    the money's path): the recording would refuse him, so the supervisor may not assign it to him either (403 naming
    the link): no assignment stands unused, and his own list does not offer the payment."""
    person(ctx, users, "sup", "insurer_supervisor")
    fid, cases, _ = _alone(ctx, client, users)
    assert client.post(f"/api/followups/{fid}/setter-alone/refuse", headers=users.headers("rev"),
                       json={"reason": "户主说没有人来回访"}).status_code == 200
    with ctx.db.begin() as session:
        from verifier.store.tables import User
        session.get(User, users.ids["fin2"]).password_set_by = users.ids["rev_off"]
        item = session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == cases[0]))
    r = client.post("/api/followups/assignments", headers=users.headers("sup"),
                    json={"payment_item_id": item, "officer_id": users.ids["rev_off"], "reason": "本县只有他了"})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.assigned")).all()
    mine = client.get("/api/followups?mine=true", headers=users.headers("rev_off")).json()
    assert item not in {d["payment_item_id"] for d in mine["due"]}, mine
