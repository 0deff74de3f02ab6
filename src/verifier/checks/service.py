"""Home income checks at the door, their evidence, and the determination that follows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.probes import Limit
from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.counties import as_county, county_of
from ..cases.service import active_visit, recheck_barred, refuse_stale, rotation_links
from ..cases.workflow import advance, load_case, load_case_for_year
from ..clock import Clock
from ..conflicts import service as conflicts
from ..contract import Contract
from ..domain.causes import DEFAULT_TABLE, CauseDef
from ..domain.eligibility import Eligibility, assess
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.idnumber import validate_id_number
from ..domain.income import HouseholdIncome, RigidExpenditure
from ..domain.money import format_yuan
from ..domain.payee import check_payee, door_problems, on_record_problems, same_person_name
from ..domain import backing, late_entry, objection_recheck, photo_times, planning, rotation
from ..domain import recusal as recusal_rules
from ..domain.lifecycle import next_status, refused_in_status, status_zh
from ..domain.planning import days_late
from ..domain.registers import finding_reason
from ..domain.relief import ReliefQuote, relief_for
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.gather import claim
from ..store.reader import Prepared
from ..cases import numbers as case_numbers
from ..store.tables import Case, Check, Determination, Evidence, Member, User, Visit
from ..store.vault import Vault
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..registers import service as registers
from ..registers.models import RegisterFinding
from ..roster.service import PASSWORD_LINK
from ..sampling.models import SamplingItem, SamplingResult, SamplingRound
from ..payments import one_account, year_paid
from . import bills, evidence_files, member_probes, on_record, photo_exif, recording

EVIDENCE_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
    "image/webp": (b"RIFF",),
}
RELATIONS = ("head", "spouse", "child", "parent", "other")
LABOUR = ("full", "partial", "none")
# The refusals other modules recognise: a person of another household (the check's page names that household),
# a case not assigned to the officer recording its check.
ANOTHER_HOUSEHOLD = "此人已登记在其他家庭"
NOT_ASSIGNED = "该案件未分配给您，只有派定的两名核查员可以录入核查结果"
SOURCES = ("medical_insurance", "housing", "market_regulation", "bank", "vehicle", "other")


def _sniff(data: bytes) -> str | None:
    for content_type, magics in EVIDENCE_TYPES.items():
        if any(data.startswith(m) for m in magics):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    return None


def accepted_file(data: bytes, declared_type: str | None, max_bytes: int) -> tuple[str, str]:
    """(content type, SHA-256) of an uploaded photo or scan, as the evidence of a check or a re-check takes it; a 422
    naming `file` when it is empty, too large, of another kind, or not what it says it is."""
    if not data:
        raise ValidationFailed.one("file", "文件为空")
    if len(data) > max_bytes:
        raise ValidationFailed.one("file", f"文件过大（最大 {max_bytes // 1048576} MB）")
    actual = _sniff(data)
    if actual is None:
        raise ValidationFailed.one("file", "只接受 JPEG、PNG、WebP 照片或 PDF 扫描件")
    if declared_type and declared_type.split(";")[0].strip() not in (actual, "application/octet-stream"):
        raise ValidationFailed.one("file", "文件类型与内容不符")
    return actual, hashlib.sha256(data).hexdigest()


def stored_evidence(session: Session, case_id: str, sha256: str) -> Evidence | None:
    """The case's evidence of this hash already stored."""
    return session.scalar(select(Evidence).where(Evidence.case_id == case_id, Evidence.sha256 == sha256))


def store_evidence(
    session: Session, case_id: str, *, data: bytes, declared_type: str | None, evidence_dir: Path, max_bytes: int,
    principal: Principal, clock: Clock, vault: Vault,
) -> Evidence:
    case = load_case(session, case_id, principal)
    visit = _require_assigned(session, case, principal)
    # not by an officer of the checks in doubt of a case checked again, nor a linked account, on the visit they still
    # hold (an old case's), nor by his partner on it: the re-check's evidence is its own officers' (kept on record)
    refuse_stale(session, case, visit, principal, clock=clock)
    actual, sha = accepted_file(data, declared_type, max_bytes)
    existing = stored_evidence(session, case.id, sha)
    if existing is not None:
        evidence_files.store(evidence_dir, vault, data, sha)  # sent again: its file, should it be missing
        return existing
    captured = captured_at(data, actual)
    evidence = Evidence(id=new_id("ev"), case_id=case.id, sha256=sha, size=len(data), content_type=actual,
                        uploaded_by=principal.id, uploaded_at=clock.now(), captured_at=captured)
    # The row first, the file after: the same file sent twice at once (two taps, two devices) meets the unique
    # (case, hash); the one that loses writes no file and answers the other's row, as when sent again.
    try:
        with session.begin_nested():
            session.add(evidence)
    except IntegrityError:
        existing = stored_evidence(session, case.id, sha)
        if existing is None:
            raise
        return existing
    evidence_files.store(evidence_dir, vault, data, sha)  # sealed at rest; the hash is the plain file's
    audit.append(session, actor=principal.id, role="field_officer", action="evidence.upload", subject=case.id,
                 contract_hash=case.contract_hash, payload={"sha256": sha, "size": len(data), "content_type": actual,
                                                            **({"captured_at": captured} if captured else {})},
                 clock=clock)
    return evidence


