"""Guarded roles take two people: one proposes a grant, another confirms it; until then the account does not hold it.

The guarded roles are those that move or sign off money (finance, claims, the insurer's supervisor, the county
reviewer), those that confirm grants (admin, county reviewer), those whose holder is the second person of another's
act (town clerk, field officer) and the one that reads everything of its counties (auditor: every case's evidence,
the households' personal data, the audit log): an administrator alone cannot give themselves, or an account they hold
the password of, a role that pays, nor make a second administrator to confirm for them, nor open two clerks to be
"two people", nor open an auditor's account and read a county's households through it.

- A password set by someone other than its owner suspends the account's guarded roles into grants that person
  proposed (`suspend_after_reset`): resetting a finance officer's password does not let an administrator act as them.
- Nobody proposes a grant to their own account; nobody confirms a grant they proposed or one to their own account;
  nor does an account whose password the proposer last set (they knew a password of it).
- A grant is confirmed by an active admin or county reviewer reaching every county of the account.
- Every proposal, confirmation and refusal is an audit entry in the same transaction as the change.
- The command line proposes as `cli:<operator>`; only while fewer than two accounts ever could confirm (the first
  admin and county reviewer of a new installation; disabling or resetting them later does not count them out, and an
  account whose confirming role was only ever proposed never counts in)
  does it grant at once, recorded as a bootstrap (`bootstrap_allowed`). The operator set the passwords of the accounts they made, so those never confirm what the
  command line proposes: an account opened in the application (by another person) does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, page_of_list, text_search
from ..store.tables import User
from .auth import Principal
from .models import RoleGrant

# A grant's status, in a refusal (the pages' labels read the same dict).
GRANT_STATUS_ZH = {"pending": "待确认", "confirmed": "已确认", "refused": "已拒绝"}
OWN_GRANT = "不能给自己的账号增加角色：须由另一位管理员提出"
NO_GRANT = "没有找到这项角色授权，或不在您的权限范围内"

MONEY_ROLES = ("finance", "insurer_claims", "insurer_supervisor", "county_reviewer")
SECOND_PERSON_ROLES = ("town_clerk", "field_officer")
"""Roles whose holder is the second person of another's act (a clerk confirming a screen-out, a failed village review
or a notice on the wall; the insurer's officer at the wall): granted at once by one admin, two accounts of the same
admin would be "two people"."""
READER_ROLES = ("auditor",)
"""Roles that read everything of their counties (the evidence of every check, the households' ID numbers, accounts
and phones as their pages show them, the audit log) and change nothing: granted at once by one admin, an admin alone
would open one and read a county's households through it."""
CONFIRMER_ROLES = ("admin", "county_reviewer")
GUARDED_ROLES = MONEY_ROLES + SECOND_PERSON_ROLES + READER_ROLES + ("admin",)


def guarded(roles: list[str] | tuple[str, ...]) -> list[str]:
    return sorted({r for r in roles if r in GUARDED_ROLES})


def _reaches(confirmer: Principal | User, user: User) -> bool:
    """Whether `confirmer` reaches every county of `user` (a confirmer with no county limit reaches all)."""
    mine = set(confirmer.counties or ())
    return not mine or (bool(user.counties) and set(user.counties) <= mine)


def bootstrap_allowed(session: Session) -> bool:
    """The first guarded accounts of an installation: fewer than two accounts ever could confirm grants, so no
    proposal could have a second person to confirm it (the operator sets up the first admin and county reviewer).
    Once two accounts have held a confirming role the setup is over for good: counted are the accounts holding one
    now, active or disabled (disabling one does not bring the setup back), those a grant of one was confirmed for,
    and those the log says held one (their `user.add`, `user.roles` or `user.role.confirm` entry lists it in the
    roles the account then held): a role a password reset then suspended into a grant (`suspend_after_reset`) was
    held, so resetting the confirmers' passwords does not bring the setup back either. A grant never confirmed does
    not count, whatever happened to its account since (a password reset included): such an account never could
    confirm, and the first admin may propose a county reviewer in the application that only the command line's
    setup can then give a confirmer."""
    held = {uid for uid, roles in session.execute(select(User.id, User.roles)).tuples()
            if any(r in CONFIRMER_ROLES for r in roles or ())}
    if len(held) >= 2:
        return False
    held |= set(session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role.in_(CONFIRMER_ROLES), RoleGrant.status == "confirmed").distinct()))
    return len(held | _logged_holders(session)) < 2


