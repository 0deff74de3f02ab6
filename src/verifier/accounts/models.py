"""Login sessions (one per issued token, ended at once by logout, a new password or disabling) and the record of
login attempts the limiter counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


class UserSession(Base):
    """A token's session: the token carries its id, and every request checks it is still open."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # logout | password | disabled


class LoginAttempt(Base):
    """One login attempt in a limiter bucket (an account or a client address, kept only as a SHA-256).

    A row is written before the password is checked and removed again when the attempt succeeds, so what stays is
    the failures; rows older than the limiter's window are pruned. A look-up by whole ID number counted against an
    allowance (accounts/probes.py) keeps the number's `digest` (keyed by the bucket, never the number): the
    allowance counts distinct digests."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


_PENDING = text("status = 'pending'")


class RoleGrant(Base):
    """A role proposed for an account by one person and confirmed (or refused) by another (see accounts/grants.py).

    The account holds a guarded role only once a grant of it is confirmed; a pending or refused grant gives nothing."""

    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'refused')", name="status_known"),
        Index("ix_role_grant_status_proposed", "status", "proposed_at"),
        # One pending grant of a role per account: a second proposal of it waits on the first.
        Index("uq_role_grant_pending", "user_id", "role", unique=True, postgresql_where=_PENDING,
              sqlite_where=_PENDING),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[str] = mapped_column(String(64))  # a user id, or `cli:<operator>` for the command line
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
