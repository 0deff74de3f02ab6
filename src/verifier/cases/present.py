"""Turning stored cases into what a caller may see: money as yuan strings, personal data masked by role."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import bindparam, func, literal_column, select, true, union_all
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..accounts.sessions import OPEN_SESSION_USER, session_lookup
from ..audit.models import AuditEntry
from ..domain import late_entry, photo_times
from ..domain.errors import NotFound
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_account, mask_id
from ..domain.money import format_yuan
from ..domain.planning import days_late
from ..notices.service import CASE_NOTICE, CASE_OBJECTIONS, CASE_REVIEW, notice_summary, review_summary
from ..payments.models import PaymentItem
from ..payments.service import CASE_ITEMS, payment_rows
from ..recusal.refusals import ACTION as REFUSED, FOLLOWUP_ACTION
from ..store.db import Database
from ..store.reader import Batch, Prepared, Steps, session_reader
from ..store.tables import Case, Check, Determination, Evidence, Household, Referral, Visit, VisitAttempt
from ..store.vault import Vault
from .personal import sees_full_ids
from .schemas import (
    BandOut,
    CaseDetail,
    CaseOut,
    CheckOut,
    DeterminationOut,
    HistoryOut,
    MemberOut,
    PhotoFindingOut,
    ReferralOut,
    ReliefOut,
    VisitAttemptOut,
    VisitOut,
)


def case_out(case: Any) -> CaseOut:
    """A case as lists show it: a Case, or a row of the case table's columns with its household's `head_name`
    (`listing.find_cases`)."""
    return CaseOut(**_case_fields(case, case.household.head_name if isinstance(case, Case) else case.head_name))


def _case_fields(case: Any, head_name: str) -> dict:
    """A case's own fields (from a Case, or a row of the case table's columns)."""
    return dict(
        id=case.id, number=case.number, status=case.status, status_label=STATUS_LABELS_ZH.get(case.status, case.status),
        county_code=case.county_code, town=case.town, village=case.village, household_group=case.household_group,
        cause=case.cause, head_name=head_name, contract_id=case.contract_id,
        contract_hash=case.contract_hash, contract_year=case.contract_year, referred_on=case.referred_on,
        reported_amount=format_yuan(case.reported_amount), screening_reason=case.screening_reason,
        closed_reason=case.closed_reason, updated_at=case.updated_at, household_id=case.household_id,
        merged_into=case.merged_into_id, screen_out_proposal=_proposal(case),
        review_fail_proposal=_review_fail_proposal(case),
    )


def _proposal(case: Any) -> dict[str, Any] | None:
    by = getattr(case, "screen_out_proposed_by", None)
    if by is None:
        return None
    at = case.screen_out_proposed_at
    return {"proposed_by": by, "proposed_at": at.isoformat() if at else None, "reason": case.screening_reason or ""}


def _review_fail_proposal(case: Any) -> dict[str, Any] | None:
    by = getattr(case, "review_fail_proposed_by", None)
    if by is None:
        return None
    at = case.review_fail_proposed_at
    return {"proposed_by": by, "proposed_at": at.isoformat() if at else None}


def band_out(line: dict) -> BandOut:
    return BandOut(from_=format_yuan(line["from"]), to=None if line["to"] is None else format_yuan(line["to"]),
                   rate=line["rate"], base=format_yuan(line["base"]), amount=format_yuan(line["amount"]))


def determination_out(d: Determination) -> DeterminationOut:
    return DeterminationOut(
        eligible=d.eligible, rule=d.rule, per_capita_income=format_yuan(d.per_capita_income),
        relief=ReliefOut(amount=format_yuan(d.relief), breakdown=[band_out(b) for b in d.breakdown], capped=d.capped,
                         basis=format_yuan(d.basis), already_paid=format_yuan(d.already_paid)),
        reason=d.reason, contract_hash=d.contract_hash, confirmed=True, check_id=d.check_id,
        registers_consulted=d.registers_consulted, register_comparisons=d.register_comparisons,
    )


def recorded_days_after(c: Check) -> int:
    """How many calendar days after its visit day a check was recorded: as stored, or (a check stored before
    migration 0036) from its recording time's day in Asia/Shanghai."""
    if c.recorded_days_after is not None:
        return c.recorded_days_after
    return late_entry.days_after(c.visited_on, late_entry.recorded_on(c.recorded_at))


