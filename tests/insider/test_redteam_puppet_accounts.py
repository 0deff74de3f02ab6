"""An administrator alone opens accounts. A role granted at once by one admin (town clerk, field officer) is a
second person only in name: the admin opens two clerk accounts, chooses their passwords at the first login, and as
"two clerks" proposes and confirms a bureau-referred household's screen-out (closed for good), or attests a notice on
the wall. The roles whose holder confirms another person's act (a clerk, the insurer's field officer) are proposed by
one admin and confirmed by another admin or a county reviewer, like the money roles."""

from __future__ import annotations

from factories import COUNTY
from insider_kit import bureau_case

GIVEN, OWN = "given-by-admin-1", "chosen-by-me-2"


def _take(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The admin logs in with the password they gave and chooses "the owner's" one: the account is theirs."""
    r = client.post("/api/auth/login", json={"username": username, "password": GIVEN})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/api/auth/password", headers=headers, json={"current_password": GIVEN, "new_password": OWN})
    assert r.status_code == 200, r.text
    r = client.post("/api/auth/login", json={"username": username, "password": OWN})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _screen(client, headers, case_id: str) -> int:  # type: ignore[no-untyped-def]
    return client.post(f"/api/cases/{case_id}/screening", headers=headers,
                       json={"decision": "reject", "reason": "家庭收入稳定"}).status_code


def _status(client, users, case_id: str) -> str:  # type: ignore[no-untyped-def]
    return str(client.get(f"/api/cases/{case_id}", headers=users.headers("reviewer")).json()["status"])


def test_attack_an_admin_opens_two_clerk_accounts_and_screens_out_a_bureau_household_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    case_id = bureau_case(ctx, client, users)
    admin = users.headers("admin1")
    for name in ("puppet1", "puppet2"):
        r = client.post("/api/users", headers=admin, json={"username": name, "password": GIVEN,
                                                            "roles": ["town_clerk"], "counties": [COUNTY]})
        assert r.status_code == 201, r.text
        # the clerk's role is a proposal until another admin or the county reviewer confirms it
        assert r.json()["roles"] == [] and r.json()["pending_roles"] == ["town_clerk"], r.text
    p1, p2 = _take(client, "puppet1"), _take(client, "puppet2")
    # "two clerks", one person: neither screens, the household stays
    assert _screen(client, p1, case_id) == 403 and _screen(client, p2, case_id) == 403
    assert _status(client, users, case_id) == "received"

    # The county reviewer confirms the first account (a real new clerk): it proposes; the admin's second does not
    # confirm, so the household is still not closed.
    grants = client.get("/api/role-grants", headers=users.headers("reviewer")).json()
    first = next(g for g in grants if g["user_id"] == users_id(client, admin, "puppet1"))
    assert client.post(f"/api/role-grants/{first['id']}/confirm", headers=users.headers("reviewer")).status_code == 200
    assert _screen(client, p1, case_id) == 200
    assert _screen(client, p2, case_id) == 403
    assert _status(client, users, case_id) == "received"


def test_attack_an_admin_resets_a_clerks_password_to_be_the_second_clerk(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The other way to a second clerk: the admin resets a real colleague's password and acts as them. The reset
    suspends the clerk's role as it does a money role, until another person confirms it again."""
    users.add("admin1", "admin", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk2 = users.add("clerk2", "town_clerk", counties=(COUNTY,))
    case_id = bureau_case(ctx, client, users)
    assert _screen(client, users.headers("clerk"), case_id) == 200  # proposed by the real first clerk
    r = client.post(f"/api/users/{clerk2}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    assert r.status_code == 200 and "town_clerk" not in r.json()["user"]["roles"], r.text
    taken = _take(client, "clerk2")
    assert _screen(client, taken, case_id) == 403
    assert _status(client, users, case_id) == "received"


def test_an_admins_new_field_officer_waits_for_a_second_person(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The insurer's officer at the village confirms a notice on the wall: an officer account one admin opened holds
    no role until another confirms it."""
    users.add("admin1", "admin", counties=(COUNTY,))
    r = client.post("/api/users", headers=users.headers("admin1"), json={
        "username": "officer-new", "password": GIVEN, "roles": ["field_officer"], "counties": [COUNTY]})
    assert r.status_code == 201 and r.json()["roles"] == [] and r.json()["pending_roles"] == ["field_officer"]
    me = client.get("/api/auth/me", headers=_take(client, "officer-new")).json()
    assert me["roles"] == [], me


def users_id(client, admin: dict[str, str], username: str) -> str:  # type: ignore[no-untyped-def]
    return str(next(u["id"] for u in client.get("/api/users", headers=admin).json() if u["username"] == username))
