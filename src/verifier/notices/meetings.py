"""Village review meetings (村级评议会): one sitting reviews every household of a village awaiting its review.

The meeting (date, venue, attendees, minutes) is kept once; each household's result is recorded through
`record_review`, so each case moves on and lands in the audit log as when reviewed alone, its entry naming the
meeting: a household passed goes on to its notice, one failed is a proposal waiting for a second person. All or
nothing: one bad row and no case is reviewed and no meeting is kept, every problem listed.

A meeting decides only with its attendance (the body's size, 应到, and the attendees by name, at least two thirds of
it: `domain/village_meeting.py`) and the scan of its signed minutes (`minutes_scan`, sealed and kept as a
`village_file`): one clerk alone no longer records a meeting from nothing but a few typed lines (see posting.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.recusal import REFUSED
from ..domain.village_meeting import attendance_problems, attendee_names
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.db import Database
from ..store.twins import write_or_find
from ..store.tables import Case, Determination, Household
from .models import VillageFile, VillageMeeting, VillageMeetingReview, VillageReview
from .posting import Upload, attach_minutes
from .service import REVIEW_ROLES, record_review

AWAITING = "determined"  # eligible, confirmed by the insurer: the village's review is next
MAX_HOUSEHOLDS = 500
LIMITS = {"venue": 200, "attendees": 2000, "minutes": 20000, "note": 2000}


@dataclass(frozen=True)
class MeetingEntry:
    case_id: str
    result: str  # pass (同意) | fail (不同意)
    note: str = ""


@dataclass
class MeetingRequest:
    county_code: str
    town: str
    village: str
    held_on: date
    venue: str
    attendees: str
    minutes: str
    entries: list[MeetingEntry] = field(default_factory=list)
    members_expected: int | None = None  # 应到: how many sit on the village's evaluation body
    minutes_scan: Upload | None = None  # the signed minutes with the attendance sheet, accepted, kept once recorded


@dataclass(frozen=True)
class AwaitingHousehold:
    case_id: str
    head_name: str
    cause: str
    relief: int | None  # fen, from the determination
    case_number: str = ""  # two heads of one village often share a name: the number tells them apart


def villages_awaiting(session: Session, principal: Principal, q: str = "") -> list[tuple[str, str, str, int]]:
    """(county, town, village, households) with cases awaiting the village's review, within the user's counties (a
    case whose failed review waits for a second person awaits no meeting). Searched (`q`, folded as every list's
    search is): the villages whose town or village is named so, or with a household awaiting whose head or case
    number is; each still counts all its households awaiting (the meeting reviews them all)."""
    waiting = (Case.status == AWAITING, Case.review_fail_proposed_by.is_(None))
    stmt = (select(Case.county_code, Case.town, Case.village, func.count())
            .where(*waiting)
            .group_by(Case.county_code, Case.town, Case.village)
            .order_by(Case.county_code, Case.town, Case.village))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    rows = [tuple(r) for r in session.execute(stmt).all()]
    text = fold_search(q)
    if not text:
        return rows  # type: ignore[return-value]
    found = select(Case.county_code, Case.town, Case.village).join(Household, Household.id == Case.household_id) \
        .where(*waiting, text_search(text, (Household.head_name, Case.number, Case.town, Case.village))).distinct()
    if principal.counties:
        found = found.where(Case.county_code.in_(principal.counties))
    matched = {tuple(r) for r in session.execute(found).all()}
    return [r for r in rows if r[:3] in matched]  # type: ignore[misc]


def households_awaiting(session: Session, principal: Principal, county_code: str, town: str,
                        village: str) -> list[AwaitingHousehold]:
    principal.require_county(county_code, "county")
    cases = list(session.scalars(select(Case).where(Case.county_code == county_code, Case.town == town,
                                                    Case.village == village, Case.status == AWAITING,
                                                    Case.review_fail_proposed_by.is_(None))
                                 .order_by(Case.referred_on, Case.id)))
    relief: dict[str, int] = {}
    for case_id, amount in session.execute(select(Determination.case_id, Determination.relief)
                                           .where(Determination.case_id.in_([c.id for c in cases]))
                                           .order_by(Determination.confirmed_at)):
        relief[case_id] = amount  # the latest determination wins
    return [AwaitingHousehold(c.id, c.household.head_name, c.cause, relief.get(c.id), c.number) for c in cases]


def _text(value: str, name: str, label: str, problems: list[FieldError], required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.append(FieldError(name, f"请填写{label}"))
    elif len(text) > LIMITS[name]:
        problems.append(FieldError(name, f"{label}超过 {LIMITS[name]} 个字"))
    return text


def _typed(venue: str, attendees: str, minutes: str, members_expected: int | None, scanned: bool,
           problems: list[FieldError]) -> tuple[str, str, str, list[str]]:
    """The meeting's venue, attendees and minutes as kept, and the attendees' names; what is missing or wrong in
    them (and in the body's size and the signed minutes) added to `problems`."""
    venue = _text(venue, "venue", "评议地点", problems)
    attendees = _text(attendees, "attendees", "参会人员", problems)
    minutes = _text(minutes, "minutes", "会议记录", problems)
    names = attendee_names(attendees)
    if attendees:
        problems += [FieldError(f, m) for f, m in attendance_problems(members_expected, names)]
    elif members_expected is None:
        problems.append(FieldError("members_expected", "请填写评议小组应到人数"))
    if not scanned:
        problems.append(FieldError("minutes_scan", "请上传参会人员签字的会议记录（签到表）扫描件或照片"))
    return venue, attendees, minutes, names


def typed_problems(venue: str, attendees: str, minutes: str, members_expected: int | None,
                   scanned: bool) -> list[FieldError]:
    """What `record_meeting` would say of the meeting's own fields, for a form told of a mistyped day: every gap
    said at once, not after the day is put right."""
    problems: list[FieldError] = []
    _typed(venue, attendees, minutes, members_expected, scanned, problems)
    return problems


def households_key(case_ids: Iterable[str]) -> str:
    """Hex SHA-256 of the case ids (sorted, one a line): with the village and day, what makes a meeting the same."""
    return hashlib.sha256("\n".join(sorted(set(case_ids))).encode()).hexdigest()


def recorded_before(session: Session, request: MeetingRequest, principal: Principal) -> str | None:
    """The meeting already recorded for this village and day with these very households: the same meeting sent
    again (a stale tab, the back button) finds it instead of being refused household by household."""
    ids = {e.case_id for e in request.entries}
    if not ids or not principal.may_see_county(request.county_code):
        return None
    return session.scalar(select(VillageMeeting.id).where(
        VillageMeeting.county_code == request.county_code, VillageMeeting.town == request.town,
        VillageMeeting.village == request.village, VillageMeeting.held_on == request.held_on,
        VillageMeeting.households_key == households_key(ids)).limit(1))


def record_or_open(db: Database, request: MeetingRequest, *, principal: Principal,
                   clock: Clock) -> tuple[str, bool]:
    """(meeting id, whether it was recorded before): the meeting recorded with these households on this day, else
    one recorded now. Sent twice at once it is kept once (`uq_village_meeting_sitting` refuses the second)."""
    return write_or_find(db, lambda s: recorded_before(s, request, principal),
                         lambda s: record_meeting(s, request, principal=principal, clock=clock).id)


def record_meeting(session: Session, request: MeetingRequest, *, principal: Principal,
                   clock: Clock) -> VillageMeeting:
    """Keep the meeting and record each household's result. Raises ValidationFailed listing every problem (a row's
    `row` is its place in the list, from 1); nothing is kept then: the caller's transaction rolls back."""
    if not principal.has(*REVIEW_ROLES):
        raise Forbidden("只有乡镇经办人可以录入村级评议")
    principal.require_county(request.county_code, "county")
    problems: list[FieldError] = []
    venue, attendees, minutes, names = _typed(request.venue, request.attendees, request.minutes,
                                              request.members_expected, request.minutes_scan is not None, problems)
    if request.held_on > clock.today():
        problems.append(FieldError("held_on", f"不能晚于今天（填写的是 {request.held_on}）"))
    entries = request.entries
    if not entries:
        problems.append(FieldError("entries", "本次评议没有待评议的农户"))
    if len(entries) > MAX_HOUSEHOLDS:
        problems.append(FieldError("entries", f"一次评议最多 {MAX_HOUSEHOLDS} 户"))
    seen: set[str] = set()
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([e.case_id for e in entries])))}
    recused = recusal.recused_households(session, principal.id, [c.household_id for c in cases.values()])
    for n, e in enumerate(entries, start=1):
        case = cases.get(e.case_id)
        if e.case_id in seen:
            problems.append(FieldError(f"result_{n}", "同一户在本次评议中出现了两次", n))
        seen.add(e.case_id)
        if case is None or case.county_code != request.county_code or case.town != request.town \
                or case.village != request.village:
            problems.append(FieldError(f"result_{n}", f"该户不是{request.town}{request.village}的待评议农户", n))
            continue
        if case.household_id in recused:  # 回避: the clerk's own family is reviewed in a meeting another clerk records
            problems.append(FieldError(f"result_{n}", f"{case.household.head_name}户：回避：您{REFUSED}，该户的评议须由"
                                       "其他经办人录入", n))
        if case.status != AWAITING:
            problems.append(FieldError(f"result_{n}", f"{case.household.head_name}户已不在待村级评议状态，请刷新页面", n))
        elif case.review_fail_proposed_by is not None:
            problems.append(FieldError(f"result_{n}", f"{case.household.head_name}户的评议未通过已记录，正等待他人确认，"
                                       "不在本次评议之列，请刷新页面", n))
        if e.result not in ("pass", "fail"):
            problems.append(FieldError(f"result_{n}", f"请选择{case.household.head_name}户的评议结果", n))
        elif e.result == "fail" and not (e.note or "").strip():
            problems.append(FieldError(f"note_{n}", f"{case.household.head_name}户评议不同意，须写明理由", n))
        elif len((e.note or "").strip()) > LIMITS["note"]:
            problems.append(FieldError(f"note_{n}", f"理由超过 {LIMITS['note']} 个字", n))
    if problems:
        exc = ValidationFailed(problems)
        tied = sorted(h for h in recused if any(c.household_id == h for c in cases.values()))
        if tied:  # 回避 on record (recusal/refusals.py)
            recusal_refusals.refused(exc, principal, "meeting", tied, clock=clock)
        raise exc
    meeting = VillageMeeting(id=new_id("mtg"), county_code=request.county_code, town=request.town,
                             village=request.village, held_on=request.held_on, venue=venue, attendees=attendees,
                             minutes=minutes, households=len(entries), households_key=households_key(seen),
                             recorded_by=principal.id, recorded_at=clock.now(),
                             members_expected=request.members_expected, attendance=len(names),
                             minutes_scan_sha256=request.minutes_scan.sha256 if request.minutes_scan else None)
    session.add(meeting)
    session.flush()
    assert request.minutes_scan is not None
    attach_minutes(session, meeting, request.minutes_scan, principal=principal, clock=clock)
    passed = 0
    for n, e in enumerate(entries, start=1):
        try:
            review, _ = record_review(session, e.case_id, held_on=request.held_on, result=e.result, note=e.note,
                                      principal=principal, clock=clock, meeting_id=meeting.id)
        except ValidationFailed as exc:  # e.g. a meeting held before the household's home check
            for p in exc.errors:
                if p.field == "held_on":  # said beside the date, and beside the household it concerns
                    problems.append(FieldError("held_on", p.message, n))
                    p = FieldError("result", f"{cases[e.case_id].household.head_name}户不能按这个评议日期评议", n)
                problems.append(FieldError(f"{p.field}_{n}", p.message, n))
            continue
        except (InvalidState, NotFound) as exc:
            problems.append(FieldError(f"result_{n}", exc.detail, n))
            continue
        session.add(VillageMeetingReview(review_id=review.id, meeting_id=meeting.id))
        passed += e.result == "pass"
    if problems:
        raise ValidationFailed(problems)  # the caller's transaction rolls back every review written above
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(REVIEW_ROLES),
                 action="village_meeting.record", subject=meeting.id, county_code=request.county_code,
                 payload={"county_code": request.county_code, "town": request.town, "village": request.village,
                          "held_on": request.held_on.isoformat(), "households": len(entries), "passed": passed,
                          "members_expected": request.members_expected, "attendance": len(names),
                          "minutes_scan_sha256": meeting.minutes_scan_sha256,
                          "cases": [e.case_id for e in entries],
                          # names of people: only their hashes go into the log
                          "attendees_sha256": audit.text_digest(attendees),
                          "minutes_sha256": audit.text_digest(minutes)}, clock=clock)
    request.minutes_scan.keep()  # the rows first, the sealed file once nothing is left to refuse
    return meeting


