"""Logging in: the limiter first, then the password, then a new session (the token will carry its id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..audit import log as audit
from ..clock import Clock
from ..store.db import Database
from ..store.tables import User
from .auth import Principal, principal_of
from .limits import Limiter, LoginLimits, client_address
from .passwords import verify_password
from .sessions import end_sessions, start_session

# A fixed hash to spend the same time on unknown usernames (and disabled users) as on known ones.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


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
        ok = verify_password(password, user.password_hash if usable and user else _DUMMY_HASH) and usable
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
