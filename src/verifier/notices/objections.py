"""Objections (异议) against a case of an open notice: recorded within the notice's period, resolved once; an upheld
one takes the case off the notice and sends it back to be checked again.

The clerk who posted a notice may close it at 00:00 on its `ends_on` (INTERFACE.md), before a paper objection handed
in on the period's last day is typed. Such an objection (received within the period) is still recorded on `ends_on`,
the day after the period's last day (`reading.late_objections_until`, the notices' one day of late entry), against a
case the closed notice cleared, and holds the case's payment until it is resolved:

- a case ready to pay (or whose payment failed) is held out of every new batch (`reading.OPEN_OBJECTION_CASES`,
  payments/service.py `_HELD`);
- a case in a prepared batch is taken out of it (`payments.take_out_held`, as a case held after a sampling round:
  ready to pay again, and held); one in an approved (or signed-off) batch stays, and that batch is refused approval
  and release while it holds the case (payments/batch_stops.py, kind `objection`);
- a case whose relief went to the bank (a released batch) or was paid is refused (409): the money is out, and the
  objection is a matter for the paid case's follow-up, no longer the notice's.

Dismissed, the case is payable again. Upheld, it is taken off the notice (its row `withdrawn`) and sent back to be
checked again, as during the period; one in an approved batch is refused (409) until that batch is cancelled or
the county refuses its sign-off and the case is taken out."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import advance, load_case
from ..clock import Clock
from ..domain.lifecycle import refused_in_status
from ..payments import service as payments
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..store.base import new_id
from ..store.tables import Case, Visit
from . import posting
from .models import Notice, NoticeItem, Objection

from .reading import (CLERK, RESOLVE_ROLES, last_day, late_objections_until, load_notice, load_objection,
                      takes_late_objections)

RAISERS = ("anonymous", "household", "relative", "neighbour", "villager", "village_cadre", "other")
RECEIVED_VIA = ("in_person", "phone", "letter", "box")
STATUS_ZH = {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}  # an objection's status


# The case statuses whose payment a late objection (typed after the notice closed) can still hold: not yet sent to
# the bank. A case in a batch is held only while its item waits (`payments.live_batch`).
LATE_HOLDABLE = ("ready_to_pay", "in_batch", "payment_failed")


class RepeatedObjection(InvalidState):
    """The same objection sent again (a double click, the back button, a stale tab): the first one stands."""


def _closed_refusal(notice: Notice, today: date, received_on: date) -> InvalidState | None:
    """Why the closed notice takes no objection received on `received_on` typed `today`, or None (a late objection
    received within the period, typed by `late_objections_until`)."""
    until = late_objections_until(notice)
    period = f"公示期 {notice.posted_on} 至 {last_day(notice.ends_on)}"
    if not takes_late_objections(notice, today):
        return InvalidState(f"公示已于 {notice.closed_on} 结束，不再受理异议（{period}；公示期内收到的纸质异议最迟于 "
                            f"{until} 补登）")
    if received_on >= notice.ends_on:
        return InvalidState(f"公示已于 {notice.closed_on} 结束，只补登公示期内收到的异议（{period}）：{received_on} "
                            "收到的异议不再受理，请核对收到日期")
    return None


def money_out_refusal(session: Session, case_id: str, status: str) -> InvalidState | None:
    """Why a late objection cannot hold the case's payment any more (409), or None: its relief went to the bank or was
    paid (a follow-up matter), or the case is no longer one a notice's objection concerns."""
    live = payments.live_batch(session, case_id)
    if live is not None and live[2] == "sent":
        return InvalidState(f"该户的保障金已随支付批次 {live[0]} 发往银行，公示结束后补登的异议已不能暂停支付：请作为"
                            "已支付案件的后续事项（回访核实，必要时追回）处理。本次未做任何更改。")
    if status == "paid":
        code = payments.paid_by(session, case_id)
        return InvalidState(f"该户的保障金已{f'随支付批次 {code} ' if code else ''}发放，公示结束后补登的异议已不能暂停支付："
                            "请作为已支付案件的后续事项（回访核实，必要时追回）处理。本次未做任何更改。")
    if status not in LATE_HOLDABLE:
        return InvalidState(refused_in_status(status, "在公示结束后补登异议"))
    return None


