"""工作人员本人账户: the bank accounts of a staff member's own, declared beside their ties (回避申报).

A person adds their own accounts (salary account, any account they control); an admin of their counties may add them
for the person (from HR's list). Each is sealed (`staff_account.account_number`) and indexed by the SAME keyed blind
index as a payee account (`payments/one_account.account_index`), shown masked (last 4) everywhere, and removed only
through a removal asked for (owner or admin) and confirmed by an admin who is neither the owner nor who asked
(`domain/recusal.removal_problem`, as for a tie). Every step is audited with the account masked and its index.

Where it is read (never on a check's write path): batch preparation holds a case whose payee is a live staff account
(`one_account.held_reasons`); the payee-change and determination pages warn (no name); approving a payee change onto
one's own account is refused (`owners`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, ValidationFailed
from ..domain.masking import mask_account
from ..payments.one_account import account_index
from ..store.base import new_id
from ..store.vault import Vault
from . import removal
from .models import StaffAccount, StaffAccountRemoval

COLUMN = "staff_account.account_number"
MAX_ACCOUNTS = 10
OWN_ACCOUNT = "收款账户为工作人员本人账户"
"""The hold's reason and the warning's words: whose account is never said."""
OWN_ACCOUNT_REFUSED = "收款账户为您本人申报的账户，不能由您批准：请交由其他人员办理"


def owners(session: Session, indexes: Collection[str]) -> dict[str, set[str]]:
    """The live staff accounts among `indexes`: index → the users who declared it."""
    wanted = sorted({ix for ix in indexes if ix})
    out: dict[str, set[str]] = {}
    for start in range(0, len(wanted), 500):
        for user, ix in session.execute(select(StaffAccount.user_id, StaffAccount.account_index).where(
                StaffAccount.account_index.in_(wanted[start:start + 500]), StaffAccount.removed_at.is_(None))):
            out.setdefault(ix, set()).add(user)
    return out


_county = removal.county


def declare(session: Session, user_id: str, numbers: Sequence[str], *, principal: Principal, vault: Vault,
            clock: Clock) -> list[StaffAccount]:
    """Add bank accounts to `user_id`'s own accounts: by the person, or an admin who manages their account."""
    owner, role = removal.declarer(session, user_id, principal, refused="只有本人或管理员可以填写本人账户")
    problems: list[FieldError] = []
    clean: list[str] = []
    if not numbers:
        problems.append(FieldError("accounts", "请至少填写一个银行账号"))
    for i, raw in enumerate(numbers):
        number = "".join(str(raw).split())
        if not (number.isdigit() and number.isascii() and 8 <= len(number) <= 30):
            problems.append(FieldError(f"accounts[{i}]", "银行账号应为 8 至 30 位数字"))
        clean.append(number)
    indexes = [account_index(vault, n) for n in clean]
    live, repeats = removal.repeated(session, StaffAccount.account_index, owner.id, indexes,
                                     lambda i: f"accounts[{i}]", "该银行账号已在申报中")
    problems += repeats
    if live + len(clean) > MAX_ACCOUNTS:
        problems.append(FieldError("accounts", f"每个账号最多申报 {MAX_ACCOUNTS} 个本人银行账户"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    rows = [StaffAccount(id=new_id("sacc"), user_id=owner.id, account_number_enc=vault.seal(n, COLUMN),
                         account_index=ix, declared_by=principal.id, declared_at=now)
            for n, ix in zip(clean, indexes, strict=True)]
    session.add_all(rows)
    session.flush()
    audit.append_many(session, [
        {"actor": principal.id, "role": role, "action": "staff_account.declare", "subject": owner.id,
         "payload": {"staff_account_id": a.id, "user": owner.username, "account_number": mask_account(n),
                     "account_hmac": a.account_index, "by_admin": principal.id != owner.id},
         "county_code": _county(owner)}
        for a, n in zip(rows, clean, strict=True)], clock=clock)
    return rows


def _describe(vault: Vault, row: StaffAccount) -> dict[str, str]:
    return {"account_number": mask_account(vault.open(row.account_number_enc, COLUMN)),
            "account_hmac": row.account_index}


ACCOUNT = removal.Kind(
    entry=StaffAccount, removal=StaffAccountRemoval, entry_fk="account_id", id_prefix="saccrm",
    id_key="staff_account_id", describe=_describe, requested="staff_account.removal_requested",
    confirmed="staff_account.removal_confirmed", refused="staff_account.removal_refused",
    no_reason="请说明删除的原因（如账号填错、账户已注销）", already_pending="该账户已提出删除，正在等待管理员确认",
    forbidden=lambda why: why.replace("本人的回避申报", "您本人申报的银行账户").replace("回避申报", "工作人员本人账户"))



@dataclass(frozen=True)
class AccountOut:
    id: str
    account_number: str  # masked, last 4
    declared_at: datetime
    by_admin: bool
    removal_pending: bool
    removal_id: str | None


@dataclass(frozen=True)
class PendingRemoval:
    id: str
    account_id: str
    user_id: str
    username: str
    display_name: str
    account_number: str  # masked
    reason: str
    requested_by: str
    requested_by_name: str
    requested_at: datetime


def accounts_of(session: Session, vault: Vault, user_ids: Sequence[str]) -> dict[str, list[AccountOut]]:
    out: dict[str, list[AccountOut]] = {u: [] for u in user_ids}
    if not user_ids:
        return out
    pending = {r.account_id: r for r in session.scalars(select(StaffAccountRemoval).where(
        StaffAccountRemoval.user_id.in_(list(user_ids)), StaffAccountRemoval.status == "pending"))}
    for a in session.scalars(select(StaffAccount).where(StaffAccount.user_id.in_(list(user_ids)),
                                                        StaffAccount.removed_at.is_(None))
                             .order_by(StaffAccount.declared_at, StaffAccount.id)):
        out[a.user_id].append(AccountOut(
            id=a.id, account_number=mask_account(vault.open(a.account_number_enc, COLUMN)),
            declared_at=a.declared_at, by_admin=a.declared_by != a.user_id, removal_pending=a.id in pending,
            removal_id=pending[a.id].id if a.id in pending else None))
    return out


def pending_removals(session: Session, principal: Principal, vault: Vault) -> list[PendingRemoval]:
    return [PendingRemoval(id=r.id, account_id=a.id, user_id=r.user_id, username=owner.username,
                           display_name=owner.display_name,
                           account_number=mask_account(vault.open(a.account_number_enc, COLUMN)), reason=r.reason,
                           requested_by=r.requested_by, requested_by_name=name, requested_at=r.requested_at)
            for r, a, owner, name in removal.pending(session, ACCOUNT, principal)]
