"""Which members' names are on record for payment (在册): a payee named at the door, or a payee change that needs no
county reviewer.

A member's name is on record for a case when the referral or application brought it (`Member.added_by_check_id`
NULL), or when a home check of another case, whose determination was confirmed (by a supervisor who, by the four-eyes
rule, neither made nor recorded it), lists the member under that name and is either the check that added the member
or last changed their name (`added_by_check_id`) or one none of whose officers or recorder made or recorded that
check or has an account linked by a password to one of theirs (`roster.service.password_links`: a second account is
the same officer). A name a check typed is otherwise one officer's word: at another case of the household the same
officer could name that person payee with his own card, and at the case of that check a payee change to them is a
change to someone new, with its reason and the county reviewer. The second way keeps a member from staying tied to a
check that is never determined (sent back, its case merged or closed first): other officers' check that found them
unchanged, once confirmed, vouches for the name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.payee import same_person_name
from ..roster.service import password_links_of
from ..store.tables import Case, Check, Determination, Member


class MemberRow(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def added_by_check_id(self) -> str | None: ...


def _people(check: Check) -> frozenset[str]:
    return frozenset([*(check.officer_ids or []), check.recorded_by])


def _vouched(session: Session, wanted: list[tuple[str, MemberRow]]) -> set[tuple[str, str]]:
    """(case id, member id) of those of the pairs whose member's name is on record for a payment of that case; in
    a fixed number of statements whatever their count (the password links among the officers read in one)."""
    out = {(case_id, r.id) for case_id, r in wanted if r.added_by_check_id is None}
    pending = [(case_id, r) for case_id, r in wanted if r.added_by_check_id is not None]
    if not pending:
        return out
    ties = {c.id: c for c in session.scalars(select(Check).where(
        Check.id.in_(sorted({r.added_by_check_id for _, r in pending if r.added_by_check_id}))))}
    households = sorted(set(session.scalars(select(Case.household_id).where(
        Case.id.in_(sorted({c.case_id for c in ties.values()}))))))
    confirmed = [] if not households else list(session.scalars(
        select(Check).join(Determination, Determination.check_id == Check.id).join(Case, Case.id == Check.case_id)
        .where(Case.household_id.in_(households)).order_by(Check.id)))
    typers = {p for c in ties.values() for p in _people(c)}
    links = password_links_of(session, typers, {p for c in confirmed for p in _people(c)}) if confirmed else {}
    for case_id, row in pending:
        tie = ties.get(row.added_by_check_id or "")
        typed = _people(tie) if tie is not None else frozenset()
        typed = typed.union(*(links.get(p, frozenset()) for p in typed))
        if any(check.case_id != case_id and (check.id == row.added_by_check_id or not (_people(check) & typed))
               and any(str(m.get("member_id") or "") == row.id
                       and same_person_name(str(m.get("name") or ""), row.name) for m in check.members or [])
               for check in confirmed):
            out.add((case_id, row.id))
    return out


def on_record_ids(session: Session, case_id: str, rows: Iterable[MemberRow]) -> set[str]:
    """The ids of those of the members (`rows`, as stored) whose names are on record for a payment of `case_id`."""
    return {m for _, m in _vouched(session, [(case_id, r) for r in rows])}


def names_on_record_by_case(session: Session, listed: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """For each case, the names of a check's member list (`Check.members`) on record for a payment of that case: each
    member still stored under that name (spaces aside) and on record (`on_record_ids`)."""
    pairs = {case_id: [(str(m.get("member_id") or ""), str(m.get("name") or "")) for m in members]
             for case_id, members in listed.items()}
    ids = sorted({i for p in pairs.values() for i, _ in p if i})
    rows = {r.id: r for r in session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    same = [(case_id, r) for case_id, p in pairs.items() for i, n in p
            if (r := rows.get(i)) is not None and same_person_name(r.name, n)]
    vouched = _vouched(session, same)
    return {case_id: [n for i, n in p if (case_id, i) in vouched and same_person_name(rows[i].name, n)]
            for case_id, p in pairs.items()}


def names_on_record(session: Session, case_id: str, listed: list[dict[str, Any]]) -> list[str]:
    """`names_on_record_by_case` for one case."""
    return names_on_record_by_case(session, {case_id: listed})[case_id]


def typed_by(session: Session, check_id: str) -> list[str]:
    """The names of the members the check added or renamed, still as it wrote them (the determination page shows
    them: confirming it puts them on record for the household's other cases)."""
    return list(session.scalars(select(Member.name).where(Member.added_by_check_id == check_id)
                                .order_by(Member.name)))
