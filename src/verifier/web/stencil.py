"""Pages rendered once per shape, then filled in: a stencil is a template's output with a marker where each value
that changes from request to request goes (the form-protection token, a list's rows); a request with the same other
inputs (the user, the address's path, the context) only puts its values into the stencil's holes.

The output is the template's, byte for byte: the stencil is the template rendered with the markers, and a value is
put in as the template would have printed it (the token has nothing to escape: a token with anything to escape, or a
context that cannot be a key, is rendered the ordinary way). A marker carries a random per-process nonce, so no text
a user typed can pose as one.
"""

from __future__ import annotations

import ast
import html
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from litestar import Response
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from .common import current_user, done_message, layout_context, page

_NONCE = secrets.token_hex(8)
_MARK = re.compile("\x00" + _NONCE + r"(\w+)\x00")
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._\-]*")
TOKEN = "csrf_token"
LIMIT = 256  # stencils kept per process (a few pages' shapes per user); all are dropped when it is reached


def mark(name: str) -> str:
    """The marker of the value `name` (it has nothing to escape, so it comes out of a template as it went in)."""
    return "\x00" + _NONCE + name + "\x00"


def cut(text: str) -> tuple[str, ...]:
    """A rendered text as its pieces: text, a marker's name, text, ... (odd places name the values)."""
    return tuple(_MARK.split(text))


def joiner(text: str, names: list[str]) -> Callable[..., str]:
    """A function of the values `names` (positional, in that order) giving `text` with each of their markers
    replaced by the value: an f-string of them, compiled from its syntax tree (no text of the template is parsed
    as code)."""
    pieces = cut(text)
    parts: list[ast.expr] = [ast.Constant(p) if i % 2 == 0 else ast.FormattedValue(ast.Name(p, ast.Load()), -1)
                             for i, p in enumerate(pieces) if p]
    unknown = {p for p in pieces[1::2]} - set(names)
    if unknown:
        raise ValueError(f"markers of no value: {sorted(unknown)}")
    function = ast.Lambda(ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in names], kwonlyargs=[],
                                        kw_defaults=[], defaults=[]), ast.JoinedStr(parts))
    code = compile(ast.fix_missing_locations(ast.Expression(function)), "<stencil>", "eval")
    return eval(code, {})  # type: ignore[no-any-return]


def fill(pieces: tuple[str, ...], values: Mapping[str, str]) -> str:
    return "".join([piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces)])


def _frozen(context: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The context as a key (lists and dicts one level down as tuples of their items); None if it cannot be one."""
    items = []
    for k, v in context.items():
        if isinstance(v, list):
            v = (list, *v)
        elif isinstance(v, dict):
            v = (dict, *v.items())
        items.append((k, v))
    key = tuple(items)
    try:
        hash(key)
    except TypeError:
        return None
    return key


class Stencils:
    """The stencils of one kind of page, by everything the page is made of except its values."""

    def __init__(self) -> None:
        self._kept: dict[Any, tuple[str, ...]] = {}

    def page(self, request: Any, template: str, values: Mapping[str, str], *, status_code: int = 200,
             **context: Any) -> Response[Any] | Template:
        """common.py `page`, with `values` (HTML text, printed by the template as they are: `{% autoescape false
        %}`). The stencil is chosen by the template, the status, the user, the address's path, the message of its
        `done`, `context` and which values are empty; the form-protection token is a value of every page."""
        token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
        done = done_message(request)
        frozen = _frozen(context)
        if frozen is None or _PLAIN_TOKEN.fullmatch(token) is None:
            return page(request, template, status_code=status_code,
                        **context, **{k: Markup(v) for k, v in values.items()})
        key = _key(template, status_code, current_user(request), request.url.path, done, values, frozen)
        pieces = self._kept.get(key)
        if pieces is None:
            pieces = _render(request, template, {**layout_context(request), "done": done, **context}, values)
            if len(self._kept) >= LIMIT:
                self._kept.clear()
            self._kept[key] = pieces
        body = fill(pieces, {**values, TOKEN: token})
        return Response(content=body.encode(), status_code=status_code, media_type="text/html")

    def kept(self, template: str, values: Mapping[str, str], *, token: str, user: Any, path: str, done: str | None,
             status_code: int = 200, **context: Any) -> str | None:
        """The body `page` gives for a request of this user, address path, `done` message and form-protection token,
        when its stencil is kept; None when it is not (or the page would be rendered the ordinary way): `page` then
        renders it (and keeps its stencil)."""
        frozen = _frozen(context)
        if frozen is None or _PLAIN_TOKEN.fullmatch(token) is None:
            return None
        pieces = self._kept.get(_key(template, status_code, user, path, done, values, frozen))
        return None if pieces is None else fill(pieces, {**values, TOKEN: token})


def _key(template: str, status_code: int, user: Any, path: str, done: str | None, values: Mapping[str, str],
         frozen: tuple[Any, ...]) -> tuple[Any, ...]:
    return template, status_code, user, path, done, tuple(bool(v) for v in values.values()), frozen


def _render(request: Any, template: str, context: dict[str, Any], values: Mapping[str, str]) -> tuple[str, ...]:
    """The template rendered with markers for the token (as Litestar's Template gives it: `csrf_input`, and
    `csrf_token()` from the request's state) and the values that are not empty."""
    state = ScopeState.from_scope(request.scope)
    token, state.csrf_token = state.csrf_token, mark(TOKEN)
    try:
        marked = {k: mark(k) if v else "" for k, v in values.items()}
        text = request.app.template_engine.get_template(template).render(
            **context, **marked, request=request,
            csrf_input=f'<input type="hidden" name="_csrf_token" value="{html.escape(mark(TOKEN))}" />')
    finally:
        state.csrf_token = token
    return cut(text)
