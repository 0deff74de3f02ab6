"""An administrator alone tries to get a role that moves money: on a new account of their own, on their own account,
through a second admin account they make, through another admin whose password they reset, and from the command
line. A guarded role is held only once a second person (another admin or a county reviewer) confirms it."""

from __future__ import annotations

from click.testing import CliRunner
from cli_kit import init_home
from factories import COUNTY
from sqlalchemy import select

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.cli import main

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get
GIVEN = "the admin chose this one"
OWN = "the puppet's own password"


def _login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _own_password(client, username: str, given: str = GIVEN) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in with the password an administrator gave and choose one's own (as the puppet's holder would)."""
    h = _login(client, username, given)
    r = client.post("/api/auth/password", headers=h, json={"current_password": given, "new_password": OWN})
    assert r.status_code == 200, r.text
    return h


def _pending(client, headers: dict[str, str], username: str) -> list[dict]:  # type: ignore[type-arg,no-untyped-def]
    r = client.get("/api/role-grants", headers=headers)
    assert r.status_code == 200, r.text
    return [g for g in r.json() if g["username"] == username]


def _actions(ctx, subject: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == subject)
                                    .order_by(AuditEntry.idx)))


def test_attack_an_admin_opens_a_puppet_account_with_money_roles_and_confirms_it_themselves(client, users,
                                                                                            ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    users.add("admin2", "admin")
    h1 = users.headers("admin1")
    r = client.post("/api/users", headers=h1, json={
        "username": "puppet", "password": GIVEN, "counties": [COUNTY],
        "roles": ["field_officer", "finance", "insurer_claims", "insurer_supervisor", "county_reviewer"]})
    assert r.status_code == 201, r.text
    puppet = r.json()["id"]
    # the field officer is a second person too (the notice on the wall): proposed like the money roles
    assert r.json()["roles"] == []
    assert r.json()["pending_roles"] == ["county_reviewer", "field_officer", "finance", "insurer_claims",
                                         "insurer_supervisor"]
    taken = _own_password(client, "puppet")
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == []
    assert client.get("/api/payment-batches", headers=taken).status_code == 403
    assert client.post("/api/payment-batches/pb_x/approve", headers=taken).status_code == 403

    grants = _pending(client, h1, "puppet")
    assert sorted(g["role"] for g in grants) == ["county_reviewer", "field_officer", "finance", "insurer_claims",
                                                 "insurer_supervisor"]
    finance = next(g for g in grants if g["role"] == "finance")
    # The proposer cannot confirm; the puppet (holding no confirming role) cannot either.
    r = client.post(f"/api/role-grants/{finance['id']}/confirm", headers=h1)
    assert r.status_code == 403 and "这项角色授权是您提出的" in r.json()["detail"], r.text
    assert client.post(f"/api/role-grants/{finance['id']}/confirm", headers=taken).status_code == 403
    assert client.get(f"/api/users/{puppet}", headers=h1).json()["roles"] == []

    # A second admin confirms: from then on the account holds finance, at its next request.
    r = client.post(f"/api/role-grants/{finance['id']}/confirm", headers=users.headers("admin2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert client.get("/api/auth/me", headers=taken).json()["roles"] == ["finance"]
    assert client.get("/api/payment-batches", headers=taken).status_code == 200
    # Confirmed once: a second confirmation (say, a replay) is refused.
    assert client.post(f"/api/role-grants/{finance['id']}/confirm", headers=users.headers("admin2")).status_code == 409
    actions = _actions(ctx, puppet)
    assert actions[0] == "user.add" and actions.count("user.role.propose") == 5
    assert actions.count("user.role.confirm") == 1


def test_attack_an_admin_gives_their_own_account_a_money_role(client, users) -> None:  # type: ignore[no-untyped-def]
    me = users.add("admin1", "admin")
    users.add("admin2", "admin")
    h = users.headers("admin1")
    r = client.post(f"/api/users/{me}/roles", headers=h, json={"roles": ["finance"]})
    assert r.status_code == 403, r.text
    # Asking a colleague to propose it is fine, but the account's holder never confirms it.
    r = client.post(f"/api/users/{me}/roles", headers=users.headers("admin2"), json={"roles": ["finance", "auditor"]})
    assert r.status_code == 200 and r.json()["roles"] == ["admin"], r.text
    assert r.json()["pending_roles"] == ["auditor", "finance"]  # the auditor reads everything: guarded too
    for grant in _pending(client, h, "admin1"):
        r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=h)
        assert r.status_code == 403 and "给自己账号的角色授权" in r.json()["detail"]
    assert client.get("/api/auth/me", headers=h).json()["roles"] == ["admin"]


def test_attack_an_admin_makes_a_second_admin_to_confirm_for_them(client, users) -> None:  # type: ignore[no-untyped-def]
    """The admin role itself confirms grants, so it is guarded like the money roles: a made-up second admin holds
    nothing until someone else confirms it."""
    users.add("admin1", "admin")
    h1 = users.headers("admin1")
    r = client.post("/api/users", headers=h1, json={"username": "shadow", "password": GIVEN, "roles": ["admin"],
                                                    "all_counties": True})
    assert r.status_code == 201 and r.json()["roles"] == [] and r.json()["pending_roles"] == ["admin"], r.text
    r = client.post("/api/users", headers=h1, json={"username": "puppet", "password": GIVEN, "roles": ["finance"],
                                                    "counties": [COUNTY]})
    shadow = _own_password(client, "shadow")
    assert client.get("/api/role-grants", headers=shadow).status_code == 403
    grant = _pending(client, h1, "puppet")[0]
    assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=shadow).status_code == 403
    admin_grant = _pending(client, h1, "shadow")[0]
    assert client.post(f"/api/role-grants/{admin_grant['id']}/confirm", headers=h1).status_code == 403
    assert client.post(f"/api/role-grants/{admin_grant['id']}/confirm", headers=shadow).status_code == 403


def test_attack_an_admin_resets_another_admins_password_and_confirms_as_them(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    """Resetting admin2's password suspends admin2's admin role (the resetter knows the password); even once a
    colleague restores it, the account whose password admin1 last set never confirms admin1's proposals."""
    users.add("admin1", "admin")
    other = users.add("admin2", "admin")
    users.add("admin3", "admin")
    h1, h3 = users.headers("admin1"), users.headers("admin3")
    client.post("/api/users", headers=h1, json={"username": "puppet", "password": GIVEN, "roles": ["finance"],
                                                "counties": [COUNTY]})
    grant = _pending(client, h1, "puppet")[0]
    r = client.post(f"/api/users/{other}/password", headers=h1, json={"password": GIVEN})
    assert r.status_code == 200 and r.json()["user"]["roles"] == [] and r.json()["user"]["pending_roles"] == ["admin"]
    as_other = _own_password(client, "admin2")  # they knew the password they set: they choose "admin2's" own
    assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=as_other).status_code == 403
    restore = _pending(client, h3, "admin2")[0]
    assert restore["proposed_by"] == users.ids["admin1"]
    assert client.post(f"/api/role-grants/{restore['id']}/confirm", headers=h1).status_code == 403
    assert client.post(f"/api/role-grants/{restore['id']}/confirm", headers=h3).status_code == 200
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=as_other)
    assert r.status_code == 403 and "密码最近一次是由提出人设置的" in r.json()["detail"], r.text
    # Anyone else may confirm it.
    assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=h3).status_code == 200
    assert "user.role.confirm" in _actions(ctx, other)