def photo_findings_out(c: Check, photos: list[photo_times.Photo]) -> list[PhotoFindingOut]:
    return [PhotoFindingOut(kind=f.kind, text=f.in_chinese(c.visited_on, c.recorded_at), sha256=f.sha256,
                            taken_at=f.taken_at, taken_on=f.taken_on, days_apart=f.days_apart, photos=f.photos,
                            number=f.number)
            for f in photo_times.findings(c.visited_on, c.recorded_at, photos)]


def check_out(c: Check, vault: Vault, full_ids: bool, full_account: bool,
              photos: list[photo_times.Photo] | None = None) -> CheckOut:
    def idn(m: dict) -> str:
        number = vault.open(bytes.fromhex(m["id_number_enc"]), "check.member_id_number")
        return number if full_ids else mask_id(number)

    account = vault.open_optional(c.payee_account_enc, "check.payee_account")
    gap = recorded_days_after(c)
    payee = None if c.payee_name is None else {
        "account_name": c.payee_name, "bank": c.payee_bank or "",
        "account_number": (account or "") if full_account else mask_account(account or ""),
    }
    return CheckOut(
        id=c.id, seq=c.seq, visited_on=c.visited_on, due_on=c.due_on, days_late=c.days_late,
        officers=list(c.officer_ids),
        members=[MemberOut(name=m["name"], id_number=idn(m), relation=m["relation"], labour=m.get("labour"))
                 for m in c.members],
        income={k: format_yuan(getattr(c, k)) for k in ("wages", "business_net", "property_net", "transfer_net",
                                                         "productive_costs")},
        rigid_expenditure={k: format_yuan(getattr(c, k) or 0)
                           for k in ("medical_self_paid", "schooling", "disaster_loss", "other_rigid")},
        stable_income=c.stable_income, payee=payee, cross_checks=list(c.cross_checks), evidence=list(c.evidence),
        note=c.note, recorded_by=c.recorded_by, recorded_at=c.recorded_at, sent_back_by=c.sent_back_by,
        sent_back_at=c.sent_back_at, sent_back_reason=c.sent_back_reason,
        recorded_days_after=gap, late_entry=late_entry.needs_reason(gap), late_entry_reason=c.late_entry_reason,
        photo_findings=photo_findings_out(c, photos or []),
    )


def visit_out(v: Visit, ended: str | None = None) -> VisitOut:
    return VisitOut(id=v.id, visit_on=v.visit_on, due_on=v.due_on, officers=list(v.officer_ids), vehicle=v.vehicle,
                    active=v.active, days_late=days_late(v.visit_on, v.due_on), by_hand=v.by_hand, reason=v.reason,
                    ended=None if v.active else ended or "ended")


def visit_endings(history: list[HistoryOut]) -> dict[str, str]:
    """Why each visit of a case that is no longer current ended, by visit id, from the case's log (visits do not
    keep it): a later visit planned while it was current (rescheduled), a visit that came to nothing recorded on it
    (failed), its check sent back (sent_back), an upheld objection that ended it (objection_upheld), a stale visit
    ended when the case was scheduled anew with other officers (officers_stood_aside; or `rotation`,
    `rotation_by_hand`, one the rotation rule stopped), the case merged
    into another (merged). A visit none of these names is left out (the page says only that it ended)."""
    ended: dict[str, str] = {}
    current: str | None = None

    def end(visit_id: str | None, why: str) -> None:
        if visit_id and visit_id not in ended:
            ended[visit_id] = why

    for entry in history:
        action, payload = entry.action, entry.payload
        if action == "case.schedule":
            # a stale visit ended so is named with why (`service.STOOD_ASIDE`): it ended here, whatever an older
            # entry said (an objection upheld before upholding ended the visit read as ending it)
            for visit_id in payload.get("visit_ended") or ():
                ended[visit_id] = payload.get("visit_ended_why") or "rescheduled"
            end(current, "rescheduled")
            current = payload.get("visit_id") or None
        elif action == "case.visit_failed":
            end(payload.get("visit_id") or current, "failed")
            current = None
        elif action == "case.send_back":
            end(current, "sent_back")
            current = None
        elif action == "case.objection_upheld":
            for visit_id in payload.get("visit_ended") or ([current] if current else []):
                end(visit_id, "objection_upheld")
            current = None
        elif action == "case.merge":
            end(current, "merged")
            current = None
    return ended


