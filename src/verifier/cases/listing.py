"""The case list as an office reads it: filters, a search box, sorting by column, the total and numbered pages.

`CaseQuery` is what a page or an API call asks for; `find_cases` answers one page of it, `iter_cases` every
matching case in order (exports). The search text `q` matches

- a case number, whole (`340223-2026-000123`) or by its trailing sequence digits (`123`, `000123`);
- a whole ID number of any member of the household, through the keyed blind index (nothing is decrypted);
- the last four characters of a member's ID number, through a keyed index of the tail (`member.id_tail_bidx`);
- a name: a substring of the household head's or any member's name.

Everything is limited to the caller's counties first: a person of another county is not found, and the answer is
the same as for nobody at all. The list shows no ID number, so a search by ID number unmasks nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, case, false, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from ..accounts.auth import Principal
from ..domain.errors import FieldError, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..store import contracts as contract_store
from ..store.tables import Case, ContractRow, Household, Member, ReviewRequest, Visit
from ..store.vault import Vault
from .numbers import NUMBER, format_number, seq_suffixes, tail_index

PAGE_SIZE = 50
SORTS = ("number", "head", "village", "status", "received", "due")
"""The columns a list sorts by; `-name` sorts that column from the largest down."""
MAX_Q = 50

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_TAIL = re.compile(r"^\d{3}[\dX]$")


def is_whole_id_number(q: str | None) -> bool:
    """Whether a search text is a whole ID number (as `_search` reads it)."""
    text = unicodedata.normalize("NFKC", q or "").strip().upper().replace(" ", "")
    return bool(_ID_NUMBER.match(text))


@dataclass(frozen=True)
class CaseFilters:
    """What a case list is limited to, the page's (`CaseQuery`) and the API's (`service.CaseFilter`) alike."""

    status: str | None = None
    county_code: str | None = None
    town: str | None = None
    village: str | None = None
    cause: str | None = None
    officer: str | None = None
    within: Any = None  # a SELECT of case ids (reports.figure_cases: the cases behind a monthly report figure)


@dataclass(frozen=True)
class CaseQuery(CaseFilters):
    q: str | None = None
    sort: str = "number"
    page: int = 1
    page_size: int = PAGE_SIZE

    def checked(self) -> "CaseQuery":
        """The query with its search text folded (full-width digits typed by some input methods), or
        ValidationFailed naming the bad field."""
        problems = []
        if self.sort.removeprefix("-") not in SORTS:
            problems.append(FieldError("sort", f"must be one of {', '.join(SORTS)}, with a leading - for descending"))
        if self.page < 1:
            problems.append(FieldError("page", "must be 1 or more"))
        q = unicodedata.normalize("NFKC", self.q or "").strip()
        if len(q) > MAX_Q:
            problems.append(FieldError("q", f"must be at most {MAX_Q} characters"))
        if problems:
            raise ValidationFailed(problems)
        return replace(self, q=q or None)


_case_table = Case.__table__


@dataclass(frozen=True)
class CasePage:
    cases: list[Any]  # rows of the case table's columns and `head_name` (they read like a Case)
    total: int
    page: int
    pages: int
    page_size: int


def _search(q: str, vault: Vault) -> Any:
    """The condition a search text puts on cases (joined with their household)."""
    text = q.upper().replace(" ", "")
    found = []
    whole = NUMBER.match(text)
    if whole:
        county, year, seq = whole.groups()
        found.append(Case.number == format_number(county, int(year), int(seq)))
    for suffix in seq_suffixes(text):
        found.append(Case.number.endswith(suffix))
    if _ID_NUMBER.match(text):
        found.append(Case.household_id.in_(
            select(Member.household_id).where(Member.id_number_bidx == vault.blind_index(text, "id_number"))))
    if _ID_TAIL.match(text):
        found.append(Case.household_id.in_(
            select(Member.household_id).where(Member.id_tail_bidx == tail_index(vault, text))))
    if not any(ch.isdigit() for ch in q):  # names have no digits
        found.append(Household.head_name.contains(q, autoescape=True))
        found.append(Case.household_id.in_(select(Member.household_id).where(Member.name.contains(q, autoescape=True))))
    return or_(*found) if found else false()


def _due_expression(session: Session, contract_ids: list[str]) -> Any:
    """A case's due date as the database can sort by it: the day counted from (the latest review request, or the
    referral), plus its contract's check_within_days."""
    days = {cid: contract_store.get_contract(session, cid).spec.deadlines.check_within_days for cid in contract_ids}
    within = case(days, value=Case.contract_id, else_=0) if days else 0
    review = (select(func.max(ReviewRequest.received_on)).where(ReviewRequest.case_id == Case.id)
              .correlate(Case).scalar_subquery())
    start = func.coalesce(review, Case.referred_on)
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(start) + within
    return start + within


