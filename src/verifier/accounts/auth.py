"""Who is calling: bearer tokens (or the browser's cookie), roles declared on each route, county scoping.

Every route declares who may call it in its `opt`: `{"public": True}` (no login), `{"roles": "any"}` (any
logged-in user) or `{"roles": ("finance", ...)}`. A route that declares nothing is refused to everyone, so a
forgotten declaration fails closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTCookieAuth, Token
from sqlalchemy import select

from ..domain.errors import NotFound
from ..store.keys import load_or_create_secret
from ..store.tables import User

TOKEN_LIFETIME = timedelta(hours=12)


class Principal(msgspec.Struct, frozen=True):
    id: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    counties: tuple[str, ...]  # empty: every county

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def may_see_county(self, county_code: str) -> bool:
        return not self.counties or county_code in self.counties

    def require_county(self, county_code: str, what: str = "case") -> None:
        """Outside the user's counties a thing does not exist for them: 404, never 403, so nothing leaks."""
        if not self.may_see_county(county_code):
            raise NotFound(f"no such {what}")

    @property
    def main_role(self) -> str:
        return self.roles[0] if self.roles else ""

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
    )


def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if handler.opt.get("public"):
        return
    openapi = connection.app.openapi_config
    if openapi is not None and connection.url.path.startswith(openapi.path):
        return  # the API's own description is public
    wanted = handler.opt.get("roles")
    user = connection.user if "user" in connection.scope else None
    if not isinstance(user, Principal):
        raise NotAuthorizedException("log in first")
    if wanted == "any":
        return
    if not wanted or not user.has(*wanted):
        raise PermissionDeniedException("your role may not do this")


def make_auth(ctx: Any) -> JWTCookieAuth[Principal]:
    secret = load_or_create_secret(ctx.settings.keys_dir / "token.key", 32).hex()

    def retrieve_user(token: Token, _connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        with ctx.db.read() as session:
            user = session.scalar(select(User).where(User.id == token.sub, User.active.is_(True)))
            return principal_of(user) if user else None

    return JWTCookieAuth[Principal](
        token_secret=secret,
        retrieve_user_handler=retrieve_user,
        default_token_expiration=TOKEN_LIFETIME,
        exclude=["^/schema", "^/api/health", "^/api/auth/login", "^/api/audit/checkpoint", "^/api/audit/public-key",
                 "^/api/audit/consistency",
                 "^/static/", "^/login$"],
        exclude_opt_key="public",
        key="verifier_token",
        samesite="strict",
        secure=False,
    )
