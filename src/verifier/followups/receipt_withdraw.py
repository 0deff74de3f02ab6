"""Withdrawing a 核实未收到 closing (撤回核实未收到): two county reviewers, never one.

A 核实未收到 (`misdirected`) closing opens a recovery of what the household did not get and a supplementary payment
(补发) of it. Made by mistake, or by an insider who wants a second payment to flow, it could not be undone. Now one
county reviewer proposes its withdrawal with a reason (`propose`), and another confirms it (`confirm`): never the
proposer, nor the closer, nor anyone the second look's rule bars (`receipt_second.second_barred`: who took part in
paying the item, the follow-up's recorder, the closers of its returned closings; an account linked to one of them, or
to the proposer, by a password), nor a relative (回避). A refused try is kept on 回避拦截记录 under its step.

The confirmation, in one transaction with its audit entries, withdraws the recovery and the supplement (only while
the supplement is in no payment batch and the recovery has collected nothing: otherwise 409 naming why) and marks the
closing withdrawn, kept on record (who proposed it, when and why, who confirmed it): the alert is open again, and
another county reviewer closes it anew (never the closer of the withdrawn closing, `receipt.resolve`).

A proposal does not wait forever (migration 0057): its proposer drops it (撤销提议, `drop`), or another county reviewer
declines it (驳回撤回, `decline`: the same people the confirmation refuses are refused, and whoever declined an earlier
proposal of the closing, so one reviewer alone cannot keep a closing in place against every proposal), each with a
reason. The proposal ended is kept (`FollowupReceiptWithdrawEnded`), the closing's proposal columns cleared, and a new
proposal may be made. The proposals of a closing are numbered: a confirmation, a drop or a decline names the one its
page showed (`proposal`), and one dropped and proposed anew since (its reason perhaps another) is refused (409)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.money import format_yuan
from ..payments import recoveries
from ..payments.models import PaymentBatch, PaymentItem, Recovery, RecoveryRepayment, SupplementaryPayment
from ..recusal import guard as recusal, refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..sampling.consequences import SUPPLEMENT_WITHDRAWN
from ..store.tables import Case
from ..store.base import new_id
from .models import STANDS, Followup, FollowupReceiptReview, FollowupReceiptWithdrawEnded
from .receipt import (MAX_NOTE, RESOLVERS, Involved, ReceiptAlert, WithdrawnClosing, barred_from_followup, case_locked,
                      county_followup, did_of, involved, refused_part, returned_closers)
from .receipt_second import second_barred

PROPOSE_STEP = "receipt_withdraw_propose"
CONFIRM_STEP = "receipt_withdraw_confirm"
DROP_STEP = "receipt_withdraw_drop"
DECLINE_STEP = "receipt_withdraw_decline"
PROPOSED = "followup.receipt_withdraw_proposed"
DROPPED = "followup.receipt_withdraw_dropped"
DECLINED = "followup.receipt_withdraw_declined"
WITHDRAWAL = "撤回核实未收到"  # what a withdrawn recovery's and supplement's reason begins with (the log: this alone)
WITHDRAWN = "followup.receipt_withdrawn"

NOT_MISDIRECTED = "这次回访没有核实未收到（或已撤回），没有可撤回的核实"
NO_REASON = "请填写撤回的理由（如核实时看错了银行流水、农户后来找到了这笔钱）"
PROPOSED_ALREADY = "这次核实未收到的撤回已有人提议，待另一名县级审核人员确认"
NOT_PROPOSED = "还没有人提议撤回这次核实未收到：须先由一名县级审核人员提议撤回并写明理由"
PROPOSE_REFUSED = "撤回核实未收到不能由参与这笔支付或这次回访的人员提议：您{did}"
CONFIRM_REFUSED = "撤回核实未收到须由另一名县级审核人员确认：您{did}"
PROPOSER = "提议了撤回这次核实未收到"
CLOSER = "核实了这次未收到救助金的回访（核实未收到）"
NOTHING_TO_END = "没有待确认的撤回提议：可能已被撤销、驳回或确认，请刷新页面后查看"
STALE = ("您看到的撤回提议已被撤销或驳回，现在待确认的是另一条提议（第 {now} 条），请刷新页面、核对其理由后再操作")
NO_DROP_REASON = "请填写撤销提议的理由（如复核后确认钱确实没有到户）"
NO_DECLINE_REASON = "请填写驳回撤回的理由（如银行流水确实显示钱进了别人的卡）"
DROP_REFUSED = "只有提议人可以撤销自己的撤回提议：不同意撤回的县级审核人员可填写理由驳回"
DECLINE_REFUSED = "驳回撤回核实未收到须由另一名县级审核人员作出：您{did}"
PROPOSER_DECLINES = "提议了撤回这次核实未收到（不再撤回的，请撤销自己的提议）"
DECLINED_BEFORE = "驳回过这次核实未收到此前的撤回提议，再次驳回须由其他县级审核人员作出"
DECLINER_LINKED = "的账号与驳回过这次核实未收到此前撤回提议的人员有密码关联" + PASSWORD_LINK
LINKED = "的账号与提议撤回或参与支付、核实的人员有密码关联" + PASSWORD_LINK

IN_BATCH = ("不能撤回：这笔补发（{amount} 元）已列入支付批次 {batch}。请先将它移出批次（或撤销批次）、补发重新待支付后，"
            "再确认撤回")
PAID = "不能撤回：这笔补发（{amount} 元）已付给农户，撤回核实不能收回已付出的钱"
SUPPLEMENT_GONE = "不能撤回：这笔补发已撤销"
COLLECTED = ("不能撤回：追回已登记还款 {amount} 元（含待确认的），钱已开始收回。只有追回分文未收、补发尚未列入支付批次时，"
             "才能撤回核实未收到")
RECOVERY_CLOSED = "不能撤回：追回当前为「{status}」"


@dataclass(frozen=True)
class _Standing:
    """The follow-up's standing 核实未收到 closing, locked with its case, and what paid its item."""

    followup: Followup
    case: Case
    review: FollowupReceiptReview
    who: Involved