def filter_conditions(session: Session, principal: Principal, f: CaseFilters) -> list[Any]:
    """What a case must meet to be listed: the caller's counties and `f`, the one filter of the case list page and
    of the API's list."""
    found: list[Any] = []
    if principal.counties:
        found.append(Case.county_code.in_(principal.counties))
    for column, value in ((Case.status, f.status), (Case.county_code, f.county_code), (Case.town, f.town),
                          (Case.village, f.village), (Case.cause, f.cause)):
        if value:
            found.append(column == value)
    if f.officer:
        visits = select(Visit.case_id, Visit.officer_ids).where(Visit.active.is_(True))
        ids = [cid for cid, officers in session.execute(visits) if f.officer in officers]
        found.append(Case.id.in_(ids))
    if f.within is not None:
        found.append(Case.id.in_(f.within))
    return found


def filter_cases(session: Session, stmt: Select[Any], principal: Principal, f: CaseFilters) -> Select[Any]:
    """`stmt` (a SELECT of cases) limited by `filter_conditions`."""
    return stmt.where(*filter_conditions(session, principal, f))


def _conditions(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> list[Any]:
    """The filter's conditions and the search's (on the case joined with its household when a search is given)."""
    found = filter_conditions(session, principal, query)
    if query.q:
        found.append(_search(query.q, vault))
    return found


def _filtered(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> Select[Any]:
    return (select(Case).join(Household, Household.id == Case.household_id)
            .where(*_conditions(session, principal, query, vault)))


def _count(session: Session, query: CaseQuery, conditions: list[Any]) -> int:
    """How many cases meet `conditions`. The household is joined only when the search needs it: every case has
    one, so the join changes no count, and a county's count is then read from an index of the cases alone."""
    stmt = select(func.count()).select_from(Case)
    if query.q:
        stmt = stmt.join(Household, Household.id == Case.household_id)
    return int(session.scalar(stmt.where(*conditions)) or 0)


_STATUS_ORDER = case({str(code): i for i, code in enumerate(STATUS_LABELS_ZH)}, value=Case.status,
                     else_=len(STATUS_LABELS_ZH))  # statuses in the order of the flow, not of their codes


def _ordered(session: Session, stmt: Select[Any], sort: str) -> Select[Any]:
    name = sort.removeprefix("-")
    descending = sort.startswith("-")
    if name == "due":
        # Every stored contract (a case's contract is one of them): not a DISTINCT over all the cases.
        keys: list[Any] = [_due_expression(session, list(session.scalars(select(ContractRow.id))))]
    else:
        keys = {"number": [Case.number], "head": [Household.head_name], "village": [Case.town, Case.village],
                "status": [_STATUS_ORDER],
                "received": [Case.referred_on]}[name]
    keys = [k.desc() if descending else k.asc() for k in keys]
    return stmt.order_by(*keys, Case.number.desc() if descending else Case.number.asc())


def find_cases(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> CasePage:
    """One page of the cases matching `query` in the caller's counties, with the total and the number of pages
    (a page past the last shows the last)."""
    query = query.checked()
    conditions = _conditions(session, principal, query, vault)
    # The page's rows as rows (the case's columns and its head's name), not objects: a list only reads them, and
    # loading fifty cases and their households into the session cost more than finding them.
    stmt = select(_case_table, Household.head_name).join(Household, Household.id == Case.household_id).where(*conditions)
    total = _count(session, query, conditions)
    pages = max(1, -(-total // query.page_size))
    page = min(query.page, pages)
    rows = session.execute(_ordered(session, stmt, query.sort)
                           .offset((page - 1) * query.page_size).limit(query.page_size)).all()
    return CasePage(cases=list(rows), total=total, page=page, pages=pages, page_size=query.page_size)


def iter_cases(session: Session, principal: Principal, query: CaseQuery, vault: Vault,
               chunk: int = 500) -> Iterator[list[Case]]:
    """Every case matching `query` (all pages), in its order, `chunk` at a time: the rows are streamed from the
    database (a server-side cursor on PostgreSQL), so memory stays bounded however long the list."""
    query = query.checked()
    stmt = _ordered(session, _filtered(session, principal, query, vault), query.sort)
    result = session.scalars(stmt.options(contains_eager(Case.household)).execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        rows = list(part)
        yield rows
        for c in rows:  # what was yielded is not kept by the session (two cases may share a household)
            for obj in (c, c.household):
                if obj in session:
                    session.expunge(obj)


def villages(session: Session, principal: Principal) -> list[tuple[str, str]]:
    """The (town, village) pairs of the caller's cases, for the list's filter."""
    stmt = select(Case.town, Case.village).distinct().order_by(Case.town, Case.village)
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    return list(session.execute(stmt).tuples())