def record_objection(session: Session, notice_id: str, *, case_id: str, received_on: date, summary: str,
                     principal: Principal, clock: Clock, raised_by: str | None = None,
                     received_via: str | None = None) -> Objection:
    """Record an objection against a case of an open notice, received within its period: who raised it (anonymous,
    or their relation to the household) and how it was received (in person, phone, letter, the village's box).

    Once the notice is closed, one received within its period is still recorded on the day after its last day
    (`ends_on`), and holds the case's payment until resolved (the module's docstring says how)."""
    notice = load_notice(session, notice_id, principal, for_update=True)
    today = clock.today()
    late = notice.status == "closed"
    if late and (refusal := _closed_refusal(notice, today, received_on)) is not None:
        raise refusal
    if not late and notice.status != "open":
        raise InvalidState("公示已结束，不再受理异议")
    item = session.scalar(select(NoticeItem).where(NoticeItem.notice_id == notice.id, NoticeItem.case_id == case_id))
    problems: list[FieldError] = []
    if item is None:
        problems.append(FieldError("case_id", "该案件不在本次公示名单中"))
    else:  # 回避: an objection to a relative's case is written down by another person (its words are what is judged)
        recusal.refuse_case(session, principal, case_id, step="objection_record", field="case_id", clock=clock)
    if received_on > clock.today():
        problems.append(FieldError("received_on", "不能晚于今天"))
    if received_on < notice.posted_on:
        problems.append(FieldError("received_on", f"不能早于公示发布日期 {notice.posted_on}"))
    if received_on >= notice.ends_on:
        problems.append(FieldError("received_on", f"晚于公示期最后一天 {last_day(notice.ends_on)}：只登记公示期内收到的异议，"
                                                  "请核对收到日期"))
    summary = (summary or "").strip()
    if not summary:
        problems.append(FieldError("summary", "请填写异议内容"))
    if raised_by is not None and raised_by not in RAISERS:
        problems.append(FieldError("raised_by", "请选择反映人"))
    if received_via is not None and received_via not in RECEIVED_VIA:
        problems.append(FieldError("received_via", "请选择收到方式"))
    if problems:
        raise ValidationFailed(problems)
    assert item is not None
    if item.status == "withdrawn":
        raise InvalidState("该案件的异议已成立，已撤出公示")
    case = None
    if late:  # the case cleared by the closed notice: locked (a batch being prepared waits), its payment still held?
        case = load_case(session, item.case_id, principal, for_update=True)
        if (refusal := money_out_refusal(session, case.id, case.status)) is not None:
            raise refusal
    if session.scalar(select(Objection.id).where(
            Objection.item_id == item.id, Objection.status == "open", Objection.received_on == received_on,
            Objection.summary == summary, Objection.raised_by.is_(None) if raised_by is None
            else Objection.raised_by == raised_by, Objection.received_via.is_(None) if received_via is None
            else Objection.received_via == received_via).limit(1)):
        raise RepeatedObjection("对本案的同一异议已登记且尚未处理")
    objection = Objection(id=new_id("obj"), notice_id=notice.id, item_id=item.id, case_id=item.case_id,
                          received_on=received_on, summary=summary, status="open", recorded_by=principal.id,
                          recorded_at=clock.now(), raised_by=raised_by, received_via=received_via)
    session.add(objection)
    session.flush()
    payload: dict[str, Any] = {
        "objection_id": objection.id, "notice_id": notice.id, "received_on": received_on.isoformat(),
        "summary_sha256": audit.text_digest(summary), "raised_by": raised_by, "received_via": received_via}
    if case is not None:  # typed after the notice closed: the case's payment is held until it is resolved
        taken_out = payments.take_out_held(session, case.id, principal=principal, clock=clock,
                                           reason=payments.OBJECTION_REMOVAL_REASON)
        payload["after_close"] = {"closed_on": notice.closed_on.isoformat() if notice.closed_on else None,
                                  "case_status": case.status, "payment_held": True,
                                  "taken_out_of_batch": taken_out}
    audit.append(session, actor=principal.id, role=CLERK, action="objection.record", subject=item.case_id,
                 contract_hash=notice.contract_hash, clock=clock, payload=payload)
    return objection


