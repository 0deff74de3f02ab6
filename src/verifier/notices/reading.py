"""Public notices read: a notice, its rows and objections, the lists of notices, and what the case detail shows of
them; and the names the notices stage shares (who records, the hotline, a notice's last day)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import NotFound
from ..domain.money import Fen, format_yuan, grouped_yuan
from ..store.loading import row_in_counties
from ..store.reader import Prepared, Reader
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..recusal import guard as recusal
from ..store.tables import Case
from .models import Notice, NoticeItem, Objection

REVIEW_ROLES = ("town_clerk",)  # the village's evaluation, recorded by the town: never by the insurer it judges
CLERK = "town_clerk"
# Who decides an objection: the town's clerks, or the county reviewer (a dismissal never by whoever recorded it or
# posted its notice).
RESOLVE_ROLES = (CLERK, "county_reviewer")
# The national poverty-relief supervision hotline, printed when the clerk gives no office phone of their own.
DEFAULT_OBJECTION_PHONE = "12317"


# A paper record is typed the day it is handed in or the next: a notice the day it went up or the next (its period
# counts from the day it went up; service.post_notice), an objection handed in on the period's last day on the day
# after, `ends_on`, even once the notice was closed at 00:00 that day (objections.record_objection).
LATE_ENTRY_DAYS = 1


def last_day(ends_on: date) -> date:
    """The last day of a notice period that ends on `ends_on` (the day it may be closed)."""
    return ends_on - timedelta(days=1)


def late_objections_until(notice: Notice) -> date:
    """The last day an objection received within the notice's period may still be typed once the notice is closed:
    the day after the period's last day (`LATE_ENTRY_DAYS`), which is `ends_on`, the first day it may be closed."""
    return last_day(notice.ends_on) + timedelta(days=LATE_ENTRY_DAYS)


def takes_late_objections(notice: Notice, today: date) -> bool:
    """Whether the closed notice still takes an objection received within its period (typed late, `today`)."""
    return notice.status == "closed" and today <= late_objections_until(notice)


# The cases with an objection not yet resolved: during the period their notice is open and they are not ready to pay;
# an objection typed late, after the notice closed, holds its case out of every batch until it is resolved
# (payments/service.py `_HELD`, the steps' stops in payments/batch_stops.py).
OPEN_OBJECTION_CASES = select(Objection.case_id).where(Objection.status == "open")


def load_notice(session: Session, notice_id: str, principal: Principal | None, *, for_update: bool = False) -> Notice:
    """The notice, if it exists and lies in the caller's counties (otherwise 404)."""
    return row_in_counties(session, Notice, notice_id, principal, missing="公示不存在",
                           for_update=for_update)


def _notices(principal: Principal, *, county_code: str | None = None, status: str | None = None,
             town: str | None = None, village: str | None = None, q: str = "", unconfirmed: bool = False,
             only: Sequence[str] | None = None) -> Any:
    stmt = select(Notice).order_by(Notice.posted_on.desc(), Notice.posted_at.desc(), Notice.id.desc())
    if only is not None:
        stmt = stmt.where(Notice.id.in_(sorted(only)))
    if principal.counties:
        stmt = stmt.where(Notice.county_code.in_(principal.counties))
    for column, value in ((Notice.county_code, county_code), (Notice.status, status), (Notice.town, town),
                          (Notice.village, village)):
        if value:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(text_search(q, (Notice.town, Notice.village, Notice.title)))
    if unconfirmed:
        stmt = stmt.where(Notice.awaiting_second_person)
    return stmt


def list_notices(session: Session, principal: Principal, *, county_code: str | None = None,
                 status: str | None = None, town: str | None = None, village: str | None = None,
                 q: str = "", unconfirmed: bool = False, only: Sequence[str] | None = None,
                 limit: int = 100) -> list[Notice]:
    """Notices in the caller's counties, newest posting first; `q`, `unconfirmed` and `only` as the notices list's
    (`find_notices`), so that its export holds what the list shows, on every page."""
    stmt = _notices(principal, county_code=county_code, status=status, town=town, village=village,
                    q=fold_search(q), unconfirmed=unconfirmed, only=only)
    return list(session.scalars(stmt.limit(limit)))


def find_notices(session: Session, principal: Principal, *, status: str | None = None, q: str = "",
                 page: int = 1, page_size: int = PAGE_SIZE, unconfirmed: bool = False,
                 only: Sequence[str] | None = None) -> Paged[Notice]:
    """The notices list's page: the caller's counties, by status, searched by town, village or title; `unconfirmed`:
    only those whose posting on the wall waits for a second person (notices/posting.py); `only`: those of these ids
    (the ones the caller may confirm, `posting.waiting`)."""
    stmt = _notices(principal, status=status, q=fold_search(q), unconfirmed=unconfirmed, only=only)
    return page_of(session, stmt, page, page_size)


