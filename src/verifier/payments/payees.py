"""Who a case's payment goes to, and changes to it: requested by one person, decided by another.

A change of bank account is the classic way relief is stolen, so no single person can make one:

- `request_change` (insurer supervisor or finance) records a pending change: the new payee, the payee it
  replaces, who asked and why. Nothing is paid to it yet.
- `approve_change` / `reject_change` by another person (insurer supervisor, finance or county reviewer; never the
  requester). When the new account name is not a member of the household by the latest check (a guardian, an
  account in a relative's name), the reason is required and only a county reviewer may approve it.
- Only an approved change is paid (`current_payee` and batch preparation read approved changes only), and whoever
  requested or approved a change on a case may neither approve nor release a batch holding that case
  (`refuse_payee_changers`, called by the batch's approval and release).

A case is paid successfully at most once and is then closed, so every change that decided the payee of an item
came after the household's last successful payment for that case: `changed_items` lists them for whoever
approves or releases the batch. It lists too every item paying a payee that a later check recorded (a re-check
after an upheld objection, a check after one sent back) differently from the payee first recorded: the officer who
recorded it and the supervisor who confirmed its determination are then refused the batch like a change's
requester and approver.

Audit entries carry the accounts masked and as keyed hashes (the Vault's blind index), and the reason as SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import advance, load_case
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH as CASE_STATUS_ZH
from ..domain.masking import mask_account
from ..checks import on_record
from ..domain.payee import Payee, check_payee, is_household_member
from ..recusal import guard as recusal, refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..store.loading import row_in_counties
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Check, Determination, Household
from ..store.vault import Vault
from . import one_account
from ..followups.models import MISDIRECTED_STANDS, FollowupReceiptReview
from .models import BankReturn, PayeeCorrection, PaymentBatch, PaymentItem, SupplementaryPayment
from .schemas import ChangedPayeeOut, PayeeChangeOut, PayeeOut

CHECK_ACCOUNT_COLUMN = "check.payee_account"
CORRECTION_ACCOUNT_COLUMN = "payee_correction.account_number"
ACCOUNT_INDEX = "payee_account"  # blind-index kind: the audit log's keyed hash of an account number
PAYEE_BEFORE_PAYMENT = ("determined", "reviewed", "in_notice", "ready_to_pay")
PAYEE_STATUSES = ("payment_failed", *PAYEE_BEFORE_PAYMENT)
REQUESTERS = ("insurer_supervisor", "finance")
APPROVERS = ("insurer_supervisor", "finance", "county_reviewer")
MAX_REASON = 500
STATUS_LABELS_ZH = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}
NO_CHANGE = "收款人变更申请不存在"
NOT_ON_RECORD_REASON = ("收款人不是本户在册的家庭成员（按最近一次入户核查；由核查新登记或更改姓名、尚未在册的成员也是如此），"
                        "必须填写原因（如监护人、亲属代收、新增成员）")


PAID_CASE_APPROVER = ("该案件的保障金已付到了别处（回访核实未收到），补发前的收款人变更只能由县级审核人员批准")


def misdirected_waiting(session: Session, case_id: str) -> bool:
    """Whether a paid case that a follow-up closed as misdirected (回访核实未收到) waits for a supplementary payment not
    yet in a batch (that closing's, or another, e.g. a sampling round's): its payee may be changed then (requested as
    before, approved only by a county reviewer, neither by anyone `refuse_paid_change` refuses), for no supplement of
    the case is paid to the account the misdirected money went to."""
    misdirected = select(FollowupReceiptReview.id).where(FollowupReceiptReview.case_id == case_id, MISDIRECTED_STANDS)
    return session.scalar(select(SupplementaryPayment.id)
                          .where(SupplementaryPayment.case_id == case_id, SupplementaryPayment.status == "open",
                                 misdirected.exists())
                          .limit(1)) is not None


def refuse_paid_change(session: Session, case: Case, principal: Principal, *, step: str,
                       clock: Clock | None) -> None:
    """403 when the case is paid and the caller took part in paying the misdirected item or in its follow-up
    (`followups.receipt.paid_change_refusal`: one rule for requesting, approving and rejecting); the try is kept on
    回避拦截记录 under `step` (payee_request, payee_decide) once the refused transaction has rolled back."""
    from ..followups import receipt  # receipt reads the payee columns from here

    said = receipt.paid_change_refusal(session, case, principal.id)
    if said is not None:
        raise refusals.refused(Forbidden(said), principal, step, [case.household_id], case_id=case.id, clock=clock)


def failed_item_of(session: Session, case: Case) -> str | None:
    """The item whose failed transfer a change of a `payment_failed` case corrects (its latest failed one)."""
    if case.status != "payment_failed":
        return None
    return session.scalar(select(PaymentItem.id).where(PaymentItem.case_id == case.id, PaymentItem.status == "failed")
                          .order_by(PaymentItem.settled_at.desc(), PaymentItem.id.desc()).limit(1))


_ACTS = {"payee_request": "申请", "payee_decide": "审批"}


def _failure_importer(session: Session, case: Case, failed_item: str | None,
                      step: str) -> tuple[str, Callable[[str], str]] | None:
    """Who imported the bank return that marked `failed_item` failed, and the refusal's words naming who did it;
    None without such an import."""
    if failed_item is None:
        return None
    found = session.execute(select(PaymentBatch.code, BankReturn.imported_by)
                            .join(PaymentItem, PaymentItem.batch_id == PaymentBatch.id)
                            .join(BankReturn, BankReturn.id == PaymentItem.return_id)
                            .where(PaymentItem.id == failed_item)).first()
    if found is None:
        return None
    code, importer = found

    def said(who: str) -> str:
        return (f"案件 {case.number} 的转账是由{who}（批次 {code}）标为失败的：按职责分离规定，您不能{_ACTS[step]}"
                "该案件的收款人变更，须由其他人员办理。")
    return importer, said


def _importer_linked(case: Case, importer: str, said: Callable[[str], str]) -> list[refusals.LinkedPart]:
    # nor the importer's second account, as the batches' rule
    return [refusals.LinkedPart(importer, said(f"与您的账号有密码关联{PASSWORD_LINK}的人员导入的银行回单"),
                                case_id=case.id, households=[case.household_id])]


def refuse_failure_importer(session: Session, case: Case, failed_item: str | None, principal: Principal, *,
                            step: str, clock: Clock | None) -> None:
    """403 when the caller imported the bank return that marked `failed_item` (the transfer the change corrects)
    failed: who wrote the bank's 失败 does not also choose, nor decide, where the money goes instead (a made-up
    failure then the requester's own card would be paid once by the bank and once again), nor does an account linked
    to the importer's by a password (`roster.service.password_links`). Kept on 回避拦截记录 under `step`, as
    `refuse_paid_change` keeps its refusals."""
    rule = _failure_importer(session, case, failed_item, step)
    if rule is None:
        return
    importer, said = rule
    if importer == principal.id:
        raise refusals.refused(Forbidden(said("您导入的银行回单")), principal, step, [case.household_id],
                               case_id=case.id, clock=clock)
    refusals.refuse_linked(session, principal, step, _importer_linked(case, importer, said), clock=clock)


def change_bar(session: Session, case: Case, principal: Principal, *, failed_item: str | None,
               step: str) -> str | None:
    """Why the caller may not `step` (payee_request, payee_decide) a payee change of the case, in the words of the
    403 `refuse_paid_change` or `refuse_failure_importer` would answer, or None: a page shows it instead of the form
    or the button. Nothing is recorded: showing the reason is no attempt. (回避 for one's own family is the step's
    own 422, told beside the form.)"""
    from ..followups import receipt  # receipt reads the payee columns from here

    said = receipt.paid_change_refusal(session, case, principal.id)
    if said is not None:
        return said
    rule = _failure_importer(session, case, failed_item, step)
    if rule is None:
        return None
    importer, words = rule
    if importer == principal.id:
        return words("您导入的银行回单")
    return refusals.linked_said(session, principal, _importer_linked(case, importer, words))


def decide_bars(session: Session, changes: Sequence[PayeeChangeOut], principal: Principal) -> dict[str, str]:
    """Why the caller may not approve or reject each pending change (`change_bar` under payee_decide), by change id:
    the list shows the reason in place of its buttons."""
    bars: dict[str, str] = {}
    for change in changes:
        if change.status != "pending":
            continue
        case = session.get(Case, change.case_id)
        said = None if case is None else change_bar(session, case, principal, failed_item=change.failed_item_id,
                                                    step="payee_decide")
        if said is not None:
            bars[change.id] = said
    return bars


def may_change(session: Session, case: Case) -> bool:
    """Whether the case's payee may be changed now: before payment, after a failed transfer, or while a supplement
    of a misdirected payment waits (`misdirected_waiting`)."""
    return case.status in PAYEE_STATUSES or (case.status == "paid" and misdirected_waiting(session, case.id))


def not_changeable(case: Case) -> str:
    """Why `may_change` refuses the case (409 to a request or an approval)."""
    return f"收款人只能在支付前或支付失败后变更；该案件当前为「{CASE_STATUS_ZH.get(case.status, case.status)}」。"


def correction_wins(decided_at: Any, check_recorded_at: Any | None) -> bool:
    """The newer payee record wins: an approved change over the check it changes, and a re-check (after an upheld
    objection) that records a payee over a change approved before it. A tie goes to the change."""
    return check_recorded_at is None or decided_at >= check_recorded_at


def _payee_of(session: Session, case_id: str, vault: Vault) -> tuple[Payee, str | None, str | None] | None:
    """The case's payee now: (payee, check id, change id) from the newer of its latest approved change and its
    latest check that recorded an account; None when neither names one."""
    corr = session.scalar(select(PayeeCorrection).where(PayeeCorrection.case_id == case_id,
                                                        PayeeCorrection.status == "approved")
                          .order_by(PayeeCorrection.decided_at.desc(), PayeeCorrection.id.desc()).limit(1))
    check = session.scalar(select(Check).where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1))
    if check is not None and (check.payee_name is None or check.payee_account_enc is None):
        check = None  # a check that recorded no payee account names no one
    if corr is not None and correction_wins(corr.decided_at, None if check is None else check.recorded_at):
        return (Payee(corr.account_name, corr.bank, vault.open(corr.account_number_enc, CORRECTION_ACCOUNT_COLUMN)),
                None, corr.id)
    if check is not None:
        assert check.payee_name is not None and check.payee_account_enc is not None
        return (Payee(check.payee_name, check.payee_bank or "", vault.open(check.payee_account_enc,
                                                                           CHECK_ACCOUNT_COLUMN)), check.id, None)
    return None


def current_payee(session: Session, case_id: str, vault: Vault, *, full: bool = False) -> dict[str, str] | None:
    """Who the case's next payment goes to (pending and rejected changes count for nothing)."""
    found = _payee_of(session, case_id, vault)
    if found is None:
        return None
    payee = found[0]
    return {"account_name": payee.account_name, "bank": payee.bank,
            "account_number": payee.account_number if full else mask_account(payee.account_number)}


