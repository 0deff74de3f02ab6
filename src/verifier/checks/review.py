"""An ineligible decision, told and reviewable: the result letter (认定结果告知书) and the household's request for a
review (复核申请), which sends the case back to be checked again by officers who did not make the earlier check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import advance, load_case
from ..clock import SCHEME_TZ, Clock
from ..documents.letter import ResultLetter, render_letter
from ..domain.eligibility import reason_in_chinese
from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..notices.service import DEFAULT_OBJECTION_PHONE, county_name
from ..recusal import guard as recusal
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.tables import CLOSED_STATUSES, Case, Determination, ReviewRequest

MAX_SUMMARY = 2000


@dataclass(frozen=True)
class Decision:
    determination: Determination
    decided_on: date
    review_by: date  # the last day a review request is received


def ineligible_decision(session: Session, case: Case) -> Decision:
    """The decision a review would answer: the case's latest determination, which found it ineligible."""
    if case.status != "ineligible":
        raise InvalidState("只有认定为不符合条件的案件才能出具告知书、申请复核"
                           f"（当前状态：{STATUS_LABELS_ZH.get(case.status, case.status)}）")  # type: ignore[call-overload]
    det = session.scalar(select(Determination).where(Determination.case_id == case.id)
                         .order_by(Determination.confirmed_at.desc()).limit(1))
    if det is None or det.eligible:
        raise InvalidState("本案没有“不符合条件”的认定")
    days = contract_store.get_contract(session, case.contract_id).spec.deadlines.review_request_days
    decided_on = det.confirmed_at.astimezone(SCHEME_TZ).date()
    return Decision(det, decided_on, decided_on + timedelta(days=days))


def result_letter(session: Session, case_id: str, *, principal: Principal, clock: Clock) -> bytes:
    """The letter to the household, as .docx."""
    case = load_case(session, case_id, principal)
    decision = ineligible_decision(session, case)
    contract = contract_store.get_contract(session, case.contract_id)
    cname = county_name(contract)
    office = f"{cname}{case.town}人民政府"
    det = decision.determination
    letter = ResultLetter(
        issuing_body=office, county=cname, town=case.town, village=case.village, head_name=case.household.head_name,
        cause=case.cause, cause_label=contract.cause_table.cause_name(case.cause), referred_on=case.referred_on, decided_on=decision.decided_on,
        reasons=[reason_in_chinese(det.reason) or det.reason], review_by=decision.review_by, review_place=office,
        review_phone=DEFAULT_OBJECTION_PHONE, issued_on=max(clock.today(), decision.decided_on),
    )
    return render_letter(letter)


def request_review(session: Session, case_id: str, *, received_on: date, summary: str, principal: Principal,
                   clock: Clock) -> ReviewRequest:
    """Record a review request received on paper by the town; the case goes back to be scheduled and checked."""
    case = load_case(session, case_id, principal, for_update=True)
    decision = ineligible_decision(session, case)
    # 回避: the request reopens the decision; not recorded by a relative of the household (as an objection is not)
    recusal.refuse_principal(session, principal, [case.household_id], step="review_request", field="summary",
                             case_id=case.id, clock=clock)
    problems: list[FieldError] = []
    text = summary.strip()
    if not text:
        problems.append(FieldError("summary", "请填写申请理由"))
    elif len(text) > MAX_SUMMARY:
        problems.append(FieldError("summary", f"最多 {MAX_SUMMARY} 个字符（现有 {len(text)} 个）"))
    if received_on > clock.today():
        problems.append(FieldError("received_on", f"不能晚于今天（填写的是 {received_on}）"))
    elif received_on < decision.decided_on:
        problems.append(FieldError("received_on", f"{received_on} 早于认定日期 {decision.decided_on}"))
    if problems:
        raise ValidationFailed(problems)
    if received_on > decision.review_by:
        raise InvalidState(f"复核申请期限已于 {decision.review_by} 截止：{received_on} 收到的申请已逾期，不能登记")
    other = session.scalar(select(Case.number).where(
        Case.household_id == case.household_id, Case.cause == case.cause, Case.contract_year == case.contract_year,
        Case.id != case.id, Case.status.not_in(CLOSED_STATUSES)))
    if other is not None:
        raise InvalidState(f"该户本年度同类原因已有办理中的案件 {other}，请在该案件中核查")
    request = ReviewRequest(id=new_id("rvw"), case_id=case.id, determination_id=decision.determination.id,
                            received_on=received_on, summary=text, recorded_by=principal.id, recorded_at=clock.now())
    session.add(request)
    session.flush()
    advance(session, case, "request_review", actor=principal, role="town_clerk", clock=clock, payload={
        "review_request_id": request.id, "determination_id": decision.determination.id,
        "received_on": received_on.isoformat(), "summary_sha256": audit.text_digest(text)})
    return request
