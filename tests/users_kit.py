"""The users a test adds: `tests/conftest.py`'s `users` fixture, and builds that add users before any test has it
(e.g. a kept start, tests/kept_rows.py)."""

from __future__ import annotations

PASSWORD = "correct horse battery"


class Users:
    """Creates users on demand and logs them in; `headers(name)` gives the Authorization header."""

    def __init__(self, ctx, client) -> None:  # type: ignore[no-untyped-def]
        self.ctx, self.client = ctx, client
        self.ids: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def add(self, username: str, *roles: str, counties: tuple[str, ...] = ()) -> str:
        """A user limited to `counties`; named without any, a user with no county limit, on purpose."""
        from verifier.accounts.service import add_user

        with self.ctx.db.begin() as session:
            user = add_user(session, username=username, password=PASSWORD, roles=list(roles), counties=list(counties),
                            all_counties=not counties, clock=self.ctx.clock)
        self.ids[username] = user.id
        return user.id

    def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}
