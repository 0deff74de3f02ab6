"""Walk every route with every role: each role gets exactly the routes its declaration allows."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from verifier.accounts.service import ROLES

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


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(client, users, role) -> None:  # type: ignore[no-untyped-def]
    name = f"r-{role.replace('_', '-')}"
    users.add(name, role)
    headers = users.headers(name)
    for method, path, opt in _routes(client.app):
        wanted = opt.get("roles")
        allowed = bool(opt.get("public")) or wanted == "any" or (wanted and role in wanted)
        if path in LOGOUTS:  # each logout ends every session: log in afresh for it
            token = client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
        r = client.request(method, path, json={}, headers=headers)
        if allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text)
            assert r.status_code < 500, (role, method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text)


@pytest.mark.same_on_either  # the route table and the guard, before any query of the service: SQLite pass only
def test_the_auditor_reads_but_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    writes = [(m, p) for m, p, opt in _routes(client.app)
              if m != "GET" and not opt.get("public") and opt.get("roles") not in (None, "any")
              and "auditor" in opt.get("roles", ()) and not opt.get("changes_nothing")]
    # A search form posted only to keep an ID number out of the address stores nothing: it is no write.
    assert [(m, p) for m, p, opt in _routes(client.app) if opt.get("changes_nothing")] == [("POST", "/conflicts/search")]
    assert writes == []
