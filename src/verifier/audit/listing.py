"""The audit page's list of entries: newest first, those of the reader's counties, by action, searched by the
subject (a case, a batch, a user...) or by who acted (username or name); counted and cut into numbered pages. A
subject is found by its id or by what the pages show for it: a case by its number (340223-2026-000023), a payment
batch by its code (P261205…)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..payments.models import PaymentBatch
from ..store.tables import Case, User
from .models import AuditEntry


def find_entries(session: Session, principal: Principal, *, action: str = "", q: str = "", page: int = 1,
                 page_size: int = PAGE_SIZE) -> Paged[Any]:
    """Rows (idx, time, actor, role, action, subject, county_code) of one page."""
    stmt = (select(AuditEntry.idx, AuditEntry.time, AuditEntry.actor, AuditEntry.role, AuditEntry.action,
                   AuditEntry.subject, AuditEntry.county_code).order_by(AuditEntry.idx.desc()))
    if principal.counties:  # as the export and the entry lookup: the reader's counties only
        stmt = stmt.where(AuditEntry.county_code.in_(principal.counties))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    found = searched(q)
    if found is not None:
        stmt = stmt.where(found)
    return page_of(session, stmt, page, page_size, rows=True)


def searched(q: str) -> Any:
    """The entries a search finds (None: no search), the list's and the export's alike: by the subject's id, a
    case's number, a batch's code, or who acted (username or name)."""
    text = fold_search(q)
    if not text:
        return None
    who = select(User.id).where(text_search(text, (User.username, User.display_name)))
    cases = select(Case.id).where(Case.number.contains(text, autoescape=True))
    batches = select(PaymentBatch.id).where(PaymentBatch.code.contains(text.upper(), autoescape=True))
    return or_(AuditEntry.subject.contains(text, autoescape=True), AuditEntry.actor.in_(who),
               AuditEntry.subject.in_(cases), AuditEntry.subject.in_(batches))
