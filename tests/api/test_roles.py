"""Walk every route with every role: each role gets exactly the routes its declaration allows (answered on those, refused
the others)."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from verifier.accounts.auth import BEFORE_ROLE, NO_ROLE
from verifier.accounts.service import ROLES
from verifier.store.tables import User

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get

PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _routes(app):  # type: ignore[no-untyped-def]
    """Every (method, path, opt); the logouts last, as they end the session the walk's token belongs to."""
    every = list(_all_routes(app))
    return sorted(every, key=lambda r: r[1] in LOGOUTS)


LOGOUTS = ("/api/auth/logout", "/logout")


def _all_routes(app):  # type: ignore[no-untyped-def]
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if route.path.startswith("/schema"):
                continue
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                path = PARAM.sub(lambda m: "0" if m.group(2) == "int" else "no-such-id", route.path)
                yield method, path, handler.opt


@pytest.mark.same_on_either  # the route table and the guard, before any query of the service: SQLite pass only
def test_every_route_declares_who_may_call_it(client) -> None:  # type: ignore[no-untyped-def]
    undeclared = [(m, p) for m, p, opt in _routes(client.app) if not opt.get("public") and not opt.get("roles")]
    assert undeclared == []


@pytest.mark.same_on_either  # the route table and the guard, before any query of the service: SQLite pass only
def test_without_a_login_only_public_routes_answer(client) -> None:  # type: ignore[no-untyped-def]
    for method, path, opt in _routes(client.app):
        r = client.request(method, path, json={})
        if opt.get("public"):
            assert r.status_code not in (401, 403), (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def _walk(client, users, role: str, *, given: bool) -> int:  # type: ignore[no-untyped-def]
    """Ask, as a user holding only `role`, every route its declaration gives it (`given`) or every route it refuses
    it, with empty input: a given route is answered (no 401 or 403, no 5xx), a refused one is refused (403). How many
    routes were asked."""
    name = f"r-{role.replace('_', '-')}"
    users.add(name, role)
    headers = users.headers(name)
    asked = 0
    for method, path, opt in _routes(client.app):
        wanted = opt.get("roles")
        allowed = bool(opt.get("public")) or wanted == "any" or bool(wanted and role in wanted)
        if allowed != given:
            continue
        if path in LOGOUTS:  # each logout ends every session: log in afresh for it
            token = client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
        r = client.request(method, path, json={}, headers=headers)
        if allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text)
            assert r.status_code < 500, (role, method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text)
        asked += 1
    return asked


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_answered_on_every_route_it_is_given(client, users, role) -> None:  # type: ignore[no-untyped-def]
    """The handlers behind the guard, reached with ids that name nothing and empty bodies: on either database."""
    assert _walk(client, users, role, given=True) > 10


@pytest.mark.same_on_either  # the role guard refuses before any handler reads the database: SQLite pass only
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_every_route_it_is_not_given(client, users, role) -> None:  # type: ignore[no-untyped-def]
    _walk(client, users, role, given=False)


BEFORE_ROLE_ROUTES = {
    ("POST", "/api/auth/logout"), ("GET", "/api/auth/me"), ("POST", "/api/auth/password"),
    ("POST", "/logout"), ("GET", "/account/password"), ("POST", "/account/password"), ("GET", "/"),
}
"""The only routes open to an account holding no confirmed role (its roles wait for a second administrator, or a
password reset suspended them): who it is, its own password, logging out, its home page (accounts/auth.py)."""


@pytest.mark.same_on_either  # the route table, before any query of the service: SQLite pass only
def test_only_login_password_and_home_are_open_before_a_role_is_confirmed(client) -> None:  # type: ignore[no-untyped-def]
    opened = {(m, p) for m, p, opt in _routes(client.app) if opt.get(BEFORE_ROLE)}
    assert opened == BEFORE_ROLE_ROUTES
    assert all(opt.get("roles") == "any" for m, p, opt in _routes(client.app) if opt.get(BEFORE_ROLE))


def test_an_account_holding_no_confirmed_role_is_refused_every_other_route(client, users) -> None:  # type: ignore[no-untyped-def]
    """Walk every route as an account whose only role was suspended: the `BEFORE_ROLE` ones answer, every other
    one (those open to "any" role included) is refused 403 saying its role waits for confirmation."""
    uid = users.add("r-none", "town_clerk")
    with client.app.state.ctx.db.begin() as session:
        session.get(User, uid).roles = []  # type: ignore[union-attr]
    headers = users.headers("r-none")
    answered = 0
    for method, path, opt in _routes(client.app):
        if opt.get("public"):
            continue
        if path in LOGOUTS:
            token = client.post("/api/auth/login", json={"username": "r-none", "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
        r = client.request(method, path, json={}, headers=headers)
        if (method, path) in BEFORE_ROLE_ROUTES:
            assert r.status_code not in (401, 403) and r.status_code < 500, (method, path, r.status_code, r.text)
            answered += 1
        else:
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert NO_ROLE in r.text, (method, path, r.text)
    assert answered == len(BEFORE_ROLE_ROUTES)


@pytest.mark.same_on_either  # the route table and the guard, before any query of the service: SQLite pass only
def test_the_auditor_reads_but_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    writes = [(m, p) for m, p, opt in _routes(client.app)
              if m != "GET" and not opt.get("public") and opt.get("roles") not in (None, "any")
              and "auditor" in opt.get("roles", ()) and not opt.get("changes_nothing")]
    # A search form posted only to keep an ID number out of the address stores nothing: it is no write.
    assert [(m, p) for m, p, opt in _routes(client.app) if opt.get("changes_nothing")] == [("POST", "/conflicts/search")]
    assert writes == []