def _standing(session: Session, followup_id: str, principal: Principal, *, confirming: bool = False) -> _Standing:
    if not principal.has(*RESOLVERS):
        raise Forbidden("只有县级审核人员可以撤回核实未收到")
    f = county_followup(session, followup_id, principal)
    if confirming:
        # The supplement's row is locked before the case's, in the order a batch takes them (the supplement, then its
        # item's key share on the case): the other order deadlocks a withdrawal and a batch taking the supplement.
        sup = select(FollowupReceiptReview.supplement_id).where(FollowupReceiptReview.followup_id == f.id, STANDS)
        session.execute(select(SupplementaryPayment.id).where(SupplementaryPayment.id.in_(sup)).with_for_update())
    case = case_locked(session, f, principal)
    review = session.scalar(select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == f.id, STANDS)
                            .with_for_update().execution_options(populate_existing=True))
    if review is None or review.outcome != "misdirected":
        raise InvalidState(NOT_MISDIRECTED)
    item = session.get(PaymentItem, f.payment_item_id)
    if item is None:
        raise InvalidState("这次回访所对应的支付明细已不存在，无法撤回")
    return _Standing(f, case, review, involved(session, item))


def undo_refusal(session: Session, review: FollowupReceiptReview, *, lock: bool = False) -> str | None:
    """Why the closing's recovery and supplement can no longer be withdrawn (in Chinese), or None: the supplement is
    in a payment batch or paid, or the recovery has a repayment recorded (waiting or confirmed) or is closed.
    `lock`: both rows locked first (the confirmation's transaction), so a batch taking the supplement, or finance
    recording a repayment, waits for it or is waited for."""
    sup_q = select(SupplementaryPayment).where(SupplementaryPayment.id == review.supplement_id)
    rec_q = select(Recovery).where(Recovery.id == review.recovery_id)
    if lock:
        sup_q = sup_q.with_for_update().execution_options(populate_existing=True)
        rec_q = rec_q.with_for_update().execution_options(populate_existing=True)
    sup, rec = session.scalar(sup_q), session.scalar(rec_q)
    if sup is None or rec is None:
        raise InvalidState("这次核实未收到所开立的追回或补发已不存在，无法撤回")
    if sup.status == "in_batch":
        batch = session.scalar(select(PaymentBatch.code).join(PaymentItem, PaymentItem.batch_id == PaymentBatch.id)
                               .where(PaymentItem.supplement_id == sup.id, PaymentItem.status != "cancelled")
                               .order_by(PaymentItem.created_at.desc()).limit(1))
        return IN_BATCH.format(amount=format_yuan(sup.amount), batch=batch or "")
    if sup.status == "paid":
        return PAID.format(amount=format_yuan(sup.amount))
    if sup.status != "open":
        return SUPPLEMENT_GONE
    recorded = int(session.scalar(select(func.coalesce(func.sum(RecoveryRepayment.amount), 0)).where(
        RecoveryRepayment.recovery_id == rec.id, RecoveryRepayment.status != "rejected")) or 0)
    if rec.repaid or recorded:
        return COLLECTED.format(amount=format_yuan(max(rec.repaid, recorded)))
    if rec.status != "open":
        return RECOVERY_CLOSED.format(status=recoveries.RECOVERY_STATUS_ZH.get(rec.status, rec.status))
    return None