def _logged_holders(session: Session) -> set[str]:
    """The accounts an entry of the log shows holding a confirming role (the roles held after the step)."""
    from ..audit.canonical import decode_entry
    from ..audit.models import AuditEntry

    out = set()
    for subject, entry in session.execute(select(AuditEntry.subject, AuditEntry.entry).where(
            AuditEntry.action.in_(("user.add", "user.roles", "user.role.confirm")))).tuples():
        roles = decode_entry(entry).payload.get("roles")
        if isinstance(roles, list) and any(r in CONFIRMER_ROLES for r in roles):
            out.add(subject)
    return out


def propose(session: Session, user: User, roles: list[str], *, proposer: str, proposer_role: str,
            clock: Clock) -> list[RoleGrant]:
    """Propose the guarded `roles` for `user` (roles held or already pending are skipped); one audit entry each."""
    if proposer == user.id:
        raise Forbidden(OWN_GRANT)
    pending = set(session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user.id,
                                                               RoleGrant.status == "pending")))
    made = []
    for role in guarded(roles):
        if role in (user.roles or ()) or role in pending:
            continue
        grant = RoleGrant(id=new_id("rgr"), user_id=user.id, role=role, status="pending", proposed_by=proposer,
                          proposed_at=clock.now())
        session.add(grant)
        made.append(grant)
    session.flush()
    for grant in made:
        audit.append(session, actor=proposer, role=proposer_role, action="user.role.propose", subject=user.id,
                     payload={"grant_id": grant.id, "username": user.username, "role": grant.role,
                              "counties": list(user.counties or ())}, clock=clock)
    return made


def suspend_after_reset(session: Session, user: User, *, actor: str, actor_role: str, clock: Clock) -> list[str]:
    """A password set by someone other than its owner: that person knows it and could choose the owner's next one,
    so the account's guarded roles wait for a second person again, proposed by them (never confirmed by them).
    The command line keeps them while the installation could not confirm (`bootstrap_allowed`). Returns the roles
    suspended."""
    held = guarded(user.roles or [])
    if actor == user.id or not held or (actor.startswith("cli:") and bootstrap_allowed(session)):
        return []
    user.roles = sorted(set(user.roles or ()) - set(held))
    session.flush()
    propose(session, user, held, proposer=actor, proposer_role=actor_role, clock=clock)
    return held


def _pending(session: Session, grant_id: str, decider: Principal) -> tuple[RoleGrant, User]:
    grant = session.scalar(select(RoleGrant).where(RoleGrant.id == grant_id).with_for_update())
    user = session.scalar(select(User).where(User.id == grant.user_id).with_for_update()) if grant else None
    if grant is None or user is None or not _reaches(decider, user):
        raise NotFound(NO_GRANT)
    if grant.status != "pending":
        raise InvalidState(f"该角色授权{GRANT_STATUS_ZH.get(grant.status, grant.status)}")
    if not decider.has(*CONFIRMER_ROLES):
        raise Forbidden("只有管理员或县级复核员可以确认或拒绝角色授权")
    if decider.id == user.id:
        raise Forbidden("不能确认或拒绝给自己账号的角色授权")
    return grant, user


SET_BY_PROPOSER = "按“四眼原则”，您账号的密码最近一次是由提出人设置的（其知道过该密码），须由另一位管理员或县级复核员确认"
LINKED_PROPOSER = ("按“四眼原则”，您的账号与提出人的账号有密码关联" + PASSWORD_LINK
                   + "，须由另一位管理员或县级复核员确认")


def linked_confirmer(session: Session, grant: RoleGrant, confirmer: Principal) -> str | None:
    """Why `confirmer` may not confirm `grant` through an account linked to its proposer's by a password (what
    `confirm` refuses with), or None: the pending grants page shows it instead of the button. The proposer set the
    confirmer's password last: said so; else either set a password of the other, or one person set both and either
    has not changed it (`recusal.refusals.linked_said`)."""
    own_setter = session.scalar(select(User.password_set_by).where(User.id == confirmer.id))
    if own_setter is not None and own_setter == grant.proposed_by:
        return SET_BY_PROPOSER
    return recusal_refusals.linked_said(session, confirmer, [recusal_refusals.LinkedPart(grant.proposed_by,
                                                                                         LINKED_PROPOSER)])


