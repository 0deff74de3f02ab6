"""Helpers of the page tests: a browser-like client that logs in through the form and sends CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct horse battery"  # the password tests/conftest.py gives every user it adds
CSRF_COOKIE = "verifier_csrf"
OTHER_COUNTY = "340224"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def english_in(message: str) -> str | None:
    """What is not Chinese in a message shown to a person (a page's, or an API's problem detail), or None."""
    if re.search(r"[A-Za-z]", message) and not HAN.search(message):
        return message
    m = ENGLISH.search(message)
    return m.group(0) if m else None


def csrf_of(html: str) -> str:
    m = _TOKEN.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)


class Pages:
    """The TestClient as a browser: one user at a time, logged in with the login form."""

    def __init__(self, client: Any, users: Any) -> None:
        self.client, self.users = client, users
        self.who: str | None = None

    def login(self, username: str, password: str = PASSWORD) -> Any:
        self.client.cookies.clear()
        form = self.client.get("/login")
        assert form.status_code == 200
        r = self.client.post("/login", data={"username": username, "password": password,
                                             "_csrf_token": csrf_of(form.text)}, follow_redirects=False)
        assert r.status_code == 303, r.text
        self.who = username
        return r

    def as_(self, username: str, *roles: str, counties: tuple[str, ...] = ("340223",)) -> Pages:
        """Create the user (once) and log in as them."""
        if username not in self.users.ids:
            self.users.add(username, *roles, counties=counties)
        self.login(username)
        return self

    def get(self, url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(url, follow_redirects=False, headers={**BROWSER, **(headers or {})}, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, files: Any = None, csrf: bool = True,
             **kw: Any) -> Any:
        body = dict(data or {})
        if csrf:
            token = self.client.cookies.get(CSRF_COOKIE)
            if token is None:  # no page seen yet in this session: a GET sets the cookie
                self.client.get("/login")
                token = self.client.cookies.get(CSRF_COOKIE)
            body["_csrf_token"] = token
        headers = {**BROWSER, **kw.pop("headers", {})}
        return self.client.post(url, data=body, files=files, follow_redirects=False, headers=headers, **kw)




FACTORY_PASSWORD = "factory-password"  # what tests/factories.py gives the staff it creates


def officers_of(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The usernames of the officers assigned to a case's active visit."""
    from sqlalchemy import select

    from verifier.store.tables import User, Visit

    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        assert visit is not None
        return [session.get(User, o).username for o in visit.officer_ids]


def status_of(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    from verifier.store.tables import Case

    with ctx.db.read() as session:
        return session.get(Case, case_id).status


def card_count(html: str, title: str) -> int:
    """The number on the home page's card called `title`."""
    m = re.search(r'<div class="count">(\d+)</div>\s*<div class="title">' + re.escape(title) + "<", html)
    assert m, f"no card {title!r} with a count"
    return int(m.group(1))