def captured_at(data: bytes, content_type: str) -> str | None:
    """What a file's row keeps of a photo's capture time (see `Evidence.captured_at`): None for a PDF, "" for a
    photo that does not say when it was taken."""
    if not content_type.startswith("image/"):
        return None
    taken = photo_exif.capture_time(data, content_type)
    return "" if taken is None else taken.isoformat()


_captured_at = captured_at  # the former private name, still imported by sampling/visits.py


def photo_findings(session: Session, check: Check) -> list[photo_times.PhotoFinding]:
    """What the check's photos' capture times say against its visit day and recording time (`domain.photo_times`)."""
    rows = session.execute(select(Evidence.sha256, Evidence.content_type, Evidence.captured_at)
                           .where(Evidence.case_id == check.case_id)).all() if check.evidence else []
    photos = photo_times.photos_among([(r.sha256, r.content_type, r.captured_at) for r in rows], check.evidence)
    return photo_times.findings(check.visited_on, check.recorded_at, photos)


# Built once (building a statement costs more than running these).
_LAST_SEQ = select(func.max(Check.seq)).where(Check.case_id == bindparam("case_id"))
_MEMBERS = select(Member).where(Member.household_id == bindparam("household_id"))
_EVIDENCE_HASHES = select(Evidence.sha256).where(Evidence.case_id == bindparam("case_id"))
_TEAM = select(User.id, User.username).where(User.id.in_(bindparam("ids", expanding=True)))


def evidence_of(session: Session, case_id: str, hashes: list[str]) -> list[Evidence]:
    """The case's uploaded files among `hashes` (what a check form carries), in that order: a hash of another
    case's file, or of none, is left out."""
    found = {e.sha256: e for e in session.scalars(select(Evidence).where(Evidence.case_id == case_id,
                                                                        Evidence.sha256.in_(hashes)))} if hashes else {}
    return [found[h] for h in dict.fromkeys(hashes) if h in found]


def evidence_by_hash(session: Session, case_id: str) -> dict[str, Evidence]:
    """All of a case's uploaded files, keyed by their hash."""
    return {e.sha256: e for e in session.scalars(select(Evidence).where(Evidence.case_id == case_id))}


def evidence_file_of(session: Session, case_id: str, sha256: str) -> Evidence | None:
    """One of the case's uploaded files by its hash (None for another case's file, or none)."""
    return session.scalar(select(Evidence).where(Evidence.case_id == case_id, Evidence.sha256 == sha256))


def _moment(value: Any) -> datetime:
    """A moment read by the batch reader (a datetime in UTC; a naive one or a text is taken as UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _require_assigned(session: Session, case: Case, principal: Principal) -> Visit:
    visit = active_visit(session, case.id)
    if visit is None or principal.id not in visit.officer_ids:
        # The officer may read the case (it is in their county), so its existence is no secret: 403, not 404.
        raise Forbidden(NOT_ASSIGNED)
    return visit


def visit_team(session: Session, case: Case, assigned: list[str], visited_on: date, named: list[str],
               principal: Principal, clock: Clock, what: str) -> tuple[list[str], list[FieldError]]:
    """The two officers of a visit at the door (named by user id or username, as the schedule takes them; returned
    by id) and every problem with them or with the visit's date. `what` is "check" or "visit" (the refusals say
    录入人 of either alike)."""
    usernames = {username: uid for uid, username in session.execute(_TEAM, {"ids": list(assigned)})}
    return team_of(case.referred_on, assigned, usernames, visited_on, named, principal, clock.today(), what)


def team_of(referred_on: date, assigned: list[str], usernames: dict[str, str], visited_on: date, named: list[str],
            principal: Principal, today: date, what: str) -> tuple[list[str], list[FieldError]]:
    """`visit_team` once the assigned officers' usernames are known (`usernames`: username → id; other users' names
    may be there, only the assigned ones count)."""
    problems: list[FieldError] = []
    if visited_on > today:
        problems.append(FieldError("visited_on", "不能晚于今天"))
    if visited_on < referred_on:
        problems.append(FieldError("visited_on", f"不能早于接收日期 {referred_on}"))
    officers = [uid if (uid := usernames.get(o)) is not None and uid in assigned else o for o in named]
    if len(officers) != 2 or len(set(officers)) != 2:
        problems.append(FieldError("officers", "入户核查须由两名不同的核查员进行"))
    problems += [FieldError(f"officers[{i}]", "不是本案的核查人员")
                 for i, (o, officer_id) in enumerate(zip(named, officers)) if officer_id not in assigned]
    if principal.id not in officers:
        problems.append(FieldError("officers", "录入人须是两名核查员之一"))
    return officers, problems


@dataclass(frozen=True)
class CheckInput:
    visited_on: date
    officers: list[str]
    members: list[dict[str, Any]]
    income: HouseholdIncome
    rigid: RigidExpenditure
    stable_income: bool
    payee: dict[str, str] | None
    cross_checks: list[dict[str, str]]
    evidence: list[str]
    note: str
    bills: Sequence[dict[str, Any]] = ()  # kind, issuer, number, amount (see bills.py)
    late_entry_reason: str = ""  # why it is recorded only now (required beyond `late_entry.LATE_ENTRY_DAYS`)


def _input_problems(data: CheckInput, today: date) -> tuple[list[tuple[dict[str, Any], str]], dict[str, int],
                                                             list[FieldError]]:
    """What the form's members, amounts and cross-checks get wrong, whatever the database holds: the members with
    their normalised ID numbers, the index of each ID number in the form, and the problems."""
    problems: list[FieldError] = []
    if not data.members:
        problems.append(FieldError("members", "至少填写一名家庭成员"))
    heads = [m for m in data.members if m.get("relation") == "head"]
    if data.members and len(heads) != 1:
        problems.append(FieldError("members", f"须有且只有一名户主（现有 {len(heads)} 名）"))
    seen: dict[str, int] = {}
    normalised: list[tuple[dict[str, Any], str]] = []
    for i, m in enumerate(data.members):
        # the row's name, relation and labour are told with a mistyped ID number, not only once it is put right
        if not str(m.get("name") or "").strip():
            problems.append(FieldError(f"members[{i}].name", "必填"))
        if m.get("relation") not in RELATIONS:
            problems.append(FieldError(f"members[{i}].relation", "请选择与户主关系"))
        if m.get("labour") not in LABOUR:
            problems.append(FieldError(f"members[{i}].labour", "请选择劳动能力"))
        try:
            idn = validate_id_number(m.get("id_number"), f"members[{i}].id_number", today=today)
        except ValidationFailed as exc:
            problems += exc.errors
            continue
        if idn in seen:
            problems.append(FieldError(f"members[{i}].id_number", f"与第 {seen[idn] + 1} 名成员的身份证号重复"))
        seen[idn] = i
        normalised.append((m, idn))
    problems += data.income.validate("income") + data.rigid.validate("rigid_expenditure")
    for i, c in enumerate(data.cross_checks):
        if c.get("source") not in SOURCES:
            problems.append(FieldError(f"cross_checks[{i}].source", "请选择比对信息来源"))
        if c.get("finding") not in ("consistent", "inconsistent"):
            problems.append(FieldError(f"cross_checks[{i}].finding", "请选择比对结果（一致或不一致）"))
    return normalised, seen, problems


@dataclass(frozen=True)
class Admission:
    """A check's caller not yet looked up (the check's shortcut on PostgreSQL, checks/shortcut.py): the session's
    lookup, read in the batch of the check's own first reads, and the rule that makes the caller of its row (None: no
    open session), raising when the caller is refused; nothing of the case is used before. Not on SQLite: there the
    write's transaction takes the only write lock first (`BEGIN IMMEDIATE`), so a caller is admitted before it."""

    lookup: tuple[Prepared, Mapping[str, Any]]
    admit: Callable[[Any | None], Principal]
    # the user the lookup is for (the token's): their look-ups are read with the lookup (`member_probes`); a caller
    # admitted as anyone else is refused as a session not found
    user_id: str | None = None


