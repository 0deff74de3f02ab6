"""What a walk through the new pages found: the admin's 回避申报管理 and the county reviewer's 一账多户 are reached
from the home page by a card with how many wait (not only from a menu item an admin saw twice as 回避申报), the admin
finds an account among many by a search, and town, village and case numbers in the new tables are read whole on a
phone (CSS `td.name`, `td .mono`)."""

from __future__ import annotations

import re
from datetime import date

from factories import make_case, ready_case

from verifier.domain.idnumber import make_id_number
from verifier.payments import one_account
from test_web_shared_accounts import SHARED


def _card(html: str, title: str) -> int:
    """The count on the home page's card `title`."""
    m = re.search(r'<div class="count">(\d+)</div>\s*<div class="title">' + re.escape(title) + "<", html)
    assert m is not None, title
    return int(m.group(1))


def test_the_reviewers_home_counts_the_accounts_waiting_and_links_to_them(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev1", "county_reviewer")
    html = pages.get("/").text
    assert 'href="/shared-accounts"' in html and _card(html, "一账多户待核实") == 0
    ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)
    html = pages.get("/").text
    assert _card(html, "一账多户待核实") == 1
    listed = pages.get("/shared-accounts").text
    action = re.search(r'action="(/shared-accounts/[0-9a-f]{64}/clear)"', listed).group(1)  # type: ignore[union-attr]
    assert pages.post(action, {"note": "两户由同一监护人代收，已核对监护证明"}).status_code == 303
    assert _card(pages.get("/").text, "一账多户待核实") == 0
    # A third household on the account: waiting again.
    ready_case(ctx, account_number=SHARED)
    assert _card(pages.get("/").text, "一账多户待核实") == 1


def test_the_count_is_what_the_list_shows(ctx, users) -> None:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import Principal

    ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)
    ready_case(ctx, account_number="6228480099990000")
    reviewer = Principal(id="x", username="x", display_name="x", roles=("county_reviewer",), counties=("340223",))
    elsewhere = Principal(id="y", username="y", display_name="y", roles=("county_reviewer",), counties=("999999",))
    with ctx.db.read() as s:
        today = ctx.clock.today()
        listed = one_account.groups(s, reviewer, ctx.vault, today, status="open")
        assert one_account.count_open(s, reviewer, today) == len(listed) == 1
        assert one_account.count_open(s, elsewhere, today) == 0


def test_the_admins_home_counts_removals_it_may_decide_and_its_menu_says_management(pages, ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="screened")
    pages.as_("adm1", "admin")
    html = pages.get("/").text
    # the menu's admin page and the header's own declaration were both called 回避申报
    assert '<a href="/recusal"' in html and ">回避申报管理<" in html
    assert _card(html, "回避移除待确认") == 0
    users.add("off1", "field_officer", counties=("340223",))
    me = users.headers("off1")
    r = client.post("/api/recusal/mine", headers=me, json={"entries": [{"relation": "parent",
                                                                          "id_number": make_id_number("340223", date(1950, 2, 3), 412)}]})
    assert r.status_code == 200, r.text
    tie = r.json()["entries"][0]["id"]
    assert client.post(f"/api/recusal/entries/{tie}/removal", headers=me, json={"reason": "填错了"}).status_code == 201
    assert _card(pages.get("/").text, "回避移除待确认") == 1
    # Asked for by an admin: that admin may not decide it, so it is not waiting for him.
    users.add("off2", "field_officer", counties=("340223",))
    r = client.post("/api/recusal/mine", headers=users.headers("off2"),
                    json={"entries": [{"relation": "parent", "id_number": make_id_number("340223", date(1960, 1, 1), 412)}]})
    assert r.status_code == 200, r.text
    tie2 = r.json()["entries"][0]["id"]
    assert pages.post(f"/recusal/entries/{tie2}/removal", {"reason": "关系有误"}).status_code == 303
    assert _card(pages.get("/").text, "回避移除待确认") == 1


def test_the_admin_finds_an_account_among_many(pages, users) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        users.add(f"officer{i:02d}", "field_officer", counties=("340223",))
    pages.as_("adm1", "admin")
    everyone = pages.get("/recusal").text
    assert "officer07" in everyone and "officer08" in everyone
    found = pages.get("/recusal", params={"q": "OFFICER07"}).text
    # in the add form's choice and in the table, and no other officer in either
    assert found.count("officer07") >= 2 and "officer08" not in found and 'value="OFFICER07"' in found
    none = pages.get("/recusal", params={"q": "无此人"}).text
    assert 'id="recusal-none"' in none and "没有姓名或用户名含“无此人”的账号" in none


def test_names_and_numbers_in_the_new_tables_are_kept_whole(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    ready_case(ctx), ready_case(ctx)
    pages.as_("claims1", "insurer_claims")
    html = pages.get("/payments/new", params={"county_code": "340223", "contract_id": "demo-2020"}).text
    assert re.search(r'<td class="name">[^<]+</td><td class="name">[^<]+</td>', html)
    css = pages.get("/static/app.css").text
    assert "td .mono, td.name { white-space: nowrap; }" in css


def test_a_recusal_refusal_on_the_payee_changes_page_names_回避_once(pages, ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The payee changes page put each error under its field's name, and the refusal already starts with it: it
    read 回避：回避：您与本户成员存在回避关系…; a message that starts with its field's name is not named twice."""
    from deviation_helpers import person, ready_case as determined_ready
    from sqlalchemy import select

    from verifier.store.tables import Case, Member

    case_id = determined_ready(ctx)
    with ctx.db.read() as s:
        hid = s.scalar(select(Case.household_id).where(Case.id == case_id))
        members = [(m.name, ctx.vault.open(m.id_number_enc, "member.id_number"))
                   for m in s.scalars(select(Member).where(Member.household_id == hid).order_by(Member.id))]
    person(ctx, users, "sup", "insurer_supervisor")
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup"), json={
        "account_name": members[0][0], "bank": "农村商业银行", "account_number": "6222020200199887766"})
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    pages.as_("fin1", "finance")
    r = client.post("/api/recusal/mine", headers=users.headers("fin1"),
                    json={"entries": [{"relation": "parent", "id_number": members[0][1]}]})
    assert r.status_code == 200, r.text
    r = pages.post(f"/payee-changes/{change}/approve", {"confirm": "yes"})
    assert r.status_code == 422 and "与本户成员存在回避关系" in r.text, r.text
    assert "回避：回避" not in r.text


def test_a_message_is_named_by_its_field_once() -> None:
    from verifier.web.labels import labelled

    assert labelled("身份证号", "校验位不对") == "身份证号：校验位不对"
    assert labelled("回避", "回避：您与本户成员存在回避关系") == "回避：您与本户成员存在回避关系"
    assert labelled("", "请核对") == "请核对"


def test_the_batch_choice_opened_without_its_county_leads_to_the_batches(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("claims1", "insurer_claims")
    for url in ("/payments/new", "/payments/new?county_code=340223", "/payments/new?contract_id=demo-2020"):
        r = pages.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/payments", (url, r.status_code)
    assert pages.get("/payments/new?county_code=12").status_code == 400
