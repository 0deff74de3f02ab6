"""Recording a look at a household's personal data (查阅留痕), in the look's own transaction: when the row cannot be
written the transaction fails and the look is refused (nothing is served), so no look goes unrecorded.

One row a person, household, case, kind, route and day (an upsert that counts the looks: a case page showing twelve
photo thumbnails is twelve looks on one row, one statement each). The first look of a day also goes into the audit
log (`personal.view`), so the day's looks of each person at each household cannot be deleted unseen; the later ones
only count on the row. An export is in the log already (`household.export`, each one), so its row logs nothing more.

Not recorded: the officers at the door (`cases.personal.at_the_door`), who see the household's details to do the
visit, and what every reader sees masked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases import personal
from ..clock import Clock
from ..domain.errors import Forbidden
from ..store.tables import Case, Visit
from .models import PersonalView

ACTION = "personal.view"
PHONE_REFUSED = "只有负责该户走访的核查员和保险公司主管可以查看完整电话号码"
PHONE_ASKERS = personal.PHONE_READERS
"""Who may ask for a household's phone in full (recorded); the officers at the door see it without asking."""


def record(session: Session, principal: Principal, *, kind: str, route: str, household_id: str, county_code: str,
           case_id: str = "", clock: Clock, logged: bool = True) -> int:
    """Count one look on its day's row (made by the first); the first of the day logged (`logged`). The looks of
    the row so far."""
    table = PersonalView.__table__
    now = clock.now()
    day = clock.today()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(day=day, user_id=principal.id, role=principal.main_role, county_code=county_code,
                                household_id=household_id, case_id=case_id, kind=kind, route=route, looks=1,
                                first_at=now, last_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day, table.c.user_id, table.c.kind, table.c.route, table.c.household_id,
                        table.c.case_id],
        set_={"looks": table.c.looks + 1, "last_at": now}).returning(table.c.id, table.c.looks)
    row_id, looks = session.execute(stmt).one()
    if looks == 1 and logged:
        # subject: the row, not the case or household, whose histories list their steps, not who read them
        audit.append(session, actor=principal.id, role=principal.main_role, action=ACTION,
                     subject=f"personal_view:{row_id}", county_code=county_code, clock=clock,
                     payload={"kind": kind, "route": route, "household_id": household_id, "case_id": case_id or None,
                              "day": day.isoformat()})
    return int(looks)


def at_the_door_of(session: Session, principal: Principal, household_id: str) -> bool:
    """An officer at the door of one of the household's cases (its visit assigned to him, the check still to do)."""
    if not principal.has("field_officer"):
        return False
    rows = session.execute(select(Case, Visit).join(Visit, Visit.case_id == Case.id)
                           .where(Case.household_id == household_id, Case.status == "scheduled",
                                  Visit.active.is_(True))).tuples()
    return any(personal.at_the_door(principal, case, visit) for case, visit in rows)


def evidence(session: Session, principal: Principal, case: Case, visit: Visit | None, *, route: str,
             clock: Clock) -> None:
    """An evidence file of the case opened: recorded unless its reader is at the door."""
    if not personal.at_the_door(principal, case, visit):
        record(session, principal, kind="evidence", route=route, household_id=case.household_id,
               county_code=case.county_code, case_id=case.id, clock=clock)


def household_file(session: Session, principal: Principal, household_id: str, county_code: str, *, route: str,
                   clock: Clock, export: bool = False) -> None:
    """The household file opened (or exported): recorded unless its reader is at the door of one of its cases."""
    if not at_the_door_of(session, principal, household_id):
        record(session, principal, kind="household_export" if export else "household_file", route=route,
               household_id=household_id, county_code=county_code, clock=clock, logged=not export)


def phone_asked(session: Session, principal: Principal, *, household_id: str, county_code: str, at_door: bool,
                route: str, clock: Clock, case_id: str = "", shown: bool = True) -> None:
    """The household's phone shown in full on asking (显示完整号码): the officers at the door (`at_door`) see it without
    a record; an insurer supervisor's ask is recorded when a number was shown (`shown`: a household without one shows
    未登记 and leaves no look); anyone else is refused (403)."""
    may_ask(principal, at_door=at_door)
    if at_door or not shown:
        return
    record(session, principal, kind="phone", route=route, household_id=household_id, county_code=county_code,
           case_id=case_id, clock=clock)


def may_ask(principal: Principal, *, at_door: bool) -> None:
    """Forbidden unless the caller may see the phone in full on asking (or at the door, without asking)."""
    if not at_door and not principal.has(*PHONE_ASKERS):
        raise Forbidden(PHONE_REFUSED)
