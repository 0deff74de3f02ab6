"""The second look at a 核实已收到 closing of a changed account (待复核): another county reviewer confirms it
(`confirm_closing`) or, disagreeing (the money did not arrive; the closer was wrong or colluding), returns it
(`return_closing`, 退回重新核实): the alert is open again, the returned closing kept as it was with who returned it and
why, and another reviewer closes it anew (never its closer, `receipt.returned_closers`). Who may do either is one rule
(`second_look_refusal`); a refused try is kept on 回避拦截记录 under its step."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..payments.models import PaymentItem
from ..recusal import guard as recusal, refusals
from ..roster.service import password_links
from ..store.tables import Case
from .models import STANDS, Followup, FollowupReceiptReview
from .receipt import (MAX_NOTE, RESOLVERS, Involved, barred_from_followup, case_locked, county_followup, did_of, involved,
                      returned_closers, why_of)

CONFIRM_STEP = "receipt_confirm"
RETURN_STEP = "receipt_return"
SECOND_LOOK = "核实已收到须由另一名县级审核人员复核（{why}）：您{did}"
"""`why`: `why_of` the item (its account changed after the check, or its payee is no household member)."""
AFTER_RETURN = "这次回访此前的核实已收到被退回"
"""The second look's `why` when the item reads neither changed nor outside now: a closing after a return waits for it
all the same (`receipt.resolve`)."""
RETURNED_ALREADY = "这次回访的核实已被退回，待其他县级审核人员重新核实"
NO_RETURN_NOTE = "请填写退回的理由（如银行流水显示钱没有到户主的账户、与户主本人核对的结果）"


def second_look_refusal(session: Session, who: Involved, f: Followup, review: FollowupReceiptReview, user_id: str,
                        earlier: frozenset[str] = frozenset()) -> str | None:
    """The one rule of who may not confirm, nor return, a 核实已收到 closing of a changed account (a DID key), or None
    when they may: its closer, the follow-up's recorder, the closer of an earlier closing of the same alert since
    returned (`earlier`), whoever `barred_from_followup` bars from the follow-up itself (who took part in paying the
    item; the case's check officers, for the account was changed or the payee is no household member), and an
    account linked to any of them by a password (the roster's rule, read against that same set)."""
    if user_id == review.resolved_by:
        return "receipt_closed"
    if user_id == f.recorded_by:
        return "followup_recorded"
    if user_id in earlier:
        return "receipt_returned"
    barred = second_barred(who, f, review, earlier)
    if user_id in barred:
        return who.part_of(user_id) or "check_officer"
    if password_links(session, user_id, barred):
        return "password_linked"
    return None


def second_barred(who: Involved, f: Followup, review: FollowupReceiptReview,
                  earlier: frozenset[str] = frozenset()) -> frozenset[str]:
    """Whom `second_look_refusal` refuses by what they did (before any password link)."""
    return barred_from_followup(who) | {f.recorded_by, review.resolved_by} | earlier


@dataclass(frozen=True)
class _Waiting:
    """A closing waiting for its second look, locked, and the caller allowed to give it."""

    followup: Followup
    case: Case
    review: FollowupReceiptReview


def _waiting(session: Session, followup_id: str, principal: Principal, *, step: str, clock: Clock) -> _Waiting:
    """The current closing of `followup_id` that waits for its second look (locked with its case), once the caller is
    found allowed to give it: a county reviewer (403), of the follow-up's county (404), not one `second_look_refusal`
    names (403, kept on 回避拦截记录 under `step`) nor a relative (回避, 403 under `step`); a closing that needs no second
    look, has had it, or was returned: 409."""
    if not principal.has(*RESOLVERS):
        raise Forbidden("只有县级审核人员可以复核回访核实结果")
    f = county_followup(session, followup_id, principal)
    case = case_locked(session, f, principal)
    review = session.scalar(select(FollowupReceiptReview).where(FollowupReceiptReview.followup_id == f.id, STANDS)
                            .with_for_update())
    earlier = returned_closers(session, f.id)
    if review is None:
        raise InvalidState(RETURNED_ALREADY if earlier else "这次回访还没有核实，无需复核")
    if not review.second_needed:
        raise InvalidState(("这次核实无需复核：只有收款账户已变更或收款人不是本户成员而核实已收到的，"
                           "才须另一名县级审核人员复核"))
    if review.confirmed_by is not None:
        raise InvalidState("这次核实已经复核过了")
    item = session.get(PaymentItem, f.payment_item_id)
    if item is None:
        raise InvalidState("这次回访所对应的支付明细已不存在，无法复核")
    who = involved(session, item)
    part = second_look_refusal(session, who, f, review, principal.id, earlier)
    if part is not None:
        exc = Forbidden(SECOND_LOOK.format(why=why_of(who) or AFTER_RETURN, did=did_of(part, who)))
        raise refusals.refused(exc, principal, step, [case.household_id], case_id=case.id, clock=clock)
    recusal.refuse_principal(session, principal, [case.household_id], step=step, case_id=case.id, clock=clock)
    return _Waiting(f, case, review)


def confirm_closing(session: Session, followup_id: str, *, principal: Principal,
                    clock: Clock) -> FollowupReceiptReview:
    """Another county reviewer confirms a 核实已收到 closing of an alert whose account was changed after the check
    or whose payee is no household member (`second_needed`): until then the alert is open (待复核), for one reviewer
    alone would otherwise bury the one signal of a diverted payment. Refused (403, kept on 回避拦截记录 under
    `receipt_confirm`) to whoever `second_look_refusal` names, and to a relative (回避); a closing that needs none, or
    is confirmed or returned already: 409; another county's: 404."""
    w = _waiting(session, followup_id, principal, step=CONFIRM_STEP, clock=clock)
    f, case, review = w.followup, w.case, w.review
    review.confirmed_by, review.confirmed_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS),
                 action="followup.receipt_confirmed", subject=f.id,
                 payload={"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
                          "review_id": review.id, "resolved_by": review.resolved_by, "outcome": review.outcome},
                 county_code=case.county_code, clock=clock)
    return review


def return_closing(session: Session, followup_id: str, note: str, *, principal: Principal,
                   clock: Clock) -> FollowupReceiptReview:
    """The second county reviewer disagrees with a 核实已收到 closing waiting for them (the money did not arrive) and
    returns it (退回重新核实) with a note: the same people `confirm_closing` refuses are refused (403, kept on 回避拦截记录
    under `receipt_return`; a relative, 回避); a note is required (422 naming `note`, at most `MAX_NOTE`); once (409
    after a confirmation or a return); another county's: 404. The closing is kept as it was, marked returned (who,
    when, why: append-only, the database refuses the closer as returner), and the alert is open again: another
    county reviewer closes it anew, never the closer of a returned closing (`receipt.resolve`)."""
    w = _waiting(session, followup_id, principal, step=RETURN_STEP, clock=clock)
    f, case, review = w.followup, w.case, w.review
    text = (note or "").strip()
    if not text:
        raise ValidationFailed([FieldError("note", NO_RETURN_NOTE)])
    if len(text) > MAX_NOTE:
        raise ValidationFailed([FieldError("note", f"退回理由不能超过 {MAX_NOTE} 个字")])
    review.returned_by, review.returned_at, review.return_note = principal.id, clock.now(), text
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS),
                 action="followup.receipt_returned", subject=f.id,
                 payload={"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
                          "review_id": review.id, "resolved_by": review.resolved_by, "outcome": review.outcome,
                          "note_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
                 county_code=case.county_code, clock=clock)
    return review
