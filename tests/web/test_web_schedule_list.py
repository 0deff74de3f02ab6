"""The supervisor's 待排期案件 list has a search box and numbered pages: a county with hundreds of screened cases
finds the one household to arrange by hand by its head, number, town or village, and nothing beyond the first
hundreds is left out silently."""

from __future__ import annotations

import re

from factories import make_case


def _heads(html: str) -> list[str]:
    waiting = html[html.index('id="waiting"'):]
    return re.findall(r'<tr><td><a href="/cases/(case_\w+)">', waiting)


def test_the_waiting_list_is_searched_and_paged(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import paging

    east = make_case(ctx, stage="screened", village="东村", head_name="陈有福")
    west = make_case(ctx, stage="screened", village="西村", head_name="周满仓")
    pages.as_("sup-waiting", "insurer_supervisor")
    html = pages.get("/schedule").text
    assert {east, west} <= set(_heads(html)) and 'placeholder="户主姓名、案件编号、乡镇或村"' in html
    assert _heads(pages.get("/schedule", params={"q": "陈有福"}).text) == [east]
    assert _heads(pages.get("/schedule", params={"q": "西村"}).text) == [west]
    none = pages.get("/schedule", params={"q": "没有这户"}).text
    assert _heads(none) == [] and "没有找到与“没有这户”相符的待排期案件" in none

    old = paging.PAGE_SIZE
    try:
        paging.PAGE_SIZE = 1
        first, second = (pages.get("/schedule", params={"page": n}).text for n in (1, 2))
        assert len(_heads(first)) == 1 and len(_heads(second)) == 1 and _heads(first) != _heads(second)
        assert re.search(r'href="/schedule\?page=2"[^>]*rel="next"|rel="next"[^>]*href="/schedule\?page=2"', first)
    finally:
        paging.PAGE_SIZE = old
