"""Visits that produced no check: nobody at home, the household refused, it has moved away.

Such a visit still counts (the county's figures count households visited and person-visits, not only checks),
and the case goes back to be scheduled and visited again: the deadline measures the insurer's service, it does
not end the household's claim.

It is recorded with a photo taken at the household on the visit day (`door_problems`), as a county re-check's visit
is (`sampling.visits.require_visit`): else one officer at his desk could record visits nobody made, naming his
partner too, and have them counted, and a case sent back to be planned again and again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.service import active_visit, due_date, recheck_barred, rotation_barred
from ..cases.workflow import advance, load_case
from ..clock import Clock
from ..domain import late_entry, objection_recheck, rotation
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.lifecycle import status_zh
from ..domain.photo_times import received_on, taken_on
from ..store.base import new_id
from ..store.tables import Case, Check, Evidence, VisitAttempt
from .service import NOT_ASSIGNED, visit_team

OUTCOMES = ("not_home", "refused", "moved_away", "other")
DOOR_PHOTO_REQUIRED = ("请上传走访当天在农户门前拍摄的照片：未能核查的走访须有照片证明到过户上（以照片里相机写入的拍摄时间为准，"
                       "且上传日期不早于走访当天；截图或删除了拍摄信息的照片不算）")
ANOTHER_HOUSEHOLDS_PHOTO = "这张照片也是其他农户案件的证据：每户须有在本户门前拍摄的照片"
NOT_UPLOADED = "照片未上传成功，请重新选择"
USED_BEFORE = "这张照片已是本案此前一次走访或核查的证据：须有本次走访当天在门前拍摄的照片"


@dataclass(frozen=True)
class AttemptInput:
    visited_on: date
    officers: list[str]
    outcome: str
    note: str = ""
    late_entry_reason: str = ""  # why it is recorded only now (required beyond `late_entry.LATE_ENTRY_DAYS`)
    evidence: tuple[str, ...] | list[str] = ()  # SHA-256 of the case's evidence: the photos taken at the door


def record_attempt(session: Session, case_id: str, data: AttemptInput, *, principal: Principal,
                   clock: Clock) -> VisitAttempt:
    """Record a visit without a check by one of the case's two assigned officers; the case is to be visited again."""
    case = load_case(session, case_id, principal, for_update=True)
    visit = active_visit(session, case.id)
    if visit is None or principal.id not in visit.officer_ids:
        raise Forbidden(NOT_ASSIGNED)
    if case.status != "scheduled":
        raise InvalidState(f"案件当前状态为「{status_zh(case.status)}」，不能登记走访")
    officers, problems = visit_team(session, case, list(visit.officer_ids), data.visited_on, data.officers, principal,
                                    clock, "visit")
    # nor on a case checked again, by an officer of the checks in doubt or a linked account (an old visit they hold)
    problems += objection_recheck.refusals(officers, *recheck_barred(session, case.id, officers))
    # nor by an officer the rotation rule bars now (the household's latest check on another case, since scheduled),
    # nor by an account linked to one of theirs by a password
    problems += rotation.refusals(officers, *rotation_barred(session, case, visit))
    # dated as a check is (`checks.service`): set back before its visit was scheduled (never after today: a history
    # entered on its own days, as the demo's; a re-plan makes a new visit, so a real earlier visit is entered with
    # a reason), or at all on an overdue case, only with the reason for the late entry
    scheduled_on = min(late_entry.recorded_on(visit.created_at), clock.today())
    late_reason = late_entry.clean_reason(data.late_entry_reason)
    problems += day_problems(data.visited_on, scheduled_on, clock.today(), late_reason,
                             due_on=due_date(session, case))
    if data.outcome not in OUTCOMES:
        problems.append(FieldError("outcome", "请选择未能核查的原因"))
    # a photo at the door that day: the visit was made (whatever the outcome: a refusal or a move would serve as well);
    # not asked of a day or a team refused already (an officer barred from the case cannot upload one either)
    asked = not (data.visited_on > clock.today() or data.visited_on < case.referred_on
                 or any(p.field.startswith("officers") for p in problems))
    photos, on_the_day, door = door_problems(session, case, list(data.evidence), data.visited_on, asked=asked)
    problems += door
    note = data.note.strip()
    if data.outcome == "other" and not note:
        problems.append(FieldError("note", "选择“其他原因”时请说明情况"))
    if problems:
        raise ValidationFailed(problems)
    # the reason kept beside the officers' note: the case page and the supervisor planning the next visit read both
    attempt = VisitAttempt(id=new_id("att"), case_id=case.id, visit_id=visit.id, visited_on=data.visited_on,
                           officer_ids=officers, outcome=data.outcome, note=note or None,
                           late_reason=late_reason or None, recorded_by=principal.id, recorded_at=clock.now(),
                           evidence=photos)
    session.add(attempt)
    visit.active = False
    session.flush()
    advance(session, case, "visit_failed", actor=principal, role="field_officer", clock=clock, payload={
        "attempt_id": attempt.id, "visit_id": visit.id, "visited_on": data.visited_on.isoformat(),
        "officers": officers, "outcome": data.outcome, "note_sha256": audit.text_digest(note),
        "recorded_days_after": late_entry.days_after(data.visited_on, clock.today()),
        "evidence": photos, "photos_on_the_day": on_the_day,
        **({"late_entry_reason_sha256": audit.text_digest(late_reason)} if late_reason else {})})
    return attempt


