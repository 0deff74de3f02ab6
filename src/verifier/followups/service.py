"""Follow-ups (回访) after a payment: what is due and recording one (the monthly report's figures: summary.py).

A settled payment (the bank confirmed it) of a contract whose `[followup] required` is true is due for a follow-up
`within_days` after the bank's settlement day (in the scheme's time zone). A field officer of the case's county
visits or phones the household and records how it is doing and whether it received the relief (是否收到救助金: a
"no" or "partly" is the county's alert, receipt.py; never by the officers who typed the account paid at the door,
nor anyone who changed it or moved the batch, nor, where the account paid was changed or the payee is no household
member, by anyone who checked the case); the due and overdue ones appear on the officer's list (those they
may record: the county's due ones it is not barred from, `own_due`; the others counted, on the county's list) and on
the supervisor's and county reviewer's lists (the whole county, those the reader will be refused marked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import load_case
from ..clock import SCHEME_TZ, Clock
from ..contract import FollowupSection
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.money import format_yuan, parse_yuan
from ..payments.models import PaymentItem
from ..recusal import guard as recusal
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.db import drop_kept
from ..store.paged import text_search
from ..store.tables import Case, Check, Household
from . import receipt
from .assignment import assigned, assigned_items
from .models import FOLLOWUP_STANDS, INCOME_CHANGES, METHODS, RECEIVED, SATISFACTION, Followup, FollowupAssignment

RECORDERS = ("field_officer",)
READERS = ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")
SUMMARY_READERS = ("insurer_supervisor", "county_reviewer", "auditor")
MAX_NOTE = 2000


def _needs() -> tuple[str, ...]:
    from ..needs.models import NEEDS

    return NEEDS


def settlement_day(item: PaymentItem | Any) -> date:
    """The bank's settlement day of a payment item, in the scheme's time zone."""
    return item.settled_at.astimezone(SCHEME_TZ).date()


def contract_terms(session: Session, contract_id: str, cache: dict[str, FollowupSection]) -> FollowupSection:
    """A contract's follow-up terms, read once per `cache`."""
    if contract_id not in cache:
        cache[contract_id] = contract_store.get_contract(session, contract_id).spec.followup
    return cache[contract_id]


@dataclass(frozen=True)
class DueFollowup:
    """A settled payment still waiting for its follow-up."""

    payment_item_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    cause: str
    amount: int
    settled_on: date
    due_on: date
    officer_ids: tuple[str, ...]  # who made the case's latest check
    refused: str | None = None  # why the reader may not record it (须由其他人员回访), when `marked` says so
    assigned: bool = False  # a supervisor assigned it to the reader (指派回访), whose bar it lifted (`own_due`)

    def overdue_days(self, today: date) -> int:
        return max(0, (today - self.due_on).days)


STANDING = and_(Followup.payment_item_id == PaymentItem.id, FOLLOWUP_STANDS)
"""A payment's standing follow-up, to outer-join it by: a follow-up refused at the county's second look of a setter's
follow-up (`alone_look`) is kept but answers nothing; the payment is due again."""

SEARCHED = (Household.head_name, Case.number, Case.town, Case.village)
"""What the follow-up lists' search box looks in."""


def paid_items(principal: Principal | None, county_code: str | None, q: str = "") -> Select[Any]:
    """The settled payments (with their case, household and follow-up, if any), the earliest settled first."""
    stmt = (select(PaymentItem.id, PaymentItem.case_id, PaymentItem.amount, PaymentItem.settled_at, Case.number,
                   Case.county_code, Case.town, Case.village, Case.cause, Case.contract_id, Household.head_name,
                   Followup.id.label("followup_id"), Followup.done_on)
            .join(Case, Case.id == PaymentItem.case_id).join(Household, Household.id == Case.household_id)
            .outerjoin(Followup, STANDING)
            .where(PaymentItem.status == "succeeded", PaymentItem.settled_at.is_not(None)))
    if county_code:
        stmt = stmt.where(Case.county_code == county_code)
    if principal is not None and principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    if q:
        stmt = stmt.where(text_search(q, SEARCHED))
    return stmt.order_by(PaymentItem.settled_at, PaymentItem.id)


