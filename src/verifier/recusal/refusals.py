"""回避 refusals kept on the record, and the reviewers' list of them.

A refusal (与本户成员存在回避关系) answers the person who tried, and by itself says which households their declared
relatives belong to: trying one step on many cases and watching which are refused is a probe. So every refusal is
recorded where the auditors and county reviewers see it: an audit entry `recusal.refused` (who, the case or
household, the step tried), appended in a transaction of its own once the refused one has rolled back
(`store.db.keep_after_rollback`): nothing of the refused action is written, the trace is. The person refused is
told nothing more than before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.canonical import CanonicalError, decode_entry
from ..audit.models import REFUSED as REFUSED_ENTRY, AuditEntry
from ..clock import Clock
from ..domain.errors import Forbidden
from ..roster.service import password_links
from ..store.db import keep_after_rollback
from ..store.paged import Paged, fold_search, page_of_list
from ..store.tables import Case, Household, User

ACTION = "recusal.refused"  # also in the partial index of its entries (`audit.models.REFUSED`)
READERS = ("county_reviewer", "auditor")

STEPS = (
    "application",
    "schedule",
    "check",
    "evidence",
    "determination",
    "redetermination",
    "redetermination_confirm",
    "redetermination_decline",
    "redetermination_withdraw",
    "screening",
    "village_review",
    "meeting",
    "notice_gather",
    "notice_posting",
    "notice_photo",
    "notice_close",
    "objection_record",
    "objection_dismiss",
    "recheck",
    "recheck_correct",
    "recheck_visit",
    "followup",
    "followup_alone_confirm",
    "followup_alone_refuse",
    "receipt_review",
    "receipt_confirm",
    "receipt_return",
    "receipt_withdraw_propose",
    "receipt_withdraw_confirm",
    "receipt_withdraw_drop",
    "receipt_withdraw_decline",
    "supplement_confirm",
    "payee_request",
    "payee_decide",
    "batch_prepare",
    "batch_approve",
    "batch_signoff",
    "batch_release",
    "bank_file",
    "bank_return",
    "recovery_waiver",
    "recovery_repayment",
    "account_clear",
    "household_merge",
    "member_move",
    "household_change_confirm",
    "household_change_decline",
    "referral_import",
    "register_finding",
    "register_confirm",
    "register_decline",
    "check_send_back",
    "review_request",
    "followup_paid",
    "sampling_commit",
    "need_answer",
)
"""The steps a 回避 refusal may stop (their Chinese names: `web/labels.RECUSAL_STEPS`); `followup_paid` is the
follow-up refused to who took part in paying a changed or outside account, kept under its own action
(`FOLLOWUP_ACTION`, `followups/receipt.refuse_involved`) and listed here with the rest."""
FOLLOWUP_ACTION = "followup.refused"
FOLLOWUP_STEP = "followup_paid"


def refused(exc: BaseException, principal: Principal, step: str, households: Iterable[str], *,
            case_id: str | None = None, officers: Sequence[str] = (), county_code: str | None = None,
            clock: Clock | None = None, subject: str | None = None,
            extra: Mapping[str, object] | None = None) -> BaseException:
    """`exc` (the refusal), carrying its trace to append once its transaction has rolled back (`subject` and
    `extra` as `record` takes them: a payment batch refused as a whole, say)."""
    assert step in STEPS, step
    tied = sorted(set(households))
    named = list(officers)
    role = principal.main_role
    keep_after_rollback(exc, lambda session: record(session, actor=principal.id, role=role, step=step,
                                                    households=tied, case_id=case_id, officers=named,
                                                    county_code=county_code, clock=clock, subject=subject,
                                                    extra=extra))
    return exc


@dataclass(frozen=True)
class LinkedPart:
    """An account whose act the caller's step is the second person of, and the refusal (`said`, in Chinese, or made
    when needed) if the caller's account is linked to it by a password. `households`: those the refusal names (None:
    the household of `case_id`, none without a case); `county_code`, `subject`, `extra` as `record` takes them."""

    user_id: str
    said: str | Callable[[], str]
    case_id: str | None = None
    households: Sequence[str] | None = None
    county_code: str | None = None
    subject: str | None = None
    extra: Mapping[str, object] | None = None


def linked_part(session: Session, principal: Principal, parts: Sequence[LinkedPart]) -> LinkedPart | None:
    """The first of `parts` whose account is linked to the caller's by a password (`roster.service.password_links`,
    read in one statement), or None: the rule `refuse_linked` refuses by, and a page asks before it shows a step's
    button (`linked_said`)."""
    linked = password_links(session, principal.id, {p.user_id for p in parts} - {""})
    return next((part for part in parts if part.user_id in linked), None)


def linked_said(session: Session, principal: Principal, parts: Sequence[LinkedPart]) -> str | None:
    """Why the caller may not do the step `parts` belong to (in Chinese, what `refuse_linked` would answer), or None:
    a page shows it instead of the button. Nothing is recorded: showing the reason is no attempt."""
    part = linked_part(session, principal, parts)
    if part is None:
        return None
    return part.said if isinstance(part.said, str) else part.said()


def refuse_linked(session: Session, principal: Principal, step: str, parts: Sequence[LinkedPart], *,
                  clock: Clock | None = None) -> None:
    """The four eyes held by one person through two accounts: 403 (`Forbidden`, the part's `said`) for the first of
    `parts` whose account is linked to the caller's by a password (`roster.service.password_links`: either set a
    password of the other, or one person set both and either has not changed it; read in one statement), kept on
    回避拦截记录 under `step` once the refused transaction has rolled back. Nothing when none is linked."""
    part = linked_part(session, principal, parts)
    if part is not None:
        raise linked_refusal(session, principal, step, part, clock=clock)


def linked_refusal(session: Session, principal: Principal, step: str, part: LinkedPart, *,
                   clock: Clock | None = None) -> BaseException:
    """The 403 (`Forbidden`, the part's `said`) for `part`, an account already found linked to the caller's by a
    password (`linked_part`, or a rule that read the links for many rows at once), carrying its trace for 回避拦截记录
    under `step` (the households the part names, else its case's)."""
    households = part.households
    if households is None:
        household = None if part.case_id is None else session.scalar(
            select(Case.household_id).where(Case.id == part.case_id))
        households = [household] if household else []
    said = part.said if isinstance(part.said, str) else part.said()
    return refused(Forbidden(said), principal, step, households, case_id=part.case_id,
                   county_code=part.county_code, clock=clock, subject=part.subject, extra=part.extra)


def left_out(session: Session, principal: Principal, recused: Mapping[str, str], step: str, *,
             refusal: BaseException | None = None, clock: Clock | None = None,
             rows: Mapping[int, str | None] | None = None, import_id: str | None = None,
             county_code: str | None = None) -> None:
    """Each case (case → household) left out of what the caller gathers (a batch, a notice) for 回避, on record: in
    this transaction, or, with `refusal` (nothing else was left to gather), once that refusal's transaction has rolled
    back. A bureau's file (`import_id`) leaves out rows, not cases: `rows`, row number → the household of the person
    it names (None: none yet), one entry each, the import as subject, the row in the payload."""
    for case_id, household in sorted(recused.items()):
        if refusal is not None:
            refused(refusal, principal, step, [household], case_id=case_id, clock=clock)
        else:
            record(session, actor=principal.id, role=principal.main_role, step=step, households=[household],
                   case_id=case_id, clock=clock)
    for row, of in sorted((rows or {}).items()):
        record(session, actor=principal.id, role=principal.main_role, step=step, households=[of] if of else [],
               county_code=county_code, clock=clock, subject=import_id, extra={"import_id": import_id, "row": row})


def record(session: Session, *, actor: str, role: str, step: str, households: Sequence[str],
           case_id: str | None = None, officers: Sequence[str] = (), county_code: str | None = None,
           clock: Clock | None = None, subject: str | None = None, extra: Mapping[str, object] | None = None) -> int:
    """The audit entry of one refusal: the subject is the case (or the first household) refused; the county is the
    household's, for the county's reviewers (`county_code` when there is neither: an application of a household not
    yet known)."""
    county = None
    if case_id is not None:
        county = session.scalar(select(Case.county_code).where(Case.id == case_id))
    if county is None and households:
        county = session.scalar(select(Household.county_code).where(Household.id == households[0]))
    if county is None:
        county = county_code
    payload: dict[str, object] = {"step": step, "households": list(households)}
    if case_id is not None:
        payload["case_id"] = case_id
    if officers:  # someone else sent to a household they are tied to (a supervisor's schedule)
        payload["officers"] = list(officers)
    payload.update(extra or {})
    return audit.append(session, actor=actor, role=role, action=ACTION,
                        subject=subject or case_id or (households[0] if households else actor), payload=payload,
                        county_code=county, clock=clock)


PROBE_WINDOW = timedelta(days=7)
PROBE_REFUSALS = 3
PROBE_HOUSEHOLDS = 2
LEFT_OUT_STEPS = ("notice_gather", "batch_prepare", "referral_import")
"""A person is shown to the county's reviewers and auditors as probing (回避拦截预警) when, within the last
`PROBE_WINDOW`, they were refused `PROBE_REFUSALS` times or more, or on `PROBE_HOUSEHOLDS` households or more.
Cases left out of a notice or a batch, and rows of a bureau's file (`LEFT_OUT_STEPS`), are not counted: the system
leaves them out of what was asked for a village, a county or sent by a bureau, the person did not try them (they stay
on the refusals page)."""


@dataclass(frozen=True)
class PersonRefusals:
    """One person's refusals: how many, on how many cases or households, by step, and the last; `recent` and
    `recent_households`: within the last `PROBE_WINDOW` (when the reader's clock was given), but the cases left out
    (`LEFT_OUT_STEPS`)."""

    user_id: str
    username: str
    display_name: str
    count: int
    subjects: int
    steps: list[tuple[str, int]]  # (step code, count), most first
    last_at: datetime
    recent: int = 0
    recent_households: int = 0

    @property
    def probing(self) -> bool:
        return self.recent >= PROBE_REFUSALS or self.recent_households >= PROBE_HOUSEHOLDS


@dataclass(frozen=True)
class Refusal:
    """One refusal of a person, for the page filtered to them."""

    at: datetime
    step: str
    case_id: str | None
    households: int


@dataclass(frozen=True)
class RefusalPage:
    """The page of the list asked for; `person` and `refusals`: the one person it was filtered to (or None)."""

    people: Paged[PersonRefusals]
    person: PersonRefusals | None = None
    refusals: list[Refusal] = field(default_factory=list)


def _rows(session: Session, principal: Principal, *, actor: str | None = None,
          since: datetime | None = None) -> list[Any]:
    """The refusals in the reader's counties (of one actor, since a time), 回避's and the follow-ups' refused to who
    took part in paying them (`FOLLOWUP_ACTION`), in the log's order: read through the partial
    index of refusals (`audit.models.REFUSED`), by county and time; named by the same literal (a bound value would not
    match its predicate in a prepared statement's generic plan, nor on SQLite), and put in order here: ordered by the
    log's index, SQLite would rather walk the whole log in that order."""
    stmt = select(AuditEntry.actor, AuditEntry.subject, AuditEntry.entry, AuditEntry.time, AuditEntry.idx,
                  AuditEntry.action).where(REFUSED_ENTRY)
    if principal.counties:
        stmt = stmt.where(AuditEntry.county_code.in_(principal.counties))
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if since is not None:
        stmt = stmt.where(AuditEntry.time >= since)
    return sorted(session.execute(stmt).all(), key=lambda row: row.idx)


def _tally(session: Session, rows: Sequence[Any], *, q: str = "", now: datetime | None = None
           ) -> list[PersonRefusals]:
    if not rows:
        return []
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_({r.actor for r in rows})))}
    text = fold_search(q).casefold()
    since = now - PROBE_WINDOW if now is not None else None
    found: dict[str, _Tally] = {}
    for actor, subject, entry, time, _, action in rows:
        user = people.get(actor)
        name, username = (user.display_name, user.username) if user is not None else (actor, actor)
        if text and text not in fold_search(name).casefold() and text not in username.casefold():
            continue
        payload = _payload_of(entry, action)
        found.setdefault(actor, _Tally(name, username, time)).add(
            subject, payload, time, recent=since is not None and time >= since)
    return sorted((t.out(actor) for actor, t in found.items()), key=lambda p: (-p.count, p.username))


