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
_ALWAYS = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in ALWAYS.items()]
_POLICY = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("latin-1"))


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: runs for every response the app sends, error pages and 404s included.

    It works on the message's raw header list (ASGI: lower-case names as bytes): each of `ALWAYS` unless the response
    set its own, and the policy in place of any other."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or ())
    present = {name.lower() for name, _ in headers}
    headers += [header for header in _ALWAYS if header[0] not in present]
    if not scope.get("path", "").startswith(_NO_POLICY):
        if _POLICY[0] in present:
            headers = [h for h in headers if h[0].lower() != _POLICY[0]]
        headers.append(_POLICY)
    message["headers"] = headers