def confirm(session: Session, grant_id: str, *, confirmer: Principal, clock: Clock) -> RoleGrant:
    """The account holds the role from now on; refused to the proposer and to an account linked to theirs by a
    password (`linked_confirmer`)."""
    grant, user = _pending(session, grant_id, confirmer)
    if confirmer.id == grant.proposed_by:
        raise Forbidden("按“四眼原则”，这项角色授权是您提出的，须由另一位管理员或县级复核员确认")
    own = session.get(User, confirmer.id)
    if own is None or not own.active:
        raise Forbidden("已停用的账号不能确认角色授权")
    linked = linked_confirmer(session, grant, confirmer)  # nor the proposer's own second account, either way
    if linked is not None:
        raise Forbidden(linked)
    if not user.active:
        raise InvalidState("该账号已停用：请先启用，再确认角色授权")
    user.roles = sorted(set(user.roles or ()) | {grant.role})
    grant.status, grant.decided_by, grant.decided_at = "confirmed", confirmer.id, clock.now()
    audit.append(session, actor=confirmer.id, role=confirmer.acting_role(CONFIRMER_ROLES), action="user.role.confirm",
                 subject=user.id, payload={"grant_id": grant.id, "username": user.username, "role": grant.role,
                                           "proposed_by": grant.proposed_by, "roles": user.roles}, clock=clock)
    return grant


def refuse(session: Session, grant_id: str, *, refuser: Principal, reason: str, clock: Clock) -> RoleGrant:
    """The grant ends unconfirmed (its proposer may also withdraw it this way); the reason is logged by its hash."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写拒绝的理由")
    if len(reason) > 1000:
        raise ValidationFailed.one("reason", "最多 1000 个字符")
    grant, user = _pending(session, grant_id, refuser)
    grant.status, grant.decided_by, grant.decided_at = "refused", refuser.id, clock.now()
    grant.refusal_reason = reason
    audit.append(session, actor=refuser.id, role=refuser.acting_role(CONFIRMER_ROLES), action="user.role.refuse",
                 subject=user.id, payload={"grant_id": grant.id, "username": user.username, "role": grant.role,
                                           "proposed_by": grant.proposed_by, "reason": audit.text_digest(reason)},
                 clock=clock)
    return grant


@dataclass(frozen=True)
class GrantRow:
    grant: RoleGrant
    username: str
    display_name: str
    counties: list[str]
    proposer: str  # the proposer's username, or `cli:<operator>`
    refused: str | None = None  # why the viewer may not confirm it (an account linked to the proposer's)


def find_grants(session: Session, viewer: Principal, *, status: str = "pending", search: str = "", page: int = 1,
                page_size: int = PAGE_SIZE) -> Paged[GrantRow]:
    """The grants of `status` to accounts the viewer reaches, newest first, searched by username or display name."""
    proposer = aliased(User)
    stmt = (select(RoleGrant, User, proposer.username)
            .join(User, User.id == RoleGrant.user_id)
            .outerjoin(proposer, proposer.id == RoleGrant.proposed_by)
            .where(RoleGrant.status == status)
            .order_by(RoleGrant.proposed_at.desc(), RoleGrant.id))
    q = fold_search(search)
    if q:
        stmt = stmt.where(text_search(q.lower(), [func.lower(User.username), func.lower(User.display_name)]))
    if viewer.counties:  # counties are a JSON list: the reach is checked on the rows (a county's staff is small)
        found = page_of_list([r for r in session.execute(stmt).tuples() if _reaches(viewer, r[1])], page, page_size)
    else:
        found = page_of(session, stmt, page, page_size, rows=True)
    return found.map(lambda r: GrantRow(
        grant=r[0], username=r[1].username, display_name=r[1].display_name, counties=list(r[1].counties or ()),
        proposer=r[2] or r[0].proposed_by,
        refused=linked_confirmer(session, r[0], viewer) if status == "pending" and r[0].proposed_by != viewer.id
        else None))


def pending_roles(session: Session, user_ids: list[str]) -> dict[str, list[str]]:
    """The roles pending confirmation, per account."""
    out: dict[str, list[str]] = {}
    if user_ids:
        for uid, role in session.execute(select(RoleGrant.user_id, RoleGrant.role).where(
                RoleGrant.user_id.in_(user_ids), RoleGrant.status == "pending").order_by(RoleGrant.role)):
            out.setdefault(uid, []).append(role)
    return out
