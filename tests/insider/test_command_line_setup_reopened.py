"""The command line grants guarded roles at once only while an installation is being set up: fewer than two accounts
could confirm a grant (`accounts.grants.bootstrap_allowed`). That was read from the accounts active and holding
admin or county reviewer now, so the server's operator, alone at the command line, brought the setup back: `users
disable` the county reviewer (or reset a confirmer's password, which suspends its roles), and the next `users add
--role finance` was granted at once, logged as the installation's first opening. The setup is now over for good once
two accounts have held a confirming role, whatever became of them since; a role only ever proposed does not count."""

from __future__ import annotations

from cli_kit import init_home
from factories import COUNTY
from sqlalchemy import select
from test_role_grants import GIVEN, _cli

from verifier.accounts.models import RoleGrant
from verifier.store.tables import User


def _context(env):  # type: ignore[no-untyped-def]
    """The context on the database and keys the command line used (no application: these tests read and write
    through the services; building the application's 700 routes cost 2-4 s a call)."""
    from verifier.context import Context
    from verifier.settings import Settings

    return Context.open(Settings.from_env(env))


def _roles(env, username: str) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """(roles held, roles waiting) of the account, read in the database the command line used."""
    ctx = _context(env)
    try:
        with ctx.db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            pending = session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id,
                                                                    RoleGrant.status == "pending"))
            return sorted(user.roles or ()), sorted(pending)
    finally:
        ctx.close()


def test_attack_the_operator_disables_the_reviewer_and_the_command_line_grants_at_once_again(tmp_path, database_url, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    init_home(env, tmp_path_factory)
    for name, role in (("first", "admin"), ("rev", "county_reviewer")):
        r = _cli(env, "users", "add", name, "--role", role, "--all-counties", input=GIVEN + "\n")
        assert r.exit_code == 0 and "系统初次开通" in r.output, r.output
    r = _cli(env, "users", "disable", "rev")
    assert r.exit_code == 0, r.output

    r = _cli(env, "users", "add", "mole", "--role", "finance", "--role", "insurer_claims", "--county", COUNTY,
             input=GIVEN + "\n")
    assert r.exit_code == 0, r.output
    assert "系统初次开通" not in r.output and "待另一位管理员或县级复核员" in r.output, r.output
    assert _roles(env, "mole") == ([], ["finance", "insurer_claims"])
    # Nor does a second admin opened now hold its role at once.
    r = _cli(env, "users", "add", "first2", "--role", "admin", "--all-counties", input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" not in r.output, r.output
    assert _roles(env, "first2") == ([], ["admin"])


def test_attack_the_operator_resets_a_confirmers_password_and_the_command_line_grants_at_once_again(tmp_path, database_url, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    init_home(env, tmp_path_factory)
    for name, role in (("first", "admin"), ("rev", "county_reviewer")):
        r = _cli(env, "users", "add", name, "--role", role, "--all-counties", input=GIVEN + "\n")
        assert r.exit_code == 0, r.output
    # A reset from the command line suspends the reviewer's role into a grant the operator proposed...
    r = _cli(env, "users", "password", "rev", input="a password the operator knows\n")
    assert r.exit_code == 0, r.output
    assert _roles(env, "rev") == ([], ["county_reviewer"])
    # ...and the one confirmer left does not make the command line grant at once again.
    r = _cli(env, "users", "add", "mole", "--role", "finance", "--county", COUNTY, input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" not in r.output, r.output
    assert _roles(env, "mole") == ([], ["finance"])
    r = _cli(env, "users", "password", "first", input="another password the operator knows\n")
    assert r.exit_code == 0, r.output
    assert _roles(env, "first") == ([], ["admin"])


def test_a_reviewer_only_proposed_whose_password_was_reset_does_not_end_the_setup(tmp_path, database_url, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """The first admin proposes a county reviewer in the application and, the new reviewer having lost the first
    password, sets another: the account never held the role (its only grant waits for a second person, and the admin
    who proposed it may not confirm it). It was counted as one that could confirm, so the setup ended with a single
    confirmer and nobody left to confirm anything. A confirmer is an account that held a confirming role: the
    command line still gives the next confirmer at once, logged as the installation's first opening."""
    from verifier.accounts import service as accounts

    env = {"VERIFIER_HOME": str(tmp_path / "home"), "VERIFIER_DATABASE_URL": database_url}
    init_home(env, tmp_path_factory)
    r = _cli(env, "users", "add", "first", "--role", "admin", "--all-counties", input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" in r.output, r.output
    ctx = _context(env)
    try:
        with ctx.db.begin() as session:
            first = session.scalar(select(User).where(User.username == "first"))
            rev, pending = accounts.open_account(
                session, username="rev", password=GIVEN, roles=["county_reviewer"], counties=[],
                all_counties=True, display_name=None, proposer=first.id, proposer_role="admin", clock=ctx.clock)
            assert pending == ["county_reviewer"]
            accounts.set_password(session, rev.id, "another one the admin chose", actor=first.id,
                                  actor_role="admin", clock=ctx.clock)
    finally:
        ctx.close()
    assert _roles(env, "rev") == ([], ["county_reviewer"])

    r = _cli(env, "users", "add", "rev2", "--role", "county_reviewer", "--all-counties", input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" in r.output, r.output
    assert _roles(env, "rev2") == (["county_reviewer"], [])
    # two accounts now held a confirming role: the setup is over, the next money role waits for a second person
    r = _cli(env, "users", "add", "fin", "--role", "finance", "--county", COUNTY, input=GIVEN + "\n")
    assert r.exit_code == 0 and "系统初次开通" not in r.output, r.output
    assert _roles(env, "fin") == ([], ["finance"])
