"""The role-grant pages: an admin proposes more roles for an account, a second person confirms or refuses them on
the pending list (searched, in pages); the proposer's own rows offer no confirmation and a forged one is refused."""

from __future__ import annotations

import re

from pagekit import PASSWORD


def test_a_money_role_proposed_on_the_page_is_confirmed_by_another_admin(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    target = users.add("zhao.officer", "field_officer", counties=("340223",))
    users.add("admin2", "admin", counties=())
    pages.as_("admin1", "admin", counties=())
    me = users.ids["admin1"]
    own = pages.get(f"/users/{me}/roles")
    assert own.status_code == 200 and "不能给自己的账号增加角色" in own.text
    r = pages.post(f"/users/{me}/roles", {"roles": "finance"})
    assert r.status_code == 403 and "不能给自己的账号增加角色" in r.text

    form = pages.get(f"/users/{target}/roles").text
    # the auditor reads a county's households: a second person confirms it too
    assert "财务（须另一人确认）" in form and "审计（须另一人确认）" in form and "查阅本县全部案件" in form
    assert pages.post(f"/users/{target}/roles", {}).status_code == 422
    r = pages.post(f"/users/{target}/roles", {"roles": ["finance", "auditor"]})
    assert r.status_code == 303 and r.headers["location"] == "/users?done=roles_proposed"
    listed = pages.get("/users?done=roles_proposed").text
    assert "须由另一位管理员或县级复核员" in listed and "待确认：审计、财务" in listed

    mine = pages.get("/role-grants").text
    grants = {g["role"]: g["id"] for g in client.get("/api/role-grants", headers=users.headers("admin2")).json()}
    assert sorted(grants) == ["auditor", "finance"]
    grant = grants["finance"]
    assert "zhao.officer" in mine and "您提出的，须由他人确认" in mine and f"/role-grants/{grant}/refuse" in mine
    assert f"/role-grants/{grant}/confirm" not in mine
    r = pages.post(f"/role-grants/{grant}/confirm")  # the form not shown, sent anyway
    assert r.status_code == 403 and "按“四眼原则”" in r.text and "您提出的" in r.text
    assert client.get("/api/auth/me", headers=users.headers("zhao.officer")).json()["roles"] == ["field_officer"]

    pages.login("admin2", PASSWORD)
    assert "zhao.officer" in pages.get("/role-grants?q=ZHAO").text
    assert "没有待确认的角色授权" in pages.get("/role-grants?q=nobody").text
    r = pages.post(f"/role-grants/{grant}/confirm")
    assert r.status_code == 303 and r.headers["location"] == "/role-grants?done=grant_confirmed"
    assert "角色授权已确认" in pages.get("/role-grants?done=grant_confirmed").text
    assert "finance" in client.get("/api/auth/me", headers=users.headers("zhao.officer")).json()["roles"]
    r = pages.post(f"/role-grants/{grant}/confirm")
    assert r.status_code == 409 and "该角色授权已确认" in r.text


def test_a_county_reviewer_refuses_with_a_reason(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin", counties=())
    users.add("new.fin", "town_clerk", counties=("340223",))
    r = client.post(f"/api/users/{users.ids['new.fin']}/roles", headers=users.headers("admin1"),
                    json={"roles": ["finance"]})
    assert r.status_code == 200 and r.json()["pending_roles"] == ["finance"]
    pages.as_("rev", "county_reviewer")
    text = pages.get("/role-grants").text
    assert "角色授权（待确认）" in text and "new.fin" in text and "财务" in text
    grant = re.search(r'/role-grants/(rgr_\w+)/refuse', text).group(1)
    form = pages.get(f"/role-grants/{grant}/refuse")
    assert form.status_code == 200 and "拒绝的理由" in form.text
    r = pages.post(f"/role-grants/{grant}/refuse", {"reason": "  "})
    assert r.status_code == 422 and "请填写拒绝的理由" in r.text
    typed = "未" * 1001  # the service's own limit, told on the form with what was typed
    r = pages.post(f"/role-grants/{grant}/refuse", {"reason": typed})
    assert r.status_code == 422 and "最多 1000 个字符" in r.text and typed in r.text
    assert "new.fin" in pages.get("/role-grants").text  # still pending
    r = pages.post(f"/role-grants/{grant}/refuse", {"reason": "未见任命文件"})
    assert r.status_code == 303 and r.headers["location"] == "/role-grants?done=grant_refused"
    assert "没有待确认的角色授权" in pages.get("/role-grants").text
    gone = pages.get(f"/role-grants/{grant}/refuse")  # decided: no form, and said in Chinese
    assert gone.status_code == 404 and "没有找到这项角色授权" in gone.text and "no such" not in gone.text
    assert client.get("/api/auth/me", headers=users.headers("new.fin")).json()["roles"] == ["town_clerk"]


def test_the_pending_list_pages_through_many(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin", counties=())
    h = users.headers("admin1")
    for i in range(53):
        r = client.post("/api/users", headers=h, json={"username": f"fin{i:02d}", "password": "given password",
                                                       "roles": ["finance"], "counties": ["340223"]})
        assert r.status_code == 201
    pages.as_("admin2", "admin", counties=())
    first = pages.get("/role-grants").text
    assert "共 53 条" in first and first.count("确认授权") == 50
    assert pages.get("/role-grants?page=2").text.count("确认授权") == 3


def test_a_new_password_set_on_the_page_suspends_the_money_roles(pages, users, client) -> None:  # type: ignore[no-untyped-def]
    fin = users.add("fin1", "finance", counties=("340223",))
    pages.as_("admin1", "admin", counties=())
    r = pages.post(f"/users/{fin}/password", {"password": "new password one", "password_again": "new password one"})
    assert r.status_code == 200 and "财务角色已暂停" in r.text and "/role-grants" in r.text
    assert "待确认：财务" in pages.get("/users").text


def test_the_pages_name_every_role_that_takes_two_people(pages, users) -> None:  # type: ignore[no-untyped-def]
    """The pending list and the users list say which roles wait for a second person: every guarded one, the auditor's
    and the field officer's among them (the text once named only the money roles and the admin's)."""
    users.add("admin2", "admin", counties=())
    pages.as_("admin1", "admin", counties=())
    for path in ("/role-grants", "/users"):
        text = pages.get(path).text
        assert "核查员、保险公司主管、理赔专员、财务、乡镇经办人、县级复核员、审计和管理员角色须" in text, path
