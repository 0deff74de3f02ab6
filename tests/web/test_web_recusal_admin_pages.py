"""回避申报管理 (/recusal) in numbered pages: a county's hundreds of accounts used to be listed on one page (a search,
no pages). Now the total, the page's accounts in the table and the add forms' choice, the search kept in every page
link, and a refused add form drawn again on the page it was sent from, the account chosen still chosen. The page size
is made small so that a few accounts fill several pages."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def small_pages(monkeypatch):  # type: ignore[no-untyped-def]
    from verifier.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 4)


def _link(html: str, rel: str) -> str:
    m = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert m, f"no {rel} link"
    return m.group(1).replace("&amp;", "&")


def _listed(html: str) -> list[str]:
    """The usernames in the table of declarations, in order."""
    table = html.split('id="recusal-all"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<span class="mono">([^<]+)</span>）</td>', table)


def _choices(html: str, field_id: str) -> list[str]:
    select = html.split(f'id="{field_id}"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'（([^）]+)）</option>', select)


def test_the_accounts_are_numbered_pages_with_the_total_and_the_search_kept(pages, users, small_pages) -> None:  # type: ignore[no-untyped-def]
    for i in range(9):
        users.add(f"officer{i:02d}", "field_officer", counties=("340223",))
    pages.as_("adm1", "admin")
    first = pages.get("/recusal").text
    total = int(re.search(r"共 (\d+) 条", first).group(1))  # the officers, the admin, the contract's reviewer
    assert total == 11 and "第 1–4 条" in first and len(_listed(first)) == 4
    assert _choices(first, "f-user_id") == _listed(first) == _choices(first, "f-account-user_id")
    second = pages.get(_link(first, "next")).text
    last = pages.get(_link(second, "next")).text
    assert 'aria-current="page">3<' in last and 'rel="next"' not in last and "第 9–11 条" in last
    seen = _listed(first) + _listed(second) + _listed(last)
    assert len(seen) == len(set(seen)) == total and {f"officer{i:02d}" for i in range(9)} < set(seen)
    assert _listed(last) == ["officer06", "officer07", "officer08"]
    found = pages.get("/recusal", params={"q": "OFFICER0"}).text  # any case, as before
    assert "共 9 条" in found and _listed(found) == ["officer00", "officer01", "officer02", "officer03"]
    onward = _link(found, "next")
    assert "q=OFFICER0" in onward and "page=2" in onward
    second = pages.get(onward).text
    assert _listed(second) == ["officer04", "officer05", "officer06", "officer07"]
    assert 'rel="prev"' in second and "q=OFFICER0" in _link(second, "prev")
    assert "共 1 条" in pages.get("/recusal", params={"q": "officer08"}).text
    assert _listed(pages.get("/recusal?page=99").text) == ["officer06", "officer07", "officer08"]  # past the last: the last


def test_a_refused_add_form_comes_back_on_its_page_with_the_account_chosen(pages, users, small_pages) -> None:  # type: ignore[no-untyped-def]
    for i in range(9):
        users.add(f"officer{i:02d}", "field_officer", counties=("340223",))
    pages.as_("adm1", "admin")
    second = pages.get("/recusal", params={"q": "officer", "page": "2"}).text
    assert '<input type="hidden" name="q" value="officer">' in second
    assert '<input type="hidden" name="page" value="2">' in second
    chosen = users.ids["officer05"]
    r = pages.post("/recusal/add", {"user_id": chosen, "relation": "parent", "id_number": "1234", "q": "officer",
                                    "page": "2"})
    assert r.status_code == 422 and "共 9 条" in r.text and 'aria-current="page">2<' in r.text
    assert f'<option value="{chosen}" selected>' in r.text
    r = pages.post("/recusal/accounts/add", {"user_id": chosen, "account_number": "12", "q": "officer", "page": "2"})
    assert r.status_code == 422 and 'aria-current="page">2<' in r.text
    assert f'<option value="{chosen}" selected>' in r.text.split('id="f-account-user_id"', 1)[1]


def _action(html: str, pattern: str) -> str:
    m = re.search(rf'action="({pattern})"', html)
    assert m, pattern
    return m.group(1)


def test_the_removal_forms_keep_the_search_and_page_refused_or_done(pages, users, client, small_pages) -> None:  # type: ignore[no-untyped-def]
    """An admin asking, on page 2 of a search, for a relative's entry (or an own account) to be removed came back on
    page 1 without the search when refused, the reason typed gone and why said at the top; and after success too.
    Each removal form, and each confirm and refuse, now carries the search and page: refused, the same page again,
    the reason typed in its box and why beside it; done, back to that page; a second click said in place."""
    from factories import new_id_number

    for i in range(9):
        users.add(f"officer{i:02d}", "field_officer", counties=("340223",))
    pages.as_("adm1", "admin")
    users.add("adm2", "admin", counties=("340223",))
    chosen = users.ids["officer05"]
    r = client.post(f"/api/recusal/users/{chosen}", headers=users.headers("adm1"),
                    json={"entries": [{"relation": "parent", "id_number": new_id_number()}]})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/recusal/users/{chosen}/accounts", headers=users.headers("adm1"),
                    json={"accounts": ["6222020000000012345"]})
    assert r.status_code == 200, r.text
    second = pages.get("/recusal", params={"q": "officer", "page": "2"}).text
    tie = _action(second, r"/recusal/entries/[^/\"]+/removal")
    account = _action(second, r"/recusal/accounts/(?!add|removals)[^/\"]+/removal")
    keep = {"q": "officer", "page": "2"}
    form = second.split(f'action="{tie}"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="q" value="officer">' in form and 'name="page" value="2"' in form

    r = pages.post(tie, {"reason": "   ", **keep})  # blank: the box's `required` lets spaces through
    assert r.status_code == 422 and 'aria-current="page">2<' in r.text and "共 9 条" in r.text, r.text
    row = r.text.split(f'action="{tie}"', 1)[1].split("</form>", 1)[0]
    assert "请说明删除的原因" in row and 'aria-invalid="true"' in row  # beside its box, not at the page's top

    r = pages.post(tie, {"reason": "身份证号填错了", **keep})
    assert r.status_code == 303 and r.headers["location"].startswith("/recusal?"), r.headers
    assert "q=officer" in r.headers["location"] and "page=2" in r.headers["location"]
    again = pages.post(tie, {"reason": "身份证号填错了", **keep})  # a double click's second send
    assert again.status_code == 409 and 'aria-current="page">2<' in again.text and "已提出删除" in again.text

    r = pages.post(account, {"reason": "账户已注销", **keep})
    assert r.status_code == 303 and "q=officer" in r.headers["location"] and "page=2" in r.headers["location"]

    pages.login("adm2")
    listed = pages.get("/recusal", params=keep).text
    confirm = _action(listed, r"/recusal/removals/[^/\"]+/confirm")
    refuse = _action(listed, r"/recusal/accounts/removals/[^/\"]+/refuse")
    r = pages.post(confirm, keep)
    assert r.status_code == 303 and "q=officer" in r.headers["location"] and "page=2" in r.headers["location"]
    twice = pages.post(confirm, keep)
    assert twice.status_code == 409 and "该删除申请已处理" in twice.text and 'aria-current="page">2<' in twice.text
    r = pages.post(refuse, keep)
    assert r.status_code == 303 and "page=2" in r.headers["location"]
