"""A whole ID number typed into the case search never stays in an address (history, proxies, Referer): the form
is POSTed and the list's address carries a sealed, short-lived search token of the user's own instead; the
results, the sort and page links and the ledger export still answer that search. Names, case numbers and ID tails
stay plain `q`."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
from caselist_helpers import members_of, number_of
from factories import make_case

from verifier.domain.masking import mask_id


def hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


def listed(html: str) -> list[str]:
    body = html[html.index('<div id="results">'):]
    return list(dict.fromkeys(re.findall(r'href="/cases/(case_\w+)"', body)))


def test_a_whole_id_number_is_in_no_address_and_the_export_still_gets_its_rows(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    target = make_case(ctx, stage="determined", head_name="欧阳修远")
    other = make_case(ctx, stage="received", head_name="司马光明")
    head_id = members_of(ctx, target)[0][2]
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/cases/search", {"q": f" {head_id.lower()} ", "status": "", "sort": "-received"})
    assert r.status_code == 303
    where = r.headers["location"]
    assert head_id not in where.upper() and head_id[6:14] not in where
    assert set(parse_qs(urlsplit(where).query)) == {"qt", "sort"}
    page = pages.get(where)
    assert page.status_code == 200 and listed(page.text) == [target]
    assert mask_id(head_id) in page.text and head_id not in page.text  # shown masked, never whole
    links = [h for h in hrefs(page.text) if h.startswith("/cases")]
    assert links and not any(head_id in h or head_id[6:14] in h for h in links)
    sort_link = next(h for h in links if "sort=head" in h)
    assert "qt=" in sort_link and listed(pages.get(sort_link).text) == [target]
    export = next(h for h in links if h.startswith("/cases/ledger.xlsx"))
    assert "qt=" in export and "sort=-received" in export
    ledger = pages.get(export)
    assert ledger.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(ledger.content)).active.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [number_of(ctx, target)] and number_of(ctx, other) not in str(rows)
    # The same filters with a new status, from the page's own form (its hidden token), keep the search.
    again = pages.post("/cases/search", {"q": "", "qt": parse_qs(urlsplit(where).query)["qt"][0], "status": "received"})
    assert "qt=" in again.headers["location"] and "status=received" in again.headers["location"]


def test_a_search_token_is_its_users_own_and_short_lived(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    target = make_case(ctx, stage="received", head_name="欧阳修远")
    head_id = members_of(ctx, target)[0][2]
    pages.as_("clerk1", "town_clerk")
    where = pages.post("/cases/search", {"q": head_id}).headers["location"]
    assert listed(pages.get(where).text) == [target]
    pages.as_("clerk2", "town_clerk")  # the address in someone else's hands (a log, a Referer) finds nothing
    theirs = pages.get(where)
    assert listed(theirs.text) == [] and "已失效" in theirs.text
    assert pages.get(where.replace("/cases?", "/cases/ledger.xlsx?")).status_code == 422
    pages.as_("clerk1", "town_clerk")
    clock.advance(minutes=31)
    late = pages.get(where)
    assert listed(late.text) == [] and "已失效" in late.text and "请重新输入身份证号查找" in late.text
    assert listed(pages.get("/cases?qt=not-a-token").text) == []


def test_an_id_number_in_an_old_address_is_swapped_for_a_token_and_other_searches_stay_plain(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    target = make_case(ctx, stage="received", head_name="欧阳修远")
    head_id = members_of(ctx, target)[0][2]
    pages.as_("clerk1", "town_clerk")
    r = pages.get("/cases", params={"q": head_id, "village": "东村"})
    assert r.status_code == 303 and head_id not in r.headers["location"] and "village=" in r.headers["location"]
    for q in ("欧阳", head_id[-4:], number_of(ctx, target)):
        where = pages.post("/cases/search", {"q": q}).headers["location"]
        assert parse_qs(urlsplit(where).query)["q"] == [q]
        assert listed(pages.get(where).text) == [target]
    # The header's search box posts too.
    html = pages.get("/cases").text
    assert re.search(r'<form method="post" action="/cases/search" class="find"', html)
