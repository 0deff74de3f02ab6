"""The admin's user pages: search, disable and enable with confirmation, a new password; sessions end at once."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get


def test_the_admin_lists_searches_disables_and_enables(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    target = users.add("wang.officer", "field_officer", counties=("340223",))
    users.add("li.clerk", "town_clerk", counties=("340223",))
    officer = users.headers("wang.officer")
    pages.as_("admin1", "admin", counties=())
    text = pages.get("/users").text
    assert "用户管理" in text and "wang.officer" in text and "li.clerk" in text and "全部县（区）" in text
    assert "核查员" in text  # roles in Chinese
    found = pages.get("/users?q=WANG").text
    assert "wang.officer" in found and "li.clerk" not in found
    wide = pages.get("/users?q=%EF%BD%97%EF%BD%81%EF%BD%8E%EF%BD%87").text  # ｗａｎｇ: an input method's full width
    assert "wang.officer" in wide and "li.clerk" not in wide and 'name="q" value="wang"' in wide
    assert "没有符合条件的用户" in pages.get("/users?q=50%25_").text  # LIKE wildcards are searched as text

    confirm = pages.get(f"/users/{target}/disable")
    assert confirm.status_code == 200 and "确定停用" in confirm.text and "立即退出" in confirm.text
    assert client.get("/api/auth/me", headers=officer).status_code == 200
    r = pages.post(f"/users/{target}/disable")
    assert r.status_code == 303 and r.headers["location"] == "/users?done=user_disabled"
    assert client.get("/api/auth/me", headers=officer).status_code == 401  # logged out everywhere at once
    text = pages.get("/users?done=user_disabled").text
    assert "账号已停用" in text and "已停用" in text and f'href="/users/{target}/enable"' in text
    assert client.post("/api/auth/login", json={"username": "wang.officer", "password": PASSWORD}).status_code == 401

    assert "确定启用" in pages.get(f"/users/{target}/enable").text
    r = pages.post(f"/users/{target}/enable")
    assert r.status_code == 303 and r.headers["location"] == "/users?done=user_enabled"
    assert client.post("/api/auth/login", json={"username": "wang.officer", "password": PASSWORD}).status_code == 200


def test_the_last_admin_is_not_disabled_from_the_page(pages, users) -> None:  # type: ignore[no-untyped-def]
    pages.as_("admin1", "admin", counties=())
    me = users.ids["admin1"]
    r = pages.post(f"/users/{me}/disable")
    assert r.status_code == 409 and "最后一个启用的管理员" in r.text
    assert pages.get("/users").status_code == 200  # still logged in


def test_the_admin_sets_or_generates_a_password(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    target = users.add("fin1", "finance", counties=("340223",))
    before = users.headers("fin1")
    pages.as_("admin1", "admin", counties=())
    assert "再输入一次" in pages.get(f"/users/{target}/password").text
    r = pages.post(f"/users/{target}/password", {"password": "new password one", "password_again": "other"})
    assert r.status_code == 422 and "两次输入的密码不一致" in r.text
    r = pages.post(f"/users/{target}/password", {"password": "short", "password_again": "short"})
    assert r.status_code == 422 and "至少 8 个字符" in r.text
    assert client.get("/api/auth/me", headers=before).status_code == 200  # nothing changed yet
    r = pages.post(f"/users/{target}/password", {"password": "new password one", "password_again": "new password one"})
    assert r.status_code == 200 and "已全部退出" in r.text and 'id="new-password"' not in r.text
    assert client.get("/api/auth/me", headers=before).status_code == 401
    assert client.post("/api/auth/login", json={"username": "fin1", "password": "new password one"}).status_code == 200

    r = pages.post(f"/users/{target}/password", {"password": "", "password_again": ""})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    generated = re.search(r'<code id="new-password">([^<]+)</code>', r.text).group(1)
    assert client.post("/api/auth/login", json={"username": "fin1", "password": generated}).status_code == 200


def test_only_admins_reach_the_user_pages(pages, users) -> None:  # type: ignore[no-untyped-def]
    target = users.add("fin1", "finance", counties=("340223",))
    pages.as_("aud1", "auditor", counties=())
    assert pages.get("/users").status_code == 403
    assert pages.post(f"/users/{target}/disable").status_code == 403
    assert "用户管理" not in pages.get("/").text
    pages.as_("admin1", "admin", counties=())
    assert 'href="/users"' in pages.get("/").text
    assert pages.get("/users/nope/disable").status_code == 404


def test_the_users_list_filters_by_role_and_account_state_across_pages(pages, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from verifier.web import users as user_pages

    def row(username: str) -> str:
        return f'<td class="mono">{username}</td>'

    monkeypatch.setattr(user_pages, "USERS_PAGE", 2)
    clerks = [users.add(f"clerk{n}", "town_clerk", counties=("340223",)) for n in range(3)]
    users.add("officer1", "field_officer", counties=("340223",))
    users.add("clerk-far", "town_clerk", counties=("340225",))
    pages.as_("admin-l", "admin", counties=("340223",))
    assert pages.post(f"/users/{clerks[2]}/disable").status_code == 303

    listed = pages.get("/users", params={"role": "town_clerk"}).text
    assert '<option value="town_clerk" selected>乡镇经办人</option>' in listed  # the labels table's words, kept
    # the admin's county only, the role chosen only
    assert "共 3 条" in listed and row("officer1") not in listed and row("clerk-far") not in listed
    nxt_url = re.search(r'href="([^"]+)" rel="next"', listed).group(1).replace("&amp;", "&")
    assert "role=town_clerk" in nxt_url and "page=2" in nxt_url
    second = pages.get(nxt_url).text
    assert row("clerk2") in second and row("officer1") not in second and row("admin-l") not in second

    in_use = pages.get("/users", params={"role": "town_clerk", "state": "active", "q": "clerk"}).text
    assert "共 2 条" in in_use and row("clerk2") not in in_use
    assert '<option value="active" selected>在用</option>' in in_use and 'name="q" value="clerk"' in in_use
    disabled = pages.get("/users", params={"state": "disabled"}).text
    assert row("clerk2") in disabled and row("clerk0") not in disabled and row("admin-l") not in disabled
    assert row("clerk0") in pages.get("/users", params={"role": "no-such-role"}).text  # an unknown role is no filter


def test_an_action_from_a_filtered_list_lands_on_that_same_list(pages, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """停用、启用、设置密码、增加角色 from page 2 of 乡镇经办人·在用·“clerk”: the admin lands back there, not on the
    whole unfiltered list (each link, form and redirect follows the page, as a browser would)."""
    from html import unescape

    from verifier.web import users as user_pages

    monkeypatch.setattr(user_pages, "USERS_PAGE", 2)
    for n in range(3):
        users.add(f"clerk{n}", "town_clerk", counties=("340223",))
    pages.as_("admin-b", "admin", counties=("340223",))
    listed = pages.get("/users", params={"role": "town_clerk", "state": "active", "q": "clerk", "page": "2"}).text
    kept = {"role": "town_clerk", "state": "active", "q": "clerk", "page": "2"}
    # each row's state in the filter's words (在用, not 启用 beside a filter saying 在用), a card on a phone
    assert '<td data-label="账号状态">在用</td>' in listed and 'class="phone-cards"' in listed

    def follow(html: str, label: str) -> str:
        return unescape(re.search(rf'href="([^"]+)">{label}</a>', html).group(1))

    def form_fields(html: str) -> dict[str, str]:
        return {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html)
                if k != "_csrf_token"}

    def lands(location: str, done: str) -> None:
        path, _, query = location.partition("?")
        from urllib.parse import parse_qsl
        assert path == "/users" and dict(parse_qsl(query)) == {**kept, "done": done}

    confirm = pages.get(follow(listed, "停用")).text
    assert form_fields(confirm) == kept
    assert unescape(re.search(r'href="([^"]+)">返回用户列表', confirm).group(1)).startswith("/users?role=town_clerk")
    r = pages.post(re.search(r'action="(/users/[^"]+/disable)"', confirm).group(1), form_fields(confirm))
    assert r.status_code == 303
    lands(r.headers["location"], "user_disabled")
    after = pages.get(r.headers["location"]).text
    assert "账号已停用" in after and '<option value="active" selected>在用</option>' in after
    assert 'name="q" value="clerk"' in after

    disabled = pages.get("/users", params={**kept, "state": "disabled", "page": ""}).text
    confirm = pages.get(follow(disabled, "启用")).text
    r = pages.post(re.search(r'action="(/users/[^"]+/enable)"', confirm).group(1), form_fields(confirm))
    kept = {"role": "town_clerk", "state": "disabled", "q": "clerk"}
    lands(r.headers["location"], "user_enabled")

    form = pages.get(follow(listed, "设置密码")).text
    sent = {**form_fields(form), "password": "short", "password_again": "short"}
    refused = pages.post(re.search(r'action="(/users/[^"]+/password)"', form).group(1), sent)
    assert refused.status_code == 422 and form_fields(refused.text) == form_fields(form)  # kept through the error
    done = pages.post(re.search(r'action="(/users/[^"]+/password)"', form).group(1),
                      {**form_fields(form), "password": "", "password_again": ""})
    assert "返回用户列表" in done.text
    assert unescape(re.search(r'href="([^"]+)">返回用户列表', done.text).group(1)) == (
        "/users?role=town_clerk&state=active&q=clerk&page=2")

    form = pages.get(follow(listed, "增加角色")).text
    r = pages.post(re.search(r'action="(/users/[^"]+/roles)"', form).group(1),
                   {**form_fields(form), "roles": "field_officer"})
    kept = {"role": "town_clerk", "state": "active", "q": "clerk", "page": "2"}
    lands(r.headers["location"], "roles_proposed")

    # only the list's own filters ride along: an unknown role, a page that is no number, another field are dropped
    odd = pages.get(f"/users/{users.ids['clerk0']}/disable",
                    params={"role": "root", "state": "x", "page": "-1", "next": "//evil", "q": " clerk "}).text
    assert form_fields(odd) == {"q": "clerk"}