def record_check(
    session: Session, case_id: str, data: CheckInput, *, vault: Vault, principal: Principal | Admission, clock: Clock,
    lookups: Limit | None = None,
) -> recording.Recorded:
    """Record the home check of a scheduled case by one of its two assigned officers: the household's members as
    found, the check, the case checked, its audit entry; then the registers in force compared (`registers`). Once an
    objection to the case's notice was upheld, neither an officer of the checks it was against nor an account linked
    to one by a password is one of the check's two (`domain.objection_recheck`), whatever visit they hold; nor,
    after a check sent back or a review request, an officer of the checks in doubt or a linked account; nor an
    officer the rotation rule bars now (`domain.rotation`: the household's latest check on another case).

    The form is checked and its personal data sealed before the first statement (on SQLite before the write lock is
    taken: `BEGIN IMMEDIATE` comes with it); what the database holds is then read in one batch and written with
    Core statements (`recording`).

    `lookups` (the routes': `accounts.probes.Limit`): the ID numbers the check names that its household does
    not hold are counted for the caller, a check past the allowance refused before anything is compared
    (`member_probes`: else refused checks would tell a masked number's birth date); none for the demo's history."""
    today = clock.today()
    normalised, seen, input_problems = _input_problems(data, today)
    payee = None
    payee_problems: list[FieldError] = []
    if data.payee is not None:
        payee, payee_problems = check_payee(*(str(data.payee.get(k) or "") for k in ("account_name", "bank",
                                                                                      "account_number")),
                                            prefix="payee.")
        # 代收 (a name outside the household) only by a payee change, with its reason and the county reviewer
        if not any(p.field == "payee.account_name" for p in payee_problems):
            payee_problems += door_problems(payee, [str(m.get("name") or "") for m in data.members])
    bidx = {idn: vault.blind_index(idn, "id_number") for _, idn in normalised}
    admission = principal if isinstance(principal, Admission) else None
    now = clock.now()
    # the caller's look-ups in the window (`member_probes`), read with the rest: the caller's id is the route's
    # principal's, or the token's the session is looked up for
    caller_id = cast(Principal, principal).id if admission is None else admission.user_id
    window = (None if lookups is None or not bidx or caller_id is None
              else member_probes.ALLOWANCE.window_read(caller_id, now, lookups))
    found = recording.read(session, case_id, named=data.officers, bidxs=list(bidx.values()),
                           evidence=bool(data.evidence), today=today,
                           first=None if admission is None else admission.lookup, window=window)
    if admission is not None:
        principal = admission.admit(found.first[0] if found.first else None)
        if window is not None and principal.id != caller_id:
            admission.admit(None)  # refused, as a session not found
            raise NotFound("案件不存在")  # (an `admit` that lets no session in never returns)
    principal = cast(Principal, principal)
    case = found.case
    if case is None or not principal.may_see_county(case.county_code):
        raise NotFound("案件不存在")
    # In a group of checks committed together (store/groups.py) one check a household: the rules below read the
    # household's other cases and checks as committed before the group, so a second is made after it, alone
    claim(("household", case.household_id))
    assigned = None if case.assigned is None else list(case.assigned)
    if assigned is None or principal.id not in assigned:
        # The officer may read the case (it is in their county), so its existence is no secret: 403, not 404.
        raise Forbidden(NOT_ASSIGNED)
    if case.status != "scheduled":
        raise InvalidState(refused_in_status(case.status, "录入核查结果"))
    probes: list[dict[str, Any]] = []
    if lookups is not None:
        # before anything is compared, so that a refusal here says nothing of the numbers; read with the case
        # (`window`), written with the transaction's next round trip on PostgreSQL (its COMMIT's), when any is new
        # (a number counted in the window already, as on a form sent again, costs nothing)
        keys = {b for b in bidx.values() if b not in found.members}
        if window is None:  # (a caller without an id known before the read: its own read)
            probes = member_probes.ALLOWANCE.count(session, principal.id, keys, now, lookups)
        else:
            probes = member_probes.ALLOWANCE.take(session, principal.id, keys, found.window or (), now, lookups)
    officers, problems = team_of(case.referred_on, assigned, found.usernames, data.visited_on, data.officers,
                                 principal, today, "check")
    problems += input_problems
    if case.objected or case.sent_back or case.review_received is not None:
        # checked again (an upheld objection, a check sent back, a review request): not the officers of the checks in
        # doubt, nor their second accounts, whatever visit they hold
        problems += objection_recheck.refusals(officers, *recheck_barred(session, case.id, officers))
    # rotation, as it holds now (`domain.rotation`): not an officer of the household's latest check on another case
    # recorded since the visit was scheduled (or before, unless scheduled by hand knowing it), read with the case
    last = (None if case.last_checked_at is None
            else rotation.LastCheck(frozenset(case.last_officers), _moment(case.last_checked_at)))
    rotated = rotation.barred_on_visit(
        last, scheduled_at=None if case.assigned_at is None else _moment(case.assigned_at), by_hand=case.by_hand,
        reason=case.visit_reason)
    # nor an account linked to one of theirs by a password (the same person's second account): the links read only
    # when the rule bars someone and passes the check's two themselves (a check with no rotation at stake reads none)
    rotated_linked = (frozenset() if not rotated or rotated & set(officers)
                      else rotation_links(session, {"": rotated}, {"": officers}).get("", frozenset()))
    problems += rotation.refusals(officers, rotated, rotated_linked)
    late_reason = late_entry.clean_reason(data.late_entry_reason)
    contract = contract_store.known_contract(session, case.contract_id, case.content_hash)
    due = planning.due_date(case.review_received or case.referred_on, contract.spec.deadlines.check_within_days)
    # a visit day set back before the visit was scheduled, or on an overdue case, is explained like a late entry
    # (never after today: a history entered on its own days, as the demo's, schedules and records on the same day)
    # (its scheduling day matters only to a visit day before today, the reason given not saying enough: not looked at
    # otherwise, `late_entry.why_needed`)
    scheduled_on = (None if case.assigned_at is None or data.visited_on >= today or late_entry.explained(late_reason)
                    else min(late_entry.recorded_on(_moment(case.assigned_at)), today))
    problems += late_entry.problems(data.visited_on, today, late_reason, scheduled_on=scheduled_on, due_on=due)
    problems += [FieldError(f"evidence[{i}]", "照片未上传成功，请重新选择")
                 for i, h in enumerate(data.evidence) if h not in found.known_evidence]
    if payee is not None and not any(p.field == "payee.account_name" for p in payee_problems):
        # and one the household had before this check, under the name it had (matched by ID number): not a member
        # added or renamed at the door, where one officer types the account; nor one an earlier check added or
        # renamed, until a confirmed check of another case vouches for the name (`on_record`)
        rows = [found.members.get(bidx[idn]) for _, idn in normalised]
        vouched = on_record.on_record_ids(session, case.id, [r for r in rows if r is not None])
        payee_problems += on_record_problems(
            payee, [(str(m.get("name") or "").strip(), getattr(row, "name", None), row is None or row.id in vouched)
                    for (m, _), row in zip(normalised, rows)],
            had_members=bool(case.had_members), head_on_record=case.head_name or "")
    problems += payee_problems
    # Members already known in another household: a person belongs to one household. Another county's household
    # is not named (a neutral refusal); the reviewers of both counties see the conflict.
    sightings: list[conflicts.Sighting] = []
    for b, hh, hh_county in found.people:
        if hh != case.household_id:
            idn = next(idn for idn, bb in bidx.items() if bb == b)
            field = f"members[{seen[idn]}].id_number"
            if hh_county == case.county_code:
                problems.append(FieldError(field, ANOTHER_HOUSEHOLD))
            else:
                problems.append(conflicts.refusal(field))
                sightings.append(conflicts.Sighting("home_check", case.county_code, hh_county, b, idn, case.id))
    # 回避: neither officer of the check is a member of the household (as stored, or as this check records it) nor
    # a declared relative of one; the refusal does not say which member.
    # Only the visit's officers can be the check's (the caller among them): when none of them has a declaration
    # (`officers_tied`, read with the case in this transaction), nobody is recused and nothing more is read.
    recused = frozenset() if not case.officers_tied else recusal.conflicted(
        session, {o for o in officers if o in assigned} | {principal.id}, case.household_id,
        extra_indexes=bidx.values())
    if principal.id in recused:
        problems.append(FieldError("recusal", recusal_rules.YOU_ARE_RECUSED))
    elif recused:
        problems.append(FieldError("officers", recusal_rules.TEAM_RECUSED))
    counted_bills, bill_problems = bills.problems_of(session, case, data.bills, data.rigid)
    problems += bill_problems
    if problems:
        exc = conflicts.refuse(ValidationFailed(problems), sightings, vault=vault, principal=principal,
                               role="field_officer", clock=clock)
        if recused:  # 回避 on record (recusal/refusals.py)
            recusal_refusals.refused(exc, principal, "check", [case.household_id], case_id=case.id,
                                     officers=sorted(recused - {principal.id}), clock=clock)
        if lookups is not None:  # counted though refused (the write above rolls back with the check)
            member_probes.ALLOWANCE.keep(exc, probes, now, lookups)
        raise exc

    seq = (case.last_seq or 0) + 1
    late = days_late(data.visited_on, due)
    entered_after = late_entry.days_after(data.visited_on, today)
    new_members: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    head_name = None
    stored_members = []
    check_id = new_id("chk")
    for m, idn in normalised:
        b = bidx[idn]
        name, relation, labour = m["name"].strip(), m["relation"], m["labour"]
        row = found.members.get(b)
        if row is None:
            member_id = new_id("mem")
            # a member this check adds is its own word (`on_record`), but for the head the household's record names
            # when it had no member on record: the door takes that person as payee
            referred = not case.had_members and same_person_name(name, case.head_name or "")
            new_members.append({"id": member_id, "household_id": case.household_id, "name": name,
                                "id_number_enc": vault.seal(idn, "member.id_number"), "id_number_bidx": b,
                                "id_tail_bidx": case_numbers.tail_index(vault, idn), "relation": relation,
                                "labour": labour, "added_by_check_id": None if referred else check_id})
        else:
            member_id = row.id
            if (row.name, row.relation, row.labour) != (name, relation, labour):
                # a name this check changes is its own word (spaces aside: the same name)
                changed.append({"member_id": member_id, "new_name": name, "new_relation": relation,
                                "new_labour": labour, "new_added_by_check_id": row.added_by_check_id
                                if same_person_name(row.name, name) else check_id})
        if relation == "head":
            head_name = name
        stored_members.append({"member_id": member_id, "name": name, "relation": relation, "labour": labour,
                               "id_number_enc": vault.seal(idn, "check.member_id_number").hex()})
    after = str(next_status(case.status, "record_check"))
    check = recording.write(session, household_id=case.household_id, new=new_members, changed=changed,
                            head_name=head_name if head_name is not None and head_name != case.head_name else None,
                            before=case.status, after=after, check=dict(
        id=check_id, case_id=case.id, seq=seq, visited_on=data.visited_on, officer_ids=officers,
        due_on=due, days_late=late,
        members=stored_members, member_count=len(stored_members),
        wages=data.income.wages, business_net=data.income.business_net, property_net=data.income.property_net,
        transfer_net=data.income.transfer_net, productive_costs=data.income.productive_costs,
        medical_self_paid=data.rigid.medical_self_paid, schooling=data.rigid.schooling,
        disaster_loss=data.rigid.disaster_loss, other_rigid=data.rigid.other_rigid, stable_income=data.stable_income,
        payee_name=payee.account_name if payee else None, payee_bank=payee.bank if payee else None,
        payee_account_enc=vault.seal(payee.account_number, "check.payee_account") if payee else None,
        payee_account_index=one_account.account_index(vault, payee.account_number) if payee else None,
        cross_checks=[{"source": c["source"], "finding": c["finding"], "note": c.get("note", "")} for c in data.cross_checks],
        evidence=list(data.evidence), note=data.note or None, recorded_by=principal.id, recorded_at=clock.now(),
        sent_back_by=None, sent_back_at=None, sent_back_reason=None,
        recorded_days_after=entered_after, late_entry_reason=late_reason or None,
    ), now=clock.now())
    entry = dict(
        actor=principal.id, role="field_officer", action="case.record_check", subject=case.id,
        contract_hash=case.contract_hash, county_code=as_county(case.county_code), clock=clock, payload={
        "from": case.status, "to": after,
        "check_id": check.id, "seq": seq, "visited_on": data.visited_on.isoformat(), "members": len(stored_members),
        "due_on": due.isoformat(), "days_late": late, "recorded_days_after": entered_after,
        **({"late_entry_reason_sha256": audit.text_digest(late_reason)} if late_reason else {}),
        "net_income": format_yuan(data.income.wages + data.income.business_net + data.income.property_net
                                  + data.income.transfer_net - data.income.productive_costs),
        "rigid_expenditure": format_yuan(data.rigid.total), "stable_income": data.stable_income,
        "inconsistent_cross_checks": sum(c["finding"] == "inconsistent" for c in data.cross_checks),
        "evidence": list(data.evidence),
        **({"bills": bills.record(session, case, check, counted_bills)} if counted_bills else {}),
    })
    found = None
    if case.register_in_force or any(c["finding"] == "inconsistent" for c in data.cross_checks):
        # Otherwise there is nothing to find (`registers.match_check` would say so after reading the same). Read
        # before the check's entry is queued: a read after it would send it, and lock the log's head, early.
        stored = session.get(Check, check.id)
        assert stored is not None
        _, found = registers.find_for_check(session, load_case(session, case.id, None), stored,
                                            rules=contract.register_rules, clock=clock, actor=principal.id,
                                            role="field_officer")
        if found is not None:  # `append` derives it; derived now, as the same read would send the entry
            found["county_code"] = county_of(session, found["subject"], found["payload"])
    # Numbered by the server with the COMMIT on PostgreSQL (audit/pgappend.py): the log's head is held only from
    # that statement to the COMMIT. The check's entry first, then the findings', as `match_check` after it appended
    # them; nothing after them needs their indices.
    audit.append_at_commit(session, **entry)
    if found is not None:
        audit.append_at_commit(session, **found)
    return check