def _members(session: Session, case_id: str) -> list[str]:
    """The household members' names by the case's latest check (none before a check), those on record only."""
    check = session.scalar(select(Check).where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1))
    return on_record.names_on_record(session, case_id, [] if check is None else check.members)


def _masked(name: str | None, bank: str | None, sealed: bytes | None, vault: Vault) -> PayeeOut | None:
    if name is None or sealed is None:
        return None
    return PayeeOut(account_name=name, bank=bank or "",
                    account_number=mask_account(vault.open(sealed, CORRECTION_ACCOUNT_COLUMN)))


def change_out(change: PayeeCorrection, case: Case, vault: Vault) -> PayeeChangeOut:
    new = _masked(change.account_name, change.bank, change.account_number_enc, vault)
    assert new is not None
    return PayeeChangeOut(
        id=change.id, case_id=change.case_id, county_code=case.county_code, case_status=case.status,
        household_head=case.household.head_name, status=change.status,
        status_label=STATUS_LABELS_ZH.get(change.status, change.status), payee=new,
        old_payee=_masked(change.old_account_name, change.old_bank, change.old_account_number_enc, vault),
        name_in_household=change.name_in_household,
        approver_roles=list(APPROVERS if change.name_in_household else ("county_reviewer",)),
        reason=change.reason or "", failed_item_id=change.failed_item_id,
        requested_by=change.requested_by, requested_role=change.requested_role, requested_at=change.requested_at,
        decided_by=change.decided_by, decided_role=change.decided_role, decided_at=change.decided_at,
        decision_note=change.decision_note or "", case_number=case.number,
    )


