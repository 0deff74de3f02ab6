"""CSRF protection for the pages' forms, in three layers.

1. The login cookie is `SameSite=Strict` and `HttpOnly`: a browser never sends it with a request another site starts.
2. Every form carries Litestar's CSRF token (a hidden `_csrf_token` field, or the `x-csrftoken` header htmx sends),
   checked against the `verifier_csrf` cookie by Litestar's own `CSRFMiddleware` with a `CSRFConfig`.
3. A state-changing request that a browser marks as coming from another site (`Sec-Fetch-Site: cross-site`, or an
   `Origin` naming another host) is refused outright.

It guards the page router only, so the JSON API under /api never sees it: the API authenticates with an
`Authorization: Bearer` header only (never the cookie, see accounts/auth.py), which a browser never adds to a forged
cross-site request, and so is not open to CSRF in the first place. For the same reason a page request that a bearer
token actually authenticated (a script, not a browser form) skips the token check; an Authorization header that
authenticated nothing (another scheme, an empty token) leaves the cookie in charge, and the check with it. The login
form skips it too (`LOGIN_FORM` below): it rides on no session, and since every cookie of ours is SameSite=Strict a
forged cross-site post would arrive without the token cookie anyway; layer 3 is what stops it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Headers
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from ..accounts.auth import bearer_authenticated
from ..store.keys import load_or_create_secret

CSRF_COOKIE = "verifier_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
EXCLUDE_KEY = "exclude_from_csrf"
LOGIN_FORM = {"public": True, EXCLUDE_KEY: True}  # the `opt` of the login post


def csrf_config(ctx: Any) -> CSRFConfig:
    secret = load_or_create_secret(ctx.settings.keys_dir / "csrf.key", 32).hex()
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, cookie_samesite="strict", cookie_httponly=True,
                      cookie_secure=ctx.settings.secure_cookies, exclude_from_csrf_key=EXCLUDE_KEY)


def _cross_site(headers: Headers) -> bool:
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    hosts = {(headers.get(h) or "").lower() for h in ("host", "x-forwarded-host")} - {""}
    return urlsplit(origin).netloc.lower() not in hosts


class PageCSRFMiddleware:
    """Litestar's CSRFMiddleware for the pages, built on first use with the app's one CSRF configuration (Litestar
    makes an instance per route; all of them must check with the same secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._checked: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        if scope["method"] not in SAFE_METHODS and _cross_site(headers):
            raise PermissionDeniedException("CSRF: a form sent from another site")
        if bearer_authenticated(scope):
            await self.app(scope, receive, send)
            return
        if self._checked is None:
            self._checked = CSRFMiddleware(app=self.app, config=scope["app"].state.csrf_config)
        await self._checked(scope, receive, send)