LINKED_SENDER_BACK = ("按“四眼原则”，您的账号与这次核查的核查员的账号有密码关联" + PASSWORD_LINK
                      + "，是否退回须由其他审核人员决定")


SAMPLED_NOT_SENT_BACK = ("本案已被县级抽样复核抽中（{period}），县里录入复核结果之前不能退回重新核查："
                         "复核要与抽中时的核查比对")


def sample_waiting(session: Session, case_id: str) -> str | None:
    """The period of a drawn sampling round holding the case whose result the county has not recorded yet, or None.

    Until then its check is not sent back: the county's re-check compares its visit with the case's latest check,
    and the insurer's supervisors read the sample once it is drawn, so a sampled check they feared would be redone
    before the county came (its deviation never counted, the checks left out of the sample unchanged)."""
    row = session.execute(
        select(SamplingRound.checked_from, SamplingRound.checked_to)
        .join(SamplingItem, SamplingItem.round_id == SamplingRound.id)
        .outerjoin(SamplingResult, (SamplingResult.round_id == SamplingItem.round_id)
                   & (SamplingResult.case_id == SamplingItem.case_id))
        .where(SamplingItem.case_id == case_id, SamplingRound.status == "drawn", SamplingResult.case_id.is_(None))
        .order_by(SamplingRound.checked_from).limit(1)).first()
    return None if row is None else f"抽样期间 {row[0]} 至 {row[1]}"


