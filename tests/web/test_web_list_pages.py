"""Numbered pages and a search box on the office's long lists (notices, payment batches, payee changes, sampling
rounds, the audit log, conflicts, follow-ups, needs, places): the total, the page's rows, the filters kept in each
page link, and the search narrowing the list. The page size is made small so that a few rows fill several pages."""

from __future__ import annotations

import re

import pytest
from factories import COUNTY
from web import officekit  # one module however the test is reached (tests/insider imports it so too)
from sampling import sampling_helpers

office, office_month = officekit.office, officekit.office_month  # the fixtures: the office built once, kept
rounds = sampling_helpers.rounds  # the fixture


@pytest.fixture
def small_pages(monkeypatch):  # type: ignore[no-untyped-def]
    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)


def link(html: str, rel: str) -> str:
    m = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert m, f"no {rel} link"
    return m.group(1).replace("&amp;", "&")


def test_notices_are_paged_and_searched_keeping_the_status(office, pages, small_pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk-l", "town_clerk")
    first = pages.get("/notices").text
    assert "共 3 条" in first and "第 1–2 条" in first and first.count('href="/notices/') - first.count("/notices/new") - first.count("/notices/export") == 2
    second = pages.get(link(first, "next")).text
    assert 'aria-current="page">2<' in second and second.count('<a href="/notices/') == 1
    closed = pages.get("/notices?status=closed").text
    assert "共 2 条" in closed and 'name="status" value="closed"' in closed  # the search keeps the filter
    found = pages.get("/notices", params={"status": "closed", "q": "西村"}).text
    assert "共 1 条" in found and "西村" in found and "北村</a>" not in found
    assert pages.get("/notices", params={"q": "南村"}).text.count("没有符合查找条件的公示") == 1
    kept = pages.get("/notices?status=closed&page=1").text
    assert "/notices?q=" not in kept


def test_payment_batches_are_paged_by_number_and_searched_by_code(office, pages, small_pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.payments.models import PaymentBatch

    with ctx.db.read() as session:
        code = session.get(PaymentBatch, office.released_batch).code
    pages.as_("fin-l", "finance")
    every = pages.get("/payments").text
    assert "共 2 条" in every and 'rel="next"' not in every
    found = pages.get("/payments", params={"q": code}).text
    assert "共 1 条" in found and f'href="/payments/{office.released_batch}"' in found
    assert f'href="/payments/{office.prepared_batch}"' not in found
    waiting = pages.get("/payments", params={"todo": "approve"}).text
    assert "共 1 条" in waiting and f'href="/payments/{office.prepared_batch}"' in waiting
    assert 'name="todo" value="approve"' in waiting
    assert pages.get("/payments", params={"q": "不存在"}).text.count("没有符合条件的批次") == 1
    lower = pages.get("/payments", params={"q": code[-6:].lower()}).text  # typed in small letters
    assert "共 1 条" in lower and f'href="/payments/{office.released_batch}"' in lower
    assert "共 2 条" in pages.get("/payments", params={"q": "示范"}).text  # the county by its name, as the list shows it
    assert "没有符合条件的批次" in pages.get("/payments", params={"q": "黄山"}).text


def test_a_batchs_items_are_numbered_pages_searched_by_head_or_case_number(office, pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The items of a batch used to page by a cursor (下一页, 回到第一页) with no search: a clerk looking for one
    household in a batch of hundreds paged through them all."""
    from verifier.store.tables import Case
    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 1)
    with ctx.db.read() as session:
        numbers = {session.get(Case, c).household.head_name: session.get(Case, c).number for c in office.cases["西村"]}
    pages.as_("fin-i", "finance")
    path = f"/payments/{office.released_batch}"
    first = pages.get(path).text
    assert "共 2 条，第 1–1 条" in first and first.count('id="remove-') == 0 and "cursor=" not in first
    second = pages.get(link(first, "next")).text
    assert 'aria-current="page">2<' in second
    assert {n for n in numbers.values() if n in first} | {n for n in numbers.values() if n in second} == set(numbers.values())
    found = pages.get(path, params={"q": "李西二"}).text
    assert "共 1 条" in found and numbers["李西二"] in found
    assert all(n not in found for h, n in numbers.items() if h != "李西二")
    tail = numbers["李西二"][-6:]
    assert numbers["李西二"] in pages.get(path, params={"q": tail}).text
    # the transfer's reference off a bank statement, typed in small letters: found on either database (PostgreSQL's
    # LIKE tells the cases apart; SQLite's did not, so it was found there only)
    from sqlalchemy import select

    from verifier.payments.models import PaymentItem

    with ctx.db.read() as session:
        reference = session.scalar(select(PaymentItem.reference).join(Case, Case.id == PaymentItem.case_id)
                                   .where(Case.number == numbers["李西二"]))
    typed = pages.get(path, params={"q": reference.lower()}).text
    assert "共 1 条" in typed and numbers["李西二"] in typed
    assert "没有找到与“不存在”相符的明细" in pages.get(path, params={"q": "不存在"}).text
    assert pages.get(path, params={"cursor": "5"}).status_code == 200  # an old bookmark still opens the batch


def test_payee_changes_are_paged_and_searched_by_household_head(pages, ctx, users, small_pages) -> None:  # type: ignore[no-untyped-def]
    from factories import ready_case

    from verifier.accounts.auth import principal_of
    from verifier.payments import payees
    from verifier.store.tables import User

    asker = users.add("fin-ask", "finance", counties=(COUNTY,))
    for n, head in enumerate(("甲一", "乙二", "丙三")):
        case_id = ready_case(ctx, head_name=head)
        with ctx.db.begin() as session:
            payees.request_change(session, case_id, account_name=f"代收{head}", bank="工商银行",
                                  account_number=f"621226000000009{n:04d}", reason="亲属代收",
                                  principal=principal_of(session.get(User, asker)), vault=ctx.vault, clock=ctx.clock)
    pages.as_("fin-see", "finance")
    first = pages.get("/payee-changes").text
    assert "共 3 条" in first and first.count('id="change-') == 2
    second = pages.get(link(first, "next")).text
    assert second.count('id="change-') == 1 and "status=pending" in link(first, "next")
    every = pages.get("/payee-changes", params={"status": ""}).text
    assert "status=all" in link(every, "next")  # 全部 stays 全部 on the next page (no status is 待审批)
    found = pages.get("/payee-changes", params={"q": "乙二"}).text
    assert "共 1 条" in found and "乙二户" in found and "甲一户" not in found
    by_payee = pages.get("/payee-changes", params={"q": "代收丙三", "status": ""}).text
    assert "共 1 条" in by_payee and "丙三户" in by_payee


def test_sampling_rounds_are_paged_filtered_by_status_and_searched(pages, ctx, rounds, small_pages) -> None:  # type: ignore[no-untyped-def]
    from sampling.sampling_helpers import make_population

    make_population(ctx, {"城关镇": 2})
    ids = [rounds.open(checked_from=f"2020-05-0{n}")["id"] for n in (2, 3, 4)]  # one open round a period
    frozen = rounds.create()["id"]
    pages.as_("reviewer-l", "county_reviewer")
    first = pages.get("/sampling").text
    assert "共 4 条" in first and first.count('<a href="/sampling/smp_') == 2
    second = pages.get(link(first, "next")).text
    assert second.count('<a href="/sampling/smp_') == 2
    opened = pages.get("/sampling", params={"status": "open"}).text
    assert "共 3 条" in opened and frozen not in opened and "status=open" in link(opened, "next")
    found = pages.get("/sampling", params={"q": ids[1]}).text
    assert "共 1 条" in found and ids[1] in found and ids[0] not in found


def _conflicts(ctx, other_county: str, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`n` people of this county's households: (name, ID number) for a clerk of the other county to name."""
    from factories import make_case
    from sqlalchemy import select

    from verifier.store.tables import Referral

    idns = []
    for _ in range(n):
        case_id = make_case(ctx, stage="received")
        with ctx.db.read() as session:
            referral = session.scalar(select(Referral).where(Referral.case_id == case_id))
            idns.append((referral.name, ctx.vault.open(referral.id_number_enc, "referral.id_number")))
    return idns


def test_conflicts_are_paged_and_searched_by_a_whole_id_number_that_stays_out_of_the_address(  # type: ignore[no-untyped-def]
        pages, ctx, other_county, small_pages) -> None:
    from verifier.domain.masking import mask_id

    people = _conflicts(ctx, other_county, 3)
    pages.as_("clerk-there", "town_clerk", counties=(other_county,))
    for name, idn in people:
        r = pages.post("/applications/new", {
            "county_code": other_county, "id_number": idn, "name": name, "town": "新镇", "village": "新村",
            "household_group": "low_income", "cause": "illness", "amount": "30000", "referred_on": "2020-05-30"})
        assert r.status_code == 422
    pages.as_("reviewer-l", "county_reviewer", counties=("340223",))
    first = pages.get("/conflicts").text
    assert "共 3 条" in first and first.count("<td class=\"mono\">") == 2
    assert pages.get(link(first, "next")).text.count("<td class=\"mono\">") == 1
    name, idn = people[1]
    r = pages.post("/conflicts/search", {"q": idn})
    assert r.status_code == 303 and idn not in r.headers["location"] and "qt=" in r.headers["location"]
    found = pages.get(r.headers["location"]).text
    assert "共 1 条" in found and found.count(mask_id(idn)) >= 1 and mask_id(people[0][1]) not in found
    assert idn not in found
    by_county = pages.get("/conflicts", params={"q": other_county}).text
    assert "共 3 条" in by_county
    assert "没有符合查找条件的跨县登记冲突" in pages.get("/conflicts", params={"q": "340299"}).text
    typed = pages.get("/conflicts", params={"q": idn})  # an address typed by hand loses the number at once
    assert typed.status_code == 303 and idn not in typed.headers["location"]


def test_places_are_paged_by_town_and_searched_by_town_or_village(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.places import county_file
    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 1)
    rows = "乡镇,村\n河口镇,河口村\n河口镇,柳树村\n城关镇,东村\n城关镇,柳河村\n".encode("utf-8")
    with ctx.db.begin() as session:
        county_file.import_places(session, COUNTY, rows, "list.csv", clock=ctx.clock)
    pages.as_("clerk-p", "town_clerk")
    first = pages.get("/places").text
    assert "共 2 条" in first and "<td>城关镇</td>" in first and "<td>河口镇</td>" not in first
    second = pages.get(link(first, "next")).text
    assert "<td>河口镇</td>" in second and "柳树村、河口村" in second
    town = pages.get("/places", params={"q": "河口镇"}).text
    assert "共 1 条" in town and "柳树村、河口村" in town
    village = pages.get("/places", params={"q": "柳"}).text  # each town shows only its villages holding it
    assert "共 2 条" in village and "<td>柳河村</td>" in village and "东村" not in village
    assert "（共 2）" in village  # 城关镇 has two villages, one shown
    assert "名单上没有名称含" in pages.get("/places", params={"q": "西山"}).text


def test_the_audit_page_lists_entries_paged_by_action_and_searched(pages, ctx, other_county, small_pages) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    from verifier.audit.models import AuditEntry
    from verifier.store.tables import Case
    from sqlalchemy import func, select

    ours = make_case(ctx, stage="screened")
    make_case(ctx, stage="screened")
    theirs = make_case(ctx, stage="received", county=other_county)
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.county_code == COUNTY))
        newest = session.scalar(select(func.max(AuditEntry.idx)).where(AuditEntry.county_code == COUNTY))
        number = session.get(Case, ours).number
    pages.as_("auditor-l", "auditor", counties=(COUNTY,))
    first = pages.get("/audit").text
    listed = first.split('id="entry-list"')[1]
    assert f"共 {total} 条" in listed and listed.count('href="/audit?index=') == 2
    assert f'href="/audit?index={newest}"' in listed and theirs not in listed  # newest first, this county's only
    nxt = link(first, "next")
    assert total >= 4 and nxt == "/audit?page=2" and pages.get(nxt).text.split('id="entry-list"')[1].count('href="/audit?index=') == 2
    screened = pages.get("/audit", params={"action": "case.screen_pass"}).text.split('id="entry-list"')[1]
    assert "共 2 条" in screened and ours in screened and "初筛通过" in screened
    found = pages.get("/audit", params={"q": ours}).text.split('id="entry-list"')[1]
    assert ours in found and theirs not in found and number in found  # a case is named by its number too
    assert "没有符合条件的记录" in pages.get("/audit", params={"q": theirs}).text


def test_the_users_page_counts_only_the_users_the_admin_may_see(pages, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import users as user_pages

    monkeypatch.setattr(user_pages, "USERS_PAGE", 2)
    for n in range(3):
        users.add(f"staff{n}", "town_clerk", counties=(COUNTY,))
    users.add("staff-far", "town_clerk", counties=("340225",))
    pages.as_("admin-l", "admin", counties=(COUNTY,))
    first = pages.get("/users", params={"q": "staff"}).text
    assert "共 3 条" in first and "staff-far" not in first and link(first, "next") == "/users?q=staff&page=2"
    second = pages.get(link(first, "next")).text
    assert "staff2" in second and "staff-far" not in second


def test_a_filter_value_a_list_does_not_take_is_dropped_not_refused(pages, client) -> None:  # type: ignore[no-untyped-def]
    """An old bookmark or a hand-edited address (`/notices?status=all`): the list without that value, its other
    filters kept, as the case list ignores a filter it does not know; a program still gets the refusal."""
    pages.as_("clerk-f", "town_clerk")
    r = pages.get("/notices?status=all&q=北村")
    assert r.status_code == 303 and r.headers["location"] == "/notices?q=%E5%8C%97%E6%9D%91", r.headers
    assert pages.get(r.headers["location"]).status_code == 200
    r = pages.get("/notices?status=all")
    assert r.status_code == 303 and r.headers["location"] == "/notices"
    pages.as_("rev-f", "county_reviewer")
    r = pages.get("/sampling?status=bogus&page=1")
    assert r.status_code == 303 and r.headers["location"] == "/sampling?page=1", r.headers
    assert pages.get("/sampling?page=1").status_code == 200
    program = client.get("/sampling?status=bogus", headers={"Accept": "application/json"}, follow_redirects=False)
    assert program.status_code == 400, program.text  # not a browser: told, not sent elsewhere
