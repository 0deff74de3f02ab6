"""Finding cases: by name, ID number (whole or its last four), case number; sorted, counted, paged; scoped to the
caller's counties, and never a way to see an ID number unmasked."""

from __future__ import annotations

import re
from urllib.parse import quote
from datetime import date

from factories import make_case
from caselist_helpers import find, members_of, number_of
from sqlalchemy import update

from verifier.cases import numbers
from verifier.domain.masking import mask_id
from verifier.store.tables import Member

OTHER = "340224"


def listed(html: str) -> list[str]:
    """The case ids a list page shows, in order."""
    return list(dict.fromkeys(re.findall(r'href="/cases/(case_\w+)"', html)))


def results(html: str) -> str:
    return html[html.index('<div id="results">'):]


def plain(html: str, q: str) -> str:
    """A results page with the search text, its masked form and its search token taken out."""
    html = re.sub(r'(qt=|name="qt" value=")[\w-]+', r"\1T", html)
    return html.replace(mask_id(q), "Q").replace(quote(q), "Q").replace(q, "Q")


def test_search_by_name_id_number_tail_and_case_number(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    target = make_case(ctx, stage="determined", head_name="欧阳修远")  # its check adds 欧德明 and 欧小红
    other = make_case(ctx, stage="received", head_name="司马光明")
    (_, _, head_id), (spouse, _, spouse_id), _ = members_of(ctx, target)
    pages.as_("clerk1", "town_clerk")
    for q in ("阳修", spouse, "欧小", head_id, spouse_id, spouse_id.lower(), spouse_id[-4:], number_of(ctx, target),
              f"{int(number_of(ctx, target)[-6:])}", number_of(ctx, target)[-6:], f" {head_id[:6]} {head_id[6:]} "):
        html = find(pages, q).text
        assert listed(html) == [target], q
    assert listed(find(pages, "司马").text) == [other]
    for q in ("无此人", "110101199001011234", "12345678"):
        assert "没有符合条件的案件" in find(pages, q).text
    # Full-width digits (typed with some input methods) are folded.
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in spouse_id[-4:])
    assert listed(find(pages, wide).text) == [target]


