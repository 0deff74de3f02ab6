"""Recoveries (追回) of relief overpaid, found by a sampling round's re-check of a paid case, or of relief a household
did not receive because it went to another account (a follow-up closed as misdirected, followups/receipt.py).

Conventions
-----------
* **Opened** by the transaction recording (or correcting) the re-check result (sampling/consequences.py), for the
  amount paid beyond what the re-check finds due; one per round and case.
* **Repayment.** Finance records what the household paid back (amount, date, bank reference); a second person
  (finance or the county reviewer, never the one who recorded it) confirms it. Only then does it count: the
  recovery's `repaid` grows, and the fund ledger posts `recover` (available ← relief_recovered) under the key
  `recover:<repayment id>`, so the money comes back to the fund once. A bank reference is used once (unique), a
  repayment is confirmed or rejected once, and repayments never exceed what is outstanding (recorded ones
  waiting for confirmation included). Repaid in full, the recovery is `repaid`.
* **Waiver.** A county reviewer may ask to waive what is outstanding, with a reason (the household cannot repay,
  ...), once no repayment waits for confirmation; another county reviewer confirms it with their own words, kept on
  the recovery (`waiver_confirm_note`, beside `closed_by` and `closed_at`); the recovery is then `waived`. Another
  county reviewer may instead decline the request, with a reason: the request is cleared, the recovery stays open
  to be repaid, and the asker may ask again later. Every request is kept (`RecoveryWaiverRequest`, migration
  0060): its asker, when and why, and its end (confirmed, declined, or withdrawn when the recovery ended otherwise
  while it waited), by whom, when and the words said; the log holds the texts' SHA-256 only.
* **Withdrawn** when the result it came from is corrected before anything was repaid (see consequences.py).
* Every change appends to the audit log in the same transaction; a recovery lies in its case's county and is
  invisible (404) outside the caller's counties.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..recusal import guard as recusal
from ..recusal import refusals
from ..roster.service import PASSWORD_LINK
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.money import format_yuan, parse_yuan
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.tables import Case
from . import ledger
from .models import Recovery, RecoveryRepayment, RecoveryWaiverRequest
from .recovery_reading import RECOVERY_STATUS_ZH, load_recovery, recovery_out, repayment_out


OPENED = "recovery.opened"
WITHDRAWN = "recovery.withdrawn"
REPAYMENT_RECORDED = "recovery.repayment_recorded"
REPAYMENT_CONFIRMED = "recovery.repayment_confirmed"
REPAYMENT_REJECTED = "recovery.repayment_rejected"
WAIVED = "recovery.waived"
WAIVER_REQUESTED = "recovery.waiver_requested"
WAIVER_DECLINED = "recovery.waiver_declined"

RECORDER = "finance"
CONFIRMERS = ("finance", "county_reviewer")
WAIVER = "county_reviewer"
# A recovery's and a repayment's status as the refusals and the pages name them.
_DECIDED_ZH = {"confirmed": "确认", "rejected": "驳回"}
_SAME_REFERENCE = "银行流水号 {reference} 的还款已经登记过，不能重复登记。"


def _status(rec: Recovery) -> str:
    return RECOVERY_STATUS_ZH.get(rec.status, rec.status)


def _decided(row: RecoveryRepayment) -> str:
    return f"这笔还款已{_DECIDED_ZH.get(row.status, row.status)}，不能重复处理。"


def _log(session: Session, rec: Recovery, principal: Principal | str, role: str, action: str,
         payload: dict[str, Any], clock: Clock) -> None:
    case = session.get(Case, rec.case_id)
    assert case is not None
    audit.append(session, actor=principal if isinstance(principal, str) else principal.id, role=role, action=action,
                 subject=rec.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"case_id": rec.case_id, "round_id": rec.round_id, **payload})


def open_recovery(session: Session, case: Case, round_id: str | None, *, paid: int, due: int, principal: Principal,
                  clock: Clock, source: dict[str, Any] | None = None) -> Recovery:
    """Open the recovery of `paid - due` (> 0) for a paid case (called by sampling/consequences.py with its round, and
    by followups/receipt.py without one: `source` names the follow-up in the entry)."""
    amount = paid - due
    assert amount > 0
    rec = Recovery(id=new_id("rcv"), case_id=case.id, round_id=round_id, county_code=case.county_code,
                   contract_id=case.contract_id, amount=amount, repaid=0, status="open", paid_amount=paid,
                   due_amount=due, opened_by=principal.id, opened_at=clock.now())
    session.add(rec)
    session.flush()
    _log(session, rec, principal, principal.acting_role(("county_reviewer",)), OPENED,
         {"amount": format_yuan(amount), "paid": format_yuan(paid), "due": format_yuan(due), **(source or {})}, clock)
    return rec


def withdraw_recovery(session: Session, rec: Recovery, *, reason: str, principal: Principal, clock: Clock,
                      logged: Mapping[str, str] | None = None) -> None:
    """Withdraw a recovery whose result is corrected; 409 once any repayment was recorded. `logged`: what the audit
    entry says of the reason, when it is free text kept out of the log in clear (its SHA-256); else the reason."""
    if rec.status != "open" or session.scalar(select(func.count()).where(
            RecoveryRepayment.recovery_id == rec.id, RecoveryRepayment.status != "rejected")):
        raise InvalidState("依据该复核结果发起的追回已登记还款，复核结果不能再更正。")
    rec.status, rec.closed_by, rec.closed_at, rec.waive_reason = "withdrawn", principal.id, clock.now(), reason
    _end_request(session, rec, "withdrawn", principal.id, rec.closed_at, None)
    session.flush()
    _log(session, rec, principal, principal.acting_role(("county_reviewer",)), WITHDRAWN,
         {"amount": format_yuan(rec.amount),
          **({"reason_sha256": audit.text_digest(reason)} if logged is None else logged)}, clock)


def _pending(session: Session, recovery_id: str) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(RecoveryRepayment.amount), 0)).where(
        RecoveryRepayment.recovery_id == recovery_id, RecoveryRepayment.status == "pending")) or 0)


def record_repayment(session: Session, recovery_id: str, *, amount: str, paid_on: date | None, reference: str,
                     principal: Principal, clock: Clock) -> dict[str, Any]:
    """Finance records money the household paid back; it counts once another person confirms it."""
    if not principal.has(RECORDER):
        raise Forbidden("只有财务人员可以登记还款。")
    rec = load_recovery(session, recovery_id, principal, for_update=True)
    # 回避: money a relative's household paid back is not recorded by the relative (nor confirmed, below)
    recusal.refuse_case(session, principal, rec.case_id, step="recovery_repayment", clock=clock)
    problems: list[FieldError] = []
    fen = 0
    try:
        fen = parse_yuan(amount, "amount")
        if fen <= 0:
            problems.append(FieldError("amount", "须大于 0.00"))
    except ValidationFailed as exc:
        problems += exc.errors
    reference = " ".join((reference or "").split())
    if not reference:
        problems.append(FieldError("reference", "请填写还款的银行流水号"))
    elif len(reference) > 100:
        problems.append(FieldError("reference", "最多 100 个字符"))
    if paid_on is None:
        problems.append(FieldError("paid_on", "必填"))
    elif paid_on > clock.today():
        problems.append(FieldError("paid_on", "不能晚于今天"))
    elif paid_on < rec.opened_at.date():
        problems.append(FieldError("paid_on", f"不能早于追回发起日期 {rec.opened_at.date()}"))
    if problems:
        raise ValidationFailed(problems)
    if rec.status != "open":
        raise InvalidState(f"追回当前为「{_status(rec)}」，不能再登记还款。")
    outstanding = rec.amount - rec.repaid - _pending(session, rec.id)
    if fen > outstanding:
        raise InvalidState(f"还款 {format_yuan(fen)} 元超过尚未追回的 {format_yuan(outstanding)} 元（已计入待确认的还款）。")
    if session.scalar(select(RecoveryRepayment.id).where(RecoveryRepayment.reference == reference)) is not None:
        raise InvalidState(_SAME_REFERENCE.format(reference=reference))
    row = RecoveryRepayment(id=new_id("rpy"), recovery_id=rec.id, amount=fen, paid_on=paid_on, reference=reference,
                            status="pending", recorded_by=principal.id, recorded_at=clock.now())
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - a concurrent record of the same reference
        raise InvalidState(_SAME_REFERENCE.format(reference=reference)) from None
    _log(session, rec, principal, RECORDER, REPAYMENT_RECORDED,
         {"repayment_id": row.id, "amount": format_yuan(fen), "paid_on": paid_on.isoformat() if paid_on else None,
          "reference": reference}, clock)
    return repayment_out(row)


def _load_repayment(session: Session, repayment_id: str, principal: Principal) -> tuple[RecoveryRepayment, Recovery]:
    row = session.scalar(select(RecoveryRepayment).where(RecoveryRepayment.id == repayment_id).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound("还款记录不存在")
    try:
        rec = load_recovery(session, row.recovery_id, principal, for_update=True)
    except NotFound:
        raise NotFound("还款记录不存在") from None
    return row, rec


def _second_person(session: Session, principal: Principal, row: RecoveryRepayment, rec: Recovery, what: str,
                   clock: Clock) -> str:
    if not principal.has(*CONFIRMERS):
        raise Forbidden("只有财务人员或县级复核人员可以确认或驳回还款。")
    if principal.id == row.recorded_by:
        raise Forbidden(f"按“四眼原则”，这笔还款由您登记，须由其他人员{what}。")
    # nor the recorder's second account: a repayment the bank never saw, confirmed so, writes the debt off alone
    refusals.refuse_linked(session, principal, "recovery_repayment", [refusals.LinkedPart(
        row.recorded_by, _linked(f"这笔还款的登记人的账号有密码关联{PASSWORD_LINK}，不能{what}这笔还款"),
        case_id=rec.case_id)], clock=clock)
    return principal.acting_role(CONFIRMERS)


def _linked(said: str) -> str:
    """The refusal to the account linked by a password to the other person of the step (`refusals.refuse_linked`)."""
    return f"按“四眼原则”，您的账号与{said}，须由其他人员办理。"


def confirm_repayment(session: Session, repayment_id: str, *, principal: Principal, clock: Clock) -> dict[str, Any]:
    """A second person confirms a recorded repayment: it counts, and comes back to the fund (once)."""
    row, rec = _load_repayment(session, repayment_id, principal)
    role = _second_person(session, principal, row, rec, "确认", clock)
    recusal.refuse_case(session, principal, rec.case_id, step="recovery_repayment", clock=clock)
    if row.status != "pending":
        raise InvalidState(_decided(row))
    if rec.status != "open":
        raise InvalidState(f"追回当前为「{_status(rec)}」。")
    if rec.repaid + row.amount > rec.amount:  # pragma: no cover - recording keeps within the outstanding amount
        raise InvalidState("还款金额超过尚欠金额")
    contract = contract_store.get_contract(session, rec.contract_id)
    _, entries = ledger.lock_fund(session, contract, actor=principal.id, clock=clock)
    try:
        ledger.post(session, contract.id, "recover", f"recover:{row.id}", row.amount, actor=principal.id,
                    clock=clock, note=f"recovery {rec.id} repaid ({row.reference})")
    except IntegrityError:  # pragma: no cover - the status check above comes first
        raise InvalidState("这笔还款已退回资金") from None
    now = clock.now()
    row.status, row.decided_by, row.decided_at = "confirmed", principal.id, now
    rec.repaid += row.amount
    if rec.repaid == rec.amount:
        rec.status, rec.closed_by, rec.closed_at = "repaid", principal.id, now
        _end_request(session, rec, "withdrawn", principal.id, now, None)
    session.flush()
    if entries:
        audit.append_many(session, entries, clock=clock)
    _log(session, rec, principal, role, REPAYMENT_CONFIRMED,
         {"repayment_id": row.id, "amount": format_yuan(row.amount), "reference": row.reference,
          "repaid": format_yuan(rec.repaid), "outstanding": format_yuan(rec.amount - rec.repaid),
          "status": rec.status}, clock)
    return repayment_out(row)


def reject_repayment(session: Session, repayment_id: str, *, reason: str, principal: Principal,
                     clock: Clock) -> dict[str, Any]:
    """A second person rejects a recorded repayment the bank does not show; it never counts."""
    row, rec = _load_repayment(session, repayment_id, principal)
    role = _second_person(session, principal, row, rec, "驳回", clock)
    # 回避: a rejected repayment never counts (the household is asked again for what it paid): not by a relative
    recusal.refuse_case(session, principal, rec.case_id, step="recovery_repayment", clock=clock)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写驳回原因")
    if row.status != "pending":
        raise InvalidState(_decided(row))
    row.status, row.decided_by, row.decided_at, row.reject_reason = "rejected", principal.id, clock.now(), reason
    session.flush()
    _log(session, rec, principal, role, REPAYMENT_REJECTED,
         {"repayment_id": row.id, "amount": format_yuan(row.amount), "reference": row.reference,
          "reason_sha256": audit.text_digest(reason)},
         clock)
    return repayment_out(row)


def _end_request(session: Session, rec: Recovery, outcome: str, by: str, at: Any, note: str | None) -> None:
    """End the request waiting on the recovery, if any (its row; one asked before its row was kept gets one from the
    recovery's columns): `outcome` by `by` at `at`, with `note` (the confirming words, the decline's reason)."""
    if rec.waiver_requested_by is None:
        return
    row = session.scalar(select(RecoveryWaiverRequest).where(
        RecoveryWaiverRequest.recovery_id == rec.id, RecoveryWaiverRequest.outcome.is_(None))
        .order_by(RecoveryWaiverRequest.asked_at.desc(), RecoveryWaiverRequest.id.desc()).limit(1))
    if row is None:  # pragma: no cover - 0060 gives every waiting request its row
        row = RecoveryWaiverRequest(id=new_id("rwr"), recovery_id=rec.id, asked_by=rec.waiver_requested_by,
                                    asked_at=rec.waiver_requested_at, reason=rec.waive_reason)
        session.add(row)
    row.outcome, row.ended_by, row.ended_at, row.note = outcome, by, at, note


STALE_WAIVER = "这项核销申请已被处理（已驳回或已核销）或已重新提出，请刷新页面后再办理。"


def _answering(rec: Recovery, asked_at: str | None) -> None:
    """An answer (confirm or decline) to the request asked at `asked_at` (as the page showed it): 409 when that
    request is no longer the one waiting (answered meanwhile, or asked again)."""
    current = rec.waiver_requested_at.isoformat() if rec.waiver_requested_at else None
    if rec.waiver_requested_by is None or (asked_at is not None and asked_at != current):
        raise InvalidState(STALE_WAIVER)


def _waiver(session: Session, recovery_id: str, reason: str, principal: Principal, *,
            for_update: bool = False, clock: Clock | None = None, asked_at: str | None = None,
            answering: bool = False) -> tuple[Recovery, str]:
    """What waiving asks before anything is written: (the recovery, the reason as kept), or the refusal.
    `answering`: the caller confirms a request (the request of `asked_at`, when given), never asks anew."""
    if not principal.has(WAIVER):
        raise Forbidden("只有县级复核人员可以核销追回。")
    rec = load_recovery(session, recovery_id, principal, for_update=for_update)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写核销原因")
    if rec.status != "open":
        raise InvalidState(f"追回当前为「{_status(rec)}」，只能核销追回中的款项。")
    if answering:
        _answering(rec, asked_at)
    if _pending(session, rec.id):
        raise InvalidState("有还款登记等待确认：请先确认或驳回，再核销剩余部分。")
    _not_the_asker(session, rec, principal, clock, own="核销由您申请，须由另一名县级复核人员确认。",
                   linked=f"申请核销的县级复核人员的账号有密码关联{PASSWORD_LINK}，不能确认核销")
    return rec, reason


def _not_the_asker(session: Session, rec: Recovery, principal: Principal, clock: Clock | None, *, own: str,
                   linked: str) -> None:
    """The bars of whoever answers a waiver request (confirms or declines it): not the asker (`own`), nor the
    asker's second account (`linked`: the waiver is two reviewers'), nor, asking or answering, a relative of the
    household (回避)."""
    asker = rec.waiver_requested_by
    if asker == principal.id:
        raise Forbidden(own)
    if asker is not None:
        refusals.refuse_linked(session, principal, "recovery_waiver", [refusals.LinkedPart(
            asker, _linked(linked), case_id=rec.case_id)], clock=clock)
    recusal.refuse_case(session, principal, rec.case_id, step="recovery_waiver", clock=clock)


def waive_writes_off(session: Session, recovery_id: str, *, reason: str, principal: Principal,
                     clock: Clock | None = None, asked_at: str | None = None, answering: bool = False) -> bool:
    """Whether `waive` by this person would write the recovery off now (the second reviewer's confirmation) rather
    than ask for it; raises what `waive` would raise, writing nothing. A page asks it before it reads the
    confirmation box, so whoever may not waive is told that first, in the transaction that then waives (the
    recovery locked, so the answer holds for the write)."""
    rec, _ = _waiver(session, recovery_id, reason, principal, for_update=True, clock=clock, asked_at=asked_at,
                     answering=answering)
    return rec.waiver_requested_by is not None


def waive(session: Session, recovery_id: str, *, reason: str, principal: Principal, clock: Clock,
          asked_at: str | None = None, answering: bool = False) -> dict[str, Any]:
    """Waive what is outstanding: one county reviewer asks for it with a reason, another confirms it with theirs (one
    person alone never writes off money owed to the fund). The first call asks, the next by someone else waives.
    `answering` (a confirmation, from a page that showed the request asked at `asked_at`): 409 when that request
    is no longer waiting, rather than asking anew."""
    rec, reason = _waiver(session, recovery_id, reason, principal, for_update=True, clock=clock, asked_at=asked_at,
                          answering=answering)
    outstanding = {"amount": format_yuan(rec.amount), "repaid": format_yuan(rec.repaid),
                   "waived": format_yuan(rec.amount - rec.repaid)}
    if rec.waiver_requested_by is None:
        rec.waiver_requested_by, rec.waiver_requested_at, rec.waive_reason = principal.id, clock.now(), reason
        session.add(RecoveryWaiverRequest(id=new_id("rwr"), recovery_id=rec.id, asked_by=principal.id,
                                          asked_at=rec.waiver_requested_at, reason=reason))
        session.flush()
        _log(session, rec, principal, WAIVER, WAIVER_REQUESTED,
             {**outstanding, "reason_sha256": audit.text_digest(reason)}, clock)
        return recovery_out(session, rec)
    # the confirming words are kept on the recovery (shown on its page); the entry holds their SHA-256 only
    rec.status, rec.closed_by, rec.closed_at, rec.waiver_confirm_note = "waived", principal.id, clock.now(), reason
    _end_request(session, rec, "confirmed", principal.id, rec.closed_at, reason)
    session.flush()
    _log(session, rec, principal, WAIVER, WAIVED,
         {**outstanding, "reason_sha256": audit.text_digest(rec.waive_reason or ""),
          "requested_by": rec.waiver_requested_by, "confirmation_sha256": audit.text_digest(reason)}, clock)
    return recovery_out(session, rec)


def decline_waiver(session: Session, recovery_id: str, *, reason: str, principal: Principal, clock: Clock,
                   asked_at: str | None = None) -> dict[str, Any]:
    """Another county reviewer declines a request to waive, with a reason: the request is cleared, the recovery
    stays open to be repaid, and the asker may ask again later. The bars are confirming's: not the asker, not an
    account linked to the asker's by a password, not a relative of the household (回避). `asked_at`: the request
    the page showed (409 when it is no longer the one waiting)."""
    if not principal.has(WAIVER):
        raise Forbidden("只有县级复核人员可以驳回核销申请。")
    rec = load_recovery(session, recovery_id, principal, for_update=True)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "请填写驳回核销申请的原因")
    if rec.status != "open":
        raise InvalidState(f"追回当前为「{_status(rec)}」，没有待确认的核销申请。")
    _answering(rec, asked_at)
    asker = rec.waiver_requested_by
    assert asker is not None
    _not_the_asker(session, rec, principal, clock, own="核销由您申请，须由另一名县级复核人员确认或驳回。",
                   linked=f"申请核销的县级复核人员的账号有密码关联{PASSWORD_LINK}，不能驳回核销申请")
    asked_reason = rec.waive_reason or ""
    asked_on = rec.waiver_requested_at
    # the reason is kept on the request's row (who declined, when), the entry holds its SHA-256 only
    _end_request(session, rec, "declined", principal.id, clock.now(), reason)
    rec.waiver_requested_by, rec.waiver_requested_at = None, None
    session.flush()
    _log(session, rec, principal, WAIVER, WAIVER_DECLINED,
         {"requested_by": asker, "requested_at": asked_on.isoformat() if asked_on else None,
          "request_reason_sha256": audit.text_digest(asked_reason), "reason_sha256": audit.text_digest(reason),
          "outstanding": format_yuan(rec.amount - rec.repaid)}, clock)
    return recovery_out(session, rec)