def _account_fields(prefix: str, number: str | None, vault: Vault) -> dict[str, Any]:
    if number is None:
        return {f"{prefix}account_masked": None, f"{prefix}account_hmac": None}
    return {f"{prefix}account_masked": mask_account(number),
            f"{prefix}account_hmac": vault.blind_index(number, ACCOUNT_INDEX)}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refuse_in_batch(session: Session, case: Case, act: str) -> None:
    """409 while a payment of the case waits in a batch not yet released: the batch pays the payee it was prepared
    and approved with (the item names that check or change), never one changed after; the change waits until the
    case is out of the batch (taken out, the batch cancelled, or its transfer failed)."""
    code = session.scalar(select(PaymentBatch.code).join(PaymentItem, PaymentItem.batch_id == PaymentBatch.id)
                          .where(PaymentItem.case_id == case.id, PaymentItem.status == "pending").limit(1))
    if code is not None:
        raise InvalidState(f"案件 {case.number} 已列入支付批次 {code}（尚未发放）：该批次按生成并经审批时的收款账户支付，"
                           f"不能在此期间{act}收款人变更；待该案件移出批次或批次撤销后再办理。本次未做任何更改。")


def request_change(session: Session, case_id: str, *, account_name: str, bank: str, account_number: str,
                   reason: str = "", principal: Principal, vault: Vault, clock: Clock) -> PayeeChangeOut:
    """Record a pending change of the case's payee (before payment, or after a failed transfer)."""
    case = load_case(session, case_id, principal, for_update=True)
    recusal.refuse_principal(session, principal, [case.household_id], step="payee_request", case_id=case.id,
                             clock=clock)  # 回避: not for one's own family's case
    refuse_in_batch(session, case, "申请")
    if not may_change(session, case):
        raise InvalidState(not_changeable(case))
    refuse_paid_change(session, case, principal, step="payee_request", clock=clock)
    failed_item = failed_item_of(session, case)
    refuse_failure_importer(session, case, failed_item, principal, step="payee_request", clock=clock)
    new, problems = check_payee(account_name, bank, account_number)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        problems.append(FieldError("reason", f"最多 {MAX_REASON} 个字"))
    member = is_household_member(new.account_name, _members(session, case.id))
    if not member and not reason and not any(p.field == "account_name" for p in problems):
        problems.append(FieldError("reason", NOT_ON_RECORD_REASON))
    old = _payee_of(session, case.id, vault)
    if old is not None and old[0] == new:
        problems.append(FieldError("account_number", "与当前收款信息相同"))
    if problems:
        raise ValidationFailed(problems)
    waiting = session.scalar(select(PayeeCorrection.id).where(PayeeCorrection.case_id == case.id,
                                                              PayeeCorrection.status == "pending"))
    if waiting is not None:
        raise InvalidState("该案件已有一项收款人变更申请待审批：审批或驳回后才能再次申请。")
    role = principal.acting_role(REQUESTERS)
    change = PayeeCorrection(
        id=new_id("pc"), case_id=case.id, failed_item_id=failed_item, status="pending",
        account_name=new.account_name, bank=new.bank,
        account_number_enc=vault.seal(new.account_number, CORRECTION_ACCOUNT_COLUMN), name_in_household=member,
        account_index=one_account.account_index(vault, new.account_number),
        reason=reason or None,
        old_account_name=old[0].account_name if old else None, old_bank=old[0].bank if old else None,
        old_account_number_enc=vault.seal(old[0].account_number, CORRECTION_ACCOUNT_COLUMN) if old else None,
        requested_by=principal.id, requested_role=role, requested_at=clock.now(),
    )
    session.add(change)
    session.flush()
    audit.append(session, actor=principal.id, role=role, action="payee_change.request", subject=case.id,
                 contract_hash=case.contract_hash, clock=clock, payload={
                     "change_id": change.id, "case_status": case.status, "failed_item_id": failed_item,
                     "name_in_household": member, "approver": "any" if member else "county_reviewer",
                     "reason_sha256": _sha256(reason) if reason else None,
                     **_account_fields("", new.account_number, vault),
                     **_account_fields("old_", old[0].account_number if old else None, vault),
                 })
    return _with_warning(session, change_out(change, case, vault), change, principal, vault, clock)


