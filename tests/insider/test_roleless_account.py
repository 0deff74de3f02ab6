"""Every role is guarded (accounts/grants.py): an administrator's grant waits for a second administrator, and a
password reset suspends the account's roles again. But the routes open to "any" logged-in account let an account
holding no confirmed role through: one administrator alone opened an account (its role still pending), chose its
password at its first login, and read a county's case list, its cases (names, addresses, incomes), the ledger, the
notices and the households' files through it. "any" now means any account holding a confirmed role; an account
without one reaches only logging in and out, who it is, its own password and its home page, which tells it that its
role waits for a second administrator (accounts/auth.py `BEFORE_ROLE`)."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, head_on_record, make_case
from insider_kit import reviewed_and_posted
from sqlalchemy import select
from web.pagekit import BROWSER, Pages

from verifier.accounts.auth import NO_ROLE
from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, User

GIVEN = "the admin chose this one"
OWN = "the newcomer's own password"


def _own_password(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": GIVEN})
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/api/auth/password", headers=h, json={"current_password": GIVEN, "new_password": OWN})
    assert r.status_code == 200, r.text
    return h


def _noticed(ctx: Any, client: Any, users: Any) -> tuple[str, str, str, int]:
    """A case of 东村 on a notice a clerk posted today: (case id, its household, the notice, an audit entry's index)."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    case_id = make_case(ctx, village="东村")
    notice = reviewed_and_posted(client, clerk, case_id, ctx.clock.today().isoformat())
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        idx = session.scalar(select(AuditEntry.idx).where(AuditEntry.subject == case_id).limit(1))
    return case_id, household, notice["id"], idx


def _api_reads(case_id: str, household: str, notice: str, idx: int) -> list[str]:
    return ["/api/cases", f"/api/cases/{case_id}", "/api/cases/ledger.xlsx", f"/api/notices/{notice}",
            f"/api/audit/entries/{idx}", f"/api/households/{household}/file"]


def _page_reads(case_id: str, household: str, notice: str) -> list[str]:
    return ["/cases", f"/cases/{case_id}", "/cases/ledger.xlsx", f"/notices/{notice}", "/audit",
            f"/households/{household}/file.docx"]


def _api(client: Any, headers: dict[str, str], paths: list[str]) -> dict[str, int]:
    return {p: client.get(p, headers=headers).status_code for p in paths}


def _pages(pages: Pages, paths: list[str]) -> dict[str, int]:
    return {p: pages.get(p).status_code for p in paths}


def _refused_everywhere(client: Any, headers: dict[str, str], pages: Pages, username: str,
                        reads: tuple[str, str, str, int], *, head: str) -> None:
    case_id, household, notice, idx = reads
    for path in _api_reads(case_id, household, notice, idx):
        r = client.get(path, headers=headers)
        assert r.status_code == 403, (path, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json"), path
        assert r.json()["detail"] == NO_ROLE, (path, r.text)
    # The pages, through the login form (the case list is answered ahead of Litestar for a plain browser request).
    pages.login(username, OWN)
    for path in _page_reads(case_id, household, notice):
        r = pages.get(path)
        assert r.status_code == 403, (path, r.status_code)
        assert NO_ROLE in r.text and head not in r.text, path
    # Its home page says why, names the role that waits and shows nothing of any case.
    home = pages.get("/")
    assert home.status_code == 200
    assert "您的账户尚无已确认的角色" in home.text and "另一位管理员" in home.text, home.text
    assert head not in home.text and "/cases" not in home.text and "案件概况" not in home.text
    assert "角色待确认" in home.text  # the header, where a role's name would be
    # Its own password and logging out stay open.
    assert pages.get("/account/password").status_code == 200
    assert client.get("/api/auth/me", headers=headers).json()["roles"] == []


def test_attack_an_admin_opens_an_account_and_reads_the_county_through_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    reads = _noticed(ctx, client, users)
    case_id, household, notice, idx = reads
    head = head_on_record(ctx, case_id)[0]
    users.add("admin1", "admin")
    users.add("admin2", "admin")
    h1 = users.headers("admin1")
    r = client.post("/api/users", headers=h1, json={"username": "newcomer", "password": GIVEN, "counties": [COUNTY],
                                                    "roles": ["auditor"], "display_name": "新来的"})
    assert r.status_code == 201 and r.json()["roles"] == [] and r.json()["pending_roles"] == ["auditor"], r.text

    taken = _own_password(client, "newcomer")
    pages = Pages(client, users)
    _refused_everywhere(client, taken, pages, "newcomer", reads, head=head)
    home = pages.get("/")
    assert "以下角色：审计。" in home.text and "auditor" not in home.text  # the waiting role by its Chinese name

    # A second administrator confirms the role: the account reads.
    grant = next(g for g in client.get("/api/role-grants", headers=h1).json() if g["username"] == "newcomer")
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("admin2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert set(_api(client, taken, _api_reads(*reads)).values()) == {200}
    pages.login("newcomer", OWN)
    assert set(_pages(pages, _page_reads(case_id, household, notice)).values()) == {200}
    assert head in pages.get(f"/cases/{case_id}").text
    assert "尚无已确认的角色" not in pages.get("/").text


def test_attack_an_admin_resets_a_clerks_password_and_reads_as_them(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    reads = _noticed(ctx, client, users)
    case_id, household, notice, idx = reads
    head = head_on_record(ctx, case_id)[0]
    users.add("admin1", "admin")
    users.add("admin2", "admin")
    clerk2 = users.add("clerk2", "town_clerk", counties=(COUNTY,))
    assert client.get(f"/api/cases/{case_id}", headers=users.headers("clerk2")).status_code == 200

    # The admin sets the clerk's password: her role is suspended until someone else confirms it again.
    r = client.post(f"/api/users/{clerk2}/password", headers=users.headers("admin1"), json={"password": GIVEN})
    assert r.status_code == 200, r.text
    taken = _own_password(client, "clerk2")
    pages = Pages(client, users)
    _refused_everywhere(client, taken, pages, "clerk2", reads, head=head)

    grant = next(g for g in client.get("/api/role-grants", headers=users.headers("admin1")).json()
                 if g["username"] == "clerk2")
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("admin2"))
    assert r.status_code == 200, r.text
    got = _api(client, taken, _api_reads(*reads))
    # A clerk reads her county's cases, notices and files again; the audit log was never hers.
    assert got.pop(f"/api/audit/entries/{idx}") == 403 and set(got.values()) == {200}, got
    pages.login("clerk2", OWN)
    got = _pages(pages, _page_reads(case_id, household, notice))
    assert got.pop("/audit") == 403 and set(got.values()) == {200}, got


def test_a_roleless_account_gets_no_case_list_ahead_of_litestar(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The case list and the case read are answered before Litestar for a plain request (web/list_shortcut.py,
    cases/shortcut.py): asked twice (the second once the token is known to the process), both refuse."""
    case_id = make_case(ctx)
    nobody = users.add("nobody", "town_clerk", counties=(COUNTY,))
    with ctx.db.begin() as session:  # its role suspended (as a password reset does, without the password to change)
        session.get(User, nobody).roles = []  # type: ignore[union-attr]
    h = users.headers("nobody")
    for _ in range(2):
        assert client.get(f"/api/cases/{case_id}", headers=h).status_code == 403
    pages = Pages(client, users)
    pages.login("nobody")
    for _ in range(2):
        r = pages.get("/cases", headers=BROWSER)
        assert r.status_code == 403 and NO_ROLE in r.text