def door_problems(session: Session, case: Case, evidence: list[str], visited_on: date, *,
                  asked: bool = True) -> tuple[list[str], int, list[FieldError]]:
    """The photos named for a visit without a check (`evidence`, SHA-256 of the case's uploads), what proves it and
    what is wrong: (the photos once each, how many were taken at the door that day, the problems). At least one must
    be a photo of this case whose camera time falls on `visited_on` (Asia/Shanghai), received by the server no
    earlier than that day (a camera day after the upload is a clock set forward), and not a file of another
    household's case too (one photo of the village for every door), nor the proof of an earlier visit: named by an
    earlier attempt or a check of this case, it would let a visit dated back on a real one's day be proved by that
    one's photo (`USED_BEFORE`; a photo sent before and not yet named by anything, as with a form refused and sent
    again after a re-plan, still counts). `asked` False: the day or the team is refused already, so no photo is
    asked for (the files named are still checked)."""
    named = list(dict.fromkeys(evidence))
    found = {e.sha256: e for e in session.scalars(select(Evidence).where(
        Evidence.case_id == case.id, Evidence.sha256.in_(named)))} if named else {}
    elsewhere = set(session.scalars(select(Evidence.sha256).join(Case, Case.id == Evidence.case_id).where(
        Evidence.sha256.in_(sorted(found)), Case.household_id != case.household_id))) if found else set()
    problems = [FieldError(f"evidence[{i}]", NOT_UPLOADED) for i, h in enumerate(evidence) if h not in found]
    problems += [FieldError(f"evidence[{i}]", ANOTHER_HOUSEHOLDS_PHOTO) for i, h in enumerate(evidence)
                 if h in elsewhere]
    used: set[str] = set()
    if found:  # the case's earlier attempts and checks (a handful): their photos read here, not by a JSON operator
        for listed in [*session.scalars(select(VisitAttempt.evidence).where(VisitAttempt.case_id == case.id)),
                       *session.scalars(select(Check.evidence).where(Check.case_id == case.id))]:
            used.update(listed or ())
    problems += [FieldError(f"evidence[{i}]", USED_BEFORE) for i, h in enumerate(evidence)
                 if h in used and h not in elsewhere]
    dated = [h for h in named if h in found and h not in elsewhere and h not in used
             and found[h].content_type.startswith("image/")
             and taken_on(found[h].captured_at) == visited_on and received_on(found[h].uploaded_at) >= visited_on]
    if not dated and asked:
        problems.append(FieldError("evidence", DOOR_PHOTO_REQUIRED))
    return [h for h in named if h in found], len(dated), problems


def day_problems(visited_on: date, scheduled_on: date, today: date, reason: str, *,
                 due_on: date | None = None) -> list[FieldError]:
    """What is wrong with a visit without a check dated `visited_on`, recorded today, its visit scheduled on
    `scheduled_on` (the scheme's calendar day), its case due on `due_on`: the rule a check's visit day meets
    (`late_entry.problems`, `reason` already `clean_reason`ed): dated back more than `late_entry.LATE_ENTRY_DAYS`,
    before the visit was scheduled, or at all on a case overdue today, only with the reason for the late entry. A day
    after today, or before the referral, is `visit_team`'s to refuse."""
    if visited_on > today:
        return []
    return late_problems(visited_on, today, reason, scheduled_on=scheduled_on, due_on=due_on)


def late_problems(visited_on: date, today: date, reason: str, *, scheduled_on: date | None = None,
                  due_on: date | None = None) -> list[FieldError]:
    """The late entry's reason missing or too long for a visit without a check dated `visited_on`, recorded today
    (`late_entry.problems`, said of a visit: a visit without a check sets no lateness, so none is said counted)."""
    return late_entry.problems(visited_on, today, reason, scheduled_on=scheduled_on, due_on=due_on, noun="走访",
                               sets_lateness=False)


def attempts_for_case(session: Session, case_id: str) -> list[VisitAttempt]:
    return list(session.scalars(select(VisitAttempt).where(VisitAttempt.case_id == case_id)
                                .order_by(VisitAttempt.visited_on, VisitAttempt.recorded_at)))


def last_attempts(session: Session, case_ids: list[str]) -> dict[str, tuple[VisitAttempt, int]]:
    """For each named case with a visit that produced no check: its latest such visit and how many there were (the
    supervisor planning the next visit sees that nobody was home last time, and what the officers noted)."""
    found: dict[str, tuple[VisitAttempt, int]] = {}
    if not case_ids:
        return found
    for a in session.scalars(select(VisitAttempt).where(VisitAttempt.case_id.in_(case_ids))
                             .order_by(VisitAttempt.visited_on, VisitAttempt.recorded_at, VisitAttempt.id)):
        found[a.case_id] = (a, found[a.case_id][1] + 1 if a.case_id in found else 1)
    return found