def _with_warning(session: Session, out: PayeeChangeOut, change: PayeeCorrection, principal: Principal,
                  vault: Vault, clock: Clock) -> PayeeChangeOut:
    """The change as answered, with the warning when its account also pays another household (one_account.py)."""
    out.shared_account = change_warning(session, change, principal, vault, clock.today())
    out.staff_account = staff_warning(session, change.account_index)
    return out


def staff_warning(session: Session, index: str | None) -> str | None:
    """收款账户为工作人员本人账户 when `index` is a live staff member's own account (whose is not said), else None."""
    from ..recusal import accounts as staff_accounts

    return staff_accounts.OWN_ACCOUNT if index and staff_accounts.owners(session, [index]) else None


def staff_warnings_for(session: Session, changes: Sequence[PayeeChangeOut]) -> set[str]:
    """The pending changes shown whose new account is a staff member's own (the payee change pages)."""
    from ..recusal import accounts as staff_accounts

    pending = [c.id for c in changes if c.status == "pending"]
    if not pending:
        return set()
    ix = dict(session.execute(select(PayeeCorrection.id, PayeeCorrection.account_index).where(
        PayeeCorrection.id.in_(pending))).tuples().all())
    own = staff_accounts.owners(session, [v for v in ix.values() if v])
    return {cid for cid, v in ix.items() if v in own}


def warnings_for(session: Session, changes: Sequence[PayeeChangeOut], principal: Principal, vault: Vault,
                 today: Any) -> dict[str, dict[str, Any]]:
    """The shared-account warning of each pending change shown (the payee changes page), by change id."""
    out = {}
    for shown in changes:
        if shown.status != "pending":
            continue
        change = session.get(PayeeCorrection, shown.id)
        said = None if change is None else change_warning(session, change, principal, vault, today)
        if said:
            out[shown.id] = said
    return out


def change_warning(session: Session, change: PayeeCorrection, principal: Principal, vault: Vault,
                   today: Any) -> dict[str, Any] | None:
    number = vault.open(change.account_number_enc, CORRECTION_ACCOUNT_COLUMN)
    return one_account.warning(session, case_id=change.case_id, index=one_account.account_index(vault, number),
                               number=number, principal=principal, today=today)


def _load_change(session: Session, change_id: str, principal: Principal, *,
                 for_update: bool = False) -> tuple[PayeeCorrection, Case]:
    change = row_in_counties(session, PayeeCorrection, change_id, None, missing=NO_CHANGE,
                             for_update=for_update)
    try:
        case = load_case(session, change.case_id, principal, for_update=for_update)
    except NotFound:
        raise NotFound(NO_CHANGE) from None
    return change, case


def get_change(session: Session, change_id: str, principal: Principal, vault: Vault) -> PayeeChangeOut:
    change, case = _load_change(session, change_id, principal)
    return change_out(change, case, vault)


