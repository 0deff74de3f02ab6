"""The removal flow shared by both declarations of 回避申报 (a tie: a relative's ID number; a staff member's own bank
account): asked for by the entry's owner or an admin, confirmed or refused by an admin who is neither the owner nor
who asked (`domain/recusal.removal_problem`), every step audited. A `Kind` says which tables, words and payload."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..accounts.service import manageable_user, visible_user, visible_users
from ..audit import log as audit
from ..clock import Clock
from ..domain import recusal as rules
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..roster.service import PASSWORD_LINK
from ..store.base import new_id
from ..store.tables import User
from ..store.vault import Vault
from . import refusals
from .models import TIES_READ


@dataclass(frozen=True)
class Kind:
    entry: Any  # the entry's table (StaffTie, StaffAccount)
    removal: Any  # its removal table (StaffTieRemoval, StaffAccountRemoval)
    entry_fk: str  # the removal's column naming the entry
    id_prefix: str  # new_id prefix of a removal
    requested: str  # the audit actions: asked for, confirmed, refused (each has its label in web/labels.ACTIONS)
    confirmed: str
    refused: str
    id_key: str  # the payload key naming the entry
    describe: Callable[[Vault, Any], dict[str, Any]]  # the entry's masked payload fields
    no_reason: str
    already_pending: str
    forbidden: Callable[[str], str] = lambda why: why


def county(user: User) -> str | None:
    counties = list(user.counties or ())
    return counties[0] if len(counties) == 1 else None


def declarer(session: Session, user_id: str, principal: Principal, *, refused: str) -> tuple[User, str]:
    """Who may add to `user_id`'s declaration (either kind): the person, or an admin who manages their account.
    (the owner, the audit role)"""
    if user_id == principal.id:
        owner = session.get(User, user_id)
        if owner is None:
            raise NotFound("用户不存在")
        return owner, principal.main_role
    if principal.has("admin"):
        return manageable_user(session, principal, user_id), "admin"
    raise Forbidden(refused)


def repeated(session: Session, index: Any, owner_id: str, indexes: Sequence[str], field: Callable[[int], str],
             message: str) -> tuple[int, list[FieldError]]:
    """How many entries `owner_id` has in force in `index`'s table (either kind), and a problem (`field(i)`,
    `message`) for each of `indexes` already among them or twice in the list."""
    table = index.class_
    live = set(session.scalars(select(index).where(table.user_id == owner_id, table.removed_at.is_(None))))
    problems: list[FieldError] = []
    seen: set[str] = set()
    for i, ix in enumerate(indexes):
        if ix in live or ix in seen:
            problems.append(FieldError(field(i), message))
        seen.add(ix)
    return len(live), problems


def entry_for(session: Session, kind: Kind, entry_id: str, principal: Principal, *, for_update: bool = False) -> Any:
    """A live entry its owner, or an admin who manages the owner, may act on (else 404)."""
    stmt = select(kind.entry).where(kind.entry.id == entry_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None or row.removed_at is not None:
        raise NotFound("没有这条申报，或已经删除")
    if row.user_id != principal.id:
        if not principal.has("admin"):
            raise NotFound("没有这条申报，或已经删除")
        manageable_user(session, principal, row.user_id)
    return row


def request_removal(session: Session, kind: Kind, entry_id: str, *, reason: str, principal: Principal,
                    vault: Vault, clock: Clock) -> Any:
    """Ask that an entry be removed (by its owner or an admin); it stays in force until another admin confirms."""
    row = entry_for(session, kind, entry_id, principal, for_update=True)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.one("reason", kind.no_reason)
    if len(reason) > 500:
        raise ValidationFailed.one("reason", "原因最多 500 个字")
    fk = getattr(kind.removal, kind.entry_fk)
    if session.scalar(select(kind.removal.id).where(fk == row.id, kind.removal.status == "pending")):
        raise InvalidState(kind.already_pending)
    removal = kind.removal(id=new_id(kind.id_prefix), **{kind.entry_fk: row.id}, user_id=row.user_id, reason=reason,
                           status="pending", requested_by=principal.id, requested_at=clock.now())
    session.add(removal)
    session.flush()
    owner = session.get(User, row.user_id)
    action = kind.requested
    audit.append(session, actor=principal.id, role="admin" if principal.id != row.user_id else principal.main_role,
                 action=action, subject=row.user_id,
                 payload={kind.id_key: row.id, "removal_id": removal.id, **kind.describe(vault, row),
                          "reason": audit.text_digest(reason)},
                 clock=clock, county_code=None if owner is None else county(owner))
    return removal


LINKED_DECIDER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK + "，须由另一位管理员确认")


def linked_decider(session: Session, owner_id: str, requested_by: str, principal: Principal) -> str | None:
    """Why `principal` may not decide a removal through an account linked by a password to the owner's or to the
    requester's (what `decide_removal` refuses with), or None: the admin page shows it instead of the buttons."""
    parts = {requested_by: "提出删除的人", owner_id: "申报人"}
    return refusals.linked_said(session, principal, [refusals.LinkedPart(who, LINKED_DECIDER.format(part=part))
                                                     for who, part in sorted(parts.items())])


