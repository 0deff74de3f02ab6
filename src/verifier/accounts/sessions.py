"""Sessions: every token names one, every request checks it is still open, and logout, a new password or disabling
end all of a user's sessions at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from ..clock import Clock
from ..recusal.models import StaffTie
from ..store.base import new_id
from ..store.reader import Prepared, Steps
from ..store.tables import User
from .models import UserSession

T = TypeVar("T")

TOKEN_LIFETIME = timedelta(hours=12)
# Sessions live in real time, like the tokens that carry them (Litestar checks a token's expiry against the real
# clock), not on the scheme's business clock, which offices and tests may set to another day.
REAL_TIME = Clock()


def start_session(session: Session, user_id: str) -> UserSession:
    now = REAL_TIME.now()
    row = UserSession(id=new_id("ses"), user_id=user_id, created_at=now, expires_at=now + TOKEN_LIFETIME)
    session.add(row)
    session.flush()
    return row


def open_session_user(session: Session, session_id: str, user_id: str) -> User | None:
    """The active user of an open session: one lookup by the session's key, joined with its user."""
    return session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == session_id, UserSession.user_id == user_id, UserSession.ended_at.is_(None),
               UserSession.expires_at > REAL_TIME.now(), User.active.is_(True)))


# Prepared once: the lookup every request makes. Columns, not the User entity: the Principal is all a request needs.
# `tied`: whether the user has a live 回避 declaration (an index probe of `ix_staff_tie_user_id`, no row for almost
# everyone): a Principal without one is refused nothing by the recusal guard without reading ties again
# (recusal/guard.py, `refuse_principal`). Read with the session, so a tie declared is in force from the next request.
_TIED = exists().where(StaffTie.user_id == User.id, StaffTie.removed_at.is_(None)).label("tied")
OPEN_SESSION_USER = Prepared(
    select(User.id, User.username, User.display_name, User.roles, User.counties, User.password_change_required,
           _TIED)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.id == bindparam("session_id"), UserSession.user_id == bindparam("user_id"),
           UserSession.ended_at.is_(None), UserSession.expires_at > bindparam("now"), User.active.is_(True)))


def open_session_steps(session_id: str, user_id: str) -> Steps[Any | None]:
    """`open_session_user`'s test, as a prepared read in steps (store/reader.py; the event loop runs it with
    `Database.ask`): (id, username, display_name, roles, counties, password_change_required, tied) or None."""
    rows, = yield [session_lookup(session_id, user_id)]
    return rows[0] if rows else None


def open_session_and_steps(session_id: str, user_id: str, steps: Steps[T]) -> Steps[tuple[Any | None, T | None]]:
    """`open_session_steps` with the route's own reads (`steps`), their first batch sent with it (one round trip on
    PostgreSQL, one read transaction on SQLite): (the session's row, what `steps` read). A session refused has
    nothing more: what was read with it is dropped here, never handed on, and `steps` go no further."""
    first = next(steps)
    rows, *read = yield [session_lookup(session_id, user_id), *first]
    if not rows:
        steps.close()
        return None, None
    try:
        batch = steps.send(read)
        while True:
            batch = steps.send((yield batch))
    except StopIteration as done:
        return rows[0], done.value


def session_lookup(session_id: str, user_id: str) -> tuple[Prepared, dict[str, Any]]:
    """The session lookup as a prepared read with its values, for a batch of other reads (one row as
    `open_session_steps` reads it, or none: the session is refused)."""
    return OPEN_SESSION_USER, {"session_id": session_id, "user_id": user_id, "now": REAL_TIME.now()}


def end_sessions(session: Session, user_id: str, *, why: str, keep: str | None = None) -> int:
    """End every open session of a user (but `keep`, when named); returns how many were ended."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None),
                                     UserSession.expires_at > REAL_TIME.now())
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep)
    result = session.execute(stmt.values(ended_at=REAL_TIME.now(), ended_by=why))
    return int(result.rowcount or 0)


def open_session_counts(session: Session) -> dict[str, int]:
    """How many open sessions each user has (for the user lists)."""
    rows = session.execute(select(UserSession.user_id, func.count()).where(
        UserSession.ended_at.is_(None), UserSession.expires_at > REAL_TIME.now()).group_by(UserSession.user_id))
    return {uid: int(n) for uid, n in rows}
