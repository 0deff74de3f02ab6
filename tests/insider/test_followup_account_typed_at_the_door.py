"""The officer who typed the household's payee account at the door (under a member's name) asks it, on the follow-up
(回访), whether the money arrived. Nothing was changed after the check, so the follow-up's rule of who took part in
paying (`followups.receipt.refused_part`) left him to it: one officer alone chose where the money went and then
attested that the household received it, only the bank's check of the account's name in his way. Now the officers and
the recorder of the check that set the account are refused the follow-up (the API, the phone form and its page, the
due list's mark), the closing of its 未收到救助金 alert, and so is an account linked to one of theirs by a password; each
refusal kept on 回避拦截记录. An officer of a later check that kept the account, or one who took no part, follows up."""

from __future__ import annotations

import json

from deviation_helpers import person
from insider_kit import followup_body, refusals_of, released_batch, settled
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.followups import receipt
from verifier.followups.models import Followup
from verifier.payments.models import PaymentItem
from verifier.store.base import new_id
from verifier.store.tables import Check, Determination, User

TYPED = "登记该户收款账户"


def _login(client, users, username: str) -> None:  # type: ignore[no-untyped-def]
    """A factory officer (made by the case factory, its password the factory's) logged in for `users.headers`."""
    if username not in users._tokens:
        r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
        assert r.status_code == 200, r.text
        users._tokens[username] = r.json()["token"]


def _check_people(ctx, case_id: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    """The usernames of the case's first check's officers, and its recorder's."""
    with ctx.db.read() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id).order_by(Check.seq)).first()
        return ([session.get(User, o).username for o in check.officer_ids],
                session.get(User, check.recorded_by).username)


def _items(ctx, cases: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return dict(session.execute(select(PaymentItem.case_id, PaymentItem.id)
                                    .where(PaymentItem.case_id.in_(cases))).tuples().all())


def _followups(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Followup)))


