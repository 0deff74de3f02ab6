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
from .auth import BEFORE_ROLE, PASSWORD_CHANGE, Principal, issue_token, principal_of
from .login import change_own_password, limiter_for, log_in, log_out, request_client
from .passwords import generate_password
from . import grants
from .models import RoleGrant
from .service import (
    add_roles,
    disable_user,
    enable_user,
    manageable_user,
    may_manage,
    open_account,
    set_password,
    visible_user,
    visible_users,
)


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


# Open to an account whose password an administrator set, and to one holding no confirmed role yet.
OPEN_BEFORE_CHANGE = {"roles": "any", PASSWORD_CHANGE: True, BEFORE_ROLE: True}


class UserOut(msgspec.Struct):
    id: str
    username: str
    display_name: str
    roles: list[str]
    counties: list[str]
    active: bool = True
    must_change_password: bool = False  # an administrator set the password: POST /api/auth/password first
    pending_roles: list[str] = []  # proposed, not held until another person confirms (POST /api/role-grants/{id}/confirm)


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


def account_out(user: User, pending: list[str] | None = None) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, roles=list(user.roles),
                   counties=list(user.counties or ()), active=bool(user.active), pending_roles=list(pending or ()))


def account_with_pending(session: Session, user: User) -> UserOut:
    return account_out(user, grants.pending_roles(session, [user.id]).get(user.id))


class MoreRoles(msgspec.Struct, forbid_unknown_fields=True):
    roles: Annotated[list[Annotated[str, msgspec.Meta(max_length=32)]], msgspec.Meta(min_length=1, max_length=8)]


class RoleGrantOut(msgspec.Struct):
    id: str
    user_id: str
    username: str
    role: str
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class Refusal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


def grant_out(grant: RoleGrant, username: str) -> RoleGrantOut:
    return RoleGrantOut(id=grant.id, user_id=grant.user_id, username=username, role=grant.role, status=grant.status,
                        proposed_by=grant.proposed_by, proposed_at=grant.proposed_at, decided_by=grant.decided_by,
                        decided_at=grant.decided_at)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/login", opt={"public": True}, status_code=200)
    def login(self, data: JSONBody[LoginRequest], ctx: Ctx, request: Request[Any, Any, Any]) -> LoginResponse:
        done = log_in(ctx.db, limiter_for(ctx), username=data.username, password=data.password,
                      client=request_client(ctx, request), clock=ctx.clock)
        if done is None:
            raise NotAuthorizedException("用户名或密码错误。")
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
            people = visible_users(session, request.user)
            pending = grants.pending_roles(session, [u.id for u in people])
            return [account_out(u, pending.get(u.id)) for u in people]

    @post("/", opt={"roles": ("admin",)})
    def create_user(self, data: JSONBody[NewUser], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[UserOut]:
        if not may_manage(request.user, [] if data.all_counties else data.counties):
            raise Forbidden("您的管理权限限于本县（区），不能管理权限超出本县（区）的账号")

        def run(session: Session) -> UserOut:
            user, pending = open_account(session, username=data.username, password=data.password, roles=data.roles,
                                         counties=data.counties, all_counties=data.all_counties,
                                         display_name=data.display_name, proposer=request.user.id,
                                         proposer_role="admin", clock=ctx.clock)
            out = user_out(principal_of(user))
            out.pending_roles = pending
            return out

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/{user_id:str}", opt={"roles": ("admin", "auditor")})
    def get_user(self, user_id: Annotated[str, Parameter(max_length=40)], ctx: Ctx,
                 request: Request[Principal, Any, Any]) -> UserOut:
        with ctx.db.read() as session:
            return account_with_pending(session, visible_user(session, request.user, user_id))


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

    @post("/roles", opt={"roles": ("admin",)}, status_code=200)
    def more_roles(self, user_id: UserId, data: JSONBody[MoreRoles], ctx: Ctx,
                   request: Request[Principal, Any, Any]) -> Response[UserOut]:
        """Give an account more roles: a guarded one (money, admin) is pending until another admin or county reviewer
        confirms it (`pending_roles`); never to the caller's own account (403)."""
        def run(session: Session) -> UserOut:
            user, _ = add_roles(session, request.user, user_id, list(data.roles), clock=ctx.clock)
            return account_with_pending(session, user)

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)

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
            out = PasswordSet(user=account_with_pending(session, visible_user(session, request.user, user_id)),
                              sessions_ended=ended,
                              password=None if given else new)
        return Response(out, headers={"Cache-Control": "no-store"})


GRANT_DECIDERS = {"roles": grants.CONFIRMER_ROLES}


class RoleGrantController(Controller):
    """Guarded roles proposed by one person, confirmed or refused by another admin or county reviewer."""

    path = "/api/role-grants"
    tags = ["accounts"]

    @get("/", opt=GRANT_DECIDERS)
    def list_grants(self, ctx: Ctx, request: Request[Principal, Any, Any],
                    status: Annotated[str, Parameter(pattern="^(pending|confirmed|refused)$")] = "pending",
                    q: Annotated[str, Parameter(max_length=64)] = "",
                    page: Annotated[int, Parameter(ge=1, le=100000)] = 1) -> list[RoleGrantOut]:
        """The grants of `status` (pending by default) to accounts within the caller's counties, newest first."""
        with ctx.db.read() as session:
            found = grants.find_grants(session, request.user, status=status, search=q, page=page)
        return [grant_out(r.grant, r.username) for r in found.items]

    @post("/{grant_id:str}/confirm", opt=GRANT_DECIDERS, status_code=200)
    def confirm(self, grant_id: UserId, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[RoleGrantOut]:
        """403 for the proposer, the account itself and an account whose password the proposer set."""
        def run(session: Session) -> RoleGrantOut:
            grant = grants.confirm(session, grant_id, confirmer=request.user, clock=ctx.clock)
            return grant_out(grant, session.get(User, grant.user_id).username)  # type: ignore[union-attr]

        return idempotent(ctx.db, request, run, clock=ctx.clock)

    @post("/{grant_id:str}/refuse", opt=GRANT_DECIDERS, status_code=200)
    def refuse(self, grant_id: UserId, data: JSONBody[Refusal], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Response[RoleGrantOut]:
        def run(session: Session) -> RoleGrantOut:
            grant = grants.refuse(session, grant_id, refuser=request.user, reason=data.reason, clock=ctx.clock)
            return grant_out(grant, session.get(User, grant.user_id).username)  # type: ignore[union-attr]

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)
