"""Needs passed to departments (发点球): a need found at a home check or a follow-up is referred to the department
that meets it, with a due date; the county reviewer records the department's answer; open and overdue referrals are
listed, and counted for the monthly report (`figures`).

Who may do what, and what one person cannot do alone:
- field officers and insurer supervisors of the case's county pass a need (another county's case: 404);
- only a county reviewer records a department's answer (a clerk or an officer: 403), never to a referral they
  passed themselves, and once (a second answer: 409);
- a case has one open referral per need: the same need again is refused (409) until it is answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import load_case
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..followups.models import Followup
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Check, Household
from .models import NEEDS, OUTCOMES, SOURCES, NeedReferral

REFERRERS = ("field_officer", "insurer_supervisor")
ANSWERERS = ("county_reviewer",)
READERS = ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")
DEPARTMENTS = {"medical_assistance": "县医疗保障局", "dibao": "县民政局", "housing_repair": "县住房和城乡建设局",
               "schooling_aid": "县教育局", "employment": "县人力资源和社会保障局"}
"""The department each need goes to unless the person passing it names another."""
MAX_TEXT = 2000
MAX_DEPARTMENT = 100


class ReferralInput(msgspec.Struct, forbid_unknown_fields=True):
    case_id: str
    need: str
    source: str = "check"  # check | followup
    followup_id: str | None = None
    department: str = ""  # blank: DEPARTMENTS[need]
    due_on: date | None = None  # absent: today + the contract's [followup] referral_answer_days
    note: str = ""


class AnswerInput(msgspec.Struct, forbid_unknown_fields=True):
    outcome: str  # met | partly | declined
    answer: str
    answered_on: date | None = None  # absent: today


def followup_of_case(session: Session, case_id: str, followup_id: str | None) -> Followup | None:
    """The follow-up a need comes from, when it is one of the case's (None otherwise)."""
    followup = session.get(Followup, followup_id) if followup_id else None
    return followup if followup is not None and followup.case_id == case_id else None


# A follow-up refused at the county's second look (回访待县级复核, `followups.alone_look`) answers nothing.
FROM_REFUSED = ("这次回访已被县级复核退回，须重新回访，不能据此转交需求：请在重新回访后从新的回访转交，"
                "或从入户核查转交")


def refused_followup(followup: Followup | None) -> bool:
    """Whether the follow-up a need would come from was refused at the county's second look (its needs unsaid)."""
    return followup is not None and followup.alone_refused_at is not None


def refer_need(session: Session, data: ReferralInput, *, principal: Principal, clock: Clock) -> NeedReferral:
    if not principal.has(*REFERRERS):
        raise Forbidden("只有核查员或保险公司主管可以把需求转交部门")
    case = load_case(session, data.case_id, principal, for_update=True)
    today = clock.today()
    problems: list[FieldError] = []
    if data.need not in NEEDS:
        problems.append(FieldError("need", "请选择需求：医疗救助、低保、危房改造、教育资助或就业帮扶"))
    if data.source not in SOURCES:
        problems.append(FieldError("source", "来源应为入户核查或回访"))
    elif data.source == "followup":
        followup = followup_of_case(session, case.id, data.followup_id)
        if followup is None:
            problems.append(FieldError("followup_id", "没有这次回访，或它不属于该案件"))
        elif refused_followup(followup):
            raise InvalidState(FROM_REFUSED)
    elif session.scalar(select(Check.id).where(Check.case_id == case.id).limit(1)) is None:
        problems.append(FieldError("source", "该案件尚未入户核查：需求应来自入户核查或回访"))
    department = data.department.strip() or DEPARTMENTS.get(data.need, "")
    if len(department) > MAX_DEPARTMENT:
        problems.append(FieldError("department", f"部门名称不能超过 {MAX_DEPARTMENT} 个字"))
    days = contract_store.get_contract(session, case.contract_id).spec.followup.referral_answer_days
    due_on = data.due_on or today + timedelta(days=days)
    if due_on < today:
        problems.append(FieldError("due_on", f"答复期限 {due_on} 不能早于今天"))
    elif due_on > today + timedelta(days=365):
        problems.append(FieldError("due_on", "答复期限不能超过一年"))
    note = data.note.strip()
    if len(note) > MAX_TEXT:
        problems.append(FieldError("note", f"说明不能超过 {MAX_TEXT} 个字"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(NeedReferral.id).where(NeedReferral.case_id == case.id, NeedReferral.need == data.need,
                                                    NeedReferral.status == "open")):
        raise InvalidState("该户的这项需求已转交部门、尚未答复，不能重复转交")
    row = NeedReferral(id=new_id("ndr"), case_id=case.id, county_code=case.county_code, need=data.need,
                       department=department, source=data.source,
                       followup_id=data.followup_id if data.source == "followup" else None, referred_on=today,
                       due_on=due_on, note=note or None, referred_by=principal.id, referred_at=clock.now(),
                       status="open")
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(REFERRERS), action="need_referral.create",
                 subject=row.id, payload={"case_id": case.id, "need": row.need, "department": row.department,
                                          "source": row.source, "followup_id": row.followup_id,
                                          "due_on": due_on.isoformat()},
                 county_code=case.county_code, clock=clock)
    return row