def test_a_person_of_another_county_is_not_found_and_the_answer_says_nothing(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    theirs = make_case(ctx, stage="received", county=other_county, head_name="外县甲")
    _, _, their_id = members_of(ctx, theirs)[0]
    make_case(ctx, stage="received", head_name="本县乙")
    for user, role in (("clerk1", "town_clerk"), ("officer9", "field_officer")):
        pages.as_(user, role)
        nobody = {kind: plain(results(find(pages, q).text), q) for kind, q in (("id", "110101199001011234"),
                                                                               ("text", "无此人"))}
        for q in (their_id, their_id[-4:], "外县甲", number_of(ctx, theirs)):
            html = results(find(pages, q).text)
            assert theirs not in html and "外县甲" not in html
            assert plain(html, q) == nobody["id" if q == their_id else "text"]
    # The API says the same: nothing, with a total of 0.
    r = pages.client.get("/api/cases", params={"q": their_id}, headers=pages.users.headers("clerk1"))
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0
    # A user of both counties finds the household.
    pages.as_("reviewer", "county_reviewer", counties=("340223", other_county))
    assert listed(find(pages, their_id).text) == [theirs]


def test_searching_by_id_number_shows_no_id_number_unmasked(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined", head_name="欧阳修远")
    (_, _, head_id), (_, _, spouse_id), _ = members_of(ctx, case_id)
    pages.as_("clerk1", "town_clerk")
    html = find(pages, head_id[-4:]).text
    assert listed(html) == [case_id] and head_id not in html
    html = find(pages, head_id).text
    assert listed(html) == [case_id]
    table = html[html.index("<tbody>"):html.index("</tbody>")]
    assert head_id not in table and spouse_id not in table  # what was typed is only in the search box and links


def test_sort_by_each_column_both_ways_and_keep_filters_across_pages(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import cases as case_pages

    monkeypatch.setattr(case_pages, "PAGE_SIZE", 2)
    a = make_case(ctx, stage="received", head_name="甲一", village="西村", referred_on=date(2020, 5, 20))
    b = make_case(ctx, stage="received", head_name="丙三", village="东村", referred_on=date(2020, 5, 10))
    c = make_case(ctx, stage="screened", head_name="乙二", village="南村", referred_on=date(2020, 5, 15))
    make_case(ctx, stage="received", head_name="丁四", village="北村", cause="disaster")
    pages.as_("clerk1", "town_clerk")

    def order(sort: str) -> list[str]:
        first = pages.get("/cases", params={"cause": "illness", "sort": sort}).text
        assert "共 3 条" in first
        nxt = re.search(r'href="([^"]*)" rel="next"', first)
        assert nxt and "cause=illness" in nxt.group(1)
        assert sort == "number" or f"sort={sort}" in nxt.group(1)  # the default sort is left out of links
        second = pages.get(nxt.group(1).replace("&amp;", "&")).text
        return listed(first) + listed(second)

    assert order("number") == [a, b, c]
    assert order("-number") == [c, b, a]
    assert order("received") == [b, c, a]
    assert order("due") == [b, c, a]
    assert order("-due") == [a, c, b]
    assert order("status") == [a, b, c]  # received before screened (the flow's order), then by number
    assert order("-status") == [c, b, a]
    # The header links sort, keeping the filter; an unknown sort falls back to the case number.
    html = pages.get("/cases", params={"cause": "illness"}).text
    assert re.search(r'href="/cases\?cause=illness&amp;sort=head"', html)
    assert listed(pages.get("/cases", params={"sort": "evil; drop"}).text)[:2] == [a, b]
    # A page past the last shows the last.
    assert listed(pages.get("/cases", params={"cause": "illness", "page": "99"}).text) == [c]


def test_the_api_searches_sorts_and_pages(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, stage="received", head_name=f"张{n}") for n in "一二三"]
    users.add("clerk1", "town_clerk", counties=("340223",))
    h = users.headers("clerk1")
    r = client.get("/api/cases", params={"q": "张", "sort": "-number", "page": 2, "limit": 2}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["page"], body["pages"]) == (3, 2, 2)
    assert [i["id"] for i in body["items"]] == [ids[0]] and body["items"][0]["number"] == "340223-2020-000001"
    r = client.get("/api/cases", params={"sort": "nonsense"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"
    r = client.get("/api/cases", headers=h)  # the cursor listing as before
    assert [i["id"] for i in r.json()["items"]] == sorted(ids) and r.json()["total"] is None


def test_the_tail_index_of_members_stored_before_it_is_filled_at_start(ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import Principal
    from verifier.cases.listing import CaseQuery, find_cases

    case_id = make_case(ctx, stage="determined")
    with ctx.db.begin() as session:
        session.execute(update(Member).values(id_tail_bidx=None))  # as migration 0016 leaves them
    who = Principal(id="u", username="u", display_name="u", roles=("town_clerk",), counties=("340223",))
    tail = members_of(ctx, case_id)[1][2][-4:]
    with ctx.db.read() as session:
        assert find_cases(session, who, CaseQuery(q=tail), ctx.vault).total == 0
    assert numbers.fill_id_tails(ctx.db, ctx.vault, batch=2) == 3
    assert numbers.fill_id_tails(ctx.db, ctx.vault) == 0
    with ctx.db.read() as session:
        assert [c.id for c in find_cases(session, who, CaseQuery(q=tail), ctx.vault).cases] == [case_id]


def test_the_header_has_a_search_box_leading_to_the_case_list(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("finance1", "finance")
    html = pages.get("/payments").text
    assert re.search(r'<form method="post" action="/cases/search" class="find" role="search">.*name="q"', html)
    html = find(pages, '"><script>x</script>').text
    assert "<script>x" not in html and "没有符合条件的案件" in html


def test_searches_by_whole_id_number_are_limited_per_user(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without a limit, trying every birth date behind a 6+4 mask would recover the number."""
    from verifier.cases import id_search

    monkeypatch.setattr(id_search, "PER_WINDOW", 3)
    monkeypatch.setattr(id_search.count_search, "__defaults__", (3,))
    case_id = make_case(ctx, stage="received")
    head_id = members_of(ctx, case_id)[0][2]
    pages.as_("clerk1", "town_clerk")
    for _ in range(3):
        assert listed(find(pages, head_id).text) == [case_id]
    r = find(pages, head_id)
    assert r.status_code == 429 and "按身份证号查找过于频繁" in r.text and case_id not in r.text
    assert pages.get("/cases/ledger.xlsx", params={"q": head_id}).status_code == 429
    # Other searches are not counted, and other users have their own allowance.
    assert listed(find(pages, head_id[-4:]).text) == [case_id]
    api = pages.client.get("/api/cases", params={"q": head_id}, headers=pages.users.headers("clerk1"))
    assert api.status_code == 429 and int(api.headers["retry-after"]) > 0
    pages.as_("clerk2", "town_clerk")
    assert listed(find(pages, head_id).text) == [case_id]


def test_the_case_number_is_shown_on_the_case_page_and_in_the_api(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received", head_name="欧阳修远")
    pages.as_("clerk1", "town_clerk")
    html = pages.get(f"/cases/{case_id}").text
    number = number_of(ctx, case_id)
    assert re.search(rf"<title>{number} 欧阳修远", html) and f"{number}</span> 欧阳修远户" in html and case_id in html
    r = pages.client.get(f"/api/cases/{case_id}", headers=pages.users.headers("clerk1"))
    assert r.json()["number"] == number == "340223-2020-000001"


def test_payee_changes_show_the_case_number(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from factories import staff

    from verifier.payments import payees

    case_id = make_case(ctx, stage="determined", head_name="欧阳修远")
    with ctx.db.begin() as session:
        payees.request_change(session, case_id, account_name="欧阳修远", bank="农村商业银行",
                              account_number="6222020200199887766", reason="换卡", principal=staff(ctx).supervisor,
                              vault=ctx.vault, clock=ctx.clock)
    pages.as_("fin1", "finance")
    assert number_of(ctx, case_id) in pages.get("/payee-changes").text
    r = pages.client.get("/api/payee-changes", headers=pages.users.headers("fin1"))
    assert r.status_code == 200 and r.json()["items"][0]["case_number"] == number_of(ctx, case_id)


def test_the_list_escapes_what_it_shows(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """The list's rows come escaped from web/cases.py (its template does not escape them again): a name or a
    village with HTML in it is shown as text, escaped as everywhere else (markupsafe's entities)."""
    case = make_case(ctx, stage="received", head_name='<b>"王\'&五', village="<i>村")
    pages.as_("clerk1", "town_clerk")
    html = pages.get("/cases").text
    assert case in listed(html)
    assert "&lt;b&gt;&#34;王&#39;&amp;五" in html and 'title="&lt;b&gt;&#34;王&#39;&amp;五户的一户一档"' in html
    assert "城关镇 &lt;i&gt;村" in html
    assert "<b>" not in html and "<i>" not in html and '"王' not in html