def _checkers(session: Session, case_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The officers of each case's latest check."""
    out: dict[str, tuple[int, tuple[str, ...]]] = {}
    ids = sorted(set(case_ids))
    for i in range(0, len(ids), 500):
        for case_id, seq, officers in session.execute(
                select(Check.case_id, Check.seq, Check.officer_ids).where(Check.case_id.in_(ids[i:i + 500]))):
            if case_id not in out or seq > out[case_id][0]:
                out[case_id] = (seq, tuple(officers or ()))
    return {k: v[1] for k, v in out.items()}


def due_followups(session: Session, principal: Principal | None, *, county_code: str | None = None,
                  q: str = "") -> list[DueFollowup]:
    """Settled payments whose follow-up the contract requires and nobody has recorded yet, the earliest due first,
    within the principal's counties. `q`: a household head's name, a case number, a town or a village containing it."""
    cache: dict[str, FollowupSection] = {}
    # Only the payments nobody followed up, in SQL: the settled payments of past years are all read otherwise.
    rows = list(session.execute(paid_items(principal, county_code, q).where(Followup.id.is_(None))))
    officers = _checkers(session, (r.case_id for r in rows))
    out = []
    for r in rows:
        terms = contract_terms(session, r.contract_id, cache)
        if not terms.required:
            continue
        settled = r.settled_at.astimezone(SCHEME_TZ).date()
        item = DueFollowup(payment_item_id=r.id, case_id=r.case_id, case_number=r.number, county_code=r.county_code,
                           town=r.town, village=r.village, head_name=r.head_name, cause=r.cause, amount=r.amount,
                           settled_on=settled, due_on=settled + timedelta(days=terms.within_days),
                           officer_ids=officers.get(r.case_id, ()))
        out.append(item)
    out.sort(key=lambda d: (d.due_on, d.case_number))
    return out


@dataclass(frozen=True)
class OwnDue:
    """An officer's own due follow-ups (我的回访): those they may record, and how many others are due in their counties."""

    items: list[DueFollowup]
    others: int  # due in the officer's counties but left to other officers (须由其他核查员回访: `receipt.held_back`)


def own_due(session: Session, principal: Principal, *, county_code: str | None = None, q: str = "") -> OwnDue:
    """The follow-ups an officer may record: the due ones of their counties (`due_followups`) that the refusal's own
    rule does not bar them from (`receipt.held_back`: `refused_part`, with password links; read for the whole list,
    `HELD_CHUNK` items at a time), whoever checked the case: a check's officer typed the account at the door, so
    "the cases I checked" would be mostly the ones they may not record. The others are counted (the county's list,
    `/followups?all=1`, shows them marked). A 回避 (relative) is not left out here, as `marked` says why."""
    due = due_followups(session, principal, county_code=county_code, q=q)
    held = _held(session, principal.id, [d.payment_item_id for d in due])
    mine = [d for d in due if d.payment_item_id not in held]
    chosen = assigned_items(session, [d.payment_item_id for d in mine], principal.id) if mine else {}
    return OwnDue(items=[replace(d, assigned=d.payment_item_id in chosen) for d in mine], others=len(held))


def marked(session: Session, principal: Principal, due: list[DueFollowup]) -> list[DueFollowup]:
    """`due` with those the reader will be refused for a part in paying them marked (`refused`, why in one phrase):
    the refusal's own rule (`receipt.refused_part`), read for the whole list at once. A 回避 (relative) is not marked
    here: a list marking every household of one's declared relatives would map them onto the county unrecorded (any
    number may be declared); the form's page says it, and that is kept on 回避拦截记录 (`refusal_before`)."""
    held = _held(session, principal.id, [d.payment_item_id for d in due])
    return [replace(d, refused=held[d.payment_item_id]) if d.payment_item_id in held else d for d in due]


REFUSED_AGAIN = "您录入的这次回访已被县级复核退回，须由其他核查员重新回访"
"""The recorder of a follow-up refused at the county's second look (`alone_look.refuse`) records it no more."""


def refused_recorders(session: Session, item_ids: list[str], user_id: str) -> set[str]:
    """Of `item_ids`, the payments whose follow-up `user_id` recorded and the county's second look refused."""
    wanted = sorted(set(item_ids))
    out: set[str] = set()
    for at in range(0, len(wanted), receipt.HELD_CHUNK):
        out |= set(session.scalars(select(Followup.payment_item_id).where(
            Followup.payment_item_id.in_(wanted[at:at + receipt.HELD_CHUNK]), Followup.recorded_by == user_id,
            Followup.alone_refused_at.is_not(None))))
    return out


def _held(session: Session, user_id: str, item_ids: list[str]) -> dict[str, str]:
    """`receipt.held_back`, and the payments whose follow-up the reader recorded and the county refused."""
    held = receipt.held_back(session, user_id, item_ids)
    for item_id in refused_recorders(session, item_ids, user_id) - set(held):
        held[item_id] = "您录入的回访已被县级复核退回"
    for item_id in assigned_items(session, list(held), user_id) if held else ():
        del held[item_id]  # a supervisor assigned it to the reader (his setter's or refused recorder's bar lifted)
    return held


def due_item(session: Session, principal: Principal, payment_item_id: str) -> DueFollowup:
    """One payment waiting for its follow-up (404 outside the caller's counties or when unknown; 409 when it was
    followed up already)."""
    item = session.get(PaymentItem, payment_item_id)
    if item is None:
        raise ValidationFailed.one("payment_item_id", "没有这笔支付")
    load_case(session, item.case_id, principal)
    if session.scalar(select(Followup.id).where(Followup.payment_item_id == payment_item_id, FOLLOWUP_STANDS)):
        raise InvalidState("这笔支付已经回访过了")
    for due in due_followups(session, principal, county_code=None):
        if due.payment_item_id == payment_item_id:
            return due
    raise InvalidState("这笔保障金尚未到账，还不需要回访")


def refuse_recorder(session: Session, principal: Principal, case: Case, item_id: str | None, *,
                    clock: Clock | None) -> None:
    """The one rule of who may not record a case's follow-up, asked by the form sent (`record_followup`) and by its
    page before anything is typed (`refusal_before`): a member or declared relative of the household (回避: a
    follow-up says whether the risk remains and what the household still needs; 422 under `recusal`), then, for the
    payment `item_id`, whoever took part in paying it: set or changed its account, moved its batch, or checked the case
    where its account was changed (`receipt.refuse_involved`, 403).
    The refusal carries its trace, appended once the refused transaction has rolled back."""
    recusal.refuse_principal(session, principal, [case.household_id], step="followup", case_id=case.id, clock=clock)
    if item_id is not None:
        chosen = assigned(session, item_id, principal.id) is not None
        receipt.refuse_involved(session, principal, case, item_id, role=principal.acting_role(RECORDERS), clock=clock,
                                assigned=chosen)
        if not chosen and refused_recorders(session, [item_id], principal.id):
            raise Forbidden(REFUSED_AGAIN)


def refusal_before(session: Session, principal: Principal, payment_item_id: str, *,
                   clock: Clock | None = None) -> str | None:
    """What sending the follow-up of `payment_item_id` would be refused with (`refuse_recorder`: the same rule and
    words), or None when the reader may record it: the form's page says it instead of the form. A 回避 refusal is
    raised (ValidationFailed) with its trace, which the read keeps on 回避拦截记录 as for a form sent: a page that
    tells an account its relative's household is as much a try as the form (the page catches it and shows it). The
    refusal of a part in paying it tells nothing of anyone's family and is not kept for a page looked at."""
    item = session.get(PaymentItem, payment_item_id)
    if item is None:
        return None
    case = load_case(session, item.case_id, principal)
    try:
        refuse_recorder(session, principal, case, payment_item_id, clock=clock)
    except Forbidden as exc:
        drop_kept(exc)
        return exc.detail
    return None


def recorded_alone(session: Session, principal: Principal, payment_item_id: str) -> bool:
    """Whether the reader's follow-up of `payment_item_id` would be recorded by a setter alone (assigned by a
    supervisor, or no one else of the county to send): it waits for the county's second look; the form says so."""
    item = session.get(PaymentItem, payment_item_id)
    return item is not None and (assigned(session, item.id, principal.id) is not None
                                 or receipt.setter_alone(receipt.involved(session, item), principal.id))


class FollowupInput(msgspec.Struct, forbid_unknown_fields=True):
    case_id: str
    done_on: date
    method: str
    income_change: str
    risk_remains: bool
    satisfaction: str
    new_needs: list[str] = []
    note: str = ""
    payment_item_id: str | None = None  # absent: the case's earliest settled payment not yet followed up
    # 是否收到救助金: required (an old client without it: 422 naming it); None only so the message is ours.
    received: str | None = None
    received_amount: str | None = None  # "no"/"partly": the yuan the household says it got (a string, never float)


def _receipt(data: FollowupInput, paid: int, problems: list[FieldError]) -> int | None:
    """The amount the household says it got (fen), with every problem of the answer added to `problems`."""
    if data.received not in RECEIVED:
        problems.append(FieldError("received", "请选择是否收到救助金：已收到、未收到或部分收到"))
        return None
    text = (data.received_amount or "").strip()
    if not text:
        return None
    if data.received == "yes":
        problems.append(FieldError("received_amount", "已收到全部救助金时不填户称收到的金额"))
        return None
    try:
        fen = parse_yuan(text, "received_amount")
    except ValidationFailed:
        problems.append(FieldError("received_amount", f"户称收到的金额应为元，最多两位小数，如 1200.00：{text}"))
        return None
    if data.received == "no" and fen != 0:
        problems.append(FieldError("received_amount", "未收到时金额只能为 0；收到一部分请选“部分收到”"))
    elif data.received == "partly" and not 0 < fen < paid:
        problems.append(FieldError("received_amount",
                                   f"部分收到的金额应大于 0、少于支付的 {format_yuan(paid)} 元"))
    return fen


def record_followup(session: Session, data: FollowupInput, *, principal: Principal, clock: Clock) -> Followup:
    """Record a follow-up of a case's settled payment: a field officer of the case's county (another county's case
    does not exist for them), once per payment (a second time: 409), on a day between the settlement and today."""
    if not principal.has(*RECORDERS):
        raise Forbidden("只有核查员可以录入回访")
    case = load_case(session, data.case_id, principal, for_update=True)
    items = list(session.execute(
        select(PaymentItem.id, PaymentItem.settled_at, PaymentItem.amount, Followup.id.label("followup_id"))
        .outerjoin(Followup, STANDING)
        .where(PaymentItem.case_id == case.id, PaymentItem.status == "succeeded", PaymentItem.settled_at.is_not(None))
        .order_by(PaymentItem.settled_at, PaymentItem.id)))
    if data.payment_item_id is not None:
        items = [r for r in items if r.id == data.payment_item_id]
    pending = [r for r in items if r.followup_id is None]
    # 回避 before anything else is said of the case's payments; then, for the payment followed up, who paid it: those
    # who chose where the money went (typed the account at the door, or changed it) do not ask if it arrived.
    refuse_recorder(session, principal, case, pending[0].id if pending else None, clock=clock)
    if data.payment_item_id is not None and not items:
        raise ValidationFailed.one("payment_item_id", "这笔支付不属于该案件，或尚未到账")
    if not pending:
        if items:
            raise InvalidState("该案件的保障金已经回访过了（重复提交不会再保存）")
        raise InvalidState("该案件的保障金尚未到账，还不需要回访")
    target = pending[0]
    settled = target.settled_at.astimezone(SCHEME_TZ).date()
    problems: list[FieldError] = []
    today = clock.today()
    if data.done_on > today:
        problems.append(FieldError("done_on", f"回访日期 {data.done_on} 不能晚于今天"))
    elif data.done_on < settled:
        problems.append(FieldError("done_on", f"回访日期 {data.done_on} 不能早于保障金到账日 {settled}"))
    if data.method not in METHODS:
        problems.append(FieldError("method", "回访方式应为入户或电话"))
    if data.income_change not in INCOME_CHANGES:
        problems.append(FieldError("income_change", "请选择收入变化：增加、持平或减少"))
    if data.satisfaction not in SATISFACTION:
        problems.append(FieldError("satisfaction", "请选择满意度：满意、基本满意或不满意"))
    needs = _needs()
    unknown = [n for n in data.new_needs if n not in needs]
    if unknown:
        problems.append(FieldError("new_needs", "不认识的需求：" + "、".join(unknown)))
    note = data.note.strip()
    if len(note) > MAX_NOTE:
        problems.append(FieldError("note", f"备注不能超过 {MAX_NOTE} 个字"))
    got = _receipt(data, target.amount, problems)
    if problems:
        raise ValidationFailed(problems)
    terms = contract_store.get_contract(session, case.contract_id).spec.followup
    # a setter of the account recording it because the county has no one else to send (`receipt.Involved.alone`):
    # not final until a county reviewer's second look (`alone_look`)
    chosen = assigned(session, target.id, principal.id)  # a supervisor's assignment: his follow-up waits the same
    alone = recorded_alone(session, principal, target.id)
    row = Followup(id=new_id("fup"), case_id=case.id, payment_item_id=target.id, county_code=case.county_code,
                   due_on=settled + timedelta(days=terms.within_days), done_on=data.done_on, method=data.method,
                   income_change=data.income_change, risk_remains=data.risk_remains, satisfaction=data.satisfaction,
                   new_needs=sorted(set(data.new_needs), key=needs.index), note=note or None,
                   received=data.received, received_amount=got, recorded_by=principal.id, recorded_at=clock.now(),
                   setter_alone=alone)
    session.add(row)
    session.flush()
    if chosen is not None:
        session.get(FollowupAssignment, chosen).followup_id = row.id  # used up
        session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RECORDERS), action="followup.record",
                 subject=row.id, payload={**({"setter_alone": True} if alone else {}),
                                          **({"assignment_id": chosen} if chosen else {}),
                                          "case_id": case.id, "payment_item_id": target.id,
                                          "due_on": row.due_on.isoformat(), "done_on": row.done_on.isoformat(),
                                          "method": row.method,
                                          "income_change": row.income_change, "risk_remains": row.risk_remains,
                                          "satisfaction": row.satisfaction, "new_needs": row.new_needs,
                                          "received": row.received, "received_amount": got},
                 county_code=case.county_code, clock=clock)
    return row