def _decision(session: Session, change: PayeeCorrection, case: Case, approve: bool, note: str,
              principal: Principal, vault: Vault, clock: Clock | None = None) -> tuple[str, str]:
    """What deciding the change asks before anything is written: (the note as kept, the role acting), or the refusal
    (InvalidState, Forbidden, ValidationFailed)."""
    if change.status != "pending":
        raise InvalidState(f"该变更申请已{STATUS_LABELS_ZH.get(change.status, change.status).lstrip('已')}，不能再审批。")
    if principal.id == change.requested_by:
        raise Forbidden("按“四眼原则”，您不能审批自己提出的收款人变更申请，须由其他人员审批。")
    refusals.refuse_linked(session, principal, "payee_decide", [refusals.LinkedPart(
        change.requested_by, f"按“四眼原则”，您的账号与这份收款人变更申请的申请人的账号有密码关联{PASSWORD_LINK}，"
        "不能审批该申请，须由其他人员审批。", case_id=case.id, households=[case.household_id])], clock=clock)
    recusal.refuse_principal(session, principal, [case.household_id], step="payee_decide", case_id=case.id,
                             clock=clock)  # 回避: not for one's own family's case
    refuse_paid_change(session, case, principal, step="payee_decide", clock=clock)
    refuse_failure_importer(session, case, change.failed_item_id, principal, step="payee_decide", clock=clock)
    note = note.strip()
    if len(note) > MAX_REASON:
        raise ValidationFailed.one("note", f"最多 {MAX_REASON} 个字")
    if approve and not change.name_in_household and not principal.has("county_reviewer"):
        raise Forbidden("新收款人不是本户家庭成员：只能由县级审核人员批准。")
    role = ("county_reviewer" if approve and (not change.name_in_household or case.status not in PAYEE_STATUSES)
            else principal.acting_role(APPROVERS))
    if approve:
        from ..recusal import accounts as staff_accounts

        if principal.id in staff_accounts.owners(session, [change.account_index or ""]).get(change.account_index or "",
                                                                                              set()):
            raise ValidationFailed.one("account_number", staff_accounts.OWN_ACCOUNT_REFUSED)
        refuse_in_batch(session, case, "批准")
        if not may_change(session, case):  # the one rule the request and the pages ask too
            raise InvalidState(not_changeable(case))
        if case.status not in PAYEE_STATUSES and not principal.has("county_reviewer"):
            raise Forbidden(PAID_CASE_APPROVER)  # a paid case's change before its misdirected supplement
        now_payee = _payee_of(session, case.id, vault)
        old = None if change.old_account_number_enc is None else Payee(
            change.old_account_name or "", change.old_bank or "",
            vault.open(change.old_account_number_enc, CORRECTION_ACCOUNT_COLUMN))
        if (now_payee[0] if now_payee else None) != old:
            raise InvalidState(f"案件 {case.number} 的收款信息在申请提出后已发生变化：请驳回本申请，"
                               "按当前收款信息重新申请。")
    return note, role


def may_decide(session: Session, change_id: str, *, approve: bool, note: str = "", principal: Principal,
               vault: Vault, clock: Clock | None = None) -> None:
    """Raise what deciding the change would raise now (NotFound, InvalidState, Forbidden, ValidationFailed), writing
    nothing: a page asks it before it reads the confirmation box, so whoever may not decide is told that first."""
    change, case = _load_change(session, change_id, principal)
    _decision(session, change, case, approve, note, principal, vault, clock)


def _decide(session: Session, change_id: str, approve: bool, note: str, principal: Principal, vault: Vault,
            clock: Clock) -> PayeeChangeOut:
    change, case = _load_change(session, change_id, principal, for_update=True)
    verb = "approve" if approve else "reject"
    note, role = _decision(session, change, case, approve, note, principal, vault, clock)
    failed_item = change.failed_item_id
    now = clock.now()
    change.status = "approved" if approve else "rejected"
    change.decided_by, change.decided_role, change.decided_at = principal.id, role, now
    change.decision_note = note or None
    session.flush()
    if approve and case.status == "payment_failed":
        advance(session, case, "payee_corrected", actor=principal, role=role, clock=clock,
                payload={"correction_id": change.id, "failed_item_id": failed_item})
    audit.append(session, actor=principal.id, role=role, action=f"payee_change.{verb}", subject=case.id,
                 contract_hash=case.contract_hash, clock=clock, payload={
                     "change_id": change.id, "requested_by": change.requested_by, "case_status": case.status,
                     "name_in_household": change.name_in_household,
                     "note_sha256": _sha256(note) if note else None,
                     **_account_fields("", vault.open(change.account_number_enc, CORRECTION_ACCOUNT_COLUMN), vault),
                 })
    return _with_warning(session, change_out(change, case, vault), change, principal, vault, clock)


def approve_change(session: Session, change_id: str, *, note: str = "", principal: Principal, vault: Vault,
                   clock: Clock) -> PayeeChangeOut:
    """Approve a pending change: the case's next payment goes to its account (a failed case is ready to pay)."""
    return _decide(session, change_id, True, note, principal, vault, clock)


def reject_change(session: Session, change_id: str, *, note: str = "", principal: Principal, vault: Vault,
                  clock: Clock) -> PayeeChangeOut:
    """Reject a pending change: the payee stays as it was."""
    return _decide(session, change_id, False, note, principal, vault, clock)


def _changes(principal: Principal, county_code: str | None, status: str | None) -> Any:
    """Payee changes with their cases, of the caller's counties (404 for a county outside them), newest first."""
    if county_code:
        principal.require_county(county_code, "county")
    stmt = (select(PayeeCorrection, Case).join(Case, Case.id == PayeeCorrection.case_id)
            .order_by(PayeeCorrection.id.desc()))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(Case.county_code == county_code)
    if status:
        stmt = stmt.where(PayeeCorrection.status == status)
    return stmt


def list_changes(session: Session, principal: Principal, vault: Vault, *, status: str | None = None,
                 county_code: str | None = None, case_id: str | None = None, limit: int = 50,
                 cursor: str | None = None) -> tuple[list[PayeeChangeOut], str | None]:
    """Payee changes of the caller's counties, newest first (404 for a county outside them)."""
    stmt = _changes(principal, county_code, status).limit(limit + 1)
    if case_id:
        stmt = stmt.where(PayeeCorrection.case_id == case_id)
    if cursor:
        stmt = stmt.where(PayeeCorrection.id < cursor)
    rows = session.execute(stmt).tuples().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [change_out(c, k, vault) for c, k in rows], (rows[-1][0].id if more and rows else None)