LINKED_DISMISSER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                    + "，“异议不成立”须由本乡镇其他经办人或县级复核人员决定。")


REVIEW_RECORDER_DISMISSES = ("按“四眼原则”，该户的村级评议（或作出评议的村民代表会议）由您记录，"
                             "“异议不成立”须由本乡镇其他经办人或县级复核人员决定。")
DECIDER_DISMISSES = ("按“四眼原则”，您参与了该户的核查、排期或认定，“异议不成立”须由本乡镇其他经办人或县级复核人员决定。")


def dismiss_parts(objection: Objection, notice: Notice, recorders: set[str] = frozenset(),  # type: ignore[assignment]
                  deciders: set[str] = frozenset()) -> list[recusal_refusals.LinkedPart]:  # type: ignore[assignment]
    """The accounts a dismissal is the second person of: who recorded the objection, who posted the notice, who
    recorded the household's village review or the meeting that decided it, who decided its case for the insurer."""
    parts = {**{who: "该户核查、排期或认定的经办人" for who in deciders},
             **{who: "该户村级评议的记录人" for who in recorders},
             notice.posted_by: "公示发布人", objection.recorded_by: "登记该异议的人员"}
    return [recusal_refusals.LinkedPart(
        who, LINKED_DISMISSER.format(part=part), case_id=objection.case_id,
        extra={"objection_id": objection.id, "why": "password_linked"})
        for who, part in sorted(parts.items()) if who]


def refuse_upholding_paid(session: Session, case: Case) -> None:
    """409 when an objection typed after the notice closed may not be upheld now: the case's relief is out (sent to the
    bank or paid), or the case stands in a batch whose fund is committed (approved or signed off), which is cancelled
    (or refused its sign-off by the county and the case taken out) first. A prepared batch gives the case up."""
    refusal = money_out_refusal(session, case.id, case.status)
    if refusal is not None:
        raise refusal
    live = payments.live_batch(session, case.id)
    if live is not None and live[1] != "prepared":
        raise InvalidState(f"该户在支付批次 {live[0]}（{payments.BATCH_STATUS_LABELS_ZH.get(live[1], live[1])}）中："
                           "请先撤销该批次，或由县级审核人员不同意签批后将该户移出，再登记异议成立"
                           "（该批次在异议处理前不能发放）。本次未做任何更改。")


