"""The shared numbered pages (web/paging.py, _pager.html): the total, the page links, the filters kept."""

from __future__ import annotations

import re

from verifier.web.paging import Pager, clamp, page_param


def test_page_links_keep_the_filters_and_gap_far_pages() -> None:
    p = Pager.of("/x", {"q": "张 三", "status": "", "page": "7"}, page=7, pages=20, total=1000)
    assert p.url(page=8) == "/x?q=%E5%BC%A0+%E4%B8%89&page=8"
    assert p.url(page=1) == "/x?q=%E5%BC%A0+%E4%B8%89"
    assert p.url(sort="-head", page=None) == "/x?q=%E5%BC%A0+%E4%B8%89&sort=-head"
    assert p.links() == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert (p.first_row, p.last_row) == (301, 350)
    assert clamp(9, 120, 50) == (3, 3, 100) and clamp(1, 0, 50) == (1, 1, 0)
    assert [page_param(v) for v in ("3", "0", "-2", "x", None, " 2 ")] == [3, 1, 1, 1, 1, 2]


def test_the_users_page_counts_and_pages(pages, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import users as user_pages

    monkeypatch.setattr(user_pages, "USERS_PAGE", 2)
    for n in range(3):
        pages.users.add(f"user{n}", "town_clerk", counties=("340223",))
    pages.as_("admin1", "admin", counties=("340223",))
    first = pages.get("/users", params={"q": "user"}).text
    assert "共 3 条" in first and first.count('href="/users/') >= 2
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt and nxt.group(1).replace("&amp;", "&") == "/users?q=user&page=2"
    second = pages.get(nxt.group(1).replace("&amp;", "&")).text
    assert "user2" in second and "user0" not in second and 'aria-current="page">2<' in second
