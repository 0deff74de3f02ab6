"""An officer's route sheet for a day (走访路线单): the households they visit that day, in order of town and village,
with the address, the phone (in full only as cases/personal.py allows: a supervisor asks for it on the household file,
recorded) and the partner officer and vehicle.

A field officer prints their own sheet; an insurer supervisor prints any officer's of their counties, or all of a
day's sheets at once (one page each). On today's sheet and later ones, a visit its officer would be refused on (stale,
or barred by rotation now: `service.stopped_officers`) is no stop: it is listed apart, 已停用（须改派）, with why; a past
day's sheet stays as it was printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import Forbidden
from ..domain.masking import mask_phone
from ..store.tables import Case, User, Visit, VisitAttempt
from ..store.vault import Vault
from .personal import household_phone, sees_full_phone
from .service import RECHECK, stale_whys, stopped_officers

READERS = ("field_officer", "insurer_supervisor")


@dataclass
class Stop:
    order: int
    case_id: str
    household_id: str
    head_name: str
    town: str
    village: str
    address: str
    phone: str  # "" when none was given
    phone_masked: bool
    partners: list[str]
    vehicle: str


@dataclass
class RouteSheet:
    officer_id: str
    officer_name: str
    day: date
    stops: list[Stop] = field(default_factory=list)
    stopped: list[tuple[Stop, str]] = field(default_factory=list)  # today or later: no work (已停用（须改派）), why


def phone_of(session: Session, vault: Vault, case: Case) -> str:
    """The household's phone, else the latest one a referral of its cases gave (`personal.household_phone`)."""
    return household_phone(session, vault, case.household)


def route_sheets(session: Session, principal: Principal, vault: Vault, *, day: date,
                 officer_id: str | None, today: date | None = None) -> list[RouteSheet]:
    """The sheets of `day`: the one of `officer_id`, or (supervisors, with None) of every officer with visits that
    day. An officer may print only their own (Forbidden otherwise). `day` not before `today`: the visits an officer
    would be refused on are apart (`RouteSheet.stopped`)."""
    if not principal.has("insurer_supervisor"):
        if not principal.has("field_officer") or (officer_id or principal.id) != principal.id:
            raise Forbidden("核查员只能打印本人的走访路线单")
        officer_id = principal.id
    # The day's visits: still planned, or ended by a visit that found nobody (it was walked all the same).
    attempted = select(VisitAttempt.visit_id).where(VisitAttempt.visit_id.is_not(None))
    stmt = (select(Visit, Case).join(Case, Case.id == Visit.case_id)
            .where(Visit.visit_on == day, or_(Visit.active.is_(True), Visit.id.in_(attempted)))
            .order_by(Case.town, Case.village, Case.id))
    if principal.counties:
        stmt = stmt.where(Case.county_code.in_(principal.counties))
    rows = [(v, c) for v, c in session.execute(stmt).tuples() if officer_id is None or officer_id in v.officer_ids]
    stopped: dict[str, dict[str, str]] = {}
    if today is not None and day >= today:
        # today and later: a visit its officer would be refused on (stale, or barred by rotation now) is apart
        stopped = stopped_officers(session, rows)
    else:
        # not a visit held by an officer of the checks in doubt of a case checked again (`service.stale_whys`'
        # RECHECK): no stop; a past day's visit the rotation rule ended since stays as the day printed it
        stale = {v for v, why in stale_whys(session, [v for v, _ in rows if v.active]).items() if why == RECHECK}
        rows = [(v, c) for v, c in rows if v.id not in stale]
    officers = sorted({o for v, _ in rows for o in v.officer_ids if officer_id is None or o == officer_id})
    if officer_id is not None and officer_id not in officers:
        officers = [officer_id]
    names = dict(session.execute(select(User.id, User.display_name)
                                 .where(User.id.in_({o for v, _ in rows for o in v.officer_ids} | set(officers))))
                 .tuples().all())
    sheets = []
    for officer in officers:
        sheet = RouteSheet(officer_id=officer, officer_name=names.get(officer, ""), day=day)
        for visit, case in rows:
            if officer not in visit.officer_ids:
                continue
            why = stopped.get(visit.id, {}).get(officer)
            phone = phone_of(session, vault, case) if why is None else ""  # no work: no call to make
            full = sees_full_phone(principal, case, visit)
            stop = Stop(
                order=len(sheet.stops) + 1, case_id=case.id, household_id=case.household_id, head_name=case.household.head_name, town=case.town,
                village=case.village, address=f"{case.town}{case.village}", phone=phone if full else mask_phone(phone),
                phone_masked=bool(phone) and not full,
                partners=[names.get(o, "") for o in visit.officer_ids if o != officer], vehicle=visit.vehicle or "")
            if why is None:
                sheet.stops.append(stop)
            else:
                sheet.stopped.append((stop, why))
        sheets.append(sheet)
    return sheets