def send_back(session: Session, case_id: str, *, reason: str, principal: Principal, clock: Clock) -> Check:
    """The supervisor sends the latest check back for another visit, with a reason, before it is determined: the
    check stays (marked as sent back) and the case is to be scheduled again. Its two officers may not make the next
    visit (`cases.service.barred_officers`), and the supervisor who sent it back may not confirm the determination
    of the case's next check (`determine`): one person can neither redo a check they doubt with the same hands,
    nor send checks back until one suits them and determine it alone; nor may a supervisor tied to the household
    (回避) send back at all."""
    case = load_case(session, case_id, principal, for_update=True)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "必填：请说明退回原因和重新核查的内容")
    if case.status != "checked":
        raise InvalidState(f"只有已核查、尚未认定的案件才能退回重新核查（当前状态：{status_zh(case.status)}）")
    waiting = sample_waiting(session, case.id)
    if waiting is not None:
        raise InvalidState(SAMPLED_NOT_SENT_BACK.format(period=waiting))
    check = latest_check(session, case.id)
    assert check is not None
    if principal.id in check.officer_ids:
        raise Forbidden("您参加了这次核查：是否退回须由其他审核人员决定")
    # nor through an account linked to an officer's by a password
    recusal_refusals.refuse_linked(session, principal, "check_send_back", [recusal_refusals.LinkedPart(
        o, LINKED_SENDER_BACK, case_id=case.id, households=[case.household_id], extra={"why": "password_linked"})
        for o in sorted(check.officer_ids or [])], clock=clock)
    # 回避: sending back discards what the check found; a relative could send back each check until one suited him
    recusal.refuse_principal(session, principal, [case.household_id], step="check_send_back", field="reason",
                             case_id=case.id, clock=clock)
    now = clock.now()
    check.sent_back_by, check.sent_back_at, check.sent_back_reason = principal.id, now, reason
    visit = active_visit(session, case.id)
    if visit is not None:
        visit.active = False
    session.flush()
    advance(session, case, "send_back", actor=principal, role="insurer_supervisor", clock=clock, payload={
        "check_id": check.id, "seq": check.seq, "reason_sha256": audit.text_digest(reason),
        "officers": list(check.officer_ids)})
    return check