def _reason(reason: str | None, *, blank: str = NO_REASON, named: str = "撤回理由") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed([FieldError("reason", blank)])
    if len(text) > MAX_NOTE:
        raise ValidationFailed([FieldError("reason", f"{named}不能超过 {MAX_NOTE} 个字")])
    return text


def numbered(review: FollowupReceiptReview, ended: Iterable[EndedProposal]) -> int:
    """The one rule of a proposal's number: the number of the closing's proposal that waits (or was confirmed), or of
    the next one, is one more than its proposals ended (dropped or declined). `ended`: the follow-up's ended
    proposals (`ended_proposals`; those of its other closings are not counted)."""
    return 1 + sum(1 for e in ended if e.review_id == review.id)


def waiting_proposal(review: FollowupReceiptReview | None, ended: Iterable[EndedProposal]) -> int | None:
    """`numbered` for the proposal that waits (or was confirmed): None when none does (the alert's and the API's
    `withdraw_proposal`, the number the page's forms send back)."""
    return numbered(review, ended) if review is not None and review.withdraw_proposed_by else None


def proposal_number(session: Session, review: FollowupReceiptReview) -> int:
    """`numbered`, its ended proposals read from the store."""
    return numbered(review, ended_proposals(session, [review.followup_id]).get(review.followup_id, ()))


def decline_bar(barred: frozenset[str], review: FollowupReceiptReview, ended: Iterable[EndedProposal]
                ) -> frozenset[str]:
    """Whom `decline_refusal` refuses by what they did (before any password link): whom the confirmation refuses
    (`barred`, the second look's rule, and the proposer) and who declined an earlier proposal of the closing."""
    return barred | {review.withdraw_proposed_by or ""} | {
        e.ended_by for e in ended if e.review_id == review.id and e.ended == "declined"}


def declines_refused(session: Session, alerts: Sequence[ReceiptAlert], user_id: str) -> frozenset[str]:
    """Of `alerts`, the follow-ups whose waiting proposal `user_id` may not decline, by `decline_refusal`'s rule as a
    page reads it: who is in the alert's `decline_bar`, or whose account is linked by a password to one who is (the
    roster's rule, read in one statement). A page offers the others the decline's form."""
    waiting = [a for a in alerts if a.withdraw_proposed_by]
    linked = password_links(session, user_id, {p for a in waiting for p in a.decline_barred} - {""})
    return frozenset(a.followup_id for a in waiting if user_id in a.decline_barred or linked & a.decline_barred)


def _pending(session: Session, review: FollowupReceiptReview, proposal: int | None, *, none: str) -> int:
    """The number of the proposal that waits, checked against the one the page showed (`proposal`; None: not said,
    as the API's confirmation before 0057): none waits, `none` (409); another one since, `STALE` (409)."""
    if review.withdraw_proposed_by is None:
        raise InvalidState(none)
    now = proposal_number(session, review)
    if proposal is not None and proposal != now:
        raise InvalidState(STALE.format(now=now))
    return now


def propose_refusal(session: Session, who: Involved, f: Followup, user_id: str) -> str | None:
    """Who may not propose the withdrawal (what they did, in words after 您), or None: whoever took part in paying
    the item (`receipt.refused_part`: the payee changers, the batch's people, the check officers where the account was
    changed or the payee is no member), the follow-up's recorder, and an account linked to one of them by a password.
    The closer may propose it (a mistake of their own); the confirmation is another reviewer's."""
    if user_id == f.recorded_by:
        return did_of("followup_recorded", who)
    part = refused_part(who, user_id)
    if part is not None:
        return did_of(part, who)
    if password_links(session, user_id, barred_from_followup(who) | {f.recorded_by}):
        return did_of("password_linked", who)
    return None