def test_attack_an_admin_resets_the_claims_and_finance_passwords_to_pay_a_batch_alone(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    """The administrator resets a claims officer's and a finance officer's passwords, logs in as each and chooses
    "their" new passwords: the accounts hold no money role until another admin or county reviewer confirms."""
    from factories import make_case

    users.add("admin1", "admin")
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    claims = users.add("claims1", "insurer_claims", counties=(COUNTY,))
    fin = users.add("fin1", "finance", counties=(COUNTY,))
    case_id = make_case(ctx, stage="determined")
    h1 = users.headers("admin1")
    for uid in (claims, fin):
        assert client.post(f"/api/users/{uid}/password", headers=h1, json={"password": GIVEN}).status_code == 200
    as_claims, as_fin = _own_password(client, "claims1"), _own_password(client, "fin1")
    r = client.post("/api/payment-batches", headers=as_claims, json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 403, r.text
    assert client.get("/api/payment-batches", headers=as_fin).status_code == 403
    assert client.get("/api/auth/me", headers=as_fin).json()["roles"] == []
    # The county reviewer (not the resetter) restores them, having made sure the owners hold their accounts.
    for g in _pending(client, users.headers("rev"), "fin1") + _pending(client, users.headers("rev"), "claims1"):
        assert client.post(f"/api/role-grants/{g['id']}/confirm", headers=h1).status_code == 403
        assert client.post(f"/api/role-grants/{g['id']}/confirm", headers=users.headers("rev")).status_code == 200
    assert client.get("/api/auth/me", headers=as_fin).json()["roles"] == ["finance"]
    assert _actions(ctx, fin)[-4:] == ["user.password", "user.role.propose", "user.password_own", "user.role.confirm"]


def test_a_county_reviewer_confirms_within_their_county_and_refusals_are_logged(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("admin1", "admin")
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev-other", "county_reviewer", counties=("340224",))
    h1 = users.headers("admin1")
    r = client.post("/api/users", headers=h1, json={"username": "fin-a", "password": GIVEN, "roles": ["finance"],
                                                    "counties": [COUNTY]})
    fin_a = r.json()["id"]
    r = client.post("/api/users", headers=h1, json={"username": "fin-all", "password": GIVEN, "roles": ["finance"],
                                                    "all_counties": True})
    a = _pending(client, h1, "fin-a")[0]
    wide = _pending(client, h1, "fin-all")[0]
    # Another county's reviewer sees neither; this county's reviewer does not reach an all-counties account.
    other = users.headers("rev-other")
    assert _pending(client, other, "fin-a") == [] and _pending(client, other, "fin-all") == []
    assert client.post(f"/api/role-grants/{a['id']}/confirm", headers=other).status_code == 404
    rev = users.headers("rev")
    assert _pending(client, rev, "fin-all") == []
    assert client.post(f"/api/role-grants/{wide['id']}/confirm", headers=rev).status_code == 404
    # Refused with a reason; the reason enters the log only as its hash.
    assert client.post(f"/api/role-grants/{a['id']}/refuse", headers=rev, json={"reason": " "}).status_code == 422
    r = client.post(f"/api/role-grants/{a['id']}/refuse", headers=rev, json={"reason": "不认识此人"})
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert client.post(f"/api/role-grants/{a['id']}/confirm", headers=users.headers("rev")).status_code == 409
    assert client.get(f"/api/users/{fin_a}", headers=h1).json() == {**client.get(
        f"/api/users/{fin_a}", headers=h1).json(), "roles": [], "pending_roles": []}
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.role.refuse"))
        assert entry is not None and "不认识".encode() not in entry.entry
        assert len(decode_entry(entry.entry).payload["reason"]) == 64
    assert "user.role.refuse" in _actions(ctx, fin_a)


def cli_client(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """The application on the database and keys the command line used, as a test client."""
    from litestar.testing import TestClient

    from verifier.app import create_app
    from verifier.context import Context
    from verifier.settings import Settings

    ctx = Context.open(Settings.from_env(env))
    client = TestClient(app=create_app(ctx))
    client.__enter__()
    return ctx, client


def _cli(env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_attack_the_command_line_alone_grants_no_money_role_once_two_confirmers_exist(tmp_path, database_url, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The installation's first admin and county reviewer are made on the command line at once (nobody could
    confirm: the bootstrap, logged as such); from then on the command line only proposes. Its operator set those two
    accounts' passwords, so neither confirms what the command line proposes: a person the application knows does."""
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    init_home(env, tmp_path_factory)  # verifier init --contracts contracts/
    r = _cli(env, "users", "add", "first", "--role", "admin", "--all-counties", input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" in r.output, r.output
    r = _cli(env, "users", "add", "rev", "--role", "county_reviewer", "--all-counties", input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" in r.output, r.output
    r = _cli(env, "users", "add", "puppet", "--role", "finance", "--role", "field_officer", "--county", COUNTY,
             input=GIVEN + "\n")
    assert r.exit_code == 0 and "待另一位管理员或县级复核员" in r.output and "系统初次开通" not in r.output, r.output
    r = _cli(env, "users", "grant", "first", "--role", "finance")
    assert r.exit_code == 0 and "待另一位管理员或县级复核员" in r.output, r.output
    listed = _cli(env, "users", "list").output
    assert "（待确认：核查员(field_officer)、财务(finance)）" in listed and "管理员(admin)（待确认：财务(finance)）" in listed
    assert "puppet" in _cli(env, "users", "grants").output
    ctx, client = cli_client(env)
    try:
        puppet = _own_password(client, "puppet")
        assert client.get("/api/payment-batches", headers=puppet).status_code == 403
        first, rev = _own_password(client, "first"), _own_password(client, "rev")
        grants = client.get("/api/role-grants", headers=first).json()
        own = next(g for g in grants if g["username"] == "first")
        assert client.post(f"/api/role-grants/{own['id']}/confirm", headers=first).status_code == 403
        theirs = next(g for g in grants if g["username"] == "puppet")
        assert theirs["proposed_by"].startswith("cli:")
        for h in (first, rev):  # the operator gave both their first password
            r = client.post(f"/api/role-grants/{theirs['id']}/confirm", headers=h)
            assert r.status_code == 403 and "密码最近一次是由提出人设置的" in r.json()["detail"], r.text
        # A second admin opened in the application by the first, confirmed by the county reviewer, confirms it.
        r = client.post("/api/users", headers=first, json={"username": "second", "password": GIVEN,
                                                           "roles": ["admin"], "all_counties": True})
        assert r.status_code == 201 and r.json()["pending_roles"] == ["admin"], r.text
        grant = next(g for g in client.get("/api/role-grants", headers=first).json() if g["username"] == "second")
        assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=first).status_code == 403
        assert client.post(f"/api/role-grants/{grant['id']}/confirm", headers=rev).status_code == 200
        second = _own_password(client, "second")
        assert client.post(f"/api/role-grants/{theirs['id']}/confirm", headers=second).status_code == 200
        assert client.get("/api/payment-batches", headers=puppet).status_code == 200
        with ctx.db.read() as session:
            boots = [decode_entry(e.entry).payload for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "user.add").order_by(AuditEntry.idx))]
            assert [p.get("bootstrap", False) for p in boots] == [True, True, False, False]
    finally:
        client.__exit__(None, None, None)
        ctx.close()
