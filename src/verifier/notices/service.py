"""Village evaluation, public notices and objections (DOMAIN.md steps 6 and 7).

A notice gathers every case of a village (or of a whole town, when the contract's `notice.scope` is "town") that
passed its village review and is in no notice yet. Its rows are snapshots taken at posting and its .docx is
rendered once and stored, so what was posted can always be shown again exactly as it was.

The notice runs `notice_days` days, from `posted_on` to the day before `ends_on` (= posted_on + notice_days), both
included (what the document prints); objections are received within those days. Closing is allowed from `ends_on`
and only while no objection is open; it makes every case still listed ready to pay. An upheld objection takes its
case off the notice and sends it back to be checked again; a dismissed one changes nothing for the case.

A paper objection handed in on the period's last day may be typed on `ends_on`, after the notice was closed at 00:00
(objections.py `record_objection`): its case, ready to pay, is held out of every batch until the objection is
resolved (dismissed: payable again; upheld: taken off the notice and checked again, as during the period).

This module records village reviews, posts and closes notices; objections are in objections.py, the notices' reading
in reading.py (both named here too), village meetings in meetings.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, object_session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import advance, load_case
from ..checks.service import latest_check
from ..clock import Clock
from ..contract import Contract
from ..documents.notice import NoticeDocument, NoticeRow
from ..documents.notice_docx import render_notice
from ..domain.cell_values import BadCell, phone_text
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.lifecycle import refused_in_status
from ..domain import recusal as recusal_rules
from ..domain.masking import mask_name
from ..domain.money import format_yuan
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.reader import Prepared, Reader
from ..store.tables import Case, Check, Determination
from .models import Notice, NoticeItem, VillageMeeting, VillageMeetingReview, VillageReview
from .objections import (  # noqa: F401  (callers find the objections here too)
    RAISERS,
    RECEIVED_VIA,
    RepeatedObjection,
    record_objection,
    resolve_objection,
)
from .reading import (  # noqa: F401  (and the notices' reading)
    RESOLVE_ROLES,
    CASE_NOTICE,
    CASE_OBJECTIONS,
    CLERK,
    ClerkHome,
    DEFAULT_OBJECTION_PHONE,
    LATE_ENTRY_DAYS,  # a notice put up on the wall is entered that day or the next; never dated further back
    NoticeStanding,
    OPEN_OBJECTION_CASES,
    REVIEW_ROLES,
    clerk_home,
    find_notices,
    last_day,
    late_objections_until,
    list_notices,
    load_notice,
    load_objection,
    notice_summary,
    notice_summary_for_case,
    open_objections_of,
    objections_of,
    open_objection_count,
    standing_of,
    standings_of,
    takes_late_objections,
    villages_awaiting_notice,
    villages_with,
)


_LATEST_REVIEW = (select(VillageReview).where(VillageReview.case_id == bindparam("case_id"))
                  .order_by(VillageReview.recorded_at.desc(), VillageReview.id.desc()).limit(1))


LINKED_REVIEW_FAIL = ("按“四眼原则”，您的账号与记录本户村级评议未通过的经办人的账号有密码关联" + PASSWORD_LINK
                      + "，不能确认该村级评议未通过，须由本县其他经办人或县级复核人员确认；您可以改为“通过”。")


def latest_review(session: Session, case_id: str) -> VillageReview | None:
    return session.scalar(_LATEST_REVIEW, {"case_id": case_id})


def review_fail_parts(case: Case) -> list[recusal_refusals.LinkedPart]:
    """The account a failed review's confirmer is the second person of: who recorded it (none without a proposal)."""
    if case.review_fail_proposed_by is None:
        return []
    return [recusal_refusals.LinkedPart(case.review_fail_proposed_by, LINKED_REVIEW_FAIL, case_id=case.id,
                                        households=[case.household_id], extra={"why": "password_linked"})]