# The case detail's statements, prepared once (store/reader.py): building and executing a statement through the ORM
# cost several times what the database takes to answer these short indexed reads. They read the tables' rows, which
# have the attribute names of the mapped objects.
_CASE_ID = bindparam("case_id")
_case, _household, _visit, _referral, _check, _det, _entry, _attempt, _item, _evidence = (
    m.__table__ for m in (Case, Household, Visit, Referral, Check, Determination, AuditEntry, VisitAttempt, PaymentItem,
                          Evidence))


def _without(table: Any, *unused: str) -> list[Any]:
    return [c for c in table.c if c.key not in unused]


# Only the columns the detail shows or decides on: each column read costs the server (every node of a statement's
# plan is set up for its columns), the wire and the reader.
_CASE_COLUMNS = (*_without(_case, "created_at", "version"), _household.c.head_name)
_CASE = Prepared(select(*_CASE_COLUMNS).join(_household, _household.c.id == _case.c.household_id)
                 .where(_case.c.id == _CASE_ID))
_VISITS = Prepared(select(_visit.c.id, _visit.c.visit_on, _visit.c.due_on, _visit.c.officer_ids, _visit.c.vehicle,
                          _visit.c.active, _visit.c.by_hand, _visit.c.reason).where(_visit.c.case_id == _CASE_ID).order_by(_visit.c.created_at, _visit.c.id))
_REFERRALS = Prepared(select(_referral.c.id, _referral.c.channel, _referral.c.name, _referral.c.id_number_enc,
                             _referral.c.town, _referral.c.village, _referral.c.cause, _referral.c.amount,
                             _referral.c.referred_on, _referral.c.import_id, _referral.c.row_number)
                      .where(_referral.c.case_id == _CASE_ID).order_by(_referral.c.created_at, _referral.c.id))
_CHECKS = Prepared(select(*_without(_check, "case_id", "member_count")).where(_check.c.case_id == _CASE_ID)
                   .order_by(_check.c.seq))
_DETERMINATION = Prepared(select(*_without(_det, "id", "case_id", "confirmed_by", "confirmed_at"))
                          .where(_det.c.case_id == _CASE_ID).order_by(_det.c.confirmed_at.desc()).limit(1))
_ATTEMPTS = Prepared(select(*_without(_attempt, "case_id", "visit_id")).where(_attempt.c.case_id == _CASE_ID)
                     .order_by(_attempt.c.visited_on, _attempt.c.recorded_at))


# The history: the case's own entries, and those of the imports and payment batches it was part of, found by the
# database from the case's referrals and payment items (so it is read in the same batch as the rest). A 回避 refusal
# (`recusal.refused`) is left out: it would tell every reader of the case who is related to the household; so is a
# follow-up refused to one who took part in paying it (`followup.refused`): it names the colleague who tried (both
# stay in the audit log and the county reviewers' 回避拦截记录).
_SUBJECTS = union_all(
    select(_CASE_ID.label("subject")),
    select(_referral.c.import_id).where(_referral.c.case_id == _CASE_ID, _referral.c.import_id.is_not(None)),
    select(_item.c.batch_id).where(_item.c.case_id == _CASE_ID))
# Written into the statement, not bound: the statement keeps its one parameter (the case) and its plan.
assert all(a.replace(".", "").isalnum() for a in (REFUSED, FOLLOWUP_ACTION))
_REFUSED = [literal_column(f"'{a}'") for a in (REFUSED, FOLLOWUP_ACTION)]
def _history_read(entry: Any) -> Any:
    return (select(_entry.c.idx, _entry.c.time, _entry.c.actor, _entry.c.role, _entry.c.action, entry)
            .where(_entry.c.subject.in_(_SUBJECTS), _entry.c.action.not_in(_REFUSED)).order_by(_entry.c.idx))


