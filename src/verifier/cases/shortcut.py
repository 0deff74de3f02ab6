"""`GET /api/cases/{id}` with a bearer token, answered before Litestar routes the request.

The case read is the API's most frequent request, and Litestar's own work around it (routing, the authentication
middleware, the guard, which copies the handler on each call, the handler's arguments, the response objects) cost
about as much as reading and building the case. This shortcut answers the plain, successful case read itself, with
the very same steps: the token's signature already checked by the authentication middleware in this process
(`bearer_session`: `known_token`, its expiry checked again), the session looked up on every request with the case's
first reads in the same batch (`open_session_and_steps`, `case_rows_steps`; on PostgreSQL in the case's own statement,
`session_and_case_rows_steps`), the route's role rule (any logged-in user holding a confirmed role whose password
is their own), the county checked before anything of the case is used (`case_detail_of`), the body encoded as the
route's `EncodedJSON` encodes it, and the same headers (`before_send` adds the security headers to this answer as
to every other).

Anything else goes to Litestar untouched, which then does all of it its own way: another method, path or query,
a root path, not exactly one `Authorization: Bearer` header, a token not yet checked here or expired, a session
refused, a password to change, no confirmed role, a case not there or outside the caller's counties, any error.
The answers are byte for byte Litestar's (`tests/cases/test_case_read_shortcut.py`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar.serialization import encode_json

from ..accounts.auth import bearer_session, principal_of_row
from ..accounts.sessions import open_session_and_steps
from ..http import JSON_SERIALIZER, json_headers, send_answer
from .present import case_detail_of, session_and_case_rows_steps
from .routes import MAX_ID, case_rows_steps

ASGI = Callable[[Any, Any, Any], Awaitable[None]]
PREFIX = "/api/cases/"
_ID = re.compile(r"[A-Za-z0-9_\-]{1,%d}" % MAX_ID)


class CaseReadShortcut:
    """An ASGI app in front of Litestar's handler (`app.asgi_handler`) for the case read (see the module)."""

    def __init__(self, handler: ASGI, ctx: Any, token_secret: str, taken: Iterable[str]) -> None:
        self._handler = handler
        self._ctx = ctx
        self._secret = token_secret
        self._taken = frozenset(taken)  # other routes' fixed names under /api/cases/ (they win over {case_id})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX) or scope["method"] != "GET":
            await self._handler(scope, receive, send)  # every other request: one startswith more, nothing else
            return
        answer = await self._answer(scope)
        if answer is None:
            await self._handler(scope, receive, send)
            return
        await send_answer(send, json_headers(answer), answer)

    async def _answer(self, scope: Any) -> bytes | None:
        """The case detail's body when this request is a plain case read that succeeds; None otherwise."""
        path = scope["path"]
        if (scope.get("root_path") or scope.get("query_string")
                or not _ID.fullmatch(case_id := path[len(PREFIX):]) or case_id in self._taken):
            return None
        session = bearer_session(self._secret, scope["headers"])
        if session is None:
            return None
        db = self._ctx.db
        try:
            # On PostgreSQL the session lookup is read beside the case's row (one statement fewer)
            row, rows = await db.ask(open_session_and_steps(*session, case_rows_steps(case_id, probe=True))
                                     if db.is_sqlite else session_and_case_rows_steps(*session, case_id))
            if row is None:
                return None
            principal = principal_of_row(row)
            if principal.must_change_password or not principal.holds_role:
                return None  # Litestar refuses it (role_guard)
            return encode_json(case_detail_of(rows, case_id, principal, self._ctx.vault), JSON_SERIALIZER)
        except Exception:  # noqa: BLE001 — a 404, a database fault: Litestar answers it (reading again)
            return None


def install(app: Any, ctx: Any, token_secret: str) -> None:
    """Put the shortcut in front of a Litestar app's handler (after its routes are known)."""
    taken = {path[len(PREFIX):] for route in app.routes if (path := route.path).startswith(PREFIX)
             and "/" not in path[len(PREFIX):] and "{" not in path[len(PREFIX):]}
    app.asgi_handler = CaseReadShortcut(app.asgi_handler, ctx, token_secret, taken)
