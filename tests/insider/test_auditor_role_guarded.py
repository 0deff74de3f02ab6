"""An auditor reads everything of their counties: every check's evidence, the households' personal data as their
pages show it, the audit log. The role was granted at once by one admin (the only role that was), so an administrator
alone opened an auditor's account, chose its password at its first login and read a county's households through it;
or gave the role to an account whose password they had reset. `auditor` is now guarded like the money roles
(`accounts/grants.py`, `READER_ROLES`): proposed by one admin, held once another admin or a county reviewer confirms
it; a password reset suspends it."""

from __future__ import annotations

from factories import COUNTY, make_case
from sqlalchemy import select

from verifier.accounts import grants
from verifier.audit.models import AuditEntry

GIVEN = "the admin chose this one"
OWN = "the peeker's own password"


def _own_password(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": GIVEN})
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/api/auth/password", headers=h, json={"current_password": GIVEN, "new_password": OWN})
    assert r.status_code == 200, r.text
    return h


def _reads(client, headers: dict[str, str], case_id: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(the audit entry of the case's check, the county's 回避 conflicts) status codes for `headers` (what an
    auditor reads and an account without the role does not)."""
    with client.app.state.ctx.db.read() as session:
        idx = session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == case_id,
                                                          AuditEntry.action == "case.record_check"))
    return (client.get(f"/api/audit/entries/{idx}", headers=headers).status_code,
            client.get("/api/conflicts", headers=headers).status_code)


def test_auditor_is_a_guarded_role() -> None:
    assert "auditor" in grants.GUARDED_ROLES and grants.guarded(["auditor", "admin"]) == ["admin", "auditor"]


def test_attack_an_admin_opens_an_auditor_account_and_reads_the_county_through_it(client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(client.app.state.ctx)
    users.add("admin1", "admin")
    users.add("admin2", "admin")
    h1 = users.headers("admin1")
    r = client.post("/api/users", headers=h1, json={"username": "peeker", "password": GIVEN, "counties": [COUNTY],
                                                    "roles": ["auditor"]})
    assert r.status_code == 201, r.text
    peeker = r.json()["id"]
    assert r.json()["roles"] == [] and r.json()["pending_roles"] == ["auditor"]

    # Its password chosen at once: the account reads nothing yet.
    taken = _own_password(client, "peeker")
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == []
    assert _reads(client, taken, case_id) == (403, 403)

    # The proposer does not confirm it.
    grant = next(g for g in client.get("/api/role-grants", headers=h1).json() if g["username"] == "peeker")
    assert grant["role"] == "auditor"
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=h1)
    assert r.status_code == 403 and "这项角色授权是您提出的" in r.json()["detail"], r.text
    assert client.get(f"/api/users/{peeker}", headers=h1).json()["roles"] == []
    # Nor gives it to his own account.
    r = client.post(f"/api/users/{users.ids['admin1']}/roles", headers=h1, json={"roles": ["auditor"]})
    assert r.status_code == 403, r.text

    # A second admin confirms: the auditor reads.
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("admin2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == ["auditor"]
    assert _reads(client, taken, case_id) == (200, 200)


def test_attack_an_admin_resets_an_auditors_password_and_reads_as_them(client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(client.app.state.ctx)
    users.add("admin1", "admin")
    auditor = users.add("aud1", "auditor", counties=(COUNTY,))
    assert _reads(client, users.headers("aud1"), case_id) == (200, 200)
    # Adding the role to another account is a proposal too.
    clerk = users.add("clerk1", "town_clerk", counties=(COUNTY,))
    r = client.post(f"/api/users/{clerk}/roles", headers=users.headers("admin1"), json={"roles": ["auditor"]})
    assert r.status_code == 200 and r.json()["roles"] == ["town_clerk"] and r.json()["pending_roles"] == ["auditor"]

    # The admin sets the auditor's password: the role waits for someone else again.
    r = client.post(f"/api/users/{auditor}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    assert r.status_code == 200, r.text
    taken = _own_password(client, "aud1")
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == []
    assert _reads(client, taken, case_id) == (403, 403)