# On PostgreSQL each entry's bytes (its canonical JSON, UTF-8) come as text: a bytea column comes in hex, twice its
# size, which the process unescaped (libpq's PQunescapeBytea, about 3% of a case read's instructions).
_HISTORY = Prepared(_history_read(_entry.c.entry),
                    postgresql=_history_read(func.convert_from(_entry.c.entry, literal_column("'UTF8'"))
                                             .label("entry")))
# The case's uploaded files' kinds and capture times, for the checks' photo findings (domain/photo_times.py).
_EVIDENCE = Prepared(select(_evidence.c.sha256, _evidence.c.content_type, _evidence.c.captured_at)
                     .where(_evidence.c.case_id == _CASE_ID))
_DETAIL = (_VISITS, _REFERRALS, _CHECKS, _DETERMINATION, _ATTEMPTS, CASE_ITEMS, CASE_REVIEW, CASE_NOTICE,
           CASE_OBJECTIONS, _EVIDENCE, _HISTORY)
_DETAIL_AND_CASE = (*_DETAIL, _CASE)


def _found(prepared: Prepared) -> Any:
    """Whether a statement of the detail has any row for the case: its FROM and WHERE in an EXISTS."""
    return prepared.statement.with_only_columns(literal_column("1")).order_by(None).limit(None).exists()


# The case's row with, for each statement of the detail but the history, whether it has rows for the case (each an
# EXISTS on the same index the statement reads by): on SQLite only those with rows are then run (`case_rows_steps`).
_PROBED = _DETAIL[:-1]
_CASE_PROBED = Prepared(select(*_CASE_COLUMNS,
                               *(_found(s).label(f"has_{i}") for i, s in enumerate(_PROBED)))
                        .join(_household, _household.c.id == _case.c.household_id).where(_case.c.id == _CASE_ID))
# On PostgreSQL, where a statement of the batch costs less than another round trip, only the statements a case seldom
# has rows for are probed so: its failed visits, the objections to its notices and its uploaded files. The others go
# in the first batch with the case's row; these follow in a second one only when the case has rows for them.
_RARE = (_ATTEMPTS, CASE_OBJECTIONS, _EVIDENCE)
_COMMON = tuple(s for s in _DETAIL if s not in _RARE)
_CASE_RARE_PROBED = Prepared(select(*_CASE_COLUMNS,
                                    *(_found(s).label(f"has_{i}") for i, s in enumerate(_RARE)))
                             .join(_household, _household.c.id == _case.c.household_id)
                             .where(_case.c.id == _CASE_ID))
# On PostgreSQL the parts a case has at most one row of (each statement ends in LIMIT 1: the latest determination,
# village review and notice) are read beside the case's row, each its own statement as a subquery joined ON true,
# with a TRUE of its own that says whether it has its row: three statements fewer per read (the process's CPU of
# queueing, receiving and loading a statement), their rows made again of the same columns, with the same types and
# so the same values, as their statements give them.
_BESIDE = (_DETERMINATION, CASE_REVIEW, CASE_NOTICE)
_COMMON_APART = tuple(s for s in _COMMON if s not in _BESIDE)


def _beside_case(session: Prepared | None = None) -> tuple[Prepared, list[tuple[Prepared, int, int]]]:
    """The case's row with the rare parts' probes and the `_BESIDE` parts' columns; where each part's columns are.
    With `session` (the session lookup), its columns after them all (`_SESSION_AT`)."""
    columns: list[Any] = [*_CASE_RARE_PROBED.statement.selected_columns]
    joined: Any = _case.join(_household, _household.c.id == _case.c.household_id)
    parts = []
    for i, part in enumerate(_BESIDE):
        keys = [c.key for c in part.statement.selected_columns]
        sub = part.statement.add_columns(true().label("there")).subquery(f"beside_{i}")
        joined = joined.outerjoin(sub, true())
        parts.append((part, len(columns), len(keys)))
        columns += [sub.c[k].label(f"b{i}_{k}") for k in keys] + [sub.c.there.label(f"b{i}_there")]
    if session is not None:
        sub = session.statement.subquery("beside_session")
        joined = joined.outerjoin(sub, true())
        columns += [c.label(f"s_{c.key}") for c in sub.c]
    return Prepared(select(*columns).select_from(joined).where(_case.c.id == _CASE_ID)), parts


