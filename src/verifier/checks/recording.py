"""The statements of recording a home check: its reads as one batch of prepared statements, its writes as Core
statements on the transaction's connection (no unit of work to build for a handful of rows).

`checks.service.record_check` decides; this module reads what it decides on and writes what it decided. The reads
run on the write transaction's connection, after the case's and its household's rows are locked (PostgreSQL,
`FOR UPDATE`, `_LOCK`) or the database's write lock is taken (SQLite, `BEGIN IMMEDIATE`): nothing they return can change before the commit. The
case's status is nonetheless changed by a guarded `UPDATE … WHERE status = 'scheduled'`, and a check's number is
unique per case in the schema.

ORM objects of the rows written here that the session already holds are expired, so that the session reads them
anew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, insert, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ..domain.errors import InvalidState
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..notices.models import Objection
from ..recusal.models import StaffTie
from ..registers.models import RegisterImport
from ..store.reader import Prepared, session_reader
from ..store.writer import PreparedWrite, Write, run_batch
from ..store.tables import Case, Check, ContractRow, Evidence, Household, Member, ReviewRequest, User, Visit

_case: Table = Case.__table__  # type: ignore[assignment]
_household: Table = Household.__table__  # type: ignore[assignment]
_contract: Table = ContractRow.__table__  # type: ignore[assignment]
_member: Table = Member.__table__  # type: ignore[assignment]
_check: Table = Check.__table__  # type: ignore[assignment]
_visit: Table = Visit.__table__  # type: ignore[assignment]
_user: Table = User.__table__  # type: ignore[assignment]
_evidence: Table = Evidence.__table__  # type: ignore[assignment]
_review: Table = ReviewRequest.__table__  # type: ignore[assignment]
_register: Table = RegisterImport.__table__  # type: ignore[assignment]
_tie: Table = StaffTie.__table__  # type: ignore[assignment]
_objection: Table = Objection.__table__  # type: ignore[assignment]
_active = _visit.alias("active_visit")
_other_case = _case.alias("other_case")
_last = _check.alias("last_check")

def _officers_tied(active: Any, elements: str) -> Any:
    """Whether any officer of the active visit (its JSON `officer_ids`, one row each by `elements`: SQLite's
    `json_each`, PostgreSQL's `json_array_elements_text`) has a live 回避 declaration: a probe of
    `ix_staff_tie_user_id` per officer, no row for almost everyone. Only when one has are their ties matched with the
    household's members (checks/service.py)."""
    officer = getattr(func, elements)(active.c.officer_ids).table_valued("value").alias("officer")
    return (exists().select_from(officer).where(_tie.c.user_id == officer.c.value, _tie.c.removed_at.is_(None))
            .label("officers_tied"))


def _last_other_check(*columns: Any) -> Any:
    """The household's latest check on another of its cases (rotation, `domain.rotation`): its other cases by the
    cases' household index, their checks by the unique index of (case, number)."""
    return (select(*columns).join(_other_case, _other_case.c.id == _check.c.case_id)
            .where(_other_case.c.household_id == _case.c.household_id, _other_case.c.id != _case.c.id)
            .order_by(_check.c.recorded_at.desc(), _check.c.id.desc()).limit(1))


# The case, locked for the transaction, with what a check needs of its household, contract, active visit (and
# whether its officers declared any tie), earlier checks, the household's latest check on another case, review
# requests, upheld objections and the county's registers in force: one statement.
def _case_read(active: Any, join_on: Any, last: Any, last_on: Any, elements: str) -> Any:
    return (select(_case.c.id, _case.c.household_id, _case.c.county_code, _case.c.status, _case.c.referred_on,
                   _case.c.contract_id, _case.c.contract_hash, _case.c.contract_year, _household.c.head_name,
                   _contract.c.content_hash,
                   active.c.officer_ids.label("assigned"), active.c.created_at.label("assigned_at"),
                   active.c.by_hand.label("by_hand"), active.c.reason.label("visit_reason"),
                   # rotation: who checked the household last (another case), and when (checks/service.py)
                   last.c.officer_ids.label("last_officers"), last.c.recorded_at.label("last_checked_at"),
                   select(func.max(_check.c.seq)).where(_check.c.case_id == _case.c.id).scalar_subquery()
                   .label("last_seq"),
                   select(func.max(_review.c.received_on)).where(_review.c.case_id == _case.c.id)
                   .scalar_subquery().label("review_received"),
                   # whether the household had any member on record (a check's payee is one of them, checks/service.py)
                   exists().where(_member.c.household_id == _case.c.household_id).label("had_members"),
                   exists().where(_register.c.county_code == _case.c.county_code,
                                  _register.c.status == "confirmed",  # a proposal is consulted by nobody
                                  _register.c.as_of <= bindparam("on"),
                                  _register.c.valid_until >= bindparam("on")).label("register_in_force"),
                   # whether an objection to its notice was upheld, or a check of it sent back (then the officers
                   # of the checks in doubt, and their linked accounts, make no check again: checks/service.py; a
                   # review request is `review_received`); probes of their indexes
                   exists().where(_objection.c.case_id == _case.c.id, _objection.c.status == "upheld")
                   .label("objected"),
                   exists().where(_check.c.case_id == _case.c.id, _check.c.sent_back_at.is_not(None))
                   .label("sent_back"),
                   _officers_tied(active, elements))
            .join(_household, _household.c.id == _case.c.household_id)
            .join(_contract, _contract.c.id == _case.c.contract_id)
            .outerjoin(active, join_on)
            .outerjoin(last, last_on)
            .where(_case.c.id == bindparam("case_id"))
            .with_for_update(of=_case))


_CASE = Prepared(
    # its active visit (officers, when scheduled): one look-up of the visit for both columns
    _case_read(_active, _active.c.id == select(_visit.c.id).where(_visit.c.case_id == _case.c.id,
                                                                   _visit.c.active.is_(True))
               .limit(1).scalar_subquery(),
               _last, _last.c.id == _last_other_check(_check.c.id).scalar_subquery(), "json_each"),
    # On PostgreSQL the same visit (the same subquery) as a LATERAL join: joined by its id to a correlated
    # subquery, the planner hashed the whole visit table (a sequential read of every visit, each check) and
    # planned the statement anew at each execution; LATERAL reads the case's visits by its index, planned once.
    postgresql=_case_read(
        select(_visit.c.officer_ids, _visit.c.created_at, _visit.c.by_hand, _visit.c.reason)
        .where(_visit.c.case_id == _case.c.id, _visit.c.active.is_(True)).limit(1).lateral("active_visit"),
        true(), _last_other_check(_check.c.officer_ids, _check.c.recorded_at).lateral("last_check"), true(),
        "json_array_elements_text"),
    # Its generic plan, always: the server otherwise planned it for its values at every check on some data (the
    # generic plan's estimate above the custom plans' average), about 0.3 ms of its CPU each time. That plan reads
    # every table by its index: made while the checks were a few pages, it read them whole at every check.
    generic=True)
# The case and its household, locked, ahead of `_CASE` in the same batch (one round trip, pipelined on PostgreSQL): a
# check of another of the household's cases recorded at the same moment commits first, or waits for this one. Its own
# statement, for a row lock waited for inside `_CASE` would not let it read that check: its snapshot (READ COMMITTED,
# one a statement) is taken before the wait, so two checks by one officer on two cases of a household both read no
# check of the other (rotation, `domain.rotation`) and both committed. `_CASE`, after it, reads what the other wrote.
_LOCK = Prepared(select(_household.c.id).join(_case, _case.c.household_id == _household.c.id)
                 .where(_case.c.id == bindparam("case_id")).with_for_update(of=(_case, _household)))
_EVIDENCE = Prepared(select(_evidence.c.sha256).where(_evidence.c.case_id == bindparam("case_id")))


@lru_cache(maxsize=64)
def _team(n: int) -> Prepared:
    """Users by username, for `n` names (a prepared statement takes no expanding IN list)."""
    return Prepared(select(_user.c.id, _user.c.username)
                    .where(_user.c.username.in_([bindparam(f"u{i}") for i in range(n)])))


@lru_cache(maxsize=64)
def _known_people(n: int) -> Prepared:
    """Members (with their household's county) by blind index, for `n` indexes: those of the case's household among
    them are the members the form names again (no other member of it is looked at)."""
    return Prepared(select(_member.c.id_number_bidx, _member.c.household_id, _household.c.county_code, _member.c.id,
                           _member.c.name, _member.c.relation, _member.c.labour, _member.c.added_by_check_id)
                    .join(_household, _household.c.id == _member.c.household_id)
                    .where(_member.c.id_number_bidx.in_([bindparam(f"b{i}") for i in range(n)])))


@dataclass(frozen=True)
class Found:
    """What a check is decided on, read in one batch (one round trip on PostgreSQL)."""

    case: Any | None  # the row of `_CASE` (its active visit's officers, when and how scheduled, and whether any has
    #                   a 回避 declaration, last check's number, the household's latest check on another case (its
    #                   officers, when), latest review request, whether an objection was upheld or a check sent back, whether a register
    #                   is in force); None: no such case
    usernames: dict[str, str]  # username → user id of the named officers that exist
    known_evidence: set[str]
    people: list[tuple[str, str, str]]  # (blind index, household id, county) of the named people already known
    members: dict[str, Any]  # the household's members named in the form, by blind index
    first: list[Any] | None = None  # the rows of the statement sent first (`read`'s `first`), when there was one
    window: list[Any] | None = None  # the rows of the statement sent last (`read`'s `window`), when there was one


def read(session: Session, case_id: str, *, named: Sequence[str], bidxs: Sequence[str], evidence: bool,
         today: date, first: tuple[Prepared, Mapping[str, Any]] | None = None,
         window: tuple[Prepared, Mapping[str, Any]] | None = None) -> Found:
    """What a check is decided on, in one batch; with `first`, that statement ahead of them in the same batch (the
    caller's session lookup: one round trip on PostgreSQL for both), its rows in `Found.first`; with `window`, that
    statement after them (the caller's look-ups in the window, `accounts.probes.Allowance.window_read`), its rows in
    `Found.window`."""
    reader = session_reader(session)
    one = {"case_id": case_id}
    statements: list[tuple[Prepared, Mapping[str, Any]]] = [(_LOCK, one), (_CASE, {"case_id": case_id, "on": today})]
    if first is not None:
        statements.insert(0, first)
    names = list(dict.fromkeys(named))
    if names:
        statements.append((_team(len(names)), {f"u{i}": u for i, u in enumerate(names)}))
    if bidxs:
        statements.append((_known_people(len(bidxs)), {f"b{i}": b for i, b in enumerate(bidxs)}))
    if evidence:
        statements.append((_EVIDENCE, one))
    if window is not None:
        statements.append(window)
    rows = reader.batch(statements)
    last = rows.pop() if window is not None else None
    ahead = rows.pop(0) if first is not None else None
    rows.pop(0)  # `_LOCK`'s: the locks are what it is for
    case = rows[0][0] if rows[0] else None
    rest = iter(rows[1:])
    team = next(rest) if names else []
    people = next(rest) if bidxs else []
    hashes = next(rest) if evidence else []
    household = None if case is None else case.household_id
    return Found(case=case, usernames={r.username: r.id for r in team},
                 known_evidence={r.sha256 for r in hashes},
                 people=[(r.id_number_bidx, r.household_id, r.county_code) for r in people],
                 members={r.id_number_bidx: r for r in people if r.household_id == household}, first=ahead,
                 window=last)


@dataclass(frozen=True)
class Recorded:
    """A check as recorded: its id and number of the case's checks."""

    id: str
    case_id: str
    seq: int


_INSERT_MEMBER = PreparedWrite(insert(_member))
_UPDATE_MEMBER = PreparedWrite(update(_member).where(_member.c.id == bindparam("member_id"))
                               .values(name=bindparam("new_name"), relation=bindparam("new_relation"),
                                       labour=bindparam("new_labour"),
                                       added_by_check_id=bindparam("new_added_by_check_id")))
_UPDATE_HEAD_NAME = PreparedWrite(update(_household).where(_household.c.id == bindparam("household_id"))
                                  .values(head_name=bindparam("head_name")))
_INSERT_CHECK = PreparedWrite(insert(_check))
_ADVANCE = PreparedWrite(update(_case).where(_case.c.id == bindparam("case_id"), _case.c.status == bindparam("before"))
                         .values(status=bindparam("after"), updated_at=bindparam("now"), version=_case.c.version + 1))


def write(session: Session, *, household_id: str, new: list[dict[str, Any]], changed: list[dict[str, Any]],
          head_name: str | None, check: dict[str, Any], before: str, after: str, now: Any) -> Recorded:
    """Insert the new members, update the changed ones (name, relation, labour, the check that last renamed them:
    `member_id`, `new_…` keys) and the household's head name (None: unchanged), insert the check (`check`: every
    column) and move its case from `before` to `after` (409 if it is no longer `before`): one batch of statements
    (on PostgreSQL sent in the round trip of the transaction's next statements, the audit append's lock of the log's
    head)."""
    writes: list[Write] = []
    if new:
        writes.append((_INSERT_MEMBER, new))
    if changed:
        writes.append((_UPDATE_MEMBER, changed))
    if head_name is not None:
        writes.append((_UPDATE_HEAD_NAME, {"household_id": household_id, "head_name": head_name}))
    writes.append((_INSERT_CHECK, check))
    writes.append((_ADVANCE, {"case_id": check["case_id"], "before": before, "after": after, "now": now}))
    def advanced(counts: list[int]) -> None:
        if counts[-1] != 1:
            was = STATUS_LABELS_ZH.get(before, before)  # type: ignore[call-overload]
            raise InvalidState(f"案件已不再是「{was}」状态（其间已被他人办理），请刷新后重试")

    # On PostgreSQL sent with the next round trip (the audit append's head lock): within this transaction, which
    # a refusal then rolls back whole (store/writer.py, `later`).
    # On PostgreSQL as one statement (store/writer.py, `fold`: the members, the household and the check written by
    # data-modifying CTEs of the case's guarded move, whose row count is the statement's), unless two changes name
    # one member (one statement would make only one of them).
    # On PostgreSQL the folded statement fails unless the case moved (`one_row`): nothing is judged in the process,
    # and it goes with the audit append and the COMMIT, in their round trip. The case's row was locked by the read.
    run_batch(session, writes, later=True, told=advanced,
              fold=len({m["member_id"] for m in changed}) == len(changed), one_row=True)
    if session.identity_map:  # (a check's own session usually holds no object: nothing to look up)
        _expire(session, Household, [household_id])
        _expire(session, Member, [m["member_id"] for m in changed])
        _expire(session, Case, [check["case_id"]])
    return Recorded(check["id"], check["case_id"], check["seq"])


def _expire(session: Session, cls: type, ids: list[str]) -> None:
    identity_map = session.identity_map
    for i in ids:
        obj = identity_map.get(identity_key(cls, i))
        if obj is not None:
            session.expire(obj)