def confirm_refusal(session: Session, who: Involved, f: Followup, review: FollowupReceiptReview,
                    user_id: str) -> str | None:
    """Who may not confirm the withdrawal (what they did, in words after 您), or None: its proposer, the closer, and
    whoever the second look's rule bars (`receipt_second.second_barred`), and an account linked by a password to any
    of them or to the proposer."""
    if user_id == review.withdraw_proposed_by:
        return PROPOSER
    if user_id == review.resolved_by:
        return CLOSER
    earlier = returned_closers(session, f.id)
    barred = second_barred(who, f, review, earlier)
    if user_id == f.recorded_by:
        return did_of("followup_recorded", who)
    if user_id in earlier:
        return did_of("receipt_returned", who)
    if user_id in barred:
        return did_of(who.part_of(user_id) or "check_officer", who)
    if password_links(session, user_id, barred | {review.withdraw_proposed_by or ""}):
        return LINKED
    return None


def decliners(session: Session, review: FollowupReceiptReview) -> frozenset[str]:
    """Who declined an earlier proposal to withdraw the closing: none of them declines again."""
    return frozenset(session.scalars(select(FollowupReceiptWithdrawEnded.ended_by).where(
        FollowupReceiptWithdrawEnded.review_id == review.id, FollowupReceiptWithdrawEnded.ended == "declined")))


def decline_refusal(session: Session, who: Involved, f: Followup, review: FollowupReceiptReview,
                    user_id: str) -> str | None:
    """Who may not decline the proposal (what they did, in words after 您), or None: a decline keeps the recovery and
    the supplement going, so it is as much a decision as the confirmation, and refused to the same people
    (`confirm_refusal`: the closer, who took part in paying the item, an account linked to one of them...; the
    proposer drops the proposal instead), and to whoever declined an earlier proposal of the closing, or an account
    linked to one of them by a password (else one person's second account declines the next proposal)."""
    if user_id == review.withdraw_proposed_by:
        return PROPOSER_DECLINES
    earlier = decliners(session, review)
    if user_id in earlier:
        return DECLINED_BEFORE
    if password_links(session, user_id, earlier):
        return DECLINER_LINKED
    return confirm_refusal(session, who, f, review, user_id)


def _refuse(session: Session, s: _Standing, did: str | None, refused: str, step: str, *, principal: Principal,
            clock: Clock) -> None:
    """Refuses the step (403 `refused` naming `did`, kept on 回避拦截记录 under `step`) where `did` says what the
    principal did that bars them, and to a relative of the household (回避)."""
    if did is not None:
        raise refusals.refused(Forbidden(refused.format(did=did)), principal, step, [s.case.household_id],
                               case_id=s.case.id, clock=clock)
    recusal.refuse_principal(session, principal, [s.case.household_id], step=step, case_id=s.case.id, clock=clock)


def propose(session: Session, followup_id: str, reason: str | None, *, principal: Principal,
            clock: Clock) -> FollowupReceiptReview:
    """A county reviewer proposes withdrawing the follow-up's standing 核实未收到 closing, with a reason (422 naming
    `reason`): not one who took part in paying the item or recorded the follow-up (403, kept on 回避拦截记录 under
    `receipt_withdraw_propose`), nor a relative (回避); once (409); a closing whose supplement is in a batch or whose
    recovery has collected money: 409 naming why; another county's: 404. Nothing is withdrawn until another county
    reviewer confirms it (`confirm`)."""
    s = _standing(session, followup_id, principal)
    f, case, review = s.followup, s.case, s.review
    did = propose_refusal(session, s.who, f, principal.id)
    _refuse(session, s, did, PROPOSE_REFUSED, PROPOSE_STEP, principal=principal, clock=clock)
    if review.withdraw_proposed_by is not None:
        raise InvalidState(PROPOSED_ALREADY)
    text = _reason(reason)
    why = undo_refusal(session, review)
    if why is not None:
        raise InvalidState(why)
    review.withdraw_proposed_by, review.withdraw_proposed_at, review.withdraw_reason = principal.id, clock.now(), text
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS), action=PROPOSED, subject=f.id,
                 payload={"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
                          "review_id": review.id, "resolved_by": review.resolved_by,
                          "recovery_id": review.recovery_id, "supplement_id": review.supplement_id,
                          "proposal": proposal_number(session, review), "reason_sha256": audit.text_digest(text)},
                 county_code=case.county_code, clock=clock)
    return review