def by_person(session: Session, principal: Principal, *, q: str = "", now: datetime | None = None
              ) -> list[PersonRefusals]:
    """The county reviewers' and auditors' list: per person refused (within the reader's counties), the refusals,
    most first; `q` narrows it to people whose name or username holds it; `now` counts the recent ones."""
    return _tally(session, _rows(session, principal), q=q, now=now)


def refusal_page(session: Session, principal: Principal, *, q: str = "", person: str = "", page: int = 1,
                 page_size: int = 50, now: datetime | None = None) -> RefusalPage:
    """A page of `by_person`; with `person` (a username) only that person, with each of their refusals, newest
    first (nobody of that username within the reader's counties: an empty list)."""
    if not person:
        return RefusalPage(people=page_of_list(by_person(session, principal, q=q, now=now), page, page_size))
    user_id = session.scalar(select(User.id).where(User.username == person))
    rows = _rows(session, principal, actor=user_id) if user_id is not None else []
    people = _tally(session, rows, now=now)
    refusals = [Refusal(at=time, step=str(p.get("step", "")),
                        case_id=str(p["case_id"]) if p.get("case_id") else None,
                        households=len(p.get("households") or ()))
                for _, _, entry, time, _, action in reversed(rows) for p in [_payload_of(entry, action)]]
    return RefusalPage(people=page_of_list(people, 1, page_size), person=people[0] if people else None,
                       refusals=refusals)


