"""Moving a case through its lifecycle: the table in `domain.lifecycle` decides, the audit log records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import NotFound
from ..domain.lifecycle import next_status
from ..store.tables import Case


def load_case(session: Session, case_id: str, principal: Principal | None, *, for_update: bool = False) -> Case:
    """The case, if it exists and lies in the caller's counties (otherwise 404: nothing leaks)."""
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None or (principal is not None and not principal.may_see_county(case.county_code)):
        raise NotFound(f"no case {case_id!r}")
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
