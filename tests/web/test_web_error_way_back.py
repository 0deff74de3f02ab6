"""An error page is no dead end: beside 回到首页 it offers 返回上一页, to the page of this site the person came from
(the form they sent), or else to the list above the address; never to another site."""

from __future__ import annotations

import re

from factories import make_case


def _back(html: str) -> str | None:
    m = re.search(r'<a class="button" href="([^"]*)" id="way-back">返回上一页</a>', html)
    return m.group(1).replace("&amp;", "&") if m else None


def test_a_form_sent_from_an_expired_page_leads_back_to_that_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk-back", "town_clerk")
    pages.get(f"/cases/{case_id}")
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "pass"}, csrf=False,
                   headers={"Referer": f"http://testserver.local/cases/{case_id}?tab=screening"})
    assert r.status_code == 403 and "请返回上一页" in r.text and "回到首页" in r.text, r.text[:300]
    assert _back(r.text) == f"/cases/{case_id}?tab=screening"


def test_a_missing_record_leads_to_its_list_and_another_site_is_never_offered(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk-back2", "town_clerk")
    r = pages.get("/notices/ntc_nothing_here")
    assert r.status_code == 404 and _back(r.text) == "/notices"
    r = pages.get("/notices/ntc_nothing_here", headers={"Referer": "http://elsewhere.example/phish"})
    assert r.status_code == 404 and _back(r.text) == "/notices"
    r = pages.get("/no/such/address")
    assert r.status_code == 404 and _back(r.text) is None and "回到首页" in r.text