def get_referral(session: Session, referral_id: str, principal: Principal | None, *,
                 for_update: bool = False) -> NeedReferral:
    stmt = select(NeedReferral).where(NeedReferral.id == referral_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None or (principal is not None and not principal.may_see_county(row.county_code)):
        raise NotFound("这项转交部门的需求不存在")
    return row


LINKED_REFERRER = ("按“四眼原则”，您的账号与转交这项需求的人员的账号有密码关联" + PASSWORD_LINK
                   + "，部门答复须由其他县级复核人员录入")


def answer_parts(row: NeedReferral) -> list[recusal_refusals.LinkedPart]:
    """The account an answer's recorder is the second person of: who passed the need to the department."""
    return [recusal_refusals.LinkedPart(row.referred_by, LINKED_REFERRER, case_id=row.case_id,
                                        extra={"referral_id": row.id, "why": "password_linked"})]


def linked_answerer(session: Session, row: NeedReferral, principal: Principal) -> str | None:
    """Why `principal` may not record the answer through an account linked by a password to the referrer's (what
    `answer_referral` refuses with), or None: the need's page shows it instead of the form."""
    return recusal_refusals.linked_said(session, principal, answer_parts(row))


def answer_referral(session: Session, referral_id: str, data: AnswerInput, *, principal: Principal,
                    clock: Clock) -> NeedReferral:
    """Record the department's answer: a county reviewer of the county, not the person who passed the need, once."""
    if not principal.has(*ANSWERERS):
        raise Forbidden("部门答复只能由县级复核人员录入")
    row = get_referral(session, referral_id, principal, for_update=True)
    if row.referred_by == principal.id:
        raise Forbidden("转交这项需求的人不能录入它的答复")
    recusal_refusals.refuse_linked(session, principal, "need_answer", answer_parts(row), clock=clock)
    if row.status != "open":
        raise InvalidState("这项需求已录入部门答复（重复提交不会再保存）")
    today = clock.today()
    answered_on = data.answered_on or today
    problems: list[FieldError] = []
    if data.outcome not in OUTCOMES:
        problems.append(FieldError("outcome", "请选择答复结果：已解决、部分解决或不符合条件"))
    answer = data.answer.strip()
    if not answer:
        problems.append(FieldError("answer", "请填写部门的答复内容"))
    elif len(answer) > MAX_TEXT:
        problems.append(FieldError("answer", f"答复内容不能超过 {MAX_TEXT} 个字"))
    if answered_on > today:
        problems.append(FieldError("answered_on", f"答复日期 {answered_on} 不能晚于今天"))
    elif answered_on < row.referred_on:
        problems.append(FieldError("answered_on", f"答复日期 {answered_on} 不能早于转交日期 {row.referred_on}"))
    if problems:
        raise ValidationFailed(problems)
    row.status, row.outcome, row.answer, row.answered_on = "answered", data.outcome, answer, answered_on
    row.answered_by, row.answered_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="need_referral.answer", subject=row.id,
                 payload={"case_id": row.case_id, "need": row.need, "outcome": row.outcome,
                          "answered_on": answered_on.isoformat(), "late": answered_on > row.due_on},
                 county_code=row.county_code, clock=clock)
    return row


