"""Who is calling: bearer tokens (or, for the pages only, the browser's cookie), roles declared on each route,
county scoping.

Every token names a session (its `jti`), checked on every request in one lookup joined with the user: an ended
session (logout, a new password, a disabled account) refuses its tokens at once. The JSON API under /api takes the
token only from an `Authorization: Bearer` header, which a browser never adds to a request another site starts; the
pages take the cookie (and check CSRF tokens, see web/security.py).

Every route declares who may call it in its `opt`: `{"public": True}` (no login), `{"roles": "any"}` (any
logged-in user holding at least one confirmed role) or `{"roles": ("finance", ...)}`. A route that declares nothing
is refused to everyone, so a forgotten declaration fails closed. An account holding no role (its roles wait for a
second person's confirmation, accounts/grants.py, or a password reset suspended them) is refused every route but
the few that also declare `BEFORE_ROLE` (log in and out, who am I, its own password, the home page).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTCookieAuth, JWTCookieAuthenticationMiddleware, Token

from ..domain.errors import NotFound
from ..store.keys import load_or_create_secret
from ..store.reader import Steps
from ..store.tables import User
from .sessions import TOKEN_LIFETIME, open_session_and_steps, open_session_steps

__all__ = ["BEFORE_ROLE", "NO_ROLE", "PASSWORD_CHANGE", "READ_WITH_SESSION", "TOKEN_LIFETIME", "Credential",
           "PasswordChangeRequired", "Principal", "RoleNotConfirmed", "issue_token", "make_auth",
           "principal_of", "read_ahead", "role_guard"]


class Principal(msgspec.Struct, frozen=True):
    id: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    counties: tuple[str, ...]  # empty: every county
    must_change_password: bool = False  # an administrator set the password: only changing it is open
    has_ties: bool | None = None
    """Whether the user had a live 回避 declaration when the request's session was looked up (False: none, the
    recusal guard refuses them nothing without reading; None: not known, the guard reads their ties)."""

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def holds_role(self) -> bool:
        """Whether the account holds a confirmed role: without one, only the `BEFORE_ROLE` routes are open to it."""
        return bool(self.roles)

    def may_see_county(self, county_code: str) -> bool:
        return not self.counties or county_code in self.counties

    def require_county(self, county_code: str, what: str = "case") -> None:
        """Outside the user's counties a thing does not exist for them: 404, never 403, so nothing leaks."""
        if not self.may_see_county(county_code):
            raise NotFound(f"{'县（区）' if what == 'county' else '案件'}不存在或不在您的权限范围内")

    @property
    def main_role(self) -> str:
        """The first role held; `none` for an account whose roles all wait for confirmation (accounts/grants.py)."""
        return self.roles[0] if self.roles else "none"

    def acting_role(self, allowed: Iterable[str]) -> str:
        """The role this user acts in for an action open to `allowed` (recorded in the audit log)."""
        for r in allowed:
            if r in self.roles:
                return r
        return self.main_role


def principal_of(user: User) -> Principal:
    return Principal(
        id=user.id, username=user.username, display_name=user.display_name,
        roles=tuple(user.roles), counties=tuple(user.counties or ()),
        must_change_password=bool(user.password_change_required),
    )


PASSWORD_CHANGE = "open_before_password_change"
"""The `opt` key of the few routes open to an account whose password an administrator set (change it, log out, who
am I): everything else answers PasswordChangeRequired until its owner has chosen a password."""


BEFORE_ROLE = "open_before_role"
"""The `opt` key of the few `{"roles": "any"}` routes open to an account holding no confirmed role (log in and out,
who am I, changing its own password, the home page telling it its role waits): its roles wait for a second person's
confirmation (accounts/grants.py) or a password reset suspended them, and one administrator alone opened or reset it.
Every other "any" route refuses it (`RoleNotConfirmed`): the case list, a case, the ledger, notices, contracts..."""


READ_WITH_SESSION = "read_with_session"
"""The `opt` key of a route whose first reads are sent with the session lookup (one round trip on PostgreSQL): a
function of the request's path parameters and the `Database` giving those reads as steps of prepared reads
(store/reader.py), or None; their first batch goes with the session lookup, the rest only when the session is open.
What they read reaches the handler (`read_ahead`) only when the session was open; a refused session's is dropped
with it. The handler still decides what of it the caller may see (the county, as it would after its own read)."""