def probing(session: Session, principal: Principal, now: datetime) -> list[PersonRefusals]:
    """The people the reader's home page warns of: refused `PROBE_REFUSALS` times or on `PROBE_HOUSEHOLDS`
    households within the last `PROBE_WINDOW`, in the reader's counties; most recent refusals first."""
    rows = _rows(session, principal, since=now - PROBE_WINDOW)
    return sorted((p for p in _tally(session, rows, now=now) if p.probing),
                  key=lambda p: (-p.recent, -p.recent_households, p.username))


class _Tally:
    def __init__(self, name: str, username: str, time: datetime) -> None:
        self.name, self.username, self.last = name, username, time
        self.count = 0
        self.recent = 0
        self.subjects: set[str] = set()
        self.recent_households: set[str] = set()
        self.steps: dict[str, int] = {}

    def add(self, subject: str, payload: dict[str, Any], time: datetime, *, recent: bool) -> None:
        step = str(payload.get("step", ""))
        self.count += 1
        self.subjects.add(subject)
        self.steps[step] = self.steps.get(step, 0) + 1
        self.last = max(self.last, time)
        if recent and step not in LEFT_OUT_STEPS:
            self.recent += 1
            self.recent_households.update(str(h) for h in payload.get("households") or () if h)

    def out(self, actor: str) -> PersonRefusals:
        return PersonRefusals(user_id=actor, username=self.username, display_name=self.name, count=self.count,
                              subjects=len(self.subjects), last_at=self.last,
                              steps=sorted(self.steps.items(), key=lambda s: (-s[1], s[0])),
                              recent=self.recent, recent_households=len(self.recent_households))


def _payload_of(entry: bytes, action: str) -> dict[str, Any]:
    """The refusal's payload; a follow-up's refusal (which names no step) as the step `FOLLOWUP_STEP`."""
    try:
        payload = decode_entry(entry).payload
    except CanonicalError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    return {**payload, "step": FOLLOWUP_STEP} if action == FOLLOWUP_ACTION else payload


def count(session: Session) -> int:
    """How many refusals are on record (tests)."""
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == ACTION)) or 0)
