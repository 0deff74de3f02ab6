"""The lists around the follow-up's 是否收到救助金: the county's alerts (read in a fixed number of statements, paged
and searched), an officer's own due list marking the follow-ups they will be refused (须由其他人员回访), and those
refusals on the 回避拦截记录 page and its warning; the form of one they will be refused says so instead of asking."""

from __future__ import annotations

import re

from deviation_helpers import person
from insider_kit import head_of, payee_changed, released_batch, settled, statements_of
from sqlalchemy import func, select

from verifier.payments.models import PaymentItem
from verifier.store.tables import Case, Check, User

SLY_ACCOUNT = "6222020000000099991"


def _body(case_id: str, today: str, **kw: object) -> dict[str, object]:
    return {"case_id": case_id, "done_on": today, "method": "visit", "income_change": "same", "risk_remains": False,
            "satisfaction": "satisfied", "new_needs": [], "note": "户主说没收到钱", **kw}


def _officer_of(ctx, client, users, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        ids = session.scalars(select(Check.officer_ids).where(Check.case_id == case_id)).first()
        name = session.get(User, ids[0]).username
    if name not in users._tokens:
        r = client.post("/api/auth/login", json={"username": name, "password": "factory-password"})
        assert r.status_code == 200, r.text
        users._tokens[name] = r.json()["token"]
    return name


def _changed_onto(client, users, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """sly asks for the case's payee to be his account; sup2 approves."""
    payee_changed(client, users, case_id, by="sly", approver="sup2", account=SLY_ACCOUNT)


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return str(session.scalar(select(Case.number).where(Case.id == case_id)))


def test_the_alerts_are_read_in_a_fixed_number_of_statements_paged_and_searched(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    person(ctx, users, "sly", "field_officer", "insurer_supervisor")
    person(ctx, users, "sup2", "insurer_supervisor", "field_officer")
    person(ctx, users, "off9", "field_officer")
    person(ctx, users, "rev", "county_reviewer")
    bid, first = released_batch(ctx, client, users, before=lambda cases: _changed_onto(client, users, cases[0]))
    settled(client, users, bid)
    bid2, more = released_batch(ctx, client, users)
    settled(client, users, bid2)
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=_body(first[0], today, received="no", received_amount="0"))
    assert r.status_code == 201, r.text

    def read() -> None:
        r = client.get("/api/followups/receipt-alerts?status=all", headers=users.headers("rev"))
        assert r.status_code == 200, r.text

    read()  # the connection's first statements are not the list's
    one = len(statements_of(ctx, read))
    for case_id in (first[1], *more):  # off9 took no part (the check's officers typed the accounts)
        r = client.post("/api/followups", headers=users.headers("off9"),
                        json=_body(case_id, today, received="partly", received_amount="1.00"))
        assert r.status_code == 201, r.text
    assert len(statements_of(ctx, read)) == one  # four alerts, one with a payee change, cost what one did

    got = client.get("/api/followups/receipt-alerts?limit=3&offset=0", headers=users.headers("rev")).json()
    assert got["total"] == 4 and len(got["items"]) == 3 and (got["limit"], got["offset"]) == (3, 0)
    rest = client.get("/api/followups/receipt-alerts?limit=3&offset=3", headers=users.headers("rev")).json()
    assert rest["total"] == 4 and len(rest["items"]) == 1
    assert {a["case_id"] for a in got["items"] + rest["items"]} == {*first, *more}
    number = _number(ctx, more[1])
    found = client.get(f"/api/followups/receipt-alerts?q={number}", headers=users.headers("rev")).json()
    assert [a["case_id"] for a in found["items"]] == [more[1]] and found["total"] == 1
    assert client.get("/api/followups/receipt-alerts?limit=0", headers=users.headers("rev")).status_code == 400

    pages = Pages(client, users)
    pages.login("rev")
    listed = pages.get(f"/receipt-alerts?q={number}")
    assert listed.status_code == 200 and f"/cases/{more[1]}" in listed.text and f"/cases/{more[0]}" not in listed.text
    assert 'name="q"' in listed.text and "共 1 条" in listed.text
    head = head_of(client, users.headers("sly"), first[0])
    by_head = pages.get(f"/receipt-alerts?q={head}&status=all")
    assert f"/cases/{first[0]}" in by_head.text
    assert 'id="alert-' not in pages.get("/receipt-alerts?status=resolved").text
    paged = pages.get("/receipt-alerts?page=7")  # past the last: the last
    assert paged.status_code == 200 and paged.text.count('id="alert-') == 4
    bogus = pages.get("/receipt-alerts?status=bogus")  # an unknown status is 待核实, as a bad page is page 1
    assert bogus.status_code == 200 and bogus.text.count('id="alert-') == 4

    # A closing refused under a search: the list comes back under that search, the note named as the form names it.
    fid = next(a["followup_id"] for a in found["items"])
    kept = {"status": "all", "q": number, "page": "1"}
    assert f'name="q" value="{number}"' in listed.text and 'name="page" value="1"' in listed.text
    refused = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": " ", **kept})
    assert refused.status_code == 422 and "核实情况：请填写" in refused.text and "备注" not in refused.text
    assert f"/cases/{more[1]}" in refused.text and f"/cases/{more[0]}" not in refused.text
    assert f'value="{number}"' in refused.text and "共 1 条" in refused.text
    done = pages.post(f"/receipt-alerts/{fid}/resolve", {"note": "银行流水显示已入账", "outcome": "received", **kept, "page": "2"})
    assert done.status_code == 303, done.text
    where = done.headers["location"]
    assert where.startswith("/receipt-alerts?") and "status=all" in where and f"q={number}" in where
    assert "page=2" in where and "done=receipt_resolved" in where


def _paid_after_a_payee_change(ctx, client, users):  # type: ignore[no-untyped-def]
    """A released and settled batch whose first case's payee `sly` changed (approved by `sup2`): the cases, the first
    case's check officer and each case's payment item."""
    person(ctx, users, "sly", "field_officer", "insurer_supervisor")
    person(ctx, users, "sup2", "insurer_supervisor", "field_officer")
    bid, cases = released_batch(ctx, client, users, before=lambda cases: _changed_onto(client, users, cases[0]))
    settled(client, users, bid)
    officer = _officer_of(ctx, client, users, cases[0])
    with ctx.db.read() as session:
        items = dict(session.execute(select(PaymentItem.case_id, PaymentItem.id)
                                     .where(PaymentItem.case_id.in_(cases))).tuples().all())
    return cases, officer, items


def test_an_officers_own_list_holds_what_they_may_record_and_the_countys_marks_the_rest(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """His own list (我的回访) was the cases he checked, and since the officers who typed an account at the door no
    longer follow it up, nearly all of it was marked 须由其他人员回访: it now holds the county's due follow-ups he may
    record, by the refusal's own rule (`held_back`), with how many are left to others and the way to them; the
    county's list marks those."""
    from web.pagekit import Pages

    cases, officer, items = _paid_after_a_payee_change(ctx, client, users)
    own = client.get("/api/followups?mine=true", headers=users.headers(officer)).json()
    assert own["due"] == [] and own["others"] == len(cases), own  # he typed every account, or the payee changed
    due = client.get("/api/followups", headers=users.headers(officer)).json()["due"]
    marks = {d["case_id"]: d["refused"] for d in due}
    assert cases[0] in marks and "收款账户已变更" in marks[cases[0]] and "入户核查" in marks[cases[0]], marks
    # the others' accounts were never changed, but he typed them at the door
    assert all("须由未登记收款账户的人员回访" in v for k, v in marks.items() if k != cases[0]), marks
    pages = Pages(client, users)
    pages.login(officer, "factory-password")
    page = pages.get("/followups")
    assert page.status_code == 200 and "须由其他人员回访" not in page.text
    assert "<h2>已逾期未回访（0）</h2>" in page.text and "<h2>待回访（0）</h2>" in page.text
    assert f'<a href="/followups?all=1" id="followups-others">另有 {len(cases)} 户须由其他核查员回访</a>' in page.text
    home = pages.get("/").text
    assert f"另有 {len(cases)} 户须由其他核查员回访" in home
    county = pages.get("/followups?all=1").text
    assert county.count("须由其他人员回访") == len(cases) and 'id="followups-others"' not in county
    assert f"/followups/new?item={items[cases[0]]}" not in county
    assert f"/followups/new?item={items[cases[1]]}" not in county
    # one who took no part: every one on his own list, with 录入回访, none left to others
    person(ctx, users, "off8", "field_officer")
    pages.login("off8")
    mine = pages.get("/followups").text
    assert all(f"/followups/new?item={items[c]}" in mine for c in cases) and 'id="followups-others"' not in mine
    from verifier.followups import receipt

    person(ctx, users, "off9", "field_officer")  # took no part: offered both
    with ctx.db.read() as session:
        off9 = session.scalar(select(User.id).where(User.username == "off9"))
        assert receipt.held_back(session, off9, [items[cases[0]], items[cases[1]]]) == {}
    # A long unpaged due list is read in chunks (SQLite caps the values one statement binds): the mark still found,
    # no statement binding more than a chunk's values.
    with ctx.db.read() as session:
        officer_id = session.scalar(select(User.id).where(User.username == officer))
        many = [f"pi_none{n:05d}" for n in range(1_200)] + [items[cases[0]]]
        held: dict[str, str] = {}
        sent = statements_of(ctx, lambda: held.update(receipt.held_back(session, officer_id, many)))
    assert list(held) == [items[cases[0]]] and "收款账户已变更" in held[items[cases[0]]]
    assert max(s.count("?") + s.count("%(") for s in sent) <= receipt.HELD_CHUNK + 5

    with ctx.db.read() as session:
        officer_id = session.scalar(select(User.id).where(User.username == officer))
        many = [f"pi_none{n:05d}" for n in range(33_000)] + [items[cases[0]]]
        held = receipt.held_back(session, officer_id, many)
    assert list(held) == [items[cases[0]]] and "收款账户已变更" in held[items[cases[0]]]


def test_followup_refusals_show_on_the_refusals_page_and_its_warning(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    from verifier.followups import receipt
    from verifier.recusal import refusals

    assert receipt.REFUSED == refusals.FOLLOWUP_ACTION  # the entry the refusals page reads is the one written
    person(ctx, users, "sly", "field_officer", "insurer_supervisor")
    person(ctx, users, "sup2", "insurer_supervisor", "field_officer")
    person(ctx, users, "rev", "county_reviewer")
    bid, cases = released_batch(ctx, client, users, before=lambda cases: _changed_onto(client, users, cases[0]))
    settled(client, users, bid)
    today = ctx.clock.today().isoformat()
    for _ in range(3):
        r = client.post("/api/followups", headers=users.headers("sly"), json=_body(cases[0], today, received="yes"))
        assert r.status_code == 403, r.text
    pages = Pages(client, users)
    pages.login("rev")
    listed = pages.get("/recusal-refusals")
    assert listed.status_code == 200 and "sly" in listed.text and "录入回访（参与了该笔保障金的支付）" in listed.text
    one = pages.get("/recusal-refusals?person=sly")
    assert one.text.count("录入回访（参与了该笔保障金的支付）") >= 4 and f"/cases/{cases[0]}" in one.text
    home = pages.get("/")
    assert "回避拦截预警" in home.text and "sly" in home.text


def test_the_form_of_a_follow_up_they_will_be_refused_says_so_instead(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """/followups/new?item=… (a bookmark, an address kept from before the list marked it) showed the form, and the
    refusal came only once it was filled in and sent. The page now says why, by the refusal's own rule and words,
    with the way back to the list; sent anyway, it is refused as before."""
    from web.pagekit import Pages

    from verifier.followups.models import Followup

    cases, officer, items = _paid_after_a_payee_change(ctx, client, users)
    today = ctx.clock.today().isoformat()
    pages = Pages(client, users)
    for who, did in (("sly", "申请了该案件的收款人变更"), (officer, "入户核查")):
        pages.login(who, *(("factory-password",) if who == officer else ()))
        r = pages.get(f"/followups/new?item={items[cases[0]]}")
        assert r.status_code == 200 and 'id="followup-refused"' in r.text and "须由其他人员回访" in r.text, r.text
        assert "回访须由其他核查员办理" in r.text and did in r.text and 'href="/followups">返回回访列表' in r.text
        assert 'action="/followups"' not in r.text and "保存回访" not in r.text  # no form to fill in for nothing
        sent = pages.post("/followups", {"payment_item_id": items[cases[0]], "done_on": today, "method": "visit",
                                         "income_change": "same", "risk_remains": "no", "satisfaction": "satisfied",
                                         "received": "yes", "note": "户主说钱收到了"})
        assert sent.status_code == 403 and "户主说钱收到了" in sent.text and 'action="/followups"' in sent.text
        said = re.search(r'id="followup-refused"><strong>须由其他人员回访：</strong>([^<]+)<', r.text)
        assert said and said.group(1) in sent.text  # the very words the refusal answers with
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Followup)) == 0
    # the other case's payee was never changed, but its check's officer typed the account: the page says so; one
    # who took no part gets the form, as the list offers it
    other = _officer_of(ctx, client, users, cases[1])
    pages.login(other, "factory-password")
    r = pages.get(f"/followups/new?item={items[cases[1]]}")
    assert r.status_code == 200 and 'id="followup-refused"' in r.text and "登记该户收款账户" in r.text, r.text
    person(ctx, users, "off9", "field_officer")
    pages.login("off9")
    r = pages.get(f"/followups/new?item={items[cases[1]]}")
    assert r.status_code == 200 and "保存回访" in r.text and 'id="followup-refused"' not in r.text


def test_an_officers_own_list_is_read_in_a_fixed_number_of_statements(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The own list leaves out what the officer may not record by reading, for the whole county's due list at once,
    who took part in paying each (`held_back`): twice the payments cost what one batch of them did."""
    cases, officer, _ = _paid_after_a_payee_change(ctx, client, users)

    def read() -> None:
        r = client.get("/api/followups?mine=true", headers=users.headers(officer))
        assert r.status_code == 200, r.text

    read()  # the connection's first statements are not the list's
    one = len(statements_of(ctx, read))
    bid, more = released_batch(ctx, client, users)
    settled(client, users, bid)
    assert len(statements_of(ctx, read)) == one
    own = client.get("/api/followups?mine=true", headers=users.headers(officer)).json()
    assert own["others"] + len(own["due"]) == len(cases) + len(more) and own["others"] >= len(cases), own
