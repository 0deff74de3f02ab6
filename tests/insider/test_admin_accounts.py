"""What an administrator alone can do with accounts: create one with a password they chose, and act with it."""

from __future__ import annotations

from factories import COUNTY

GIVEN = "the admin chose this one"
OWN = "only the new finance officer knows this"


def _login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_attack_an_admin_creates_a_finance_account_and_approves_with_the_password_they_chose(client,
                                                                                           users) -> None:  # type: ignore[no-untyped-def]
    """The administrator opens an account for the new finance officer with a password of their choosing and keeps
    it: until its owner chooses their own, it opens nothing but changing the password (as after a reset)."""
    users.add("admin1", "admin")
    users.add("admin2", "admin")
    r = client.post("/api/users", headers=users.headers("admin1"), json={
        "username": "fin-new", "password": GIVEN, "roles": ["finance"], "counties": [COUNTY]})
    assert r.status_code == 201, r.text
    # The finance role is a proposal until another admin confirms it (tests/insider/test_role_grants.py).
    grant = client.get("/api/role-grants", headers=users.headers("admin2")).json()[0]
    assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("admin2")).status_code == 200
    taken = _login(client, "fin-new", GIVEN)
    assert client.get("/api/auth/me", headers=taken).json()["must_change_password"] is True
    for method, url in (("GET", "/api/payment-batches"), ("POST", "/api/payment-batches/pb_x/approve"),
                        ("GET", "/api/cases")):
        r = client.request(method, url, headers=taken)
        assert r.status_code == 403 and "/api/auth/password" in r.json()["detail"], (url, r.text)
    # The owner chooses their own at first login; the administrator's password opens nothing any more.
    r = client.post("/api/auth/password", headers=taken, json={"current_password": GIVEN, "new_password": OWN})
    assert r.status_code == 200, r.text
    assert client.post("/api/auth/login", json={"username": "fin-new", "password": GIVEN}).status_code == 401
    assert client.get("/api/payment-batches", headers=_login(client, "fin-new", OWN)).status_code == 200


def test_no_route_changes_the_roles_of_an_account_alone(client, users) -> None:  # type: ignore[no-untyped-def]
    """An administrator cannot give their own account (or anyone's) the finance role after the fact: the one route
    that adds roles refuses their own account and only proposes a money role for another."""
    admin = users.add("admin1", "admin")
    h = users.headers("admin1")
    for method, url in (("PATCH", f"/api/users/{admin}"), ("PUT", f"/api/users/{admin}"),
                        ("POST", f"/api/users/{admin}")):
        r = client.request(method, url, headers=h, json={"roles": ["admin", "finance"]})
        assert r.status_code in (404, 405), (method, url, r.status_code)
    assert client.post(f"/api/users/{admin}/roles", headers=h, json={"roles": ["finance"]}).status_code == 403
    assert client.get(f"/api/users/{admin}", headers=h).json()["roles"] == ["admin"]
    # Nor may they add an account under a name that exists (their own) to widen it.
    r = client.post("/api/users", headers=h, json={"username": "admin1", "password": GIVEN,
                                                   "roles": ["admin", "finance"], "all_counties": True})
    assert r.status_code == 422
