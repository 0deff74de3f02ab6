"""The statements of recording a home check: its reads as one batch of prepared statements, its writes as Core
statements on the transaction's connection (no unit of work to build for a handful of rows).

`checks.service.record_check` decides; this module reads what it decides on and writes what it decided. The reads
run on the write transaction's connection, after the case's row is locked (PostgreSQL, `FOR UPDATE`) or the
database's write lock is taken (SQLite, `BEGIN IMMEDIATE`): nothing they return can change before the commit. The
case's status is nonetheless changed by a guarded `UPDATE … WHERE status = 'scheduled'`, and a check's number is
unique per case in the schema.

ORM objects of the rows written here that the session already holds are expired, so that the session reads them
anew; the check returned is attached to the session as a persistent object (no second INSERT).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..domain.errors import InvalidState
from ..registers.models import RegisterImport
from ..store.reader import Prepared, session_reader
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

# The case, locked for the transaction, with what a check needs of its household and contract.
_CASE = Prepared(
    select(_case.c.id, _case.c.household_id, _case.c.county_code, _case.c.status, _case.c.referred_on,
           _case.c.contract_id, _case.c.contract_hash, _case.c.contract_year, _household.c.head_name,
           _contract.c.content_hash)
    .join(_household, _household.c.id == _case.c.household_id)
    .join(_contract, _contract.c.id == _case.c.contract_id)
    .where(_case.c.id == bindparam("case_id"))
    .with_for_update(of=_case))
_ASSIGNED = Prepared(select(_visit.c.officer_ids).where(_visit.c.case_id == bindparam("case_id"),
                                                        _visit.c.active.is_(True)))
_LAST_SEQ = Prepared(select(func.max(_check.c.seq).label("seq")).where(_check.c.case_id == bindparam("case_id")))
_REVIEW_RECEIVED = Prepared(select(func.max(_review.c.received_on).label("received_on"))
                            .where(_review.c.case_id == bindparam("case_id")))
_MEMBERS = Prepared(
    select(_member.c.id, _member.c.id_number_bidx, _member.c.name, _member.c.relation, _member.c.labour)
    .join(_case, _case.c.household_id == _member.c.household_id)
    .where(_case.c.id == bindparam("case_id")))
_EVIDENCE = Prepared(select(_evidence.c.sha256).where(_evidence.c.case_id == bindparam("case_id")))
_REGISTER_IN_FORCE = Prepared(
    select(_register.c.id)
    .join(_case, _case.c.county_code == _register.c.county_code)
    .where(_case.c.id == bindparam("case_id"), _register.c.as_of <= bindparam("on"),
           _register.c.valid_until >= bindparam("on"))
    .limit(1))


@lru_cache(maxsize=64)
def _team(n: int) -> Prepared:
    """Users by username, for `n` names (a prepared statement takes no expanding IN list)."""
    return Prepared(select(_user.c.id, _user.c.username)
                    .where(_user.c.username.in_([bindparam(f"u{i}") for i in range(n)])))


@lru_cache(maxsize=64)
def _known_people(n: int) -> Prepared:
    """Members (with their household's county) by blind index, for `n` indexes."""
    return Prepared(select(_member.c.id_number_bidx, _member.c.household_id, _household.c.county_code)
                    .join(_household, _household.c.id == _member.c.household_id)
                    .where(_member.c.id_number_bidx.in_([bindparam(f"b{i}") for i in range(n)])))


@dataclass(frozen=True)
class Found:
    """What a check is decided on, read in one batch (one round trip on PostgreSQL)."""

    case: Any | None  # the row of `_CASE`; None: no such case
    assigned: list[str] | None  # the active visit's officers; None: no active visit
    usernames: dict[str, str]  # username → user id of the named officers that exist
    known_evidence: set[str]
    people: list[tuple[str, str, str]]  # (blind index, household id, county) of the named people already known
    last_seq: int
    review_received: date | None
    members: dict[str, Any]  # the household's members by blind index
    register_in_force: bool


def read(session: Session, case_id: str, *, named: Sequence[str], bidxs: Sequence[str], evidence: bool,
         today: date) -> Found:
    reader = session_reader(session)
    one = {"case_id": case_id}
    statements: list[tuple[Prepared, Mapping[str, Any]]] = [
        (_CASE, one), (_ASSIGNED, one), (_LAST_SEQ, one), (_REVIEW_RECEIVED, one), (_MEMBERS, one),
        (_REGISTER_IN_FORCE, {"case_id": case_id, "on": today})]
    names = list(dict.fromkeys(named))
    if names:
        statements.append((_team(len(names)), {f"u{i}": u for i, u in enumerate(names)}))
    if bidxs:
        statements.append((_known_people(len(bidxs)), {f"b{i}": b for i, b in enumerate(bidxs)}))
    if evidence:
        statements.append((_EVIDENCE, one))
    rows = reader.batch(statements)
    case, assigned, last, review, members, registers = rows[:6]
    rest = iter(rows[6:])
    team = next(rest) if names else []
    people = next(rest) if bidxs else []
    hashes = next(rest) if evidence else []
    return Found(
        case=case[0] if case else None, assigned=list(assigned[0].officer_ids) if assigned else None,
        usernames={r.username: r.id for r in team}, known_evidence={r.sha256 for r in hashes},
        people=[(r.id_number_bidx, r.household_id, r.county_code) for r in people],
        last_seq=(last[0].seq if last else None) or 0, review_received=review[0].received_on if review else None,
        members={r.id_number_bidx: r for r in members}, register_in_force=bool(registers))


_INSERT_MEMBER = insert(_member)
_UPDATE_MEMBER = (update(_member).where(_member.c.id == bindparam("member_id"))
                  .values(name=bindparam("new_name"), relation=bindparam("new_relation"),
                          labour=bindparam("new_labour")))
_UPDATE_HEAD_NAME = (update(_household).where(_household.c.id == bindparam("household_id"))
                     .values(head_name=bindparam("head_name")))
_INSERT_CHECK = insert(_check)
_ADVANCE = (update(_case).where(_case.c.id == bindparam("case_id"), _case.c.status == bindparam("before"))
            .values(status=bindparam("after"), updated_at=bindparam("now"), version=_case.c.version + 1))


def write_members(session: Session, household_id: str, new: list[dict[str, Any]], changed: list[dict[str, Any]],
                  head_name: str | None) -> None:
    """Insert the new members, update the changed ones (name, relation, labour: `member_id`, `new_…` keys) and the
    household's head name (None: unchanged)."""
    conn = session.connection()
    if new:
        conn.execute(_INSERT_MEMBER, new)
    if changed:
        conn.execute(_UPDATE_MEMBER, changed)
    if head_name is not None:
        conn.execute(_UPDATE_HEAD_NAME, {"household_id": household_id, "head_name": head_name})
    _expire(session, Household, [household_id])
    _expire(session, Member, [m["member_id"] for m in changed])


def write_check(session: Session, check: Check) -> Check:
    """Insert the check (a transient object with every column set) and attach it to the session as persistent."""
    session.connection().execute(_INSERT_CHECK, {c.key: getattr(check, c.key) for c in _check.columns})
    make_transient_to_detached(check)
    session.add(check)
    return check


def advance(session: Session, case_id: str, before: str, after: str, now: Any) -> None:
    """Move the case from `before` to `after` (409 if it is no longer `before`)."""
    result = session.connection().execute(_ADVANCE, {"case_id": case_id, "before": before, "after": after,
                                                     "now": now})
    if result.rowcount != 1:
        raise InvalidState(f"the case is no longer {before}")
    _expire(session, Case, [case_id])


def _expire(session: Session, cls: type, ids: list[str]) -> None:
    identity_map = session.identity_map
    for i in ids:
        obj = identity_map.get(identity_key(cls, i))
        if obj is not None:
            session.expire(obj)
