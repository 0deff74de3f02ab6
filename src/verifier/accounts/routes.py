"""Log in, who am I, and user administration."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import jwt
import msgspec
from litestar import Controller, Request, Response
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import NotFound
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from ..store.tables import User
from .auth import TOKEN_LIFETIME, Principal, principal_of
from .passwords import verify_password
from .service import add_user, visible_user, visible_users


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class UserOut(msgspec.Struct):
    id: str
    username: str
    display_name: str
    roles: list[str]
    counties: list[str]


class LoginResponse(msgspec.Struct):
    token: str
    expires_at: datetime
    user: UserOut


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    roles: list[str]
    counties: list[str] = []
    display_name: str | None = None


def user_out(p: Principal) -> UserOut:
    return UserOut(id=p.id, username=p.username, display_name=p.display_name, roles=list(p.roles), counties=list(p.counties))


# A fixed hash to spend the same time on unknown usernames as on known ones.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/login", opt={"public": True}, status_code=200)
    def login(self, data: JSONBody[LoginRequest], ctx: Ctx, request: Request[Any, Any, Any]) -> LoginResponse:
        with ctx.db.read() as session:
            user = session.scalar(select(User).where(User.username == data.username))
            stored = user.password_hash if user is not None and user.active else _DUMMY_HASH
            ok = verify_password(data.password, stored) and user is not None and user.active
        if not ok or user is None:
            raise NotAuthorizedException("wrong username or password")
        auth = request.app.state.auth
        token = auth.create_token(identifier=user.id, token_expiration=TOKEN_LIFETIME)
        # The token's expiry is real time (it is checked against the real clock), not the scheme's business clock.
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        return LoginResponse(token=token, expires_at=datetime.fromtimestamp(expires, timezone.utc),
                             user=user_out(principal_of(user)))

    @get("/me", opt={"roles": "any"})
    def me(self, request: Request[Principal, Any, Any]) -> UserOut:
        return user_out(request.user)


class UserController(Controller):
    path = "/api/users"
    tags = ["accounts"]

    @get("/", opt={"roles": ("admin", "auditor")})
    def list_users(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[UserOut]:
        """The users sharing a county with the caller (every user for a caller without a county limit)."""
        with ctx.db.read() as session:
            return [user_out(principal_of(u)) for u in visible_users(session, request.user)]

    @post("/", opt={"roles": ("admin",)})
    def create_user(self, data: JSONBody[NewUser], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[UserOut]:
        def run(session: Session) -> UserOut:
            user = add_user(session, username=data.username, password=data.password, roles=data.roles,
                            counties=data.counties, display_name=data.display_name,
                            actor=request.user.id, actor_role="admin", clock=ctx.clock)
            return user_out(principal_of(user))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/{user_id:str}", opt={"roles": ("admin", "auditor")})
    def get_user(self, user_id: Annotated[str, Parameter(max_length=40)], ctx: Ctx,
                 request: Request[Principal, Any, Any]) -> UserOut:
        with ctx.db.read() as session:
            return user_out(principal_of(visible_user(session, request.user, user_id)))