def resolve_objection(session: Session, objection_id: str, *, outcome: str, note: str, principal: Principal,
                      clock: Clock, resolved_on: date | None = None) -> Objection:
    """Resolve an open objection once: upheld takes the case off the notice to be checked again; dismissed leaves it.

    `resolved_on` is the day it was decided (today when not given): not before it was received, not in the future."""
    objection, notice = load_objection(session, objection_id, principal, for_update=True)
    if objection.status != "open":
        raise InvalidState(f"该异议已处理（{STATUS_ZH.get(objection.status, objection.status)}）")
    problems: list[FieldError] = []
    if outcome not in ("upheld", "dismissed"):
        problems.append(FieldError("outcome", "请选择异议成立或不成立"))
    resolved_on = resolved_on or clock.today()
    if resolved_on > clock.today():
        problems.append(FieldError("resolved_on", "不能晚于今天"))
    if resolved_on < objection.received_on:
        problems.append(FieldError("resolved_on", f"不能早于异议收到日期 {objection.received_on}"))
    if problems:
        raise ValidationFailed(problems)
    if outcome == "dismissed":  # dismissing keeps the case on its way to payment: not by a relative (回避)
        recusal.refuse_case(session, principal, objection.case_id, step="objection_dismiss", clock=clock)
    if outcome == "dismissed" and principal.id in (objection.recorded_by, notice.posted_by):
        # Dismissing buries an objection: one person may not take it down and decide it, nor judge a complaint
        # against the notice they posted. Upholding only sends the case back to be checked again.
        raise Forbidden("按“四眼原则”，该异议由您登记或公示由您张贴，“异议不成立”须由本乡镇其他经办人或县级复核人员决定。")
    recorders, deciders = (posting.item_people(session, objection.item_id) if outcome == "dismissed"
                           else (set(), set()))
    if principal.id in recorders:
        # nor whoever recorded the village review the objection is against (or the meeting that decided it): the
        # wall's confirmation already bars them; an objection to the review is not theirs to bury
        raise Forbidden(REVIEW_RECORDER_DISMISSES)
    if principal.id in deciders:  # nor one who decided the case for the insurer (one holding both roles)
        raise Forbidden(DECIDER_DISMISSES)
    if outcome == "dismissed":  # nor through an account linked to one of them by a password
        recusal_refusals.refuse_linked(session, principal, "objection_dismiss",
                                       dismiss_parts(objection, notice, recorders, deciders), clock=clock)
    role = principal.acting_role(RESOLVE_ROLES)
    item = session.get(NoticeItem, objection.item_id, with_for_update=True) if outcome == "upheld" else None
    cleared = None  # upheld, typed after the notice closed: the case it cleared, sent back from where payment stands
    if item is not None and item.status == "cleared":
        cleared = load_case(session, item.case_id, principal, for_update=True)
        refuse_upholding_paid(session, cleared)
    note = (note or "").strip()
    objection.status = outcome
    objection.resolution_note = note or None
    objection.resolved_on = resolved_on
    objection.resolved_by = principal.id
    objection.resolved_at = clock.now()
    session.flush()
    withdrawn = False
    taken_out = None
    if item is not None:
        if cleared is not None and cleared.status == "in_batch":  # a prepared batch took it before it was held
            taken_out = payments.take_out_held(session, cleared.id, principal=principal, clock=clock,
                                               reason=payments.OBJECTION_REMOVAL_REASON)
            session.refresh(cleared)
        if item.status in ("listed", "cleared"):  # a second upheld objection finds the case already withdrawn
            case = cleared or load_case(session, item.case_id, principal, for_update=True)
            # The visit of the checks objected to ends: the case is scheduled again, and their officers (barred,
            # cases/service.barred_officers) do not record the re-check of their own figures.
            ended = list(session.scalars(select(Visit.id).where(Visit.case_id == case.id, Visit.active.is_(True))))
            if ended:
                session.execute(update(Visit).where(Visit.id.in_(ended)).values(active=False))
            advance(session, case, "objection_upheld", actor=principal, role=role, clock=clock,
                    payload={"objection_id": objection.id, "notice_id": notice.id, "item_id": item.id,
                             "visit_ended": sorted(ended)})
            item.status = "withdrawn"
            withdrawn = True
    payload: dict[str, Any] = {"objection_id": objection.id, "notice_id": notice.id, "outcome": outcome,
                               "withdrawn": withdrawn, "resolved_on": resolved_on.isoformat()}
    if cleared is not None:
        payload["after_close"] = {"taken_out_of_batch": taken_out}
    if note:
        payload["note_sha256"] = audit.text_digest(note)
    audit.append(session, actor=principal.id, role=role, action="objection.resolve", subject=objection.case_id,
                 contract_hash=notice.contract_hash, clock=clock, payload=payload)
    return objection
