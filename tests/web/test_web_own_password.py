"""A password an administrator set is known to the administrator: until its owner chooses their own, the account can
do nothing but change it and log out, so nobody acts as another user with a password they gave them."""

from __future__ import annotations

import json

from sqlalchemy import select

from verifier.accounts.auth import NO_ROLE
from verifier.audit.models import AuditEntry

from pagekit import Pages

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get
GIVEN = "the admin knows this one"
OWN = "only the owner knows this"


def login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def logged(ctx, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [json.loads(e) for e in session.scalars(
            select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))]


def test_an_admin_reset_password_opens_nothing_but_changing_it(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    fin = users.add("fin1", "finance", counties=("340223",))
    r = client.post(f"/api/users/{fin}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    assert r.status_code == 200
    # the administrator logs in with the password they set: the account is shut but for changing it
    taken = login(client, "fin1", GIVEN)
    me = client.get("/api/auth/me", headers=taken)
    assert me.status_code == 200 and me.json()["must_change_password"] is True
    for method, url in (("GET", "/api/cases"), ("GET", "/api/payment-batches"), ("GET", "/api/fund"), ("POST", "/api/payment-batches"),
                        ("GET", "/api/reports/monthly?county=340223&month=2026-11")):
        r = client.request(method, url, headers=taken, json={} if method == "POST" else None)
        assert r.status_code == 403, (url, r.text)
        assert "/api/auth/password" in r.json()["detail"]
    # changing it needs the current password, a new one of 8 or more characters, and a different one
    bad = [({"current_password": "wrong password", "new_password": OWN}, "current_password"),
           ({"current_password": GIVEN, "new_password": GIVEN}, "new_password")]
    for body, field in bad:
        r = client.post("/api/auth/password", headers=taken, json=body)
        assert r.status_code == 422 and field in r.text, r.text
    assert client.post("/api/auth/password", headers=taken,
                       json={"current_password": GIVEN, "new_password": "short"}).status_code == 400
    assert client.get("/api/cases", headers=taken).status_code == 403  # still shut
    other = login(client, "fin1", GIVEN)
    r = client.post("/api/auth/password", headers=taken, json={"current_password": GIVEN, "new_password": OWN})
    assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
    # this session goes on, its password its own; the reset suspended its role (accounts/grants.py): it reads no case
    # until another administrator confirms the role again
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == []
    r = client.get("/api/cases", headers=taken)
    assert r.status_code == 403 and r.json()["detail"] == NO_ROLE, r.text
    assert client.get("/api/auth/me", headers=other).status_code == 401  # the other one ended
    assert client.post("/api/auth/login", json={"username": "fin1", "password": GIVEN}).status_code == 401
    assert client.get("/api/auth/me", headers=login(client, "fin1", OWN)).json()["must_change_password"] is False
    entries = logged(client.app.state.ctx, "user.password_own")
    assert [(e["actor"], e["payload"]["requirement_lifted"]) for e in entries] == [(fin, True)]
    text = json.dumps(logged(client.app.state.ctx, "user.password") + entries)
    assert GIVEN not in text and OWN not in text and "scrypt" not in text


def test_a_user_changes_their_own_password_without_any_requirement(client, users) -> None:  # type: ignore[no-untyped-def]
    clerk = users.add("clerk1", "town_clerk", counties=("340223",))
    headers = login(client, "clerk1", PASSWORD)
    assert client.get("/api/auth/me", headers=headers).json()["must_change_password"] is False
    r = client.post("/api/auth/password", headers=headers, json={"current_password": PASSWORD, "new_password": OWN})
    assert r.status_code == 200
    assert [e["payload"]["requirement_lifted"] for e in logged(client.app.state.ctx, "user.password_own")] == [False]
    assert client.post("/api/auth/login", json={"username": "clerk1", "password": OWN}).status_code == 200
    assert clerk  # the change was the user's own: no requirement set
    assert client.get("/api/auth/me", headers=login(client, "clerk1", OWN)).json()["must_change_password"] is False


def test_the_pages_send_a_reset_account_to_the_change_form(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    fin = users.add("fin1", "finance", counties=("340223",))
    client.post(f"/api/users/{fin}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    pages = Pages(client, users)
    pages.login("fin1", GIVEN)
    for url in ("/", "/cases", "/payments"):
        r = pages.get(url)
        assert r.status_code == 302 and r.headers["location"] == "/account/password", url
    assert pages.post("/payments/", {}).headers["location"] == "/account/password"
    form = pages.get("/account/password")
    assert form.status_code == 200 and "管理员设置的" in form.text and "修改密码" in form.text
    r = pages.post("/account/password", {"current_password": GIVEN, "new_password": OWN,
                                         "new_password_again": "typed differently"})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.text
    r = pages.post("/account/password", {"current_password": "not it", "new_password": OWN,
                                         "new_password_again": OWN})
    assert r.status_code == 422 and "当前密码不正确" in r.text
    r = pages.post("/account/password", {"current_password": GIVEN, "new_password": OWN, "new_password_again": OWN})
    assert r.status_code == 303 and r.headers["location"].startswith("/?done=password_own")
    home = pages.get(r.headers["location"])
    assert home.status_code == 200 and "密码已修改" in home.text
    assert "您的账户尚无已确认的角色" in home.text and "以下角色：财务。" in home.text
    assert pages.get("/cases").status_code == 403  # its role, suspended by the reset, waits for another admin
    # logging out stays open while the requirement holds (nobody is trapped in a shared browser)
    client.post(f"/api/users/{fin}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    pages.login("fin1", GIVEN)
    assert pages.post("/logout").headers["location"] == "/login"