def recorded(session: Session, principal: Principal | None, *, county_code: str | None = None,
             case_id: str | None = None, limit: int = 200) -> list[tuple[Followup, Case, str]]:
    """Recorded follow-ups (with the case and household head), newest first, within the caller's counties."""
    stmt = recorded_query(principal, county_code=county_code, case_id=case_id).limit(limit)
    return [(f, c, h) for f, c, h in session.execute(stmt).tuples()]


def recorded_query(principal: Principal | None, *, county_code: str | None = None, case_id: str | None = None,
                   q: str = "") -> Select[Any]:
    stmt = (select(Followup, Case, Household.head_name).join(Case, Case.id == Followup.case_id)
            .join(Household, Household.id == Case.household_id)
            .order_by(Followup.done_on.desc(), Followup.recorded_at.desc(), Followup.id.desc()))
    if q:
        stmt = stmt.where(text_search(q, SEARCHED))
    if county_code:
        stmt = stmt.where(Followup.county_code == county_code)
    if case_id:
        stmt = stmt.where(Followup.case_id == case_id)
    if principal is not None and principal.counties:
        stmt = stmt.where(Followup.county_code.in_(principal.counties))
    return stmt


def home_counts(session: Session, principal: Principal, today: date, *, mine: bool) -> tuple[int, int, int]:
    """(overdue, due within the contract's period, left to other officers) follow-ups: the home page's cards. `mine`
    (an officer): those they may record (`own_due`, the list `/followups` shows them), and how many others are due
    in their counties; else the county's, and no others."""
    if mine:
        own = own_due(session, principal)
        due, others = own.items, own.others
    else:
        due, others = due_followups(session, principal), 0
    return sum(d.due_on < today for d in due), sum(d.due_on >= today for d in due), others
