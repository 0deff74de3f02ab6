"""Login attempts are limited per account and per client address; X-Forwarded-For counts only from trusted proxies."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from verifier.accounts.limits import Limiter, LoginLimits, TooManyAttempts, client_address
from verifier.accounts.login import log_in
from verifier.app import create_app

PASSWORD = "correct horse battery"  # what tests/conftest.py's users get


def attempt(client, username: str, password: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)


def test_rotating_x_forwarded_for_does_not_escape_the_account_limit(client, users, clock) -> None:  # type: ignore[no-untyped-def]
    users.add("finance1", "finance", counties=("340223",))
    codes = [attempt(client, "finance1", "guess-%d" % i, forwarded=f"203.0.113.{i}").status_code for i in range(25)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    r = attempt(client, "finance1", PASSWORD, forwarded="198.51.100.1")  # even the right password waits
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["retry-after"]) <= 15 * 60
    # nobody else is locked out by one account's failures, from the same address either
    users.add("finance2", "finance", counties=("340223",))
    assert attempt(client, "finance2", PASSWORD).status_code == 200
    clock.advance(minutes=15, seconds=1)  # the window has passed
    assert attempt(client, "finance1", PASSWORD).status_code == 200


def test_an_unknown_account_is_limited_exactly_like_a_known_one(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    known = [attempt(client, "clerk1", "wrong password") for _ in range(6)]
    unknown = [attempt(client, "clerk-x", "wrong password") for _ in range(6)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 5 + [429]
    assert known[0].json() == unknown[0].json()
    assert known[-1].json() == unknown[-1].json() and known[-1].headers["retry-after"] == unknown[-1].headers["retry-after"]


def test_a_success_clears_the_accounts_failures(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk1", "town_clerk", counties=("340223",))
    for _ in range(4):
        assert attempt(client, "clerk1", "wrong password").status_code == 401
    assert attempt(client, "clerk1", PASSWORD).status_code == 200
    assert [attempt(client, "clerk1", "wrong password").status_code for _ in range(6)] == [401] * 5 + [429]


def test_one_address_guessing_many_accounts_is_limited(ctx, users) -> None:  # type: ignore[no-untyped-def]
    ctx.settings = replace(ctx.settings, login_failures_per_client=4)
    users.add("reviewer1", "county_reviewer", counties=("340223",))
    with TestClient(app=create_app(ctx)) as c:
        codes = [attempt(c, f"user{i}", "a sprayed password", forwarded=f"203.0.113.{i}").status_code for i in range(6)]
        assert codes == [401] * 4 + [429] * 2
        assert attempt(c, "reviewer1", PASSWORD).status_code == 429  # this address waits, whoever it names


class Behind:
    """The app as reached through a proxy at `peer` (the ASGI scope's client address)."""

    def __init__(self, app, peer: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.peer = app, peer

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self.peer, 40000)}
        await self.app(scope, receive, send)


def test_a_trusted_proxys_forwarded_address_is_the_client(ctx, users) -> None:  # type: ignore[no-untyped-def]
    ctx.settings = replace(ctx.settings, login_failures_per_client=3, trusted_proxies=("10.0.0.0/24",))
    users.add("clerk1", "town_clerk", counties=("340223",))
    app = create_app(ctx)
    with TestClient(app=Behind(app, "10.0.0.2")) as proxied:
        # one person behind the proxy, guessing
        codes = [attempt(proxied, f"user{i}", "guess", forwarded=f"198.51.100.7, 10.0.0.9").status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]
        # what a client writes itself into the header is further left, and does not help it
        assert attempt(proxied, "user9", "guess", forwarded="192.0.2.1, 198.51.100.7").status_code == 429
        # another person behind the same proxy is a client of their own
        assert attempt(proxied, "clerk1", PASSWORD, forwarded="198.51.100.8").status_code == 200
    with TestClient(app=Behind(app, "192.0.2.50")) as direct:
        # from an address that is no trusted proxy, the header is ignored: every attempt is 192.0.2.50's
        codes = [attempt(direct, f"other{i}", "guess", forwarded=f"198.51.100.{20 + i}").status_code
                 for i in range(4)]
        assert codes == [401, 401, 401, 429]


def test_client_address_walks_the_forwarded_chain_from_the_right() -> None:
    trusted = ("10.0.0.0/8", "2001:db8::/32")
    assert client_address("192.0.2.1", ["203.0.113.5"], ()) == "192.0.2.1"
    assert client_address("192.0.2.1", ["203.0.113.5"], trusted) == "192.0.2.1"
    assert client_address("10.1.2.3", ["203.0.113.5"], trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", ["1.1.1.1, 203.0.113.5, 10.9.9.9"], trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", ["1.1.1.1", "203.0.113.5"], trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", ["10.0.0.4, 10.0.0.5"], trusted) == "10.0.0.4"
    assert client_address("10.1.2.3", [], trusted) == "10.1.2.3"
    assert client_address("2001:db8::1", ["not-an-address"], trusted) == "not-an-address"
    assert client_address(None, ["203.0.113.5"], trusted) == "unknown"


def test_racing_guesses_get_no_more_tries_than_sequential_ones(ctx, users) -> None:  # type: ignore[no-untyped-def]
    users.add("finance1", "finance", counties=("340223",))
    limiter = Limiter(ctx.db, LoginLimits(per_account=5, per_client=1000, window=timedelta(minutes=15)))
    outcomes: list[str] = []
    start = threading.Barrier(16)

    def guess(i: int) -> None:
        start.wait()
        try:
            done = log_in(ctx.db, limiter, username="finance1", password=f"guess {i}", client=f"203.0.113.{i}",
                          clock=ctx.clock)
            outcomes.append("wrong" if done is None else "in")
        except TooManyAttempts:
            outcomes.append("limited")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("wrong") <= 5 and outcomes.count("in") == 0
    assert outcomes.count("wrong") + outcomes.count("limited") == 16


@pytest.mark.parametrize("value", ["10.0.0.1", "10.0.0.0/8, 192.168.1.1", "::1 10.0.0.0/8"])
def test_trusted_proxies_setting_is_parsed(value: str) -> None:
    from verifier.settings import Settings

    settings = Settings.from_env({"VERIFIER_HOME": "/tmp/x", "VERIFIER_TRUSTED_PROXIES": value})
    assert settings.trusted_proxies and all("/" in p for p in settings.trusted_proxies)
    assert Settings.from_env({"VERIFIER_HOME": "/tmp/x"}).trusted_proxies == ()
    with pytest.raises(ValueError, match="not an IP address"):
        Settings.from_env({"VERIFIER_HOME": "/tmp/x", "VERIFIER_TRUSTED_PROXIES": "proxy.example"})