LINKED_DETERMINER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                     + "，认定结果须由其他审核人员确认")


def refuse_linked_determiner(session: Session, case: Case, check: Check, principal: Principal,
                             clock: Clock | None) -> None:
    """The check's four eyes held by one person through two accounts: a supervisor whose account is linked by a
    password (`roster.service.password_links`) to the account that recorded the check, to one of its officers, or to
    one that sent a check of the case back, does not confirm its determination (403, kept on 回避拦截记录 under
    `determination`): else whoever holds an officer's password types the figures that set the relief as that
    officer and confirms them himself."""
    recusal_refusals.refuse_linked(session, principal, "determination", determiner_parts(session, case, check),
                                   clock=clock)


def own_part_in_determination(session: Session, case: Case, check: Check, principal: Principal) -> str | None:
    """Why `principal` may not confirm the determination resting on `check` as its first person (who sent a check of
    the case back, the check's recorder or an officer of it, who answered a register finding of the check), or None:
    what `determine` refuses with, and the determination page shows instead of the button."""
    if principal.id in sent_back_by(session, case.id):
        return "按“四眼原则”，您退回过本案的核查，认定结果须由其他审核人员确认"
    if principal.id == check.recorded_by or principal.id in (check.officer_ids or []):
        return "按“四眼原则”，本认定所依据的核查由您进行，须由其他审核人员确认"
    if principal.id in finding_answerers(session, check.id):
        return ANSWERED_FINDING
    return None


