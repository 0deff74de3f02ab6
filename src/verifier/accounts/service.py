"""Users: created, disabled, enabled and given new passwords by an admin (or the command line), every change
recorded in the audit log (never a password or its hash). Disabling and a new password end the user's sessions."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, page_of_list
from ..store.tables import User
from . import grants
from .auth import Principal
from .passwords import hash_password
from .sessions import end_sessions

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
# What the pages, the command line and the refusals call each role.
ROLE_NAMES_ZH = {"field_officer": "核查员", "insurer_supervisor": "保险公司主管", "insurer_claims": "理赔专员",
                 "finance": "财务", "town_clerk": "乡镇经办人", "county_reviewer": "县级复核员", "auditor": "审计",
                 "admin": "管理员", "system": "系统", "none": "无角色（待确认授权）"}
CHOOSE_COUNTIES = "请写明该用户负责的县（区），或有意授予全部县（区）"
AT_LEAST_ONE_ROLE = "请至少选择一个角色"
NO_USER = "用户不存在"
PASSWORD_SHORT = "至少 8 个字符"


def unknown_role(role: str) -> str:
    """Why a role that is none of `ROLES` is refused, naming those there are."""
    return f"没有“{role}”这个角色，可用的角色：{'、'.join(f'{ROLE_NAMES_ZH.get(r, r)}({r})' for r in ROLES)}"

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    counties: list[str] | None = None,
    all_counties: bool = False,
    display_name: str | None = None,
    actor: str = "system",
    actor_role: str = "admin",
    clock: Clock,
    change_required: bool = False,
    requested: list[str] | None = None,
    bootstrap: bool = False,
) -> User:
    """A new account holding `roles` at once: the demo, the tests' factories and `open_account` (which keeps the
    guarded roles back for a second person) call this; no page, route or command does directly.

    `change_required`: the password was chosen by the administrator creating it, so it opens nothing but changing
    it until its owner has chosen their own (as after `set_password` by an administrator). `requested`: the roles
    asked for (some may be pending confirmation, see open_account), checked for being at least one."""
    problems = []
    if not _USERNAME.match(username):
        problems.append(FieldError("username", "用户名为 2 至 64 个字符：小写字母、数字、“.”“_”或“-”"))
    if not (roles if requested is None else requested):
        problems.append(FieldError("roles", AT_LEAST_ONE_ROLE))
    problems += [FieldError("roles", unknown_role(r)) for r in roles if r not in ROLES]
    counties = counties or []
    # No county limit is granted on purpose, never by leaving the counties out.
    if not counties and not all_counties:
        problems.append(FieldError("counties", CHOOSE_COUNTIES))
    if counties and all_counties:
        problems.append(FieldError("all_counties", "写明县（区）与授予全部县（区）只能二选一"))
    problems += [FieldError("counties", f"县（区）代码为 6 位数字，填写的是“{c}”") for c in counties
                 if not (len(c) == 6 and c.isdigit())]
    if len(password) < 8:
        problems.append(FieldError("password", PASSWORD_SHORT))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed.one("username", f"用户名“{username}”已被使用")
    user = User(
        id=new_id("usr"),
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=sorted(set(roles)),
        counties=sorted(set(counties)),
        active=True,
        created_at=clock.now(),
        password_change_required=change_required,
        password_set_by=actor if change_required else None,
    )
    session.add(user)
    session.flush()
    audit.append(
        session,
        actor=actor,
        role=actor_role,
        action="user.add",
        subject=user.id,
        payload={"username": username, "roles": user.roles, "counties": user.counties,
                 "all_counties": not user.counties, **({"change_required": True} if change_required else {}),
                 **({"bootstrap": True} if bootstrap else {})},
        clock=clock,
    )
    return user


def open_account(session: Session, *, username: str, password: str, roles: list[str], counties: list[str],
                 all_counties: bool, display_name: str | None, proposer: str, proposer_role: str, clock: Clock,
                 bootstrap: bool = False) -> tuple[User, list[str]]:
    """A new account opened by an administrator (page, API) or the command line: it holds the roles that move no
    money at once; each guarded role (grants.GUARDED_ROLES) is a proposal another person confirms. Its password
    must be changed at the first login. `bootstrap` (the command line, when no account could confirm): every role
    at once, recorded as such. Returns the account and the roles pending confirmation."""
    problems = [FieldError("roles", unknown_role(r)) for r in roles if r not in ROLES]
    if problems:
        raise ValidationFailed(problems)
    held = list(roles) if bootstrap else [r for r in roles if r not in grants.GUARDED_ROLES]
    user = add_user(session, username=username, password=password, roles=held, counties=counties,
                    all_counties=all_counties, display_name=display_name, actor=proposer, actor_role=proposer_role,
                    clock=clock, change_required=True, requested=roles, bootstrap=bootstrap)
    proposed = [] if bootstrap else grants.propose(session, user, list(roles), proposer=proposer,
                                                    proposer_role=proposer_role, clock=clock)
    return user, [g.role for g in proposed]


def list_users(session: Session, *, search: str = "", limit: int | None = 500) -> list[User]:
    """Users by username, those whose username or display name contains `search` (`limit` None: all)."""
    stmt = select(User).order_by(User.username).limit(limit)
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(User.username).like(pattern, escape="\\"),
                              func.lower(User.display_name).like(pattern, escape="\\")))
    return list(session.scalars(stmt))


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER)
    return user


def display_names(session: Session, user_ids: set[str]) -> dict[str, str]:
    """The display name of each of these users, keyed by id (unknown ids are absent)."""
    if not user_ids:
        return {}
    return {uid: name for uid, name in session.execute(select(User.id, User.display_name)
                                                       .where(User.id.in_(user_ids)))}


def user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户“{username}”不存在")
    return user


def disable_user(session: Session, user_id: str, *, actor: str, actor_role: str, clock: Clock) -> int:
    """Disable an account and end its sessions; returns how many sessions ended. The last active admin stays."""
    # Lock the active accounts, so two admins disabling each other at once cannot both succeed.
    active = list(session.scalars(select(User).where(User.active.is_(True)).with_for_update()))
    user = get_user(session, user_id)
    if not user.active:
        raise InvalidState("该账号已经停用。")
    if "admin" in user.roles and not any("admin" in u.roles and u.id != user.id for u in active):
        raise InvalidState("这是最后一个启用的管理员账号，停用后将无人能管理账号，因此不能停用。请先为另一位管理员开通账号。")
    user.active = False
    ended = end_sessions(session, user.id, why="disabled")
    audit.append(session, actor=actor, role=actor_role, action="user.disable", subject=user.id,
                 payload={"username": user.username, "sessions_ended": ended}, clock=clock)
    return ended


def enable_user(session: Session, user_id: str, *, actor: str, actor_role: str, clock: Clock) -> None:
    user = get_user(session, user_id)
    if user.active:
        raise InvalidState("该账号已经启用。")
    user.active = True
    audit.append(session, actor=actor, role=actor_role, action="user.enable", subject=user.id,
                 payload={"username": user.username}, clock=clock)


def set_password(session: Session, user_id: str, password: str, *, actor: str, actor_role: str,
                 clock: Clock) -> int:
    """Give a user a new password and end their sessions; returns how many ended. The log never holds it.

    Set by anyone but its owner (an administrator), the password is known to that person: the account can then do
    nothing but change it (see login.change_own_password) and log out, and its guarded roles (money, admin) wait for
    a second person's confirmation again (grants.suspend_after_reset), so nobody can act as another user with a
    password they gave them, not even after choosing "their" next one."""
    if len(password) < 8:
        raise ValidationFailed.one("password", PASSWORD_SHORT)
    if len(password) > 256:
        raise ValidationFailed.one("password", "最多 256 个字符")
    user = get_user(session, user_id)
    user.password_hash = hash_password(password)
    user.password_change_required = actor != user.id
    if actor != user.id:  # kept when the owner then chooses their own: this person knew a password of the account
        user.password_set_by = actor
    ended = end_sessions(session, user.id, why="password")
    audit.append(session, actor=actor, role=actor_role, action="user.password", subject=user.id,
                 payload={"username": user.username, "sessions_ended": ended,
                          "change_required": user.password_change_required}, clock=clock)
    grants.suspend_after_reset(session, user, actor=actor, actor_role=actor_role, clock=clock)
    return ended


def shares_a_county(viewer: Principal, user: User) -> bool:
    """Whether `viewer` may see `user`: a viewer without a county limit sees everyone; a limited one sees the users
    of their counties (a user without a limit works in every county, theirs included)."""
    if not viewer.counties or not user.counties:
        return True
    return bool(set(viewer.counties) & set(user.counties))


def find_users(session: Session, viewer: Principal, *, search: str = "", role: str = "", active: bool | None = None,
               page: int = 1, page_size: int = PAGE_SIZE) -> Paged[User]:
    """The users page: one page of the users `viewer` may see (`shares_a_county`), by username, searched by
    username or display name; `role`: those holding it (confirmed, one of ROLES); `active`: in use (True) or
    disabled (False). Counties and roles are JSON lists, so those filters run here (the table is a county's staff)."""
    seen = [u for u in list_users(session, search=search, limit=None) if shares_a_county(viewer, u)
            and (not role or role in (u.roles or ())) and (active is None or bool(u.active) == active)]
    return page_of_list(seen, page, page_size)


def visible_users(session: Session, viewer: Principal) -> list[User]:
    return [u for u in session.scalars(select(User).order_by(User.username)) if shares_a_county(viewer, u)]


def visible_user(session: Session, viewer: Principal, user_id: str) -> User:
    """The user, if the viewer may see them; another county's user does not exist for them (404)."""
    user = session.get(User, user_id)
    if user is None or not shares_a_county(viewer, user):
        raise NotFound(NO_USER)
    return user


def may_manage(viewer: Principal, counties: list[str] | tuple[str, ...]) -> bool:
    """Whether `viewer` may create or change an account limited to `counties` (empty: every county). An admin with
    no county limit manages everyone; a county-limited admin only accounts limited to some of their own counties,
    never one that reaches further than they do (which would let them read or act beyond their counties)."""
    if not viewer.counties:
        return True
    return bool(counties) and set(counties) <= set(viewer.counties)


def manageable_user(session: Session, viewer: Principal, user_id: str) -> User:
    """The user, if the viewer may change their account: another county's user is 404, one reaching further 403."""
    user = visible_user(session, viewer, user_id)
    if not may_manage(viewer, user.counties or []):
        raise Forbidden("您的管理权限限于本县（区），不能管理权限超出本县（区）的账号")
    return user


def add_roles(session: Session, viewer: Principal, user_id: str, roles: list[str], *, clock: Clock,
              actor_role: str = "admin") -> tuple[User, list[str]]:
    """Give an existing account more roles: those that move no money at once, each guarded role as a proposal another
    person confirms (grants.propose). Nobody changes the roles of their own account. Returns the account and the
    roles newly pending."""
    user = manageable_user(session, viewer, user_id)
    problems = [FieldError("roles", unknown_role(r)) for r in roles if r not in ROLES]
    if not roles:
        problems.append(FieldError("roles", AT_LEAST_ONE_ROLE))
    if problems:
        raise ValidationFailed(problems)
    if viewer.id == user.id:
        raise Forbidden(grants.OWN_GRANT)
    at_once = sorted({r for r in roles if r not in grants.GUARDED_ROLES} - set(user.roles or ()))
    if at_once:
        user.roles = sorted(set(user.roles or ()) | set(at_once))
        audit.append(session, actor=viewer.id, role=actor_role, action="user.roles", subject=user.id,
                     payload={"username": user.username, "added": at_once, "roles": user.roles}, clock=clock)
    proposed = grants.propose(session, user, roles, proposer=viewer.id, proposer_role=actor_role, clock=clock)
    return user, [g.role for g in proposed]