@dataclass(frozen=True)
class NoticeStanding:
    """A notice's figures as posted (its document's, never changed) and what still stands of them after upheld
    objections took households off it (each sent back to be checked again): the notice's page and the notices list
    show both, so that a clerk does not read the posted 4 户 as four households still listed."""

    households: int  # as posted
    persons: int
    total: Fen
    withdrawn: int  # households taken off by an upheld objection
    withdrawn_persons: int
    withdrawn_total: Fen

    @property
    def standing_households(self) -> int:
        return self.households - self.withdrawn

    @property
    def standing_persons(self) -> int:
        return self.persons - self.withdrawn_persons

    @property
    def standing_total(self) -> Fen:
        return self.total - self.withdrawn_total

    @property
    def total_yuan(self) -> str:
        """The posted total in yuan as pages print money ("87,700.00")."""
        return grouped_yuan(self.total)

    @property
    def standing_yuan(self) -> str:
        """What still stands of the total, in yuan as pages print money."""
        return grouped_yuan(self.standing_total)


def standings_of(session: Session, notices: list[Notice]) -> dict[str, NoticeStanding]:
    """Each of these notices' `NoticeStanding` (already read within the caller's counties), by id, in one statement
    whatever their number: its rows withdrawn after an upheld objection (`NoticeItem.status` withdrawn), counted."""
    wanted = sorted({n.id for n in notices})
    off: dict[str, tuple[int, int, int]] = {}
    if wanted:
        for notice_id, n, persons, total in session.execute(
                select(NoticeItem.notice_id, func.count(), func.coalesce(func.sum(NoticeItem.household_size), 0),
                       func.coalesce(func.sum(NoticeItem.relief_amount), 0))
                .where(NoticeItem.notice_id.in_(wanted), NoticeItem.status == "withdrawn")
                .group_by(NoticeItem.notice_id)):
            off[notice_id] = (int(n), int(persons), int(total))
    return {n.id: NoticeStanding(n.households, n.persons, n.total, *off.get(n.id, (0, 0, 0))) for n in notices}


def standing_of(session: Session, notice: Notice) -> NoticeStanding:
    """`standings_of` for one notice (its page)."""
    return standings_of(session, [notice])[notice.id]


def villages_with(session: Session, principal: Principal, status: str) -> list[tuple[str, str, str, int]]:
    """(county, town, village, cases) of the cases in one status, by village, within the principal's counties."""
    stmt = (select(Case.county_code, Case.town, Case.village, func.count()).where(Case.status == status)
            .group_by(Case.county_code, Case.town, Case.village)
            .order_by(Case.county_code, Case.town, Case.village))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    return [tuple(r) for r in session.execute(stmt).all()]  # type: ignore[misc]


def villages_awaiting_notice(session: Session, principal: Principal) -> list[tuple[str, str, str, int, int]]:
    """(county, town, village, cases, left for others) of reviewed cases that no notice lists yet; left for others:
    how many of them the caller would leave out of a notice (回避, `recusal.guard.recused_cases`): a village where that
    is all of them is one for another clerk to post (须由其他经办人列入公示), not her."""
    villages = villages_with(session, principal, "reviewed")
    reviewed = select(Case.id).where(Case.status == "reviewed")
    if principal.counties:
        reviewed = reviewed.where(Case.county_code.in_(principal.counties))
    recused = recusal.recused_cases(session, principal, reviewed) if villages else {}
    others: dict[tuple[str, str, str], int] = {}
    if recused:
        for county, town, village, n in session.execute(
                select(Case.county_code, Case.town, Case.village, func.count()).where(Case.id.in_(sorted(recused)))
                .group_by(Case.county_code, Case.town, Case.village)):
            others[(county, town, village)] = n
    return [(county, town, village, n, others.get((county, town, village), 0)) for county, town, village, n in villages]


def notice_names(session: Session, notice_ids: list[str]) -> dict[str, str]:
    """Each notice as the notices list names it, by id: its town and village and the day it was posted
    (城关镇东村 2026-12-05 公示; a whole town's 城关镇（全镇）), for pages that show notices beside other things."""
    wanted = sorted({n for n in notice_ids if n})
    rows = session.execute(select(Notice.id, Notice.town, Notice.village, Notice.posted_on)
                           .where(Notice.id.in_(wanted))).all() if wanted else []
    return {i: f"{town}{village or '（全镇）'} {posted.isoformat()} 公示" for i, town, village, posted in rows}


def objections_of(session: Session, notice_id: str) -> list[Objection]:
    return list(session.scalars(select(Objection).where(Objection.notice_id == notice_id)
                                .order_by(Objection.recorded_at, Objection.id)))


def open_objection_count(session: Session, notice_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Objection)
                          .where(Objection.notice_id == notice_id, Objection.status == "open")) or 0