ANSWERED_FINDING = ("按“四眼原则”，您处理过本案的比对发现，认定结果须由其他审核人员确认：须是未处理过本认定所依据核查的"
                    "比对发现、未退回过本案核查、也未参加该核查的保险公司审核人员")


def finding_answerers(session: Session, check_id: str) -> set[str]:
    """Who answered a register finding of the check (explained it away or upheld it): the determination resting on
    that answer is another supervisor's to confirm, else one person explains a hit away and pays on it. A finding of
    an earlier check of the case (sent back) is not what the determination rests on: its answerer may confirm it,
    else two supervisors, one answering a finding and the other sending the check back, leave nobody to confirm."""
    return set(session.scalars(select(RegisterFinding.answered_by).where(
        RegisterFinding.check_id == check_id, RegisterFinding.answered_by.is_not(None)).distinct()))


def determiner_refused(session: Session, case: Case, check: Check, principal: Principal) -> str | None:
    """Why `principal` may not confirm the determination resting on `check` (its first person, or an account linked
    to one by a password: the refusals `determine` gives, in its words), or None: the page shows it instead of the
    button."""
    return (own_part_in_determination(session, case, check, principal)
            or linked_determiner(session, case, check, principal))


def linked_determiner(session: Session, case: Case, check: Check, principal: Principal) -> str | None:
    """Why `principal` may not confirm the determination resting on `check` through an account linked by a password
    (the refusal `refuse_linked_determiner` gives), or None: the determination page shows it instead of the button."""
    return recusal_refusals.linked_said(session, principal, determiner_parts(session, case, check))


def determiner_parts(session: Session, case: Case, check: Check) -> list[recusal_refusals.LinkedPart]:
    """The accounts a determination's confirmer is the second person of: who answered a register finding of the
    check, who sent a check of the case back, the check's officers, its recorder."""
    parts = {**{a: "处理过本认定所依据核查的比对发现的人员" for a in finding_answerers(session, check.id)},
             **{b: "退回过本案核查的人员" for b in sent_back_by(session, case.id)},
             **{o: "本认定所依据核查的核查员" for o in check.officer_ids or []},
             check.recorded_by: "本认定所依据核查的录入人"}
    return [recusal_refusals.LinkedPart(who, LINKED_DETERMINER.format(part=part), case_id=case.id,
                                        households=[case.household_id], extra={"why": "password_linked"})
            for who, part in sorted(parts.items())]


def sent_back_by(session: Session, case_id: str) -> set[str]:
    """Who sent a check of the case back for another visit."""
    return {by for by in session.scalars(select(Check.sent_back_by).where(Check.case_id == case_id,
                                                                           Check.sent_back_by.is_not(None)))}


def latest_check(session: Session, case_id: str) -> Check | None:
    return session.scalar(select(Check).where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1))


def determined_already(session: Session, case_id: str, principal: Principal) -> bool:
    """Whether the case's latest check has its determination confirmed (the preview's Back button, or a second tab
    sending the confirmation again): the page sends the supervisor to the case instead of a refusal."""
    case = load_case(session, case_id, principal)
    check = latest_check(session, case.id)
    return check is not None and session.scalar(
        select(Determination.id).where(Determination.check_id == check.id)) is not None


@dataclass(frozen=True)
class Assessment:
    case: Case
    check: Check
    contract: Contract
    eligibility: Eligibility
    basis: int
    quote: ReliefQuote | None
    findings: list[RegisterFinding]
    # Rigid expenditure claimed beyond its bills (the figures above count only the billed part), and whether the
    # amounts as claimed would give another result (then confirming is refused: `backing.refusal`).
    shortfalls: tuple[backing.Shortfall, ...] = ()
    rests_on_unbilled: bool = False


def _prior_paid(session: Session, case: Case) -> tuple[int, int]:
    """(cumulative basis of the household's earlier paid cases for the same cause and year, what is already paid
    against it): the larger of what was granted on that basis (their determinations' relief and the supplements a
    re-check found) and the money the household's other cases have taken of the year (payments/year_paid.py). A
    recovery (追回) lowers the money but not the basis: it is not paid back through this case's pricing."""
    priced = year_paid.priced_on(session, case)
    return priced.basis, priced.already


def cause_of(session: Session, case: Case) -> CauseDef:
    """The case's cause as its contract declares it: its name, and the rigid-expenditure basis it is priced on."""
    table = contract_store.get_contract(session, case.contract_id).cause_table
    return table.cause(case.cause) or DEFAULT_TABLE.cause(case.cause) or CauseDef(case.cause, case.cause, "other_rigid")


def rigid_of(check: Check) -> RigidExpenditure:
    """A stored check's rigid expenditure (`other_rigid` is 0 on checks stored before it existed)."""
    return RigidExpenditure(check.medical_self_paid, check.schooling, check.disaster_loss, check.other_rigid or 0)


