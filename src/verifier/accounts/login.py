"""Logging in: the limiter first, then the password, then a new session (the token will carry its id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, ValidationFailed
from ..store.db import Database
from ..store.tables import User
from .auth import Principal, principal_of
from .limits import Limiter, LoginLimits, client_address
from . import passwords
from .passwords import hash_password, verify_password
from .sessions import end_sessions, start_session


def dummy_hash() -> str:
    """A hash of nothing, to spend the same time on unknown usernames (and disabled users) as on known ones: made
    with the parameters users' hashes are made with now (`passwords.N, R, P`), so it costs what theirs cost."""
    return (f"scrypt${passwords.N}${passwords.R}${passwords.P}$AAAAAAAAAAAAAAAAAAAAAA=="
            "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")


@dataclass(frozen=True)
class LoggedIn:
    principal: Principal
    session_id: str


def limiter_for(ctx: Any) -> Limiter:
    s = ctx.settings
    return Limiter(ctx.db, LoginLimits(per_account=s.login_failures_per_account, per_client=s.login_failures_per_client,
                                       window=timedelta(minutes=s.login_window_minutes)))


def request_client(ctx: Any, request: Any) -> str:
    """The address the limiter counts a request under (X-Forwarded-For only from VERIFIER_TRUSTED_PROXIES)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getall("x-forwarded-for", []), ctx.settings.trusted_proxies)


def log_in(db: Database, limiter: Limiter, *, username: str, password: str, client: str,
           clock: Clock) -> LoggedIn | None:
    """The user and their new session, or None for a wrong username or password (the same for both, and for a
    disabled account). Raises TooManyAttempts when the account or the client address has failed too often."""
    now = clock.now()
    attempt = limiter.begin(username, client, now)
    with db.read() as session:
        user = session.scalar(select(User).where(User.username == username)) if username else None
        usable = user is not None and user.active
        ok = verify_password(password, user.password_hash if usable and user else dummy_hash()) and usable
    if not ok or user is None:
        return None
    with db.begin() as session:
        limiter.succeeded(session, username, attempt)
        started = start_session(session, user.id)
    return LoggedIn(principal=principal_of(user), session_id=started.id)


def log_out(db: Database, principal: Principal, *, clock: Clock) -> int:
    """End every session of the user (each device they are logged in on); recorded in the audit log."""
    with db.begin() as session:
        ended = end_sessions(session, principal.id, why="logout")
        audit.append(session, actor=principal.id, role=principal.main_role, action="user.logout", subject=principal.id,
                     payload={"sessions_ended": ended}, clock=clock)
    return ended


def change_own_password(db: Database, limiter: Limiter, principal: Principal, *, session_id: str, current: str,
                        new: str, client: str, clock: Clock) -> int:
    """The user chooses their own password, proving the current one (a stolen session alone cannot change it; wrong
    tries count against the login limits). Lifts the requirement an administrator's password set; every other
    session of the user ends (this one goes on). Returns how many ended. Raises ValidationFailed naming the field."""
    problems = []
    if len(new) < 8:
        problems.append(FieldError("new_password", "至少 8 个字符"))
    elif len(new) > 256:
        problems.append(FieldError("new_password", "最多 256 个字符"))
    elif new == current:
        problems.append(FieldError("new_password", "新密码不能与当前密码相同"))
    if problems:
        raise ValidationFailed(problems)
    attempt = limiter.begin(principal.username, client, clock.now())
    with db.read() as session:
        user = session.get(User, principal.id)
        ok = user is not None and user.active and verify_password(current, user.password_hash)
    if not ok:
        raise ValidationFailed.one("current_password", "当前密码不正确")
    with db.begin() as session:
        limiter.succeeded(session, principal.username, attempt)
        user = session.get(User, principal.id)
        assert user is not None
        lifted = bool(user.password_change_required)
        user.password_hash = hash_password(new)
        user.password_change_required = False
        ended = end_sessions(session, user.id, why="password", keep=session_id)
        audit.append(session, actor=user.id, role=principal.main_role, action="user.password_own", subject=user.id,
                     payload={"username": user.username, "sessions_ended": ended, "requirement_lifted": lifted},
                     clock=clock)
    return ended
