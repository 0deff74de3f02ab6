"""The field officer's list of visits (a read model for the visits page): each card with the household's address and
phone as the application gave them (the phone in full for the officers at the door, `personal.sees_full_phone`),
and how many days the check is overdue; overdue visits first, the most overdue at the top. A visit the officer would be
refused on (a stale one, or one the rotation rule bars now: `service.stopped_visits`) is no work: it comes apart,
with what he would be told (已停用（须改派）)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.masking import mask_phone
from ..store.paged import fold_search, text_search
from ..store.tables import Case, Household, Visit
from ..store.vault import Vault
from . import personal
from .service import stopped_visits


@dataclass(frozen=True)
class VisitCard:
    visit: Visit
    case: Case
    head: str
    address: str  # town and village: what the application records
    phone: str | None  # as the user may see it: in full at the door, masked otherwise
    tel: str | None  # the number for a tel: link, only when shown in full
    overdue_days: int  # days past the check's due date (0: not overdue)
    stopped: str | None = None  # why the officer may not record on it (已停用（须改派）): `service.stopped_visits`


def visit_cards(session: Session, user: Principal, vault: Vault, today: date, q: str = "") -> list[VisitCard]:
    """The user's active visits to cases still waiting for their check, in their counties (those he may not record
    on, `service.stopped_visits`, with `stopped` saying why): overdue first (most
    overdue first), then by visit day, village and case. Searched (`q`, folded as every list's search is) by the
    head's name, the case number (or its last digits), the town or the village."""
    stmt = (select(Visit, Case, Household).join(Case, Case.id == Visit.case_id)
            .join(Household, Household.id == Case.household_id)
            .where(Visit.active.is_(True), Case.status == "scheduled"))
    if user.counties:
        stmt = stmt.where(Case.county_code.in_(user.counties))
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (Household.head_name, Case.number, Case.town, Case.village)))
    cards = []
    mine = [row for row in session.execute(stmt).tuples() if user.id in row[0].officer_ids]
    # a visit held by an officer of the checks in doubt of a case checked again (or a linked account), or one the
    # rotation rule bars now: no work, shown apart with why
    stopped = stopped_visits(session, user.id, [(visit, case) for visit, case, _ in mine])
    for visit, case, household in mine:
        number = vault.open_optional(household.phone_enc, "household.phone")
        full = bool(number) and personal.sees_full_phone(user, case, visit)
        cards.append(VisitCard(
            visit=visit, case=case, head=household.head_name, address=f"{case.town} {case.village}",
            phone=(number if full else mask_phone(number)) if number else None, tel=number if full else None,
            overdue_days=max(0, (today - visit.due_on).days), stopped=stopped.get(visit.id)))
    cards.sort(key=lambda c: (-c.overdue_days, c.visit.visit_on, c.case.village, c.case.id))
    return cards