def assess_case(session: Session, case: Case) -> Assessment:
    """The determination the case's latest check gives, counting rigid expenditure only as far as its bills back it
    (`domain.backing`); `rests_on_unbilled` when the amounts as claimed would give another result."""
    check = latest_check(session, case.id)
    if check is None:
        raise InvalidState("案件还没有入户核查记录")
    contract = contract_store.get_contract(session, case.contract_id)
    claimed = rigid_of(check)
    findings = registers.findings_of(session, check.id)
    billed = bills.billed_totals(session, check.id)
    short = tuple(backing.shortfalls(claimed, billed))
    eligibility, basis, quote = _result(session, case, check, contract, findings,
                                        backing.backed(claimed, billed) if short else claimed)
    rests = False
    if short:
        as_claimed = _result(session, case, check, contract, findings, claimed)
        rests = _outcome(as_claimed[0], as_claimed[2]) != _outcome(eligibility, quote)
    return Assessment(case, check, contract, eligibility, basis, quote, findings, short, rests)


def _outcome(eligibility: Eligibility, quote: ReliefQuote | None) -> tuple[bool, int]:
    return eligibility.eligible, quote.amount if quote else 0


def _result(session: Session, case: Case, check: Check, contract: Contract, findings: list[RegisterFinding],
            rigid: RigidExpenditure) -> tuple[Eligibility, int, ReliefQuote | None]:
    """Eligibility, the cumulative basis and the relief quote of a check's figures with `rigid` counted."""
    income = HouseholdIncome(check.wages, check.business_net, check.property_net, check.transfer_net, check.productive_costs)
    eligibility = assess(income, check.member_count, rigid, check.stable_income, contract.income_line, contract.burden_ratio)
    upheld = [f for f in findings if f.status == "upheld"]
    if upheld:
        eligibility = Eligibility(False, "none", eligibility.per_capita_income,
                                  "；".join(finding_reason(f.kind, f.source, f.member_name, f.fact) for f in upheld))
    rule = contract.relief_rule(case.cause, case.household_group)
    prior_basis, already_paid = _prior_paid(session, case)
    basis = prior_basis + rigid.amount_for(rule.basis)
    quote = relief_for(basis, rule, check.member_count, already_paid) if eligibility.eligible else None
    return eligibility, basis, quote


def determine(session: Session, case_id: str, *, confirm: bool, principal: Principal, clock: Clock) -> Assessment:
    # confirmed, what the household's year has taken is read once nothing else adds to it (year_paid.lock): the
    # household locked before the case, as a merge or split locks them
    case = load_case_for_year(session, case_id, principal) if confirm else load_case(session, case_id, principal)
    if case.status != "checked":
        raise InvalidState(refused_in_status(case.status, "认定"))
    contract_store.require_accepted(session, case.contract_id, "按它认定和计算保障金")
    a = assess_case(session, case)
    if not confirm:
        return a
    own = own_part_in_determination(session, case, a.check, principal)
    if own is not None:
        raise Forbidden(own)
    refuse_linked_determiner(session, case, a.check, principal, clock)
    recusal.refuse_principal(session, principal, [case.household_id], step="determination", case_id=case.id,
                             clock=clock)
    # Registers imported since the check are consulted now; a finding still open holds the determination.
    match = registers.match_check(session, case, a.check, rules=a.contract.register_rules, clock=clock,
                                  actor=principal.id, role="insurer_supervisor")
    bills.require_not_counted(session, case, a.check)
    if a.rests_on_unbilled:
        raise InvalidState(backing.refusal(a.shortfalls))
    still_open = [f for f in registers.findings_of(session, a.check.id) if f.status == "open"]
    if still_open:
        raise InvalidState(f"本次核查还有 {len(still_open)} 条部门信息比对发现待处理：须逐条说明或认定属实后，"
                           "才能确认认定结果")
    quote = a.quote
    breakdown = [] if quote is None else [
        {"from": line.from_, "to": line.to, "rate": str(line.rate), "base": line.base, "amount": line.amount}
        for line in quote.breakdown]
    session.add(Determination(
        id=new_id("det"), case_id=case.id, check_id=a.check.id, eligible=a.eligibility.eligible, rule=a.eligibility.rule,
        reason=a.eligibility.reason, per_capita_income=a.eligibility.per_capita_income, basis=a.basis,
        already_paid=quote.already_paid if quote else 0, relief=quote.amount if quote else 0, breakdown=breakdown,
        capped=bool(quote and quote.capped), contract_hash=a.contract.content_hash, confirmed_by=principal.id,
        confirmed_at=clock.now(), registers_consulted=match.consulted, register_comparisons=match.comparisons,
    ))
    session.flush()
    if not a.eligibility.eligible:
        action = "determine_ineligible"
    elif quote is None or quote.amount == 0:
        action = "determine_no_relief"
    else:
        action = "determine_eligible"
    advance(session, case, action, actor=principal, role="insurer_supervisor", clock=clock, payload={
        "check_id": a.check.id, "eligible": a.eligibility.eligible, "rule": a.eligibility.rule,
        "per_capita_income": format_yuan(a.eligibility.per_capita_income), "basis": format_yuan(a.basis),
        "relief": format_yuan(quote.amount if quote else 0), "capped": bool(quote and quote.capped),
        "registers": [r["import_id"] for r in match.consulted], "register_comparisons": match.comparisons,
        "findings": {status: sum(f.status == status for f in a.findings) for status in ("explained", "upheld")},
        # what the supervisor was shown of the photos' capture times (a warning, not a refusal)
        "photo_findings": [f.as_dict() for f in photo_findings(session, a.check)],
    })
    if action == "determine_ineligible":
        case.closed_reason = a.eligibility.reason
    elif action == "determine_no_relief":
        case.closed_reason = (f"{a.eligibility.reason}; but no relief is due on a verified basis of "
                              f"{format_yuan(a.basis)} (already paid {format_yuan(quote.already_paid if quote else 0)})")
    return a
