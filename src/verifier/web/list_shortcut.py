"""`GET /cases` as the list opens (no query) in a browser, answered before Litestar routes the request.

The list page is the pages' most frequent request, and Litestar's own work around it (routing, the authentication,
form-protection, compression and no-store middleware, the guard, the handler's twelve query parameters, the
response objects) cost about as much as its rows. This shortcut answers the plain, successful page itself, with the
very same steps:

- the login cookie's token, its signature already checked by the authentication middleware in this process
  (`known_session`: `known_token`, its expiry checked again), and no `Authorization` header at all;
- the session looked up on every request, the page's reads in the same batch (one round trip on PostgreSQL, one
  read transaction on SQLite). Those reads depend on the caller's counties, so they are built for the caller this
  process last found behind this user id, and used only when this very lookup gives that same caller (every
  column: roles, counties, name, password to change); otherwise they are dropped and read again for the caller
  the lookup gave. A refused session gets nothing (`open_session_and_steps`);
- the route's role rule (any logged-in user holding a confirmed role whose password is their own);
- the form-protection cookie as Litestar's CSRF middleware takes it on a GET (its value is the page's token);
- the page filled from the stencil Litestar's route keeps (`LIST_STENCILS`), with the same status, headers (no-store,
  and gzip exactly as the compression middleware does it when the browser accepts it); `before_send` adds the
  security headers to this answer as to every other.

Anything else goes to Litestar untouched, which then does all of it its own way: another method or path, a query, a
root path, more than one cookie, accept-encoding or any Authorization header, a token not yet checked here or
expired, no form-protection cookie yet (Litestar sets one), a session refused, a password to change, no confirmed
role, a page whose stencil is not kept yet (Litestar renders it and keeps it), any error. The answers are byte
for byte Litestar's (`tests/web/test_case_list_shortcut.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import Any

from litestar._parsers import parse_cookie_string
from litestar.middleware.compression.gzip_facade import GzipCompression

from ..accounts.auth import Principal, known_session, principal_of_row
from ..accounts.sessions import open_session_and_steps, open_session_steps
from ..cases import listing
from ..http import send_answer
from ..store.reader import Steps
from .cases import LIST_STENCILS, ListAsk, list_asked, list_parts, list_query
from .labels import DONE_MESSAGES

ASGI = Callable[[Any, Any, Any], Awaitable[None]]
PATH = "/cases"
TEMPLATE = "cases.html"
ASKED = ListAsk(status=None, village=None, cause=None, town=None, q=None, sort=None, page_no=None, county_code="",
                month="", figure="", chart="", period="", qt="", contract="")
"""What the route's handler is given for `/cases` without a query (its parameters' defaults)."""
DONE = DONE_MESSAGES.get("")  # `done_message` of an address without `done`
_CALLERS_MAX = 10_000


class CaseListShortcut:
    """An ASGI app in front of Litestar's handler (`app.asgi_handler`) for the list page (see the module)."""

    def __init__(self, handler: Any, app: Any, ctx: Any, token_secret: str, *, token_cookie: str, csrf_cookie: str,
                 compression: Any) -> None:
        self._handler = handler
        self._app = app
        self._ctx = ctx
        self._secret = token_secret
        self._token_cookie = token_cookie
        self._csrf_cookie = csrf_cookie
        self._compression = compression  # the pages' CompressionConfig (web/routes.py GZIP)
        self._callers: dict[str, Principal] = {}  # user id -> the caller its last open session's lookup gave

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
            await self._handler(scope, receive, send)  # every other request: one comparison more, nothing else
            return
        answer = await self._answer(scope)
        if answer is None:
            await self._handler(scope, receive, send)
            return
        body, gzip = answer
        if gzip and len(body) >= self._compression.minimum_size:  # as the compression middleware does it
            buffer = BytesIO()
            facade = GzipCompression(buffer=buffer, compression_encoding="gzip", config=self._compression)
            facade.write(body)
            facade.close()
            body = buffer.getvalue()
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                       (b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        else:
            headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
        await send_answer(send, headers, body)

    async def _answer(self, scope: Any) -> tuple[bytes, bool] | None:
        """The page's body (not compressed) and whether the browser accepts gzip, when this request is the plain
        list page and it succeeds; None otherwise."""
        if scope.get("root_path") or scope.get("query_string"):
            return None
        cookie = accept = None
        for name, value in scope["headers"]:
            name = name.lower()
            if name == b"cookie":
                if cookie is not None:
                    return None
                cookie = value
            elif name == b"accept-encoding":
                if accept is not None:
                    return None
                accept = value
            elif name == b"authorization":
                return None
        if cookie is None:
            return None
        cookies = parse_cookie_string(cookie.decode("latin-1"))
        encoded, csrf = cookies.get(self._token_cookie), cookies.get(self._csrf_cookie)
        if not encoded or not csrf:
            return None
        session = known_session(self._secret, encoded)
        if session is None:
            return None
        session_id, user_id = session
        ctx = self._ctx
        db = ctx.db
        try:
            query, message = list_query(status=None, village=None, cause=None, town=None, q=None, sort=None,
                                        page=None)
            if message:
                return None
            principal, read = await db.ask(self._steps(session_id, user_id, query), gather=False)  # long at scale
            if principal is None or read is None:
                return None
            listed = list_asked(ctx, principal, ASKED)
            if not listed.shown or listed.query != query or listed.query.within is not None:
                return None
            status, values, context = list_parts(ctx, principal, self._app.template_engine.engine, ASKED, listed,
                                                 read)
            if status != 200:
                return None
            body = LIST_STENCILS.kept(TEMPLATE, values, token=csrf, user=principal, path=PATH, done=DONE,
                                      status_code=status, **context)
        except Exception:  # noqa: BLE001 — a database fault, anything unforeseen: Litestar answers it (reading again)
            return None
        if body is None:
            return None
        return body.encode(), accept is not None and b"gzip" in accept

    def _steps(self, session_id: str, user_id: str,
               query: listing.CaseQuery) -> Steps[tuple[Principal | None, listing.ListRead | None]]:
        """The session's lookup and the page's reads: (the caller, the read), (None, None) for a session refused, a
        password to change or no confirmed role."""
        db, vault = self._ctx.db, self._ctx.vault
        guess = self._callers.get(user_id)
        if guess is not None:
            row, read = yield from open_session_and_steps(
                session_id, user_id, listing.read_page_steps(guess, query, vault, sqlite=db.is_sqlite))
            if row is None:
                return None, None
            caller = principal_of_row(row)
            if caller == guess:
                return (None, None) if _refused(caller) else (caller, read)
        else:
            row = yield from open_session_steps(session_id, user_id)
            if row is None:
                return None, None
            caller = principal_of_row(row)
        if len(self._callers) >= _CALLERS_MAX:
            self._callers.clear()
        self._callers[user_id] = caller
        if _refused(caller):
            return None, None
        read = yield from listing.read_page_steps(caller, query, vault, sqlite=db.is_sqlite)
        return caller, read


def _refused(caller: Principal) -> bool:
    """Whether the route's role rule refuses the caller (Litestar then answers: role_guard)."""
    return caller.must_change_password or not caller.holds_role


def install(app: Any, ctx: Any, token_secret: str, *, token_cookie: str, csrf_cookie: str, compression: Any) -> None:
    """Put the shortcut in front of a Litestar app's handler."""
    app.asgi_handler = CaseListShortcut(app.asgi_handler, app, ctx, token_secret, token_cookie=token_cookie,
                                        csrf_cookie=csrf_cookie, compression=compression)