def decide_removal(session: Session, kind: Kind, removal_id: str, *, confirm: bool, note: str = "",
                   principal: Principal, vault: Vault, clock: Clock) -> Any:
    """An admin other than the owner and the requester confirms (the entry is removed) or refuses (it stays)."""
    removal = session.scalar(select(kind.removal).where(kind.removal.id == removal_id).with_for_update())
    if removal is None:
        raise NotFound("没有这条删除申请")
    owner = visible_user(session, principal, removal.user_id)
    why = rules.removal_problem(owner=removal.user_id, requester=removal.requested_by, confirmer=principal.id,
                                confirmer_is_admin=principal.has("admin"))
    if why is None:  # nor through an account linked to the owner's or the requester's by a password
        why = linked_decider(session, removal.user_id, removal.requested_by, principal)
    if why is not None:
        raise Forbidden(kind.forbidden(why))
    manageable_user(session, principal, removal.user_id)
    if removal.status != "pending":
        raise InvalidState("该删除申请已处理")
    row = session.get(kind.entry, getattr(removal, kind.entry_fk))
    assert row is not None
    now = clock.now()
    removal.status = "confirmed" if confirm else "refused"
    removal.decided_by, removal.decided_at, removal.note = principal.id, now, (note or "").strip() or None
    if confirm:
        row.removed_at, row.removed_by = now, principal.id
        session.info.pop(TIES_READ, None)  # the ties read in this transaction (recusal/guard.py) are stale now
    session.flush()
    action = kind.confirmed if confirm else kind.refused
    audit.append(session, actor=principal.id, role="admin", action=action, subject=owner.id,
                 payload={kind.id_key: row.id, "removal_id": removal.id, **kind.describe(vault, row),
                          "requested_by": removal.requested_by},
                 clock=clock, county_code=county(owner))
    return removal


def count_to_decide(session: Session, kinds: Sequence[Kind], principal: Principal) -> int:
    """Removals of `kinds` waiting over the accounts `principal` sees that `principal` may decide: neither the
    entry's owner nor who asked, nor linked to either's account by a password (`linked_decider`)."""
    users = {u.id for u in visible_users(session, principal)}
    return sum(1 for kind in kinds for user_id, asked_by in session.execute(
        select(kind.removal.user_id, kind.removal.requested_by).where(kind.removal.status == "pending"))
        if user_id in users and principal.id not in (user_id, asked_by)
        and linked_decider(session, user_id, asked_by, principal) is None)


def pending(session: Session, kind: Kind, principal: Principal) -> list[tuple[Any, Any, User, str]]:
    """The removals waiting for a decision over the accounts `principal` sees, oldest first:
    (removal, entry, owner, the requester's display name)."""
    users = {u.id: u for u in visible_users(session, principal)}
    fk = getattr(kind.removal, kind.entry_fk)
    rows = [(r, e) for r, e in session.execute(
        select(kind.removal, kind.entry).join(kind.entry, kind.entry.id == fk)
        .where(kind.removal.status == "pending").order_by(kind.removal.requested_at)).tuples()
        if r.user_id in users]
    names = {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(
        User.id.in_(sorted({r.requested_by for r, _ in rows}))))}
    return [(r, e, users[r.user_id], names.get(r.requested_by, r.requested_by)) for r, e in rows]
