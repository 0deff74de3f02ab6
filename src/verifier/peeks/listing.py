"""The list of looks at households' personal data (查阅记录), for auditors and county reviewers of the looks' counties:
newest first, searched by the looker's name, the head of household's name or the case number, within a date range;
and the looks at one household, for its file's own 查阅记录."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Household, User
from .models import PersonalView

READERS = ("auditor", "county_reviewer")
HOUSEHOLD_ROWS = 50  # the household file's section: the latest looks


@dataclass(frozen=True)
class Look:
    id: int
    day: date
    first_at: datetime
    last_at: datetime
    user_id: str
    user_name: str
    username: str  # the login name: display names need not be unique
    role: str
    county_code: str
    household_id: str
    head_name: str
    case_id: str | None
    case_number: str | None
    kind: str
    route: str
    looks: int


def _base(principal: Principal) -> Select:  # type: ignore[type-arg]
    stmt = (select(PersonalView, User.display_name, User.username, Household.head_name, Case.number)
            .outerjoin(User, User.id == PersonalView.user_id)
            .outerjoin(Household, Household.id == PersonalView.household_id)
            .outerjoin(Case, Case.id == PersonalView.case_id))
    if principal.counties:
        stmt = stmt.where(PersonalView.county_code.in_(principal.counties))
    return stmt.order_by(PersonalView.last_at.desc(), PersonalView.id.desc())


def _look(row: tuple[PersonalView, str | None, str | None, str | None, str | None]) -> Look:
    v, user_name, username, head_name, number = row
    return Look(id=v.id, day=v.day, first_at=v.first_at, last_at=v.last_at, user_id=v.user_id,
                user_name=user_name or v.user_id, username=username or "", role=v.role, county_code=v.county_code,
                household_id=v.household_id, head_name=head_name or "", case_id=v.case_id or None,
                case_number=number, kind=v.kind, route=v.route, looks=v.looks)


def find(session: Session, principal: Principal, *, q: str = "", date_from: date | None = None,
         date_to: date | None = None, page: int = 1, page_size: int = PAGE_SIZE) -> Paged[Look]:
    """The looks in the caller's counties, newest first; `q` a looker's name, a head's name or a case number."""
    stmt = _base(principal)
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (User.display_name, User.username, Household.head_name, Case.number)))
    if date_from is not None:
        stmt = stmt.where(PersonalView.day >= date_from)
    if date_to is not None:
        stmt = stmt.where(PersonalView.day <= date_to)
    return page_of(session, stmt, page, page_size, rows=True).map(_look)


def of_household(session: Session, principal: Principal, household_id: str) -> list[Look]:
    """The latest looks at one household (its file's 查阅记录); the caller has loaded it within his counties."""
    stmt = _base(principal).where(PersonalView.household_id == household_id).limit(HOUSEHOLD_ROWS)
    return [_look(row) for row in session.execute(stmt).tuples()]


def case_numbers_of_looks(session: Session, subjects: list[str]) -> dict[str, str | None]:
    """The number of the case each look names, by the look's audit subject (`personal_view:<id>`); None for a look
    at a household's file (no case). Subjects of no look are left out."""
    ids = {s: int(s.split(":", 1)[1]) for s in subjects
           if s.startswith("personal_view:") and s.split(":", 1)[1].isdigit()}
    if not ids:
        return {}
    found = dict(session.execute(select(PersonalView.id, Case.number).outerjoin(Case, Case.id == PersonalView.case_id)
                                 .where(PersonalView.id.in_(set(ids.values())))).tuples().all())
    return {s: found[i] for s, i in ids.items() if i in found}
