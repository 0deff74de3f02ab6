"""The case list page from its stencil (web/stencil.py): the very page the template renders, for whoever asks, with
what the database holds at that moment."""

from __future__ import annotations

import re

import pytest
from factories import make_case
from pagekit import CSRF_COOKIE

from verifier.web import stencil


def _ordinary(monkeypatch, pages, url: str) -> str:  # type: ignore[no-untyped-def]
    """The page rendered the ordinary way (a context that cannot be a key is not stencilled)."""
    with monkeypatch.context() as m:
        m.setattr(stencil, "_frozen", lambda context: None)
        return str(pages.get(url).text)


@pytest.mark.parametrize("url", ["/cases", "/cases?sort=-head&page=1", "/cases?village=东村%26西", "/cases?q=甲",
                                 "/cases?status=closed", "/cases?q=" + "x" * 51])
def test_the_stencilled_page_is_the_template_rendered(pages, ctx, monkeypatch, url) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received", head_name='甲<乙>&"丙\'{0}', village="东村&西")
    make_case(ctx, stage="determined", head_name="丁{}戊\\n")
    pages.as_("clerk1", "town_clerk")
    first, again = pages.get(url), pages.get(url)  # the stencil made, then filled
    assert first.status_code == again.status_code and first.headers["content-type"] == "text/html; charset=utf-8"
    assert first.text == again.text == _ordinary(monkeypatch, pages, url)
    if url == "/cases":
        assert "甲&lt;乙&gt;&amp;&#34;丙&#39;{0}" in first.text and "丁{}戊\\n" in first.text
        assert "东村&amp;西" in first.text
        token = pages.client.cookies.get(CSRF_COOKIE)
        assert first.text.count(token) == 4 and "\x00" not in first.text


def test_each_user_sees_their_own_page(pages, ctx, users, other_county) -> None:  # type: ignore[no-untyped-def]
    ours = make_case(ctx, stage="received", head_name="本县甲")
    theirs = make_case(ctx, stage="received", head_name="外县乙", county=other_county)
    users.add("clerk2", "town_clerk", counties=(other_county,))
    seen = {}
    for who in ("clerk1", "clerk2", "clerk1", "clerk2"):
        pages.as_(who, "town_clerk") if who == "clerk1" else pages.login(who)
        text = pages.get("/cases").text
        token = pages.client.cookies.get(CSRF_COOKIE)
        assert f'value="{token}"' in text and f'"x-csrftoken": "{token}"' in text
        seen.setdefault(who, []).append(re.sub(re.escape(token), "", text))
    assert seen["clerk1"][0] == seen["clerk1"][1] and seen["clerk2"][0] == seen["clerk2"][1]
    assert ours in seen["clerk1"][0] and theirs not in seen["clerk1"][0]
    assert theirs in seen["clerk2"][0] and ours not in seen["clerk2"][0]


def test_users_of_one_county_see_their_own_name_and_menu(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    users.add("sup1", "insurer_supervisor", counties=("340223",))
    for _ in range(2):
        clerk = pages.as_("clerk1", "town_clerk").get("/cases").text
        pages.login("sup1")
        supervisor = pages.get("/cases").text
        assert 'class="who">clerk1' in clerk and 'href="/applications/new"' in clerk and "/schedule" not in clerk
        assert 'class="who">sup1' in supervisor and 'href="/schedule"' in supervisor
        assert "/applications/new" not in supervisor


def test_a_new_case_is_listed_at_once(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received", head_name="先来甲")
    pages.as_("clerk1", "town_clerk")
    before = pages.get("/cases").text
    assert "共 1 条" in before
    later = make_case(ctx, stage="received", head_name="后到乙", village="新村")
    after = pages.get("/cases").text
    assert "共 2 条" in after and later in after and "后到乙" in after and '<option value="新村"' in after


def test_a_token_with_anything_to_escape_is_escaped_as_before(pages, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    pages.as_("clerk1", "town_clerk")
    pages.client.cookies.set(CSRF_COOKIE, 'a"b<c')
    text = pages.get("/cases").text
    assert 'value="a&quot;b&lt;c"' in text and '"x-csrftoken": "a&#34;b&lt;c"' in text
    assert text == _ordinary(monkeypatch, pages, "/cases")


def test_a_joiner_puts_values_where_their_markers_were() -> None:
    text = "{x} \\ '\"" + stencil.mark("a") + "中{}" + stencil.mark("b") + stencil.mark("a")
    join = stencil.joiner(text, ["a", "b"])
    assert join("1", "{2}") == "{x} \\ '\"1中{}{2}1"
    with pytest.raises(ValueError):
        stencil.joiner(stencil.mark("c"), ["a"])
    assert stencil.fill(stencil.cut(text), {"a": "A", "b": "B"}) == "{x} \\ '\"A中{}BA"