def load_meeting(session: Session, meeting_id: str, principal: Principal) -> VillageMeeting:
    meeting = session.get(VillageMeeting, meeting_id)
    if meeting is None or not principal.may_see_county(meeting.county_code):
        raise NotFound("村级评议会不存在，或不在您的权限范围内")
    return meeting


def find_meetings(session: Session, principal: Principal, *, q: str = "", page: int = 1,
                  page_size: int = PAGE_SIZE) -> Paged[VillageMeeting]:
    """The meetings held in the caller's counties, the latest sitting first, searched by town, village or venue: the
    list a clerk finds last month's meeting (its minutes, who attended) in."""
    stmt = select(VillageMeeting).order_by(VillageMeeting.held_on.desc(), VillageMeeting.recorded_at.desc(),
                                           VillageMeeting.id.desc())
    if principal.counties:
        stmt = stmt.where(VillageMeeting.county_code.in_(principal.counties))
    q = fold_search(q)
    if q:
        stmt = stmt.where(text_search(q, (VillageMeeting.town, VillageMeeting.village, VillageMeeting.venue)))
    return page_of(session, stmt, page, page_size)


def meeting_reviews(session: Session, meeting_id: str) -> list[tuple[VillageReview, Case]]:
    rows = session.execute(select(VillageReview, Case).join(VillageMeetingReview,
                                                            VillageMeetingReview.review_id == VillageReview.id)
                           .join(Case, Case.id == VillageReview.case_id)
                           .where(VillageMeetingReview.meeting_id == meeting_id).order_by(Case.referred_on, Case.id))
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


def minutes_of(session: Session, meeting: VillageMeeting) -> VillageFile | None:
    """The meeting's signed minutes (None for a meeting recorded before they were asked)."""
    if meeting.minutes_scan_sha256 is None:
        return None
    return session.scalar(select(VillageFile).where(VillageFile.sha256 == meeting.minutes_scan_sha256))
