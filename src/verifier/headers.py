"""Security headers on every response, pages and API alike.

- `Content-Security-Policy`: scripts, styles, images and requests only from this site, no inline script or style and
  no eval, forms post only here, and no other site may frame a page. A script that found its way into a page (a
  name typed into a form, rendered somewhere unescaped) would not run. The OpenAPI viewer under /schema, which loads
  its own scripts, is left without it; it holds no data.
- `X-Frame-Options: DENY` (the same for older browsers): no clickjacking through a frame.
- `X-Content-Type-Options: nosniff`: a file served as one type is never run as another (an uploaded "photo").
- `Referrer-Policy: same-origin`: a case's URL never leaves the site in a Referer header.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_NO_POLICY = ("/schema",)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: runs for every response the app sends, error pages and 404s included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in ALWAYS.items():
        if headers.get(name) is None:
            headers[name] = value
    if not scope.get("path", "").startswith(_NO_POLICY):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
