"""回避申报: declaring and removing entries, and the declarations read (masked).

Declaring: a person adds entries (their own ID number, their relatives') for their own account; an admin of their
counties may add for them. Nothing is removed by one person: a removal (or the first half of a correction: the
right entry is added, the wrong one asked to be removed) is asked for by the owner or an admin and confirmed by an
admin who is neither the owner nor who asked. Every step is audited with the ID number masked 6+4.

The guard that keeps a recused person out of a case is `recusal/guard.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..accounts.service import visible_user, visible_users
from ..audit import log as audit
from ..clock import Clock
from ..domain import recusal as rules
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.idnumber import validate_id_number
from ..domain.masking import mask_id
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of_list
from ..store.tables import User
from ..store.vault import Vault
from . import accounts as staff_accounts
from . import guard, removal
from .models import StaffTie, StaffTieRemoval

ID_COLUMN = "staff_tie.id_number"
INDEX_KIND = "id_number"  # the members' index: a tie and a member with the same ID number have the same index
ADMIN = ("admin",)


@dataclass(frozen=True)
class Entry:
    relation: str
    id_number: str


def _clean(entries: Sequence[Entry], today: date) -> tuple[list[tuple[str, str]], list[FieldError]]:
    problems: list[FieldError] = []
    clean: list[tuple[str, str]] = []
    if not entries:
        problems.append(FieldError("entries", "请至少填写一项：关系和身份证号"))
    for i, e in enumerate(entries):
        if e.relation not in rules.RELATIONS:
            problems.append(FieldError(f"entries[{i}].relation", "请选择关系：" + "、".join(rules.RELATIONS.values())))
        try:
            clean.append((e.relation, validate_id_number(e.id_number, f"entries[{i}].id_number", today=today)))
        except ValidationFailed as exc:
            problems += exc.errors
    return clean, problems


def declare(session: Session, user_id: str, entries: Sequence[Entry], *, principal: Principal, vault: Vault,
            clock: Clock) -> list[StaffTie]:
    """Add entries to `user_id`'s declaration: by the person themselves, or an admin who manages their account."""
    owner, role = removal.declarer(session, user_id, principal, refused="只有本人或管理员可以填写回避申报")
    clean, problems = _clean(entries, clock.today())
    indexes = [vault.blind_index(idn, INDEX_KIND) for _, idn in clean]
    live, repeats = removal.repeated(session, StaffTie.id_number_bidx, owner.id, indexes,
                                     lambda i: f"entries[{i}].id_number", "该身份证号已在申报中")
    problems += repeats
    has_self = session.scalar(select(StaffTie.id).where(StaffTie.user_id == owner.id, StaffTie.relation == "self",
                                                        StaffTie.removed_at.is_(None)).limit(1)) is not None
    if sum(1 for r, _ in clean if r == "self") + has_self > 1:
        problems.append(FieldError("entries", "本人的身份证号只申报一项"))
    if live + len(clean) > rules.MAX_ENTRIES:
        problems.append(FieldError("entries", f"每个账号最多申报 {rules.MAX_ENTRIES} 项"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    rows = [StaffTie(id=new_id("tie"), user_id=owner.id, relation=r, id_number_enc=vault.seal(idn, ID_COLUMN),
                     id_number_bidx=b, declared_by=principal.id, declared_at=now)
            for (r, idn), b in zip(clean, indexes, strict=True)]
    session.add_all(rows)
    session.flush()
    guard.forget(session)
    audit.append_many(session, [
        {"actor": principal.id, "role": role, "action": "recusal.declare", "subject": owner.id,
         "payload": {"tie_id": t.id, "user": owner.username, "relation": t.relation, "id_number": mask_id(idn),
                     "by_admin": principal.id != owner.id}, "county_code": _county(owner)}
        for t, (_, idn) in zip(rows, clean, strict=True)], clock=clock)
    return rows


_county = removal.county


def _describe(vault: Vault, tie: StaffTie) -> dict[str, str]:
    return {"relation": tie.relation, "id_number": mask_id(vault.open(tie.id_number_enc, ID_COLUMN))}


TIE = removal.Kind(
    entry=StaffTie, removal=StaffTieRemoval, entry_fk="tie_id", id_prefix="tierm", id_key="tie_id", describe=_describe,
    requested="recusal.removal_requested", confirmed="recusal.removal_confirmed", refused="recusal.removal_refused",
    no_reason="请说明删除的原因（如身份证号填错、关系已不存在）", already_pending="该项已提出删除，正在等待管理员确认")



@dataclass(frozen=True)
class TieOut:
    id: str
    relation: str
    id_number: str  # masked 6+4
    declared_at: datetime
    by_admin: bool
    removal_pending: bool
    removal_id: str | None
    removal_requested_by: str | None


@dataclass(frozen=True)
class Declaration:
    user_id: str
    username: str
    display_name: str
    ties: list[TieOut]


@dataclass(frozen=True)
class PendingRemoval:
    id: str
    tie_id: str
    user_id: str
    username: str
    display_name: str
    relation: str
    id_number: str  # masked
    reason: str
    requested_by: str
    requested_by_name: str
    requested_at: datetime


def _declarations(session: Session, vault: Vault, users: Sequence[User]) -> list[Declaration]:
    ids = [u.id for u in users]
    ties: dict[str, list[StaffTie]] = {}
    for t in session.scalars(select(StaffTie).where(StaffTie.user_id.in_(ids), StaffTie.removed_at.is_(None))
                             .order_by(StaffTie.declared_at, StaffTie.id)):
        ties.setdefault(t.user_id, []).append(t)
    pending = {r.tie_id: r for r in session.scalars(select(StaffTieRemoval).where(
        StaffTieRemoval.user_id.in_(ids), StaffTieRemoval.status == "pending"))}
    return [Declaration(user_id=u.id, username=u.username, display_name=u.display_name, ties=[
        TieOut(id=t.id, relation=t.relation, id_number=mask_id(vault.open(t.id_number_enc, ID_COLUMN)),
               declared_at=t.declared_at, by_admin=t.declared_by != t.user_id, removal_pending=t.id in pending,
               removal_id=pending[t.id].id if t.id in pending else None,
               removal_requested_by=pending[t.id].requested_by if t.id in pending else None)
        for t in ties.get(u.id, [])]) for u in users]


def own_declaration(session: Session, principal: Principal, vault: Vault) -> Declaration:
    user = session.get(User, principal.id)
    if user is None:
        raise NotFound("用户不存在")
    return _declarations(session, vault, [user])[0]


def declaration_of(session: Session, principal: Principal, vault: Vault, user_id: str) -> Declaration:
    """An admin's view of one account's declaration (masked)."""
    if user_id == principal.id:
        return own_declaration(session, principal, vault)
    if not principal.has("admin"):
        raise NotFound("用户不存在")
    return _declarations(session, vault, [visible_user(session, principal, user_id)])[0]


def find_declarations(session: Session, principal: Principal, vault: Vault, *, q: str = "", page: int = 1,
                      page_size: int = PAGE_SIZE) -> Paged[Declaration]:
    """The admin's overview: one page of the accounts of their counties (by username) with their live entries
    (masked; only the page's are opened); `q` narrows it to the accounts whose name or username holds it (a county
    has hundreds of accounts). Counties are a JSON list, so the accounts are filtered here, as the users page does."""
    text = fold_search(q).casefold()
    users = page_of_list([u for u in visible_users(session, principal)
                          if not text or text in fold_search(u.display_name).casefold()
                          or text in u.username.casefold()], page, page_size)
    return Paged(items=_declarations(session, vault, users.items), total=users.total, page=users.page,
                 pages=users.pages, page_size=users.page_size)


def count_removals_to_decide(session: Session, principal: Principal) -> int:
    """Removals asked for in the admin's counties that this admin may decide (neither the entry's owner nor who
    asked), of relatives' ID numbers and of staff's own bank accounts alike: the home page's card and the heading of
    /recusal's lists of removals."""
    return removal.count_to_decide(session, (TIE, staff_accounts.ACCOUNT), principal)


def pending_removals(session: Session, principal: Principal, vault: Vault) -> list[PendingRemoval]:
    return [PendingRemoval(id=r.id, tie_id=t.id, user_id=r.user_id, username=owner.username,
                           display_name=owner.display_name, relation=t.relation,
                           id_number=mask_id(vault.open(t.id_number_enc, ID_COLUMN)), reason=r.reason,
                           requested_by=r.requested_by, requested_by_name=name, requested_at=r.requested_at)
            for r, t, owner, name in removal.pending(session, TIE, principal)]
