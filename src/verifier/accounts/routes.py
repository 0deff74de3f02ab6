"""Log in and out, who am I, and user administration (add, list, disable, enable, set a password)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import jwt
import msgspec
from litestar import Controller, Request, Response
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..domain.errors import Forbidden
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from ..store.tables import User
from .auth import PASSWORD_CHANGE, Principal, issue_token, principal_of
from .login import change_own_password, limiter_for, log_in, log_out, request_client
from .passwords import generate_password
from .service import (
    add_user,
    disable_user,
    enable_user,
    list_users,
    manageable_user,
    may_manage,
    set_password,
    visible_user,
    visible_users,
)


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


OPEN_BEFORE_CHANGE = {"roles": "any", PASSWORD_CHANGE: True}


class UserOut(msgspec.Struct):
    id: str
    username: str
    display_name: str
    roles: list[str]
    counties: list[str]
    active: bool = True
    must_change_password: bool = False  # an administrator set the password: POST /api/auth/password first


class LoginResponse(msgspec.Struct):
    token: str
    expires_at: datetime
    user: UserOut


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    roles: list[str]
    counties: list[str] = []
    all_counties: bool = False  # no county limit, granted on purpose (neither this nor counties: refused)
    display_name: str | None = None


class NewPassword(msgspec.Struct, forbid_unknown_fields=True):
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)] | None = None  # None: generate one


class PasswordSet(msgspec.Struct):
    user: UserOut
    sessions_ended: int
    password: str | None = None  # only when generated: shown this once


class SessionsEnded(msgspec.Struct):
    user: UserOut
    sessions_ended: int


class LoggedOut(msgspec.Struct):
    sessions_ended: int


class OwnPassword(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]


def user_out(p: Principal) -> UserOut:
    return UserOut(id=p.id, username=p.username, display_name=p.display_name, roles=list(p.roles),
                   counties=list(p.counties), must_change_password=p.must_change_password)


def account_out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, roles=list(user.roles),
                   counties=list(user.counties or ()), active=bool(user.active))


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/login", opt={"public": True}, status_code=200)
    def login(self, data: JSONBody[LoginRequest], ctx: Ctx, request: Request[Any, Any, Any]) -> LoginResponse:
        done = log_in(ctx.db, limiter_for(ctx), username=data.username, password=data.password,
                      client=request_client(ctx, request), clock=ctx.clock)
        if done is None:
            raise NotAuthorizedException("wrong username or password")
        token = issue_token(request.app.state.auth, done.principal.id, done.session_id)
        # The token's expiry is real time (it is checked against the real clock), not the scheme's business clock.
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        return LoginResponse(token=token, expires_at=datetime.fromtimestamp(expires, timezone.utc),
                             user=user_out(done.principal))

    @post("/logout", opt=OPEN_BEFORE_CHANGE, status_code=200)
    def logout(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> LoggedOut:
        """End every session of the caller: each token they hold stops working at once."""
        return LoggedOut(sessions_ended=log_out(ctx.db, request.user, clock=ctx.clock))

    @get("/me", opt=OPEN_BEFORE_CHANGE)
    def me(self, request: Request[Principal, Any, Any]) -> UserOut:
        return user_out(request.user)

    @post("/password", opt=OPEN_BEFORE_CHANGE, status_code=200)
    def own_password(self, data: JSONBody[OwnPassword], ctx: Ctx, request: Request[Principal, Any, Any]) -> LoggedOut:
        """Choose your own password (the current one proves it is you); every other session of yours ends, the
        calling one goes on. Lifts the requirement an administrator's new password set."""
        ended = change_own_password(ctx.db, limiter_for(ctx), request.user, session_id=request.auth.session_id,
                                    current=data.current_password, new=data.new_password,
                                    client=request_client(ctx, request), clock=ctx.clock)
        return LoggedOut(sessions_ended=ended)


class UserController(Controller):
    path = "/api/users"
    tags = ["accounts"]

    @get("/", opt={"roles": ("admin", "auditor")})
    def list_users(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[UserOut]:
        """The users sharing a county with the caller (every user for a caller without a county limit)."""
        with ctx.db.read() as session:
            return [account_out(u) for u in visible_users(session, request.user)]

    @post("/", opt={"roles": ("admin",)})
    def create_user(self, data: JSONBody[NewUser], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[UserOut]:
        if not may_manage(request.user, [] if data.all_counties else data.counties):
            raise Forbidden("an admin limited to counties creates only accounts limited to those counties")

        def run(session: Session) -> UserOut:
            user = add_user(session, username=data.username, password=data.password, roles=data.roles,
                            counties=data.counties, all_counties=data.all_counties, display_name=data.display_name,
                            actor=request.user.id, actor_role="admin", clock=ctx.clock, change_required=True)
            return user_out(principal_of(user))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/{user_id:str}", opt={"roles": ("admin", "auditor")})
    def get_user(self, user_id: Annotated[str, Parameter(max_length=40)], ctx: Ctx,
                 request: Request[Principal, Any, Any]) -> UserOut:
        with ctx.db.read() as session:
            return account_out(visible_user(session, request.user, user_id))


UserId = Annotated[str, Parameter(max_length=40)]


class AccountController(Controller):
    """An admin's account actions; disabling and a new password end every session of the user at once."""

    path = "/api/users/{user_id:str}"
    tags = ["accounts"]

    @post("/disable", opt={"roles": ("admin",)}, status_code=200)
    def disable(self, user_id: UserId, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[SessionsEnded]:
        """Refused (409) for the last active admin."""
        def run(session: Session) -> SessionsEnded:
            manageable_user(session, request.user, user_id)  # another county's user does not exist for this admin
            ended = disable_user(session, user_id, actor=request.user.id, actor_role="admin", clock=ctx.clock)
            return SessionsEnded(user=account_out(visible_user(session, request.user, user_id)), sessions_ended=ended)

        return idempotent(ctx.db, request, run, clock=ctx.clock)

    @post("/enable", opt={"roles": ("admin",)}, status_code=200)
    def enable(self, user_id: UserId, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[UserOut]:
        def run(session: Session) -> UserOut:
            manageable_user(session, request.user, user_id)
            enable_user(session, user_id, actor=request.user.id, actor_role="admin", clock=ctx.clock)
            return account_out(visible_user(session, request.user, user_id))

        return idempotent(ctx.db, request, run, clock=ctx.clock)

    @post("/password", opt={"roles": ("admin",)}, status_code=200)
    def password(self, user_id: UserId, ctx: Ctx, request: Request[Principal, Any, Any],
                 data: JSONBody[NewPassword | None] = None) -> Response[PasswordSet]:
        """`{"password"}`, or no password to have one generated and answered this once (never stored for an
        Idempotency-Key replay: a repeat sets another password)."""
        given = data.password if data is not None else None
        new = given or generate_password()
        with ctx.db.begin() as session:
            manageable_user(session, request.user, user_id)
            ended = set_password(session, user_id, new, actor=request.user.id, actor_role="admin", clock=ctx.clock)
            out = PasswordSet(user=account_out(visible_user(session, request.user, user_id)), sessions_ended=ended,
                              password=None if given else new)
        return Response(out, headers={"Cache-Control": "no-store"})