def find_changes(session: Session, principal: Principal, vault: Vault, *, status: str | None = None,
                 county_code: str | None = None, q: str = "", page: int = 1,
                 page_size: int = PAGE_SIZE, to_decide: bool = False) -> Paged[PayeeChangeOut]:
    """The payee changes page: the caller's counties (404 for another county), newest first, searched by case
    number (whole or its last digits), household head or the new payee's name. `to_decide`: only the pending
    changes waiting for the caller's approval (`pending_for`, the home page's card)."""
    stmt = (_to_decide(principal) if to_decide else _changes(principal, county_code, status))
    if to_decide and county_code:
        stmt = stmt.where(Case.county_code == county_code)
    stmt = stmt.join(Household, Household.id == Case.household_id)
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (Case.number, Household.head_name, PayeeCorrection.account_name)))
    return page_of(session, stmt, page, page_size, rows=True).map(lambda row: change_out(row[0], row[1], vault))


def _to_decide(principal: Principal) -> Any:
    """The pending changes of the caller's counties the caller may approve: not their own, and one whose payee is
    not of the household only for a county reviewer (others may still reject it, but it does not wait for them)."""
    stmt = _changes(principal, None, "pending").where(PayeeCorrection.requested_by != principal.id)
    if not principal.has("county_reviewer"):
        stmt = stmt.where(PayeeCorrection.name_in_household.is_(True))
    return stmt


def cases_waiting_for_approval(session: Session, case_ids: Sequence[str]) -> set[str]:
    """Those of the cases with a payee change waiting to be approved or rejected (no other is asked meanwhile)."""
    if not case_ids:
        return set()
    return set(session.scalars(select(PayeeCorrection.case_id).where(
        PayeeCorrection.case_id.in_(list(case_ids)), PayeeCorrection.status == "pending")))


def pending_for(session: Session, principal: Principal) -> int:
    """How many pending changes of the caller's counties wait for the caller's approval (`_to_decide`): what the list
    `find_changes(to_decide=True)` shows."""
    return int(session.scalar(select(func.count()).select_from(_to_decide(principal).order_by(None).subquery())) or 0)


def _batch_changes(session: Session, batch_id: str) -> list[tuple[PaymentItem, PayeeCorrection]]:
    """(item, change) for every approved change that decided the payee of an item of the batch (`_changes_of`)."""
    return _changes_of(session, [batch_id]).get(batch_id, [])


def _live_cases(batch_ids: Sequence[str]) -> Any:
    """The cases the batches' live items pay (a subquery): what `_changes_of` and `_rechecks_of` look for changed payees
    among, read through the items' batch index and then each case's own rows, never another county's."""
    return select(PaymentItem.case_id).where(PaymentItem.batch_id.in_(list(batch_ids)),
                                             PaymentItem.status != "cancelled")


def _changes_of(session: Session, batch_ids: Sequence[str]) -> dict[str, list[tuple[PaymentItem, PayeeCorrection]]]:
    """Per batch of `batch_ids`, (item, change) for every approved change that decided the payee of an item of the
    batch: a change of the item's case approved before the item was made (a later one, after a failed transfer, pays
    a later batch); batches without one are left out.

    Only the changes of the batches' cases are read (by the changes' case index), then only those cases' items of
    these batches (by case): the home cards ask this of every batch waiting, so it never reads other batches' changes
    nor walks the items twice."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    changes = list(session.scalars(select(PayeeCorrection).where(
        PayeeCorrection.status == "approved", PayeeCorrection.case_id.in_(_live_cases(ids)))
        .order_by(PayeeCorrection.decided_at, PayeeCorrection.id)))
    case_ids = list(dict.fromkeys(c.case_id for c in changes))
    items: dict[str, dict[str, PaymentItem]] = {}  # case → batch → item
    for start in range(0, len(case_ids), 1000):
        for i in session.scalars(select(PaymentItem).where(
                PaymentItem.case_id.in_(case_ids[start:start + 1000]),
                # coalesce: SQLite would otherwise walk the whole batch by its batch index instead of the few cases
                func.coalesce(PaymentItem.batch_id, "").in_(ids), PaymentItem.status != "cancelled")):
            items.setdefault(i.case_id, {})[i.batch_id] = i
    out: dict[str, list[tuple[PaymentItem, PayeeCorrection]]] = {}
    for c in changes:
        for batch_id, item in sorted(items.get(c.case_id, {}).items()):
            if c.decided_at is not None and c.decided_at <= item.created_at:
                out.setdefault(batch_id, []).append((item, c))
    return out


def _payee_of_check(check: Check, vault: Vault) -> Payee:
    assert check.payee_name is not None and check.payee_account_enc is not None
    return Payee(check.payee_name, check.payee_bank or "", vault.open(check.payee_account_enc, CHECK_ACCOUNT_COLUMN))


def _account_key(check: Check, vault: Vault) -> str | None:
    """The blind index of the check's payee account (`check_account_key`)."""
    return check_account_key(check.payee_account_index, check.payee_account_enc, vault)


