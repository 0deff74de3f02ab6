"""Relief paid into an account the household does not control: the follow-up (回访) asks whether the household
received it (是否收到救助金), and is not left to anyone who changed where the money went, checked the case or moved
the batch. A household that says no (or only part) is an alert the county sees and closes with a note, never by
someone who took part in paying it."""

from __future__ import annotations

from deviation_helpers import person
from insider_kit import COUNTY, entries_but_refusals, head_of, refusals_of, released_batch, settled
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.followups.models import Followup
from verifier.payments.models import PaymentItem
from verifier.store.tables import Case, Check, User

SLY_ACCOUNT = "6222020000000099991"


def _body(case_id: str, today: str, **kw: object) -> dict[str, object]:
    return {"case_id": case_id, "done_on": today, "method": "visit", "income_change": "same", "risk_remains": False,
            "satisfaction": "satisfied", "new_needs": [], "note": "户主说钱收到了", **kw}


def _officers_of(ctx, client, users, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The usernames of the case's check officers, logged in (the factory's password)."""
    with ctx.db.read() as session:
        ids = session.scalars(select(Check.officer_ids).where(Check.case_id == case_id)).first()
        names = [session.get(User, i).username for i in ids]
    for name in names:
        if name not in users._tokens:
            r = client.post("/api/auth/login", json={"username": name, "password": "factory-password"})
            assert r.status_code == 200, r.text
            users._tokens[name] = r.json()["token"]
    return names


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def _item_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == case_id)))


def test_attack_the_officer_who_changed_the_payee_follows_up_and_says_received(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    person(ctx, users, "sly", "field_officer", "insurer_supervisor")  # asks for the change onto his own account
    person(ctx, users, "sup2", "insurer_supervisor", "field_officer")  # approves it
    person(ctx, users, "off9", "field_officer")  # took no part

    def change(cases: list[str]) -> None:
        head = head_of(client, users.headers("sly"), cases[0])
        r = client.post(f"/api/cases/{cases[0]}/payee", headers=users.headers("sly"), json={
            "account_name": head, "bank": "农村商业银行", "account_number": SLY_ACCOUNT, "reason": "户主说旧卡丢了"})
        assert r.status_code == 201, r.text
        r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("sup2"))
        assert r.status_code == 200, r.text

    bid, cases = released_batch(ctx, client, users, before=change)
    settled(client, users, bid)
    today = ctx.clock.today().isoformat()
    before = entries_but_refusals(ctx)
    for who in ("sly", "sup2", *_officers_of(ctx, client, users, cases[0])):
        r = client.post("/api/followups", headers=users.headers(who), json=_body(cases[0], today, received="yes"))
        assert r.status_code == 403 and "回访须由其他核查员" in r.text, (who, r.text)
    # The page refuses alike and keeps what was typed.
    pages = Pages(client, users)
    pages.login("sly")
    item = _item_of(ctx, cases[0])
    assert pages.get(f"/followups/new?item={item}").status_code == 200
    r = pages.post("/followups", {"payment_item_id": item, "done_on": today, "method": "visit",
                                  "income_change": "same", "risk_remains": "no", "satisfaction": "satisfied",
                                  "received": "yes", "note": "户主说钱收到了"})
    assert r.status_code == 403 and "回访须由其他核查员" in r.text and "户主说钱收到了" in r.text, r.text
    assert _count(ctx, Followup) == 0 and entries_but_refusals(ctx) - before == 5  # the refusals, on record
    with ctx.db.read() as session:
        refused = list(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "followup.refused")))
    assert refused.count(users.ids["sly"]) == 2 and users.ids["sup2"] in refused
    # Someone who took no part hears the household, and what it said is kept.
    r = client.post("/api/followups", headers=users.headers("off9"), json=_body(cases[0], today, received="yes"))
    assert r.status_code == 201 and r.json()["received"] == "yes", r.text
    # The other case's payee was never changed, but its check's officer typed the account at the door: he does not
    # ask whether the money arrived either; one who took no part does.
    officer = _officers_of(ctx, client, users, cases[1])[0]
    r = client.post("/api/followups", headers=users.headers(officer), json=_body(cases[1], today, received="yes"))
    assert r.status_code == 403 and "登记该户收款账户" in r.text, r.text
    r = client.post("/api/followups", headers=users.headers("off9"), json=_body(cases[1], today, received="yes"))
    assert r.status_code == 201, r.text


def test_a_household_that_says_no_raises_an_alert_the_releaser_cannot_close(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    fin1 = person(ctx, users, "fin1", "finance", "county_reviewer")  # released the batch; also a county reviewer
    person(ctx, users, "rev", "county_reviewer")
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    today = ctx.clock.today().isoformat()
    officer = "off9"  # took no part (the check's officers typed the account at the door)
    person(ctx, users, officer, "field_officer")
    # An old client that does not ask: refused, naming the question in Chinese.
    r = client.post("/api/followups", headers=users.headers(officer), json=_body(cases[1], today))
    assert r.status_code == 422 and "是否收到救助金" in r.text and r.json()["errors"][0]["field"] == "received"
    r = client.post("/api/followups", headers=users.headers(officer),
                    json=_body(cases[1], today, received="yes", received_amount="100.00"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "received_amount", r.text
    assert _count(ctx, Followup) == 0
    r = client.post("/api/followups", headers=users.headers(officer),
                    json=_body(cases[1], today, received="no", received_amount="0", note="户主说没收到钱"))
    assert r.status_code == 201 and (r.json()["received"], r.json()["received_amount"]) == ("no", "0.00"), r.text
    fid = r.json()["id"]

    alerts = client.get("/api/followups/receipt-alerts", headers=users.headers("rev"))
    assert alerts.status_code == 200, alerts.text
    [alert] = alerts.json()["items"]
    assert (alert["followup_id"], alert["case_id"], alert["received"]) == (fid, cases[1], "no")
    assert "*" in alert["account"] and alert["batch_code"] and alert["payee_changed_by"] == []
    pages = Pages(client, users)
    pages.login("rev")
    home = pages.get("/")
    assert "未收到救助金待核实" in home.text
    case_page = pages.get(f"/cases/{cases[1]}")  # the case page and the household file say what was answered
    assert 'id="case-followups"' in case_page.text and "未收到救助金待核实" in case_page.text
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == cases[1]))
    file = pages.get(f"/households/{household}")
    assert file.status_code == 200 and "是否收到救助金" in file.text and "未收到" in file.text
    assert "回访称未收到救助金" in home.text  # the month's figure, its bar leading to the case
    month = ctx.clock.today().strftime("%Y-%m")
    behind = pages.get(f"/cases?county_code={COUNTY}&period={month}&chart=followups:not_received")
    with ctx.db.read() as session:
        number = session.scalar(select(Case.number).where(Case.id == cases[1]))
    assert behind.status_code == 200 and "回访：称未收到救助金" in behind.text and number in behind.text
    listed = pages.get("/receipt-alerts")
    assert listed.status_code == 200 and f"/cases/{cases[1]}" in listed.text and alert["account"] in listed.text

    before = entries_but_refusals(ctx)
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("fin1"), json={"note": "已核实"})
    assert r.status_code == 403 and "发放" in r.text, r.text
    [kept] = refusals_of(ctx, fin1.id)  # the refused closing is on record (回避拦截记录), once it rolled back
    assert (kept["step"], kept["subject"], kept["households"]) == ("receipt_review", cases[1], [household]), kept
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers(officer), json={"note": "已核实"})
    assert r.status_code == 403, r.text
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev"),
                    json={"note": " ", "outcome": "received"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note", r.text
    assert entries_but_refusals(ctx) == before
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev"),
                    json={"note": "银行流水显示已入账，户主不知道卡里有钱", "outcome": "received"})
    assert r.status_code == 200, r.text
    assert client.get("/api/followups/receipt-alerts", headers=users.headers("rev")).json()["items"] == []
    assert client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev"),
                       json={"note": "再次"}).status_code == 409
    with ctx.db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == fid)
                                       .order_by(AuditEntry.idx)))
    assert actions == ["followup.record", "followup.receipt_resolved"]
    summary = client.get(f"/api/followups/summary?county_code={COUNTY}&month={month}",
                         headers=users.headers("rev")).json()
    assert summary["not_received"] == 1


def test_a_reviewer_of_another_county_cannot_tell_a_follow_up_exists(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Closing another county's alert answers exactly as closing a made-up one: same status, same words, no case id
    (the API and the page alike)."""
    from web.pagekit import Pages

    person(ctx, users, "far", "county_reviewer", counties=("340224",))
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    today = ctx.clock.today().isoformat()
    person(ctx, users, "off9", "field_officer")  # took no part
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=_body(cases[1], today, received="no", received_amount="0", note="户主说没收到钱"))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    answers = {}
    for target in (fid, "fu_madeup"):
        r = client.post(f"/api/followups/{target}/receipt-review", headers=users.headers("far"),
                        json={"note": "已核实"})
        answers[target] = (r.status_code, r.json()["detail"])
        assert "case_" not in r.text and cases[1] not in r.text, r.text
    assert answers[fid] == answers["fu_madeup"] == (404, "没有这次回访"), answers
    pages = Pages(client, users)
    pages.login("far")
    shown = {}
    for target in (fid, "fu_madeup"):
        r = pages.post(f"/receipt-alerts/{target}/resolve", {"note": "已核实"})
        shown[target] = r.status_code
        assert "没有这次回访" in r.text and "案件不存在" not in r.text and cases[1] not in r.text
    assert shown[fid] == shown["fu_madeup"] == 404, shown


