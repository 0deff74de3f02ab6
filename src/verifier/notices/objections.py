"""Objections (异议) against a case of an open notice: recorded within the notice's period, resolved once; an upheld
one takes the case off the notice and sends it back to be checked again."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import advance, load_case
from ..clock import Clock
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..store.base import new_id
from ..store.tables import Visit
from . import posting
from .models import Notice, NoticeItem, Objection

from .reading import CLERK, RESOLVE_ROLES, last_day, load_notice, load_objection

RAISERS = ("anonymous", "household", "relative", "neighbour", "villager", "village_cadre", "other")
RECEIVED_VIA = ("in_person", "phone", "letter", "box")
STATUS_ZH = {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}  # an objection's status


class RepeatedObjection(InvalidState):
    """The same objection sent again (a double click, the back button, a stale tab): the first one stands."""


def record_objection(session: Session, notice_id: str, *, case_id: str, received_on: date, summary: str,
                     principal: Principal, clock: Clock, raised_by: str | None = None,
                     received_via: str | None = None) -> Objection:
    """Record an objection against a case of an open notice, received within its period: who raised it (anonymous,
    or their relation to the household) and how it was received (in person, phone, letter, the village's box)."""
    notice = load_notice(session, notice_id, principal, for_update=True)
    if notice.status != "open":
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
    if item.status != "listed":
        raise InvalidState("该案件的异议已成立，已撤出公示")
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
    audit.append(session, actor=principal.id, role=CLERK, action="objection.record", subject=item.case_id,
                 contract_hash=notice.contract_hash, clock=clock,
                 payload={"objection_id": objection.id, "notice_id": notice.id, "received_on": received_on.isoformat(),
                          "summary_sha256": audit.text_digest(summary), "raised_by": raised_by,
                          "received_via": received_via})
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
    note = (note or "").strip()
    objection.status = outcome
    objection.resolution_note = note or None
    objection.resolved_on = resolved_on
    objection.resolved_by = principal.id
    objection.resolved_at = clock.now()
    session.flush()
    withdrawn = False
    if outcome == "upheld":
        item = session.get(NoticeItem, objection.item_id, with_for_update=True)
        assert item is not None
        if item.status == "listed":  # a second upheld objection against the same case finds it already withdrawn
            case = load_case(session, item.case_id, principal, for_update=True)
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
    if note:
        payload["note_sha256"] = audit.text_digest(note)
    audit.append(session, actor=principal.id, role=role, action="objection.resolve", subject=objection.case_id,
                 contract_hash=notice.contract_hash, clock=clock, payload=payload)
    return objection