@dataclass(frozen=True)
class ReferralRow:
    referral: NeedReferral
    case_number: str
    head_name: str
    town: str
    village: str

    def overdue_days(self, today: date) -> int:
        r = self.referral
        return max(0, (today - r.due_on).days) if r.status == "open" else 0


def _listing(principal: Principal | None) -> Select[Any]:
    stmt = (select(NeedReferral, Case.number, Household.head_name, Case.town, Case.village)
            .join(Case, Case.id == NeedReferral.case_id).join(Household, Household.id == Case.household_id))
    if principal is not None and principal.counties:
        stmt = stmt.where(NeedReferral.county_code.in_(principal.counties))
    return stmt


def list_referrals(session: Session, principal: Principal | None, *, today: date | None = None, state: str = "",
                   county_code: str | None = None, case_id: str | None = None, limit: int = 500) -> list[ReferralRow]:
    """Referrals within the caller's counties. `state`: open (earliest due first), overdue (open past the due
    date: `today` is needed then), answered (latest first), or blank (open ones first, then answered)."""
    stmt = _state_query(principal, today=today, state=state, county_code=county_code, case_id=case_id)
    return [ReferralRow(r, n, h, t, v) for r, n, h, t, v in session.execute(stmt.limit(limit)).tuples()]


def find_referrals(session: Session, principal: Principal, *, today: date, state: str = "open", q: str = "",
                   page: int = 1, page_size: int = PAGE_SIZE) -> Paged[ReferralRow]:
    """The needs page: one page of the referrals in `state`, searched by household head, case number, town,
    village or department."""
    stmt = _state_query(principal, today=today, state=state)
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (Household.head_name, Case.number, Case.town, Case.village,
                                             NeedReferral.department)))
    return page_of(session, stmt, page, page_size, rows=True).map(lambda row: ReferralRow(*row))


def _state_query(principal: Principal | None, *, today: date | None, state: str, county_code: str | None = None,
                 case_id: str | None = None) -> Select[Any]:
    stmt = _listing(principal)
    if county_code:
        stmt = stmt.where(NeedReferral.county_code == county_code)
    if case_id:
        stmt = stmt.where(NeedReferral.case_id == case_id)
    if state in ("open", "overdue"):
        stmt = stmt.where(NeedReferral.status == "open").order_by(NeedReferral.due_on, NeedReferral.id)
        if state == "overdue":
            if today is None:
                raise ValueError("listing overdue referrals needs today's date")
            stmt = stmt.where(NeedReferral.due_on < today)
    elif state == "answered":
        stmt = stmt.where(NeedReferral.status == "answered").order_by(NeedReferral.answered_at.desc(),
                                                                      NeedReferral.id.desc())
    elif state:
        raise ValidationFailed.one("state", "状态应为 open、overdue 或 answered")
    else:
        stmt = stmt.order_by(NeedReferral.status.desc(), NeedReferral.due_on, NeedReferral.id)
    return stmt


def find_case_id(session: Session, principal: Principal, text: str) -> str:
    """A case by its id or its number (340223-2020-000123), within the caller's counties."""
    text = text.strip()
    found = session.scalar(select(Case.id).where(or_(Case.id == text, Case.number == text)))
    if found is None:
        raise NotFound(f"案件不存在（{text}）")
    load_case(session, found, principal)
    return found