def test_a_guardians_account_the_releaser_may_not_follow_up_and_the_approver_may_not_close(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The payee is not a household member (a guardian's account, approved by a county reviewer): the releaser, who
    also works as a field officer, may not be the one who asks; the household says it got part; the reviewer who
    approved the change may not close the alert, another may."""
    person(ctx, users, "fin1", "finance", "field_officer")
    person(ctx, users, "sup", "insurer_supervisor")
    person(ctx, users, "rev1", "county_reviewer")
    person(ctx, users, "rev2", "county_reviewer")
    person(ctx, users, "off9", "field_officer")

    def guardian(cases: list[str]) -> None:
        r = client.post(f"/api/cases/{cases[0]}/payee", headers=users.headers("sup"), json={
            "account_name": "王监护", "bank": "农村商业银行", "account_number": SLY_ACCOUNT,
            "reason": "户主年老，由监护人代收"})
        assert r.status_code == 201, r.text
        r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("rev1"))
        assert r.status_code == 200, r.text

    bid, cases = released_batch(ctx, client, users, before=guardian)
    settled(client, users, bid)
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("fin1"), json=_body(cases[0], today, received="yes"))
    assert r.status_code == 403 and "收款人不是本户成员" in r.text and "发放了支付批次" in r.text, r.text
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=_body(cases[0], today, received="partly", received_amount="100000.00"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "received_amount", r.text  # not less than paid
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=_body(cases[0], today, received="partly", received_amount="500.00", note="监护人只给了五百元"))
    assert r.status_code == 201 and r.json()["received_amount"] == "500.00", r.text
    fid = r.json()["id"]
    [alert] = client.get("/api/followups/receipt-alerts", headers=users.headers("rev2")).json()["items"]
    assert alert["payee_outside_household"] and alert["account"].endswith(SLY_ACCOUNT[-4:])
    assert sorted(alert["payee_changed_by"]) == sorted([users.ids["sup"], users.ids["rev1"]])
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"), json={"note": "已核实"})
    assert r.status_code == 403 and "批准了该案件的收款人变更" in r.text, r.text
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev2"),
                    json={"note": "监护人截留，已移交追回", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    resolved = client.get("/api/followups/receipt-alerts?status=resolved", headers=users.headers("rev2")).json()["items"]
    assert [(a["followup_id"], a["resolved_by"]) for a in resolved] == [(fid, users.ids["rev2"])]