_READ_AHEAD = "verifier.read_ahead"


def read_ahead(connection: ASGIConnection[Any, Any, Any, Any]) -> Any | None:
    """What the route's `READ_WITH_SESSION` steps read with this request's session, once; None when nothing was
    read ahead (the handler reads for itself)."""
    return connection.scope.pop(_READ_AHEAD, None)  # type: ignore[misc]


def _steps_with_session(connection: ASGIConnection[Any, Any, Any, Any], db: Any) -> Steps[Any] | None:
    handler = connection.scope.get("route_handler")
    plan: Callable[[Mapping[str, Any], Any], Steps[Any] | None] | None = (
        None if handler is None else handler.opt.get(READ_WITH_SESSION))
    return None if plan is None else plan(connection.scope.get("path_params") or {}, db)


NOT_LOGGED_IN = "请先登录。"
SESSION_ENDED = "登录已失效，请重新登录。"


class PasswordChangeRequired(PermissionDeniedException):
    """An administrator set this account's password (so knows it): its owner must choose their own first."""

    def __init__(self) -> None:
        super().__init__("管理员为此账户设置了密码：请先修改为您自己的密码（POST /api/auth/password），"
                         "在此之前不能进行其他操作。")


NO_ROLE = "您的账户尚无已确认的角色，不能查看此页面；请等待另一位管理员确认角色。"


class RoleNotConfirmed(PermissionDeniedException):
    """An account holding no confirmed role asked for a route open to any role (not a `BEFORE_ROLE` one)."""

    def __init__(self) -> None:
        super().__init__(NO_ROLE)


async def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Who may call the route (async: a plain check, run on the event loop rather than handed to a thread)."""
    if handler.opt.get("public"):
        return
    openapi = connection.app.openapi_config
    scope = connection.scope
    if openapi is not None and (scope.get("root_path", "") + scope["path"]).startswith(openapi.path):
        return  # the API's own description is public
    wanted = handler.opt.get("roles")
    user = connection.user if "user" in connection.scope else None
    if not isinstance(user, Principal):
        raise NotAuthorizedException(NOT_LOGGED_IN)
    if user.must_change_password and not handler.opt.get(PASSWORD_CHANGE):
        raise PasswordChangeRequired()
    if not user.holds_role and not handler.opt.get(BEFORE_ROLE):
        raise RoleNotConfirmed()  # "any" too: any account holding a confirmed role
    if wanted == "any":
        return
    if not wanted or not user.has(*wanted):
        from ..web.labels import role_refusal

        raise PermissionDeniedException(role_refusal(wanted))


class Credential(msgspec.Struct, frozen=True):
    """What authenticated a request (`request.auth`): the session, and whether a bearer header carried its token."""

    session_id: str
    bearer: bool


def bearer_authenticated(scope: Any) -> bool:
    auth = scope.get("auth")
    return isinstance(auth, Credential) and auth.bearer


class SessionAuthMiddleware(JWTCookieAuthenticationMiddleware):
    """`Authorization: Bearer TOKEN` anywhere; the page cookie only outside /api. A header of another form is no
    credential: on a page the cookie then decides (and the CSRF check applies), under /api the request is refused."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, encoded = connection.headers.get(self.auth_header, "").strip().partition(" ")
        bearer = scheme.lower() == "bearer" and bool(encoded.strip())
        if bearer:
            encoded = encoded.strip()
        elif connection.scope["path"] == "/api" or connection.scope["path"].startswith("/api/"):
            raise NotAuthorizedException("请在 Authorization 请求头中以 Bearer 方式提供登录令牌（POST /api/auth/login 取得）。")
        else:
            encoded = connection.cookies.get(self.auth_cookie_key, "")
            if not encoded:
                raise NotAuthorizedException(NOT_LOGGED_IN)
        token = self.verified_token(encoded)
        user = await self.retrieve_user_handler(token, connection)
        if not user:
            raise NotAuthorizedException(SESSION_ENDED)
        return AuthenticationResult(user=user, auth=Credential(session_id=str(token.jti), bearer=bearer))

    def verified_token(self, encoded: str) -> Token:
        """The token, its signature checked once per process (a token cannot change) and its expiry on every use.

        Whether its session is still open is not cached: the retrieve handler asks the database every time."""
        key = (self.token_secret, encoded)
        token = _verified.get(key)
        if token is None:
            token = Token.decode(encoded_token=encoded, secret=self.token_secret, algorithm=self.algorithm,
                                 audience=self.token_audience, issuer=self.token_issuer,
                                 require_claims=self.require_claims, verify_exp=self.verify_expiry,
                                 verify_nbf=self.verify_not_before, strict_audience=self.strict_audience)
            if "nbf" in token.extras:
                return token  # not ours to remember: ours carry no not-before time
            if len(_verified) >= _VERIFIED_MAX:
                _verified.clear()
            _verified[key] = token
        elif token.exp.timestamp() <= time.time():
            del _verified[key]
            raise NotAuthorizedException(SESSION_ENDED)
        return token