def confirm(session: Session, followup_id: str, *, principal: Principal, clock: Clock,
            proposal: int | None = None) -> FollowupReceiptReview:
    """Another county reviewer confirms the proposed withdrawal: refused (403, kept on 回避拦截记录 under
    `receipt_withdraw_confirm`) to whoever `confirm_refusal` names, and to a relative (回避); none proposed, or done
    already: 409; the supplement in a batch or paid, or the recovery with money recorded: 409 naming why, nothing
    written. Otherwise, in this transaction: the recovery and the supplement withdrawn (each audited), the closing
    marked withdrawn, and `followup.receipt_withdrawn`; the alert is open again. `proposal`: the number of the
    proposal the page showed: another one since (dropped and proposed anew): 409."""
    s = _standing(session, followup_id, principal, confirming=True)
    f, case, review = s.followup, s.case, s.review
    number = _pending(session, review, proposal, none=NOT_PROPOSED)
    did = confirm_refusal(session, s.who, f, review, principal.id)
    _refuse(session, s, did, CONFIRM_REFUSED, CONFIRM_STEP, principal=principal, clock=clock)
    why = undo_refusal(session, review, lock=True)
    if why is not None:
        raise InvalidState(why)
    reason = review.withdraw_reason or ""
    withdrawn = f"{WITHDRAWAL}：{reason}"
    sup = session.get(SupplementaryPayment, review.supplement_id)
    rec = session.get(Recovery, review.recovery_id)
    assert sup is not None and rec is not None  # `undo_refusal` read both
    # the reason is free text: the log keeps its SHA-256, as the proposal's entry does (the rows keep it to be shown)
    logged = {"reason": WITHDRAWAL, "reason_sha256": audit.text_digest(reason)}
    recoveries.withdraw_recovery(session, rec, reason=withdrawn, principal=principal, clock=clock, logged=logged)
    sup.status, sup.withdrawn_reason = "withdrawn", withdrawn
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS), action=SUPPLEMENT_WITHDRAWN,
                 subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"supplement_id": sup.id, "round_id": None, "followup_id": f.id,
                          "amount": format_yuan(sup.amount), **logged})
    review.withdrawn_by, review.withdrawn_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS), action=WITHDRAWN, subject=f.id,
                 payload={"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
                          "review_id": review.id, "resolved_by": review.resolved_by,
                          "proposed_by": review.withdraw_proposed_by, "proposal": number, "recovery_id": rec.id,
                          "supplement_id": sup.id,
                          "amount": format_yuan(sup.amount)},
                 county_code=case.county_code, clock=clock)
    return review


def drop(session: Session, followup_id: str, reason: str | None, *, principal: Principal, clock: Clock,
         proposal: int | None = None) -> FollowupReceiptReview:
    """The proposer drops their own proposal (撤销提议) with a reason: none waits, or another one since
    (`proposal`): 409; anyone else: 403 (kept on 回避拦截记录 under `receipt_withdraw_drop`: another reviewer who
    disagrees declines it, `decline`); a blank reason: 422. The proposal ended is kept, and a new one may be made."""
    s = _standing(session, followup_id, principal)
    number = _pending(session, s.review, proposal, none=NOTHING_TO_END)
    if principal.id != s.review.withdraw_proposed_by:
        raise refusals.refused(Forbidden(DROP_REFUSED), principal, DROP_STEP, [s.case.household_id],
                               case_id=s.case.id, clock=clock)
    text = _reason(reason, blank=NO_DROP_REASON, named="撤销理由")
    payload = _end(session, s, number, "dropped", text, principal=principal, clock=clock)
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS), action=DROPPED,
                 subject=s.followup.id, payload=payload, county_code=s.case.county_code, clock=clock)
    return s.review


def decline(session: Session, followup_id: str, reason: str | None, *, principal: Principal, clock: Clock,
            proposal: int | None = None) -> FollowupReceiptReview:
    """Another county reviewer declines the proposal (驳回撤回) with a reason: refused (403, kept on 回避拦截记录
    under `receipt_withdraw_decline`) to whoever `decline_refusal` names and to a relative (回避); none waits, or
    another one since (`proposal`): 409; a blank reason: 422. Declined even where the closing can no longer be
    withdrawn (its supplement batched or paid): the proposal no longer stands beside it. Kept, and a new proposal may
    be made."""
    s = _standing(session, followup_id, principal)
    f, case, review = s.followup, s.case, s.review
    number = _pending(session, review, proposal, none=NOTHING_TO_END)
    did = decline_refusal(session, s.who, f, review, principal.id)
    _refuse(session, s, did, DECLINE_REFUSED, DECLINE_STEP, principal=principal, clock=clock)
    text = _reason(reason, blank=NO_DECLINE_REASON, named="驳回理由")
    payload = _end(session, s, number, "declined", text, principal=principal, clock=clock)
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS), action=DECLINED, subject=f.id,
                 payload=payload, county_code=case.county_code, clock=clock)
    return review