def check_account_key(index: str | None, sealed: bytes | None, vault: Vault) -> str | None:
    """The blind index of a check's payee account: as stored (`index`), or, for an account stored before the index
    and not filled by its migration (0045 without the keys), of the account opened from this row alone (`sealed`)."""
    if index is not None or sealed is None:
        return index
    return one_account.account_index(vault, vault.open(sealed, CHECK_ACCOUNT_COLUMN))


def _same_payee(a: Check, b: Check, vault: Vault) -> bool:
    """Whether two checks named the same payee, by name, bank and the account's blind index (account numbers are
    digits only, so equal indexes are equal numbers): what the batch's page sees opening both. Only a row whose
    account has no index is opened (`_account_key`), and only when the names and banks agree."""
    if a.payee_name != b.payee_name or (a.payee_bank or "") != (b.payee_bank or ""):
        return False
    key = _account_key(a, vault)
    return key is not None and key == _account_key(b, vault)


def _batch_rechecks(session: Session, batch_id: str,
                    vault: Vault) -> list[tuple[PaymentItem, Check, Check, Determination]]:
    """(item, first check, later check, determination) for every item of the batch paying the payee of a later
    check of its case that differs from the payee the case's first check recorded (`_rechecks_of`)."""
    return _rechecks_of(session, [batch_id], vault).get(batch_id, [])


