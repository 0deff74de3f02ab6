"""Sessions end at once: logout, a new password and disabling refuse every token the user holds, on every device."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from verifier.audit.models import AuditEntry

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get


def login(client, username: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def me(client, headers: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    return client.get("/api/auth/me", headers=headers).status_code


def entries(ctx, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        rows = session.scalars(select(AuditEntry.entry).where(AuditEntry.action == action).order_by(AuditEntry.idx))
        return [json.loads(e) for e in rows]


def test_logout_ends_every_session_of_the_user(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    users.add("clerk2", "town_clerk", counties=("340223",))
    phone, desk, other = login(client, "clerk1"), login(client, "clerk1"), login(client, "clerk2")
    assert me(client, phone) == me(client, desk) == 200
    r = client.post("/api/auth/logout", headers=phone)
    assert r.status_code == 200 and r.json() == {"sessions_ended": 2}
    assert me(client, phone) == me(client, desk) == 401  # the other device's token is refused too
    assert client.get("/api/cases", headers=desk).status_code == 401
    assert me(client, other) == 200  # another user's session is untouched
    assert me(client, login(client, "clerk1")) == 200  # logging in again works
    assert entries(client.app.state.ctx, "user.logout")[0]["payload"] == {"sessions_ended": 2}


def test_a_new_password_ends_every_session(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    target = users.add("fin1", "finance", counties=("340223",))
    admin = users.headers("admin1")
    one, two = login(client, "fin1"), login(client, "fin1")
    r = client.post(f"/api/users/{target}/password", headers=admin, json={"password": "a brand new password"})
    assert r.status_code == 200 and r.json()["sessions_ended"] == 2 and r.json()["password"] is None
    assert me(client, one) == me(client, two) == 401
    assert client.post("/api/auth/login", json={"username": "fin1", "password": PASSWORD}).status_code == 401
    fresh = login(client, "fin1", "a brand new password")
    # no password given: one is generated and answered once, never cached
    r = client.post(f"/api/users/{target}/password", headers=admin)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    generated = r.json()["password"]
    assert me(client, fresh) == 401
    assert me(client, login(client, "fin1", generated)) == 200
    r = client.post(f"/api/users/{target}/password", headers=admin, json={"password": "short"})
    assert r.status_code == 400
    logged = entries(client.app.state.ctx, "user.password")
    assert [e["payload"] for e in logged] == [{"username": "fin1", "sessions_ended": 2, "change_required": True},
                                              {"username": "fin1", "sessions_ended": 1, "change_required": True}]
    text = json.dumps(logged)
    assert "a brand new password" not in text and generated not in text and "scrypt" not in text


def test_a_disabled_user_is_refused_at_once_and_cannot_log_in(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    target = users.add("officer1", "field_officer", counties=("340223",))
    admin = users.headers("admin1")
    one, two = login(client, "officer1"), login(client, "officer1")
    r = client.post(f"/api/users/{target}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["sessions_ended"] == 2 and r.json()["user"]["active"] is False
    assert me(client, one) == me(client, two) == 401
    r = client.post("/api/auth/login", json={"username": "officer1", "password": PASSWORD})
    unknown = client.post("/api/auth/login", json={"username": "no-such-user", "password": PASSWORD})
    assert r.status_code == unknown.status_code == 401 and r.json()["detail"] == unknown.json()["detail"]
    assert client.post(f"/api/users/{target}/disable", headers=admin).status_code == 409
    listed = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert listed["officer1"]["active"] is False and listed["admin1"]["active"] is True

    r = client.post(f"/api/users/{target}/enable", headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True
    assert me(client, one) == 401  # enabling does not revive the ended sessions
    assert me(client, login(client, "officer1")) == 200
    assert client.post(f"/api/users/{target}/enable", headers=admin).status_code == 409
    assert [e["payload"] for e in entries(client.app.state.ctx, "user.disable")] == [
        {"username": "officer1", "sessions_ended": 2}]
    assert len(entries(client.app.state.ctx, "user.enable")) == 1


def test_the_last_active_admin_cannot_be_disabled(client, users) -> None:  # type: ignore[no-untyped-def]
    first = users.add("admin1", "admin")
    second = users.add("admin2", "admin", "auditor")
    h1, h2 = users.headers("admin1"), users.headers("admin2")
    assert client.post(f"/api/users/{second}/disable", headers=h1).status_code == 200
    assert me(client, h2) == 401
    r = client.post(f"/api/users/{first}/disable", headers=h1)  # themselves, the last one left
    assert r.status_code == 409 and "最后一个启用的管理员账号" in r.json()["detail"]
    assert me(client, h1) == 200
    assert client.post(f"/api/users/{second}/enable", headers=h1).status_code == 200
    h2 = login(client, "admin2")
    assert client.post(f"/api/users/{first}/disable", headers=h1).status_code == 200  # another admin remains
    assert me(client, h1) == 401 and me(client, h2) == 200


def test_admin_actions_on_unknown_users_and_by_others(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    target = users.add("aud1", "auditor")
    for action in ("disable", "enable", "password"):
        assert client.post(f"/api/users/nope/{action}", headers=users.headers("admin1")).status_code == 404
        assert client.post(f"/api/users/{target}/{action}", headers=users.headers("aud1")).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({}, "counties"),
    ({"counties": []}, "counties"),
    ({"counties": ["340223"], "all_counties": True}, "all_counties"),
])
def test_a_user_without_a_county_choice_is_refused(client, users, body, field) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    r = client.post("/api/users", headers=users.headers("admin1"),
                    json={"username": "newbie", "password": "long enough", "roles": ["auditor"], **body})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field]
    assert client.get("/api/users", headers=users.headers("admin1")).json()[-1]["username"] != "newbie"


def test_every_county_is_granted_on_purpose(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    h = users.headers("admin1")
    r = client.post("/api/users", headers=h, json={"username": "county-aud", "password": "long enough",
                                                   "roles": ["auditor"], "all_counties": True})
    assert r.status_code == 201 and r.json()["counties"] == []
    r = client.post("/api/users", headers=h, json={"username": "local-aud", "password": "long enough",
                                                   "roles": ["auditor"], "counties": ["340223"]})
    assert r.status_code == 201 and r.json()["counties"] == ["340223"]
    added = entries(client.app.state.ctx, "user.add")
    assert [e["payload"]["all_counties"] for e in added[-2:]] == [True, False]


def test_checking_the_session_is_one_lookup_per_request(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    users.add("clerk1", "town_clerk", counties=("340223",))
    headers = users.headers("clerk1")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engines = {ctx.db.read_engine, ctx.db.quick_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    ctx.db.readers.seen.append(statements.append)  # the session lookup is a prepared read (store/reader.py)
    try:
        assert me(client, headers) == 200  # /api/auth/me reads nothing but the login
    finally:
        ctx.db.readers.seen.remove(statements.append)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and "user_session" in statements[0] and "app_user" in statements[0]


def test_a_county_admin_manages_only_the_users_of_their_county(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("county-admin", "admin", counties=("340223",))
    far = users.add("far-officer", "field_officer", counties=("340299",))
    near = users.add("near-officer", "field_officer", counties=("340223",))
    admin = users.headers("county-admin")
    listed = {u["username"] for u in client.get("/api/users", headers=admin).json()}
    assert "near-officer" in listed and "far-officer" not in listed
    for action, body in (("disable", None), ("enable", None), ("password", {"password": "another pass 1"})):
        r = client.post(f"/api/users/{far}/{action}", headers=admin, json=body)
        assert r.status_code == 404, (action, r.text)
    assert client.post(f"/api/users/{near}/disable", headers=admin).status_code == 200



def test_a_county_admin_cannot_take_over_an_account_that_reaches_further(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("county-admin2", "admin", counties=("340223",))
    root = users.add("root-admin", "admin")  # no county limit
    wide = users.add("two-county-reviewer", "county_reviewer", counties=("340223", "340299"))
    admin = users.headers("county-admin2")
    # The unlimited admin works in this county too, so it is listed, but its password, state and sessions are not
    # the county admin's to change: that would hand them every county.
    assert "root-admin" in {u["username"] for u in client.get("/api/users", headers=admin).json()}
    for target in (root, wide):
        for action, body in (("password", {"password": "taken over 123"}), ("disable", None), ("enable", None)):
            r = client.post(f"/api/users/{target}/{action}", headers=admin, json=body)
            assert r.status_code == 403, (target, action, r.text)
    assert client.post("/api/auth/login", json={"username": "root-admin", "password": "taken over 123"}).status_code == 401
    # Nor may they create an account that reaches further than they do.
    for extra in ({"all_counties": True}, {"counties": ["340299"]}, {"counties": ["340223", "340299"]}):
        r = client.post("/api/users", headers=admin, json={"username": "helper-x", "password": "long enough 1",
                                                           "roles": ["admin"], **extra})
        assert r.status_code == 403, (extra, r.text)
    r = client.post("/api/users", headers=admin, json={"username": "clerk-new", "password": "long enough 1",
                                                       "roles": ["town_clerk"], "counties": ["340223"]})
    assert r.status_code == 201, r.text