def own_review_fail(case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the failed review recorded on `case` as its recorder, or None: what
    `record_review` refuses 未通过 with, and the case page shows instead of the 未通过 choice."""
    if case.review_fail_proposed_by is None or case.review_fail_proposed_by != principal.id:
        return None
    return "按“四眼原则”，本户的村级评议未通过由您记录，须由本县其他经办人或县级复核人员确认；您可以改为“通过”。"


def review_fail_refused(session: Session, case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the failed review recorded on `case` (its recorder, or an account linked to the
    recorder's by a password: the refusals `record_review` gives 未通过, in its words), or None: the case page shows
    it instead of the 未通过 choice."""
    return own_review_fail(case, principal) or linked_review_fail(session, case, principal)


def linked_review_fail(session: Session, case: Case, principal: Principal) -> str | None:
    """Why `principal` may not confirm the failed review recorded on `case` through an account linked to its
    recorder's by a password (what `record_review` refuses 未通过 with), or None: the case page shows it instead of
    the 未通过 choice."""
    return recusal_refusals.linked_said(session, principal, review_fail_parts(case))


# Who confirms or overturns a failed village review another clerk recorded (a county reviewer records no review else).
REVIEW_FAIL_CONFIRMERS = ("town_clerk", "county_reviewer")


def record_review(
    session: Session, case_id: str, *, held_on: date, result: str, note: str, principal: Principal, clock: Clock,
    meeting_id: str | None = None,
) -> tuple[VillageReview, Case]:
    """Record a village evaluation: pass → reviewed (ready for a notice); fail → review_failed, closed with its reason.

    The case is one the insurer found eligible, so one clerk's 未通过 alone would deny it relief with nobody else
    seeing it: a fail is first a proposal (the review kept, the case still determined), and another clerk of the
    county or the county reviewer confirms it (未通过 again: the case closes with the proposal's reason) or
    overturns it (通过: a passing review recorded by them, the case goes on to its notice). The clerk who proposed it
    never confirms it."""
    case = load_case(session, case_id, principal, for_update=True)
    recusal.refuse_principal(session, principal, [case.household_id], step="village_review", case_id=case.id,
                             clock=clock)  # 回避
    if case.status != "determined":
        raise InvalidState(refused_in_status(case.status, "录入村级评议"))
    if result not in ("pass", "fail"):
        raise ValidationFailed.one("result", "请选择通过或未通过")
    proposed_by = case.review_fail_proposed_by
    if proposed_by is None and not principal.has(*REVIEW_ROLES):
        raise Forbidden("县级复核人员只确认或否决乡镇经办人记录的村级评议未通过，村级评议由乡镇经办人记录")
    if proposed_by is not None and meeting_id:
        raise InvalidState("本户的村级评议未通过已记录，正等待本县其他经办人或县级复核人员确认，不能再列入评议会")
    own = own_review_fail(case, principal) if result == "fail" else None
    if own is not None:
        raise Forbidden(own)
    if result == "fail" and proposed_by is not None:  # nor through an account linked to the proposer's
        recusal_refusals.refuse_linked(session, principal, "village_review", review_fail_parts(case), clock=clock)
    role = principal.acting_role(REVIEW_FAIL_CONFIRMERS if proposed_by else REVIEW_ROLES)
    confirming = proposed_by is not None and result == "fail"
    note = (note or "").strip()
    problems: list[FieldError] = []
    today = clock.today()
    if held_on > today:
        problems.append(FieldError("held_on", "不能晚于今天"))
    check = latest_check(session, case.id)
    if check is not None and held_on < check.visited_on:
        problems.append(FieldError("held_on", f"不能早于入户核查日期 {check.visited_on}"))
    if result == "fail" and not note and not confirming:
        problems.append(FieldError("note", "未通过时须填写村民代表的意见"))
    if proposed_by is not None and result == "pass" and not note:
        problems.append(FieldError("note", "否决评议未通过的记录，须写明理由"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    proposed = latest_review(session, case.id) if proposed_by is not None else None
    if proposed_by is not None and (proposed is None or proposed.result != "fail"):
        raise InvalidState("找不到待确认的村级评议未通过记录，请刷新页面")
    if confirming and proposed is not None:  # the proposal's review stands: only the confirmation is new
        review = proposed
    else:
        review = VillageReview(id=new_id("rev"), case_id=case.id, held_on=held_on, result=result, note=note or None,
                               recorded_by=principal.id, recorded_at=now)
        session.add(review)
        session.flush()
    payload: dict[str, Any] = {"review_id": review.id, "held_on": review.held_on.isoformat(), "result": result}
    if note:
        payload["note_sha256"] = audit.text_digest(note)  # the note may name people: only its hash goes into the log
    if meeting_id:
        payload["meeting_id"] = meeting_id  # decided at a village meeting with other households (meetings.py)
    if result == "fail" and proposed_by is None:
        case.review_fail_proposed_by, case.review_fail_proposed_at = principal.id, now
        case.updated_at, case.version = now, case.version + 1
        session.flush()
        audit.append(session, actor=principal.id, role=role, action="case.review_fail_propose", subject=case.id,
                     contract_hash=case.contract_hash, clock=clock, payload=payload)
        return review, case
    if proposed_by is not None:
        at = case.review_fail_proposed_at
        payload["proposal"] = {"proposed_by": proposed_by, "proposed_at": at.isoformat() if at else None,
                               "review_id": proposed.id,
                               "outcome": "confirmed" if confirming else "overturned"}
        case.review_fail_proposed_by = case.review_fail_proposed_at = None
    advance(session, case, "review_pass" if result == "pass" else "review_fail", actor=principal,
            role=role, clock=clock, payload=payload)
    if result == "fail":
        case.closed_reason = f"村级评议未通过：{review.note or ''}"
    return review, case


def review_fail_proposals(session: Session, principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """Failed village reviews recorded and waiting for a second person, in the caller's counties, oldest first."""
    stmt = (select(Case).where(Case.status == "determined", Case.review_fail_proposed_by.is_not(None))
            .order_by(Case.review_fail_proposed_at, Case.id).limit(limit))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    out = []
    for c in session.scalars(stmt):
        review = latest_review(session, c.id)
        out.append({"id": c.id, "number": c.number, "town": c.town, "village": c.village,
                    "head_name": c.household.head_name, "reason": (review.note if review else None) or "",
                    "held_on": review.held_on if review else None, "proposed_by": c.review_fail_proposed_by,
                    "proposed_at": c.review_fail_proposed_at, "mine": c.review_fail_proposed_by == principal.id})
    return out


_review, _meeting, _meeting_review = VillageReview.__table__, VillageMeeting.__table__, VillageMeetingReview.__table__
CASE_REVIEW = Prepared(  # the case detail's: its latest review and that review's meeting

    select(_review.c.id, _review.c.held_on, _review.c.result, _review.c.note, _review.c.recorded_by,
           _review.c.recorded_at, _meeting.c.id.label("meeting_id"), _meeting.c.held_on.label("meeting_held_on"),
           _meeting.c.venue, _meeting.c.attendees, _meeting.c.minutes, _meeting.c.households)
    .outerjoin(_meeting_review, _meeting_review.c.review_id == _review.c.id)
    .outerjoin(_meeting, _meeting.c.id == _meeting_review.c.meeting_id)
    .where(_review.c.case_id == bindparam("case_id"))
    .order_by(_review.c.recorded_at.desc(), _review.c.id.desc()).limit(1))


def review_summary(r: Any | None) -> dict[str, Any] | None:
    """The case's latest village review and the meeting it was decided at, if any, from its `CASE_REVIEW` row
    (None when it has no review)."""
    if r is None:
        return None
    meeting = None if r.meeting_id is None else {
        "id": r.meeting_id, "held_on": r.meeting_held_on.isoformat(), "venue": r.venue, "attendees": r.attendees,
        "minutes": r.minutes, "households": r.households}
    return {"id": r.id, "held_on": r.held_on.isoformat(), "result": r.result, "note": r.note,
            "recorded_by": r.recorded_by, "recorded_at": r.recorded_at.isoformat(), "meeting": meeting}


def review_summary_for_case(reader: Reader, case_id: str) -> dict[str, Any] | None:
    return review_summary(reader.first(CASE_REVIEW, {"case_id": case_id}))


def county_name(contract: Contract) -> str:
    """The county as printed on a notice, from the contract's purchaser ("示范县人民政府" → "示范县")."""
    name = contract.spec.purchaser.strip()
    for suffix in ("人民政府", "政府"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix)
    return name


def notice_title(town: str, village: str | None, year: int) -> str:
    return f"关于{town}{village or ''}{year}年度防贫帮困保障金拟救助对象的公示"


@dataclass(frozen=True)
class NoticeRequest:
    county_code: str
    town: str
    village: str | None
    posted_on: date
    contract_id: str | None = None
    issuing_body: str | None = None
    objection_place: str | None = None
    objection_phone: str | None = None
    number: str | None = None


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _notice_contract(session: Session, cases: Sequence[Case], req: NoticeRequest, place: str) -> Contract:
    ids = sorted({c.contract_id for c in cases})
    if req.contract_id:
        if req.contract_id not in ids:
            raise ValidationFailed.one("contract_id", f"{place}没有按服务合同 {req.contract_id} 待公示的案件")
        return contract_store.get_contract(session, req.contract_id)
    if not ids:
        field = "village" if req.village else "town"
        raise ValidationFailed.one(field, f"{place}没有已通过村级评议、待公示的案件")
    if len(ids) > 1:
        raise ValidationFailed.one("contract_id", f"{place} 的案件分属服务合同 {', '.join(ids)}，请指明本公示所按的合同")
    return contract_store.get_contract(session, ids[0])


def _determination(session: Session, case_id: str) -> tuple[Determination, Check]:
    row = session.execute(
        select(Determination, Check).join(Check, Check.id == Determination.check_id)
        .where(Determination.case_id == case_id).order_by(Check.seq.desc()).limit(1)
    ).first()
    if row is None or not row[0].eligible:  # a reviewed case always has an eligible determination
        raise InvalidState(f"案件 {case_id} 没有“符合条件”的认定")
    return row[0], row[1]


def notice_document(notice: Notice, items: Sequence[NoticeItem] | None = None,
                    cause_names: Mapping[str, str] | None = None) -> NoticeDocument:
    """The printable notice from what was stored at posting (names are stored as shown, so no masking again).
    Causes are named as the notice's contract names them (`cause_names`, else read through the notice's session)."""
    if cause_names is None:
        session = object_session(notice)
        cause_names = ({} if session is None else
                       contract_store.get_contract(session, notice.contract_id).cause_table.cause_names())
    rows = [NoticeRow(village=i.village, head_name=i.head_name, household_size=i.household_size, cause=i.cause,
                      relief_amount=i.relief_amount, cause_label=cause_names.get(i.cause))
            for i in (items if items is not None else notice.items)]
    return NoticeDocument(
        issuing_body=notice.issuing_body, title=notice.title, county=notice.county_name, town=notice.town,
        village=notice.village, posted_on=notice.posted_on, ends_on=last_day(notice.ends_on),
        objection_place=notice.objection_place, objection_phone=notice.objection_phone, issued_on=notice.posted_on,
        rows=rows, mask_names=False, number=notice.number,
    )


LEFT_OUT = "须由其他经办人列入公示"
"""Why a case is left out of the notice its poster is tied to (回避), told to the poster only: neutral, as a batch's
preparer is told (`payments.service.PREPARER_RECUSED`)."""


@dataclass(frozen=True)
class Posted:
    notice: Notice
    left_out: list[str]  # the cases left for another clerk's notice (回避), told to the poster alone


def post_notice(session: Session, req: NoticeRequest, *, principal: Principal, clock: Clock) -> Notice:
    return posted_notice(session, req, principal=principal, clock=clock).notice


def posted_notice(session: Session, req: NoticeRequest, *, principal: Principal, clock: Clock) -> Posted:
    """Gather the village's (or town's) reviewed cases into a notice, render and store its document, and move each
    case into the notice.

    回避: a case whose household the poster is a member of, or a declared relative of one, is left out (it stays
    reviewed, for a notice another clerk posts; the poster dates the notice and so its objection period), told to the
    poster with the neutral `LEFT_OUT`, on record (`recusal.refused`, step `notice_gather`) in the notice's
    transaction; refused (422, nothing written, still on record) when nothing else is left."""
    principal.require_county(req.county_code, "county")
    town = req.town.strip()
    village = _blank(req.village)
    if not town:
        raise ValidationFailed.one("town", "不能为空")
    objection_phone = _blank(req.objection_phone)
    if objection_phone:  # printed on the wall for villagers to call: a number they can dial
        try:
            objection_phone = phone_text(objection_phone, hotline=True)
        except BadCell as exc:
            raise ValidationFailed.one("objection_phone", str(exc)) from None
    today = clock.today()
    if req.posted_on > today:
        raise ValidationFailed.one("posted_on", "不能晚于今天")
    if req.posted_on < today - timedelta(days=LATE_ENTRY_DAYS):
        # A notice dated further back would run its period (and close) before anyone could read it or object.
        raise ValidationFailed.one("posted_on", f"公示日期 {req.posted_on} 早于昨天：公示须在张贴当天或次日录入，不能补记更早的日期"
                                                "（否则公示期未满就已结束）")

    # Lock the candidates: a second clerk posting the same village at once finds them taken (and on PostgreSQL
    # the unique index on live notice items refuses a case in two notices whatever happens).
    stmt = (select(Case).where(Case.county_code == req.county_code, Case.town == town, Case.status == "reviewed")
            .order_by(Case.village, Case.referred_on, Case.id).with_for_update())
    candidates = list(session.scalars(stmt))
    place = f"{town}{village or ''}"
    contract = _notice_contract(session, candidates, req, place)
    candidates = [c for c in candidates if c.contract_id == contract.id]
    scope = contract.spec.notice.scope
    if scope == "village":
        if village is None:
            raise ValidationFailed.one("village", "按合同每个村单独公示：请填写村名")
        candidates = [c for c in candidates if c.village == village]
        if not candidates:
            raise ValidationFailed.one("village", f"{place}没有已通过村级评议、待公示的案件")
    else:
        village = None  # a town-wide notice covers every village of the town
    recused = recusal.recused_cases(session, principal, [c.id for c in candidates])
    if recused:
        candidates = [c for c in candidates if c.id not in recused]
        if not candidates:
            exc = ValidationFailed.one("village", f"{place}待公示的案件{LEFT_OUT}")
            recusal_refusals.left_out(session, principal, recused, "notice_gather", refusal=exc, clock=clock)
            raise exc
        recusal_refusals.left_out(session, principal, recused, "notice_gather", clock=clock)

    reviews = {c.id: latest_review(session, c.id) for c in candidates}
    last_review = max((r.held_on for r in reviews.values() if r is not None), default=None)
    if last_review is not None and req.posted_on < last_review:
        late = sum(1 for r in reviews.values() if r is not None and r.held_on > req.posted_on)
        raise ValidationFailed.one("posted_on", f"早于其中 {late} 户的村级评议日期（最晚 {last_review}）")

    ends_on = req.posted_on + timedelta(days=contract.spec.deadlines.notice_days)
    mask = contract.spec.notice.mask_names
    cname = county_name(contract)
    issuing_body = _blank(req.issuing_body) or f"{cname}{town}人民政府"
    notice = Notice(
        id=new_id("ntc"), county_code=req.county_code, town=town, village=village, scope=scope,
        contract_id=contract.id, contract_hash=contract.content_hash, posted_on=req.posted_on, ends_on=ends_on,
        status="open", title=notice_title(town, village, contract.year), issuing_body=issuing_body, county_name=cname,
        objection_place=_blank(req.objection_place) or issuing_body,
        objection_phone=objection_phone or DEFAULT_OBJECTION_PHONE, number=_blank(req.number),
        mask_names=mask, households=0, persons=0, total=0, document=b"", document_sha256="",
        posted_by=principal.id, posted_at=clock.now(),
    )
    items = []
    for seq, case in enumerate(candidates, start=1):
        det, check = _determination(session, case.id)
        review = reviews[case.id]
        if review is None or review.result != "pass":  # reviewed means a passing review was recorded
            raise InvalidState(f"案件 {case.id} 没有通过村级评议")
        head = case.household.head_name
        items.append(NoticeItem(
            id=new_id("nti"), notice_id=notice.id, case_id=case.id, seq=seq, village=case.village,
            head_name=mask_name(head) if mask else head.strip(), household_size=check.member_count, cause=case.cause,
            relief_amount=det.relief, determination_id=det.id, review_id=review.id, status="listed",
        ))
    doc = notice_document(notice, items, contract.cause_table.cause_names())  # refuses (422) what must not be printed
    notice.document = render_notice(doc)
    notice.document_sha256 = hashlib.sha256(notice.document).hexdigest()
    notice.households, notice.persons, notice.total = doc.households, doc.persons, doc.total
    notice.items = items
    session.add(notice)
    session.flush()
    for case, item in zip(candidates, items):
        advance(session, case, "post_notice", actor=principal, role=CLERK, clock=clock,
                payload={"notice_id": notice.id, "item_id": item.id, "relief": format_yuan(item.relief_amount)})
    audit.append(
        session, actor=principal.id, role=CLERK, action="notice.post", subject=notice.id,
        contract_hash=contract.content_hash, clock=clock,
        payload={"county_code": notice.county_code, "town": town, "village": village, "scope": scope,
                 "posted_on": notice.posted_on.isoformat(), "ends_on": ends_on.isoformat(),
                 "cases": [i.case_id for i in items], "households": notice.households, "persons": notice.persons,
                 "total": format_yuan(notice.total), "document_sha256": notice.document_sha256},
    )
    return Posted(notice, sorted(recused))


def close_notice(session: Session, notice_id: str, *, principal: Principal, clock: Clock) -> Notice:
    """Close a notice whose period is over (today >= ends_on) and has no open objection: its listed cases are ready
    to pay; cases withdrawn after an upheld objection are left where they are."""
    notice = load_notice(session, notice_id, principal, for_update=True)
    if notice.status != "open":
        raise InvalidState("公示已结束")
    # 回避: closing sends the listed cases to payment: not by a relative of one of their households
    recusal.refuse_cases(session, principal, list(session.scalars(select(NoticeItem.case_id).where(
        NoticeItem.notice_id == notice.id))), step="notice_close", message=recusal_rules.NOTICE_RECUSED, clock=clock)
    today = clock.today()
    if today < notice.ends_on:
        raise InvalidState(f"公示期至 {last_day(notice.ends_on)}，{notice.ends_on} 起方可结束公示")
    pending = open_objection_count(session, notice.id)
    if pending:
        raise InvalidState(f"还有 {pending} 条异议未处理，请先处理异议")
    cleared, withdrawn, total = [], [], 0
    for item in session.scalars(select(NoticeItem).where(NoticeItem.notice_id == notice.id)
                                .order_by(NoticeItem.seq).with_for_update()):
        if item.status != "listed":
            withdrawn.append(item.case_id)
            continue
        case = load_case(session, item.case_id, principal, for_update=True)
        advance(session, case, "close_notice", actor=principal, role=CLERK, clock=clock,
                payload={"notice_id": notice.id, "item_id": item.id, "relief": format_yuan(item.relief_amount)})
        item.status = "cleared"
        cleared.append(item.case_id)
        total += item.relief_amount
    notice.status = "closed"
    notice.closed_on = today
    notice.closed_by = principal.id
    notice.closed_at = clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=CLERK, action="notice.close", subject=notice.id,
                 contract_hash=notice.contract_hash, clock=clock,
                 payload={"closed_on": today.isoformat(), "cleared": cleared, "withdrawn": withdrawn,
                          "total_cleared": format_yuan(total)})
    return notice