def test_attack_the_officer_who_typed_the_account_follows_up_and_says_received(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    person(ctx, users, "rev", "county_reviewer")
    person(ctx, users, "off9", "field_officer")  # took no part
    person(ctx, users, "pal", "field_officer")  # his password set by the check's officer
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    items = _items(ctx, cases)
    officers, recorder = _check_people(ctx, cases[0])
    with ctx.db.begin() as session:
        session.get(User, users.ids["pal"]).password_set_by = session.scalar(
            select(User.id).where(User.username == officers[0]))
    with ctx.db.read() as session:
        who = receipt.involved(session, session.get(PaymentItem, items[cases[0]]))
    assert (who.changed, who.outside) == (False, False)  # the account paid is the one typed at the door
    today = ctx.clock.today().isoformat()
    for name in {*officers, recorder}:
        _login(client, users, name)
        # his own list leaves it to someone else (counted); the county's says why
        own = client.get("/api/followups?mine=true", headers=users.headers(name)).json()
        assert cases[0] not in {d["case_id"] for d in own["due"]} and own["others"] >= 1, (name, own)
        due = client.get("/api/followups", headers=users.headers(name)).json()["due"]
        marks = {d["case_id"]: d["refused"] for d in due}
        assert TYPED in (marks.get(cases[0]) or ""), (name, marks)
        r = client.post("/api/followups", headers=users.headers(name),
                        json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
        assert r.status_code == 403 and "回访须由其他核查员办理" in r.text and TYPED in r.text, (name, r.text)
    r = client.post("/api/followups", headers=users.headers("pal"),
                    json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 403 and "密码关联" in r.text, r.text
    # The phone form says so before anything is typed; sent anyway it is refused, what was typed kept.
    pages = Pages(client, users)
    pages.login(officers[0], "factory-password")
    form = pages.get(f"/followups/new?item={items[cases[0]]}")
    assert form.status_code == 200 and 'id="followup-refused"' in form.text and TYPED in form.text, form.text
    assert "保存回访" not in form.text
    sent = pages.post("/followups", {"payment_item_id": items[cases[0]], "done_on": today, "method": "visit",
                                     "income_change": "same", "risk_remains": "no", "satisfaction": "satisfied",
                                     "received": "yes", "note": "户主说钱收到了"})
    assert sent.status_code == 403 and TYPED in sent.text and "户主说钱收到了" in sent.text, sent.text
    assert _followups(ctx) == 0
    # Each try kept for the county reviewers' 回避拦截记录, as the follow-up's other refusals are.
    with ctx.db.read() as session:
        officer_id = session.scalar(select(User.id).where(User.username == officers[0]))
        kept = [json.loads(e)["payload"] for e in session.scalars(select(AuditEntry.entry).where(
            AuditEntry.action == receipt.REFUSED, AuditEntry.actor == officer_id))]
    assert len(kept) == 2 and {k["part"] for k in kept} <= set(receipt.SETTERS), kept
    pages.login("rev")
    listed = pages.get(f"/recusal-refusals?person={officers[0]}")
    assert listed.status_code == 200 and "录入回访（参与了该笔保障金的支付）" in listed.text
    assert f"/cases/{cases[0]}" in listed.text
    # One who took no part asks the household.
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 201, r.text


def test_an_officer_of_a_later_check_that_kept_the_account_follows_up(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A routine check 2 keeps the account the first check typed (its officer `later`): the first check's officers
    are still refused, `later` follows up (he chose nothing)."""
    person(ctx, users, "later", "field_officer")
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    with ctx.db.begin() as session:
        first = session.scalar(select(Check).where(Check.case_id == cases[1], Check.seq == 1))
        cols = {c.key: getattr(first, c.key) for c in Check.__table__.columns}
        two = Check(**{**cols, "id": new_id("chk"), "seq": 2, "recorded_by": users.ids["later"],
                       "officer_ids": [users.ids["later"]]})
        session.add(two)
        session.flush()
        det = session.scalar(select(Determination).where(Determination.check_id == first.id))
        dcols = {c.key: getattr(det, c.key) for c in Determination.__table__.columns}
        session.add(Determination(**{**dcols, "id": new_id("det"), "check_id": two.id}))
    officers, _ = _check_people(ctx, cases[1])
    today = ctx.clock.today().isoformat()
    _login(client, users, officers[0])
    r = client.post("/api/followups", headers=users.headers(officers[0]),
                    json=followup_body(cases[1], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 403 and TYPED in r.text, r.text
    r = client.post("/api/followups", headers=users.headers("later"),
                    json=followup_body(cases[1], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 201, r.text


def test_the_officer_who_typed_the_account_does_not_close_its_not_received_alert(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The household tells another officer it got nothing. The check's officer, who also works as a county
    reviewer, may not close the alert as 核实已收到 (nor may an account whose password he set); the refusal is kept
    under the closing's step; a reviewer who took no part closes it."""
    person(ctx, users, "rev_off", "county_reviewer", "field_officer")
    person(ctx, users, "rev_pal", "county_reviewer")
    person(ctx, users, "rev", "county_reviewer")
    person(ctx, users, "off9", "field_officer")
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    with ctx.db.begin() as session:
        first = session.scalar(select(Check).where(Check.case_id == cases[0], Check.seq == 1))
        first.officer_ids = [*first.officer_ids, users.ids["rev_off"]]  # he went to the door too
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev_off"]
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("rev_off"),
                    json=followup_body(cases[0], today, received="yes", note="户主说钱收到了"))
    assert r.status_code == 403 and TYPED in r.text, r.text
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=followup_body(cases[0], today, received="no", received_amount="0"))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    for who, said in (("rev_off", TYPED), ("rev_pal", "密码关联")):
        r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(who),
                        json={"note": "户主记错了，钱已到账", "outcome": "received"})
        assert r.status_code == 403 and said in r.json()["detail"], (who, r.text)
    assert [k["step"] for k in refusals_of(ctx, users.ids["rev_off"])] == ["receipt_review"]
    alert = client.get("/api/followups/receipt-alerts", headers=users.headers("rev")).json()["items"]
    assert [a["followup_id"] for a in alert] == [fid]
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev"),
                    json={"note": "银行流水显示已入账", "outcome": "received"})
    assert r.status_code == 200, r.text


def test_a_county_with_no_one_else_to_send_lets_the_setter_follow_up_and_says_so_on_record(
        ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A county whose only field officers set the account (two officers, both on its check) would follow nothing up:
    there the setters are not refused, and the follow-up's entry says the setter recorded it alone
    (`receipt.Involved.alone`). With another officer active they are refused again."""
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    officers, recorder = _check_people(ctx, cases[0])
    setters = {*officers, recorder}
    with ctx.db.begin() as session:
        others = [u for u in session.scalars(select(User))
                  if "field_officer" in u.roles and u.username not in setters and u.active]
        for u in others:
            u.active = False
    today = ctx.clock.today().isoformat()
    _login(client, users, officers[0])
    r = client.post("/api/followups", headers=users.headers(officers[0]),
                    json=followup_body(cases[0], today, received="yes"))
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "followup.record")
                                .order_by(AuditEntry.idx.desc())).first()
    assert json.loads(entry.entry)["payload"]["setter_alone"] is True
    person(ctx, users, "off9", "field_officer")  # another officer in the county: the setters are refused again
    item = _items(ctx, cases)[cases[1]]
    with ctx.db.read() as session:  # a field officer of the other case's check, which set its account
        who = receipt.involved(session, session.get(PaymentItem, item))
        second = next(u.username for u in session.scalars(select(User).where(User.id.in_(sorted(who.setters))))
                      if "field_officer" in u.roles)
    assert not who.alone
    _login(client, users, second)
    r = client.post("/api/followups", headers=users.headers(second), json=followup_body(cases[1], today, received="yes"))
    assert r.status_code == 403 and TYPED in r.json()["detail"], r.text