def _rechecks_of(session: Session, batch_ids: Sequence[str],
                 vault: Vault) -> dict[str, list[tuple[PaymentItem, Check, Check, Determination]]]:
    """Per batch of `batch_ids`, (item, first check, later check, determination) for every item of the batch paying
    the payee of a later check of its case that is not the payee the case's first check recorded (`_same_payee`, by
    blind index); batches without one are left out.

    Only the batches' items whose case has a later check naming a payee are read (each case's checks looked up by the
    checks' index of case and number), then their checks and determinations, each in one statement: the home cards
    ask this of every batch waiting, so no check of another case is read."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    later = select(Check.case_id).where(Check.case_id.in_(_live_cases(ids)), Check.seq > 1,
                                        Check.payee_account_enc.is_not(None))
    items = list(session.scalars(select(PaymentItem).where(
        PaymentItem.case_id.in_(later), PaymentItem.batch_id.in_(ids), PaymentItem.status != "cancelled",
        PaymentItem.payee_check_id.is_not(None))))
    if not items:
        return {}
    cases = sorted({i.case_id for i in items})
    paid = {c.id: c for c in session.scalars(select(Check).where(
        Check.id.in_(sorted({i.payee_check_id for i in items if i.payee_check_id}))))}
    first: dict[str, Check] = {}
    for check in session.scalars(select(Check).where(Check.case_id.in_(cases), Check.payee_account_enc.is_not(None))
                                 .order_by(Check.case_id, Check.seq)):
        first.setdefault(check.case_id, check)
    dets = {d.id: d for d in session.scalars(select(Determination).where(
        Determination.id.in_(sorted({i.determination_id for i in items}))))}
    out: dict[str, list[tuple[PaymentItem, Check, Check, Determination]]] = {}
    for item in sorted(items, key=lambda i: (i.batch_id or "", i.seq)):
        paid_to, earliest = paid.get(item.payee_check_id or ""), first.get(item.case_id)
        if paid_to is None or earliest is None or paid_to.id == earliest.id or _same_payee(paid_to, earliest, vault):
            continue
        det = dets.get(item.determination_id)
        assert det is not None
        out.setdefault(item.batch_id or "", []).append((item, earliest, paid_to, det))
    return out


# What each step that refuses a payee's changer does to a batch, and who else does it (`refuse_payee_changers`).
BATCH_STEPS = {"approve": ("审批", "财务人员"), "release": ("发放", "财务人员"),
                "sign off": ("签批（或退回）", "县级复核人员")}
BATCH_STEP_NAMES = {"approve": "batch_approve", "sign off": "batch_signoff", "release": "batch_release"}
"""Each such step as 回避拦截记录 keeps it (`recusal.refusals.STEPS`)."""


@dataclass(frozen=True)
class PayeeHands:
    """The two hands in one payee a batch pays other than the first check's: an approved change (its requester and
    approver) or a later check naming another payee (its recorder and the determination's confirmer)."""

    case_id: str
    change: bool  # a payee change; else a later check
    first: str  # who requested the change, or recorded the check
    second: str  # who approved the change, or confirmed the determination on the check ("" none)

    def parts(self) -> list[tuple[str, str]]:
        """(who, their part) as a password-linked refusal names it."""
        if self.change:
            return [(self.first, "收款人变更的申请人"), (self.second, "收款人变更的批准人")]
        return [(self.first, "改变收款人的重新核查的登记人"), (self.second, "改变收款人的重新核查的确认人")]


def payee_hands_of(session: Session, batch_ids: Sequence[str], vault: Vault) -> dict[str, list[PayeeHands]]:
    """Per batch, the hands in its changed payees (`_changes_of`, then `_rechecks_of`), in a fixed number of
    statements whatever the batches' count, reading only the batches' cases' changes and checks; nothing decrypted
    but a later check's account stored without its index: what `payee_refusal` asks."""
    out: dict[str, list[PayeeHands]] = {}
    for batch_id, found in _changes_of(session, batch_ids).items():
        out.setdefault(batch_id, []).extend(PayeeHands(c.case_id, True, c.requested_by, c.decided_by or "")
                                            for _, c in found)
    for batch_id, rechecks in _rechecks_of(session, batch_ids, vault).items():
        out.setdefault(batch_id, []).extend(PayeeHands(check.case_id, False, check.recorded_by, det.confirmed_by or "")
                                            for _, _, check, det in rechecks)
    return out


def payee_refusal(session: Session, hands: Sequence[PayeeHands], principal: Principal, linked: frozenset[str],
                  verb: str, batch_code: str, *, batch_id: str = "") -> str | refusals.LinkedPart | None:
    """Why the caller may not `verb` ("approve", "sign off", "release") a batch whose changed payees had these
    `hands`: its own hand in one (the reason), else the first hand linked to the caller's account by a password
    (`linked`: the caller's links among all the hands, read beforehand; the part to refuse by), else None."""
    act, others = BATCH_STEPS[verb]
    for h in hands:
        if principal.id in (h.first, h.second):
            if h.change:
                did = "申请" if principal.id == h.first else "批准"
                return (f"您{did}了案件 {h.case_id} 的收款人变更，按职责分离规定不能{act}包含该案件的批次 "
                        f"{batch_code}，须由其他{others}办理。")
            did = "确认" if principal.id == h.second else "登记"
            return (f"您{did}了案件 {h.case_id} 的重新核查（其登记的收款人与首次记录的不同），按职责分离规定"
                    f"不能{act}包含该案件的批次 {batch_code}，须由其他{others}办理。")

    def said(part: str, case_id: str) -> Callable[[], str]:
        def made() -> str:
            case = session.get(Case, case_id)
            return (f"按“四眼原则”，您的账号与案件 {case.number if case else case_id} 的{part}的账号有密码关联"
                    f"{PASSWORD_LINK}，按职责分离规定不能{act}包含该案件的批次 {batch_code}，须由其他{others}办理。")
        return made
    return next((refusals.LinkedPart(who, said(part, h.case_id), case_id=h.case_id)
                 for h in hands for who, part in h.parts() if who and who in linked), None)


def refuse_payee_changers(session: Session, batch_id: str, batch_code: str, principal: Principal, verb: str,
                          vault: Vault, *, clock: Clock | None = None) -> None:
    """403 when the caller requested or approved a payee change of a case the batch holds, or recorded a later
    check that named another payee (or confirmed the determination on it), or when the caller's account is linked by
    a password (`roster.service.password_links`) to an account that did (kept on 回避拦截记录, the case as its
    subject): `payee_refusal`. `verb` is the step refused ("approve", "sign off", "release"): the message says that
    step, and who else may take it."""
    hands = payee_hands_of(session, [batch_id], vault).get(batch_id, [])
    people = {who for h in hands for who, _ in h.parts()} - {"", principal.id}
    why = payee_refusal(session, hands, principal, password_links(session, principal.id, people), verb, batch_code)
    if isinstance(why, str):
        raise Forbidden(why)
    if why is not None:
        raise refusals.linked_refusal(session, principal, BATCH_STEP_NAMES[verb], why, clock=clock)


def changed_items(session: Session, batch_id: str, vault: Vault) -> list[ChangedPayeeOut]:
    """Every item of the batch whose payee was changed (by an approved change), oldest change first."""
    out = []
    for item, change in _batch_changes(session, batch_id):
        new = _masked(change.account_name, change.bank, change.account_number_enc, vault)
        assert new is not None
        out.append(ChangedPayeeOut(
            item_id=item.id, reference=item.reference, case_id=change.case_id, change_id=change.id,
            requested_by=change.requested_by, requested_at=change.requested_at, approved_by=change.decided_by or "",
            approved_at=change.decided_at, name_in_household=change.name_in_household, reason=change.reason or "",
            old_payee=_masked(change.old_account_name, change.old_bank, change.old_account_number_enc, vault),
            payee=new))
    rechecks = _batch_rechecks(session, batch_id, vault)
    # the names on record, per case, among the later checks' members: one call for the whole list
    listed: dict[str, list[dict[str, Any]]] = {}
    for item, _, check, _ in rechecks:
        listed.setdefault(item.case_id, list(check.members or []))
    on_record_of = on_record.names_on_record_by_case(session, listed) if listed else {}
    seen_cases: set[str] = set()
    for item, first, check, det in rechecks:
        old, new_payee = _payee_of_check(first, vault), _payee_of_check(check, vault)
        if item.case_id in seen_cases:  # a second item of the same case: read apart
            names = on_record.names_on_record(session, item.case_id, check.members)
        else:
            names = on_record_of.get(item.case_id, [])
        seen_cases.add(item.case_id)
        out.append(ChangedPayeeOut(
            item_id=item.id, reference=item.reference, case_id=item.case_id, change_id=None, source="check",
            check_id=check.id, requested_by=check.recorded_by, requested_at=check.recorded_at,
            approved_by=det.confirmed_by, approved_at=det.confirmed_at,
            # as a payee change's: a member on record for the case (a name the check itself typed is not)
            name_in_household=is_household_member(new_payee.account_name, names),
            reason=check.note or "",
            old_payee=PayeeOut(account_name=old.account_name, bank=old.bank,
                               account_number=mask_account(old.account_number)),
            payee=PayeeOut(account_name=new_payee.account_name, bank=new_payee.bank,
                           account_number=mask_account(new_payee.account_number))))
    return out