def load_objection(session: Session, objection_id: str, principal: Principal | None, *,
                   for_update: bool = False) -> tuple[Objection, Notice]:
    objection = row_in_counties(session, Objection, objection_id, None, missing="异议不存在",
                                for_update=for_update)
    try:
        notice = load_notice(session, objection.notice_id, principal, for_update=for_update)
    except NotFound:
        raise NotFound("异议不存在") from None
    return objection, notice


_item, _notice, _objection = NoticeItem.__table__, Notice.__table__, Objection.__table__
CASE_NOTICE = Prepared(  # the case detail's: the latest notice the case stood on, and its row on it
    select(_notice.c.id.label("notice_id"), _notice.c.town, _notice.c.village, _notice.c.status, _notice.c.posted_on,
           _notice.c.ends_on, _notice.c.closed_on, _notice.c.document_sha256, _item.c.id.label("item_id"),
           _item.c.seq, _item.c.status.label("item_status"), _item.c.head_name, _item.c.household_size,
           _item.c.cause, _item.c.relief_amount)
    .join(_notice, _notice.c.id == _item.c.notice_id).where(_item.c.case_id == bindparam("case_id"))
    .order_by(_notice.c.posted_on.desc(), _notice.c.posted_at.desc()).limit(1))
CASE_OBJECTIONS = Prepared(  # the objections to the case's rows on every notice (the summary keeps the latest's)
    select(_objection.c.id, _objection.c.item_id, _objection.c.received_on, _objection.c.summary,
           _objection.c.status, _objection.c.resolution_note, _objection.c.resolved_at)
    .join(_item, _item.c.id == _objection.c.item_id).where(_item.c.case_id == bindparam("case_id"))
    .order_by(_objection.c.recorded_at, _objection.c.id))


def notice_summary(n: Any | None, objections: list[Any]) -> dict[str, Any] | None:
    """The latest notice the case stood on, its row and its objections, from its `CASE_NOTICE` and
    `CASE_OBJECTIONS` rows (None when it was never on a notice).

    Dates are ISO strings and money "0.00" strings, so the dict can go into any JSON response as it is.
    """
    if n is None:
        return None
    return {
        "notice_id": n.notice_id, "town": n.town, "village": n.village, "status": n.status,
        "posted_on": n.posted_on.isoformat(), "ends_on": n.ends_on.isoformat(),
        "closed_on": n.closed_on.isoformat() if n.closed_on else None,
        "document_sha256": n.document_sha256,
        "item": {"id": n.item_id, "seq": n.seq, "status": n.item_status, "head_name": n.head_name,
                 "household_size": n.household_size, "cause": n.cause,
                 "relief_amount": format_yuan(n.relief_amount)},
        "objections": [{"id": o.id, "received_on": o.received_on.isoformat(), "summary": o.summary,
                        "status": o.status, "resolution_note": o.resolution_note,
                        "resolved_at": o.resolved_at.isoformat() if o.resolved_at else None}
                       for o in objections if o.item_id == n.item_id],
    }


def notice_summary_for_case(reader: Reader, case_id: str) -> dict[str, Any] | None:
    notices, objections = reader.batch([(CASE_NOTICE, {"case_id": case_id}), (CASE_OBJECTIONS, {"case_id": case_id})])
    return notice_summary(notices[0] if notices else None, objections)


@dataclass(frozen=True)
class ClerkHome:
    """What waits for a town clerk on notices (the home page's cards): notices open, objections to resolve."""

    open_notices: int
    open_objections: int
    late_objections: int = 0  # of them, those typed after their notice closed (the closed notice lists them)


def open_objections_of(session: Session, notice_ids: list[str]) -> dict[str, int]:
    """How many objections of each of these notices (already read within the caller's counties) wait to be resolved:
    the notices list marks them, so that 待处理异议 on the clerk's home leads to the notice that has them."""
    if not notice_ids:
        return {}
    rows = session.execute(select(Objection.notice_id, func.count()).where(
        Objection.notice_id.in_(sorted(set(notice_ids))), Objection.status == "open").group_by(Objection.notice_id))
    return {notice_id: int(n) for notice_id, n in rows}


def clerk_home(session: Session, user: Principal) -> ClerkHome:
    objections = select(func.count()).select_from(Objection).join(Notice, Notice.id == Objection.notice_id) \
        .where(Objection.status == "open")
    notices = select(func.count()).select_from(Notice).where(Notice.status == "open")
    if user.counties:
        objections = objections.where(Notice.county_code.in_(user.counties))
        notices = notices.where(Notice.county_code.in_(user.counties))
    return ClerkHome(open_notices=session.scalar(notices) or 0, open_objections=session.scalar(objections) or 0,
                     late_objections=session.scalar(objections.where(Notice.status == "closed")) or 0)
