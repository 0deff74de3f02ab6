"""Users: created by an admin (or the command line), every change recorded in the audit log."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..store.base import new_id
from ..store.tables import User
from .auth import Principal
from .passwords import hash_password

ROLES = (
    "field_officer",
    "insurer_supervisor",
    "insurer_claims",
    "finance",
    "town_clerk",
    "county_reviewer",
    "auditor",
    "admin",
)
ROLE_LABELS_ZH = {
    "field_officer": "核查员",
    "insurer_supervisor": "保险公司主管",
    "insurer_claims": "理赔专员",
    "finance": "财务",
    "town_clerk": "乡镇经办人",
    "county_reviewer": "县级复核员",
    "auditor": "审计",
    "admin": "管理员",
}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    counties: list[str] | None = None,
    display_name: str | None = None,
    actor: str = "system",
    actor_role: str = "admin",
    clock: Clock,
) -> User:
    problems = []
    if not _USERNAME.match(username):
        problems.append(FieldError("username", "2 to 64 characters: lower-case letters, digits, '.', '_' or '-'"))
    if not roles:
        problems.append(FieldError("roles", "at least one role is needed"))
    problems += [FieldError("roles", f"unknown role {r!r}; known: {', '.join(ROLES)}") for r in roles if r not in ROLES]
    counties = counties or []
    problems += [FieldError("counties", f"a county code is six digits, got {c!r}") for c in counties if not (len(c) == 6 and c.isdigit())]
    if len(password) < 8:
        problems.append(FieldError("password", "at least 8 characters"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed.one("username", f"user {username!r} already exists")
    user = User(
        id=new_id("usr"),
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=sorted(set(roles)),
        counties=sorted(set(counties)),
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor=actor,
        role=actor_role,
        action="user.add",
        subject=user.id,
        payload={"username": username, "roles": user.roles, "counties": user.counties},
        clock=clock,
    )
    return user


def shares_a_county(viewer: Principal, user: User) -> bool:
    """Whether `viewer` may see `user`: a viewer without a county limit sees everyone; a limited one sees the users
    of their counties (a user without a limit works in every county, theirs included)."""
    if not viewer.counties or not user.counties:
        return True
    return bool(set(viewer.counties) & set(user.counties))


def visible_users(session: Session, viewer: Principal) -> list[User]:
    return [u for u in session.scalars(select(User).order_by(User.username)) if shares_a_county(viewer, u)]


def visible_user(session: Session, viewer: Principal, user_id: str) -> User:
    """The user, if the viewer may see them; another county's user does not exist for them (404)."""
    user = session.get(User, user_id)
    if user is None or not shares_a_county(viewer, user):
        raise NotFound("no such user")
    return user