def _end(session: Session, s: _Standing, number: int, how: str, text: str, *, principal: Principal,
         clock: Clock) -> dict[str, Any]:
    """The waiting proposal ended (`how`: dropped or declined), kept with who ended it, when and why, and the
    closing's proposal columns cleared: the payload of its audit entry (the reasons' SHA-256 only), which the caller
    appends in this transaction."""
    f, case, review = s.followup, s.case, s.review
    assert review.withdraw_proposed_by is not None and review.withdraw_proposed_at is not None
    ended = FollowupReceiptWithdrawEnded(
        id=new_id("fwe"), review_id=review.id, followup_id=f.id, county_code=case.county_code, proposal=number,
        proposed_by=review.withdraw_proposed_by, proposed_at=review.withdraw_proposed_at,
        reason=review.withdraw_reason or "", ended=how, ended_by=principal.id, ended_at=clock.now(), end_reason=text)
    session.add(ended)
    review.withdraw_proposed_by = review.withdraw_proposed_at = review.withdraw_reason = None
    session.flush()
    return {"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id, "review_id": review.id,
            "resolved_by": review.resolved_by, "proposal": number, "proposed_by": ended.proposed_by,
            "proposal_reason_sha256": audit.text_digest(ended.reason), "reason_sha256": audit.text_digest(text)}


@dataclass(frozen=True)
class EndedProposal:
    """A proposal to withdraw a 核实未收到 closing that ended without a withdrawal: dropped by its proposer, or
    declined by another county reviewer."""

    id: str
    review_id: str
    proposal: int
    proposed_by: str
    proposed_at: datetime
    reason: str
    ended: str  # dropped | declined
    ended_by: str
    ended_at: datetime
    end_reason: str


def ended_proposals(session: Session, followup_ids: list[str]) -> dict[str, tuple[EndedProposal, ...]]:
    """The ended proposals of `followup_ids`' closings, oldest first, in one statement (a page's follow-ups)."""
    out: dict[str, list[EndedProposal]] = {}
    if followup_ids:
        E = FollowupReceiptWithdrawEnded
        for r in session.scalars(select(E).where(E.followup_id.in_(sorted(set(followup_ids))))
                                 .order_by(E.ended_at, E.proposal, E.id)):
            out.setdefault(r.followup_id, []).append(EndedProposal(
                id=r.id, review_id=r.review_id, proposal=r.proposal, proposed_by=r.proposed_by,
                proposed_at=r.proposed_at, reason=r.reason, ended=r.ended, ended_by=r.ended_by, ended_at=r.ended_at,
                end_reason=r.end_reason))
    return {k: tuple(v) for k, v in out.items()}


def withdrawn_closings(session: Session, followup_ids: list[str]) -> dict[str, tuple[WithdrawnClosing, ...]]:
    """The withdrawn closings of `followup_ids`, oldest first, in one statement (a page's follow-ups at once)."""
    out: dict[str, list[WithdrawnClosing]] = {}
    if followup_ids:
        for r in session.scalars(select(FollowupReceiptReview).where(
                FollowupReceiptReview.followup_id.in_(sorted(set(followup_ids))),
                FollowupReceiptReview.withdrawn_at.is_not(None)).order_by(FollowupReceiptReview.withdrawn_at,
                                                                           FollowupReceiptReview.id)):
            out.setdefault(r.followup_id, []).append(WithdrawnClosing(
                id=r.id, resolved_by=r.resolved_by, resolved_at=r.resolved_at, note=r.note,
                proposed_by=r.withdraw_proposed_by or "", proposed_at=r.withdraw_proposed_at or r.resolved_at,
                reason=r.withdraw_reason or "", withdrawn_by=r.withdrawn_by or "",
                withdrawn_at=r.withdrawn_at or r.resolved_at))
    return {k: tuple(v) for k, v in out.items()}
