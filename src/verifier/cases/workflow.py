"""Moving a case through its lifecycle: the table in `domain.lifecycle` decides, the audit log records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import NotFound
from ..domain.lifecycle import next_status
from ..payments import year_paid
from ..store.tables import Case


# Built once: a statement built per call costs more than the query itself (see the README's Performance).
_CASE = select(Case).where(Case.id == bindparam("case_id"))
_CASE_READ = _CASE.options(joinedload(Case.household, innerjoin=True))  # the household's head is shown with it
# Locked, the row is read again even when the session holds the case already (read before the lock, its status may
# be one another writer has since moved on).
_CASE_FOR_UPDATE = _CASE.with_for_update().execution_options(populate_existing=True)
_HOUSEHOLD_OF = select(Case.household_id).where(Case.id == bindparam("case_id"))


def load_case(session: Session, case_id: str, principal: Principal | None, *, for_update: bool = False) -> Case:
    """The case, if it exists and lies in the caller's counties (otherwise 404: nothing leaks)."""
    case = session.scalar(_CASE_FOR_UPDATE if for_update else _CASE_READ, {"case_id": case_id})
    if case is None or (principal is not None and not principal.may_see_county(case.county_code)):
        raise NotFound("案件不存在")
    return case


def load_case_for_year(session: Session, case_id: str, principal: Principal | None) -> Case:
    """`load_case` locked, for a step that reads and then adds to the household's year (payments/year_paid.py: a
    determination, a held case's re-determination, its proposal's confirmation): the household's row is locked
    before the case's, the order of a household's merge or split (households/service/changes.py locks the
    households, then their cases); the other way round, the two would each wait for the other on PostgreSQL. A merge
    that moved the case meanwhile: its new household is locked too."""
    household_id = session.scalar(_HOUSEHOLD_OF, {"case_id": case_id})
    if household_id is not None:
        year_paid.lock(session, household_id)
    case = load_case(session, case_id, principal, for_update=True)
    if case.household_id != household_id:
        year_paid.lock(session, case.household_id)
    return case


def advance(
    session: Session,
    case: Case,
    action: str,
    *,
    actor: Principal | None,
    role: str,
    clock: Clock,
    payload: dict[str, Any] | None = None,
    audit_action: str | None = None,
) -> None:
    """Apply a lifecycle action (refused with 409 when the table does not allow it) and log it."""
    before = case.status
    case.status = str(next_status(case.status, action))
    case.updated_at = clock.now()
    case.version += 1
    session.flush()
    audit.append(
        session,
        actor=actor.id if actor else "system",
        role=role,
        action=audit_action or f"case.{action}",
        subject=case.id,
        contract_hash=case.contract_hash,
        payload={"from": before, "to": case.status, **(payload or {})},
        clock=clock,
    )