_CASE_BESIDE, _BESIDE_AT = _beside_case()
# On PostgreSQL the case read before routing (cases/shortcut.py) reads the caller's session lookup beside the case's
# row too: one statement fewer per read (its columns last; no row at all when there is no such case).
_CASE_BESIDE_SESSION, _ = _beside_case(OPEN_SESSION_USER)
_SESSION_AT = len(_CASE_BESIDE.statement.selected_columns)
_CASE_ROW = len(_CASE_RARE_PROBED.statement.selected_columns)  # the case's columns and the rare parts' probes


def _apart(rows: list[Any]) -> tuple[list[Any], list[list[Any]]]:
    """`_CASE_BESIDE`'s rows as `_CASE_RARE_PROBED`'s and the `_BESIDE` statements' own rows would be."""
    if not rows:
        return [], [[] for _ in _BESIDE]
    row, = rows
    case_row = _CASE_RARE_PROBED._row
    return [case_row(*row[:_CASE_ROW])], [[part._row(*row[at:at + n])] if row[at + n] else []
                                         for part, at, n in _BESIDE_AT]


def _history(rows: list[Any]) -> list[HistoryOut]:
    return [HistoryOut(index=e.idx, time=e.time, actor=e.actor, role=e.role, action=e.action,
                       payload=_ENTRY.decode(e.entry).payload) for e in rows]


class _Entry(msgspec.Struct):
    payload: dict[str, Any]


_ENTRY = msgspec.json.Decoder(_Entry)


def read_case_detail(db: Database, case_id: str, principal: Principal, vault: Vault) -> CaseDetail:
    """The case detail read with prepared statements, blocking (`GET /api/cases/{id}` runs the same steps on the
    event loop: `db.ask(case_detail_steps(...))`)."""
    with db.reader() as reader:
        return reader.run(case_detail_steps(case_id, principal, vault))


def case_detail(session: Session, case: Case, principal: Principal, vault: Vault) -> CaseDetail:
    """The case detail within a session (a write answering with the case it changed, the pages)."""
    return session_reader(session).run(case_detail_steps(case.id, principal, vault,
                                                          known=(case, case.household.head_name)))


def case_detail_steps(case_id: str, principal: Principal, vault: Vault,
                      known: tuple[Any, str] | None = None) -> Steps[CaseDetail]:
    """`GET /api/cases/{id}`: the case detail, as prepared reads in steps (store/reader.py); 404 outside the caller's
    counties, as `load_case`."""
    results = yield case_detail_batch(case_id, known=known is not None)
    return case_detail_of(results, case_id, principal, vault, known)


def case_detail_batch(case_id: str, *, known: bool = False) -> Batch:
    """Everything the case detail reads, in one batch (one round trip on PostgreSQL); without the case's own row
    when the caller has it (`known`). Its rows are turned into the detail by `case_detail_of`."""
    by_case = {"case_id": case_id}
    return [(s, by_case) for s in (_DETAIL if known else _DETAIL_AND_CASE)]


def case_rows_steps(case_id: str, *, probe: bool) -> Steps[list[list[Any]]]:
    """The rows `case_detail_of` takes, in steps. With `probe` (SQLite, where a statement costs more than a round
    trip): the case's row first, with whether each statement of the detail has rows for it, then only those that do
    and the history (the others' rows are known to be none); nothing more when there is no such case. Both batches
    run in one read transaction on SQLite (one snapshot). Without it (PostgreSQL): every statement of the detail but
    the seldom ones (`_RARE`) and those read beside the case (`_BESIDE`) with the case's row, those beside it and
    whether it has rows for the seldom ones (one round trip), then those it has rows for, if any (a second)."""
    by_case = {"case_id": case_id}
    if not probe:
        *common, beside = yield [(s, by_case) for s in (*_COMMON_APART, _CASE_BESIDE)]
        return (yield from _rest_of_case(case_id, common, beside))
    case, = yield [(_CASE_PROBED, by_case)]
    if not case:
        return [[] for _ in _DETAIL] + [case]
    found = case[0][-len(_PROBED):]
    wanted = [s for s, has in zip(_PROBED, found) if has]
    read = iter((yield [(s, by_case) for s in (*wanted, _HISTORY)]))
    return [next(read) if has else [] for has in found] + [next(read), case]