def known_token(secret: str, encoded: str) -> Token | None:
    """The token of this text whose signature `SessionAuthMiddleware.verified_token` already checked in this process,
    while it has not expired; None otherwise (the middleware then decides, as for any token)."""
    token = _verified.get((secret, encoded))
    return token if token is not None and token.exp.timestamp() > time.time() else None


def known_session(secret: str, encoded: str) -> tuple[str, str] | None:
    """(session id, user id) of a token `known_token` gives that names its session; None otherwise. What a shortcut
    in front of Litestar (cases/shortcut.py, web/list_shortcut.py) asks before it looks the session up itself."""
    token = known_token(secret, encoded)
    if token is None or not isinstance(token.jti, str) or not token.jti:
        return None
    return token.jti, str(token.sub)


def bearer_session(secret: str, headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """`known_session` of a request's ASGI headers when they hold exactly one `Authorization: Bearer TOKEN` (as
    `SessionAuthMiddleware` reads it); None otherwise, and then Litestar decides."""
    authorization = [v for k, v in headers if k.lower() == b"authorization"]
    if len(authorization) != 1:
        return None
    scheme, _, encoded = authorization[0].decode("latin-1").strip().partition(" ")
    encoded = encoded.strip()
    if scheme.lower() != "bearer" or not encoded:
        return None
    return known_session(secret, encoded)


def principal_of_row(row: Any) -> Principal:
    """The caller from the session lookup's row (`open_session_steps`)."""
    uid, username, display_name, roles, counties, change_required, tied = row
    return Principal(id=uid, username=username, display_name=display_name, roles=tuple(roles),
                     counties=tuple(counties or ()), must_change_password=bool(change_required),
                     has_ties=bool(tied))


_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], Token] = {}
"""Tokens whose signature was checked, by secret and text (a bounded memo: cleared whenever it fills up)."""


def make_auth(ctx: Any) -> JWTCookieAuth[Principal]:
    secret = load_or_create_secret(ctx.settings.keys_dir / "token.key", 32).hex()

    async def retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        """The session's user, asked of the database on every request (an ended session is refused at once).

        A short prepared read on the event loop (`Database.ask`: no hand-off to a worker thread on either database),
        with the route's first reads when it declares them (`READ_WITH_SESSION`)."""
        if not isinstance(token.jti, str) or not token.jti:
            return None  # a token from before sessions: log in again
        steps = _steps_with_session(connection, ctx.db)
        if steps is not None:
            row, read = await ctx.db.ask(open_session_and_steps(token.jti, str(token.sub), steps))
            if row is not None:
                connection.scope[_READ_AHEAD] = read  # type: ignore[literal-required]
        else:
            row = await ctx.db.ask(open_session_steps(token.jti, str(token.sub)))
        return None if row is None else principal_of_row(row)

    return JWTCookieAuth[Principal](
        authentication_middleware_class=SessionAuthMiddleware,
        token_secret=secret,
        retrieve_user_handler=retrieve_user,
        default_token_expiration=TOKEN_LIFETIME,
        exclude=["^/schema", "^/api/health", "^/api/auth/login", "^/api/audit/checkpoint", "^/api/audit/public-key",
                 "^/api/audit/consistency",
                 "^/static/", "^/login$"],
        exclude_opt_key="public",
        key="verifier_token",
        samesite="strict",
        secure=ctx.settings.secure_cookies,
    )


def issue_token(auth: JWTCookieAuth[Principal], user_id: str, session_id: str) -> str:
    """A signed token for a session just started (see login.log_in)."""
    return auth.create_token(identifier=user_id, token_expiration=TOKEN_LIFETIME, token_unique_jwt_id=session_id)