def session_and_case_rows_steps(session_id: str, user_id: str,
                                case_id: str) -> Steps[tuple[Any | None, list[list[Any]] | None]]:
    """PostgreSQL: `open_session_and_steps(session_id, user_id, case_rows_steps(case_id, probe=False))` with the
    session lookup read beside the case's row, in its statement (one statement fewer): (the session's row, the
    rows `case_detail_of` takes). A session refused, or no such case (then the session is not known): (None, None),
    nothing more read and nothing of the case handed on."""
    by_case = {"case_id": case_id}
    lookup, values = session_lookup(session_id, user_id)
    *common, beside = yield [*((s, by_case) for s in _COMMON_APART), (_CASE_BESIDE_SESSION, {**by_case, **values})]
    session = None if not beside or beside[0][_SESSION_AT] is None else tuple(beside[0][_SESSION_AT:])
    if session is None:
        return None, None
    return session, (yield from _rest_of_case(case_id, common, beside))


def _rest_of_case(case_id: str, common: list[list[Any]], beside: list[Any]) -> Steps[list[list[Any]]]:
    """`case_rows_steps` on PostgreSQL after its first batch: the seldom parts the case has rows of, and the rows."""
    by_case = {"case_id": case_id}
    case, singles = _apart(beside)
    found = case[0][-len(_RARE):] if case else [False] * len(_RARE)
    wanted = [s for s, has in zip(_RARE, found) if has]
    rare = iter((yield [(s, by_case) for s in wanted]) if wanted else ())
    first, single = iter(common), iter(singles)
    return [(next(rare) if found[_RARE.index(s)] else []) if s in _RARE else
            next(single) if s in _BESIDE else next(first) for s in _DETAIL] + [case]


def case_detail_of(results: list[list[Any]], case_id: str, principal: Principal, vault: Vault,
                   known: tuple[Any, str] | None = None) -> CaseDetail:
    """The detail from the rows of `case_detail_batch`: 404 when the case is not there or outside the caller's
    counties (checked here, before anything of it is used)."""
    if known is None:
        rows = results[-1]
        if not rows or not principal.may_see_county(rows[0].county_code):
            raise NotFound("案件不存在")
        known = (rows[0], rows[0].head_name)
    case, head_name = known
    visits, referral_rows, check_rows, dets, attempts, items, reviews, notices, objections, files, history = results[:11]
    active = next((v for v in visits if v.active), None)
    full_ids = sees_full_ids(principal, case, active)
    referrals = [
        ReferralOut(
            id=r.id, channel=r.channel, name=r.name,
            id_number=(lambda n: n if full_ids else mask_id(n))(vault.open(r.id_number_enc, "referral.id_number")),
            town=r.town, village=r.village, cause=r.cause, amount=format_yuan(r.amount), referred_on=r.referred_on,
            import_id=r.import_id, row_number=r.row_number,
        )
        for r in referral_rows
    ]
    payments = payment_rows(items, vault)
    stored = [(f.sha256, f.content_type, f.captured_at) for f in files]
    events = _history(history)
    endings = visit_endings(events) if any(not v.active for v in visits) else {}
    return CaseDetail(
        **_case_fields(case, head_name), referrals=referrals,
        visits=[visit_out(v, endings.get(v.id)) for v in visits],
        visit_attempts=[VisitAttemptOut(id=a.id, visited_on=a.visited_on, officers=list(a.officer_ids), outcome=a.outcome,
                                        note=a.note, recorded_by=a.recorded_by, recorded_at=a.recorded_at,
                                        late_entry_reason=a.late_reason,
                                        evidence=None if a.evidence is None else list(a.evidence))
                        for a in attempts],
        checks=[check_out(c, vault, full_ids, full_account=False, photos=photo_times.photos_among(stored, c.evidence))
                for c in check_rows],
        determination=determination_out(dets[0]) if dets else None,
        village_review=review_summary(reviews[0] if reviews else None),
        notice=notice_summary(notices[0] if notices else None, objections),
        payments=payments, history=events,
    )
