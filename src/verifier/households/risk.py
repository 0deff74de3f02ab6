"""Risk removed (风险消除): a county reviewer marks a household's risk as removed, with its evidence, or revokes the
mark with a reason (the risk returns). Each mark is a new row and an audit entry in the same transaction; the
household file shows them all, so its status over time is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain import risk
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..store.base import new_id
from ..store.tables import Household
from .models import HouseholdRiskEvent

REMOVED = "household.risk_removed"
RESTORED = "household.risk_restored"
MARKERS = ("county_reviewer",)
"""Only the county decides that a household's risk is removed: the insurer, whose relief it would end, may not."""


def load_household(session: Session, household_id: str, principal: Principal | None, *,
                   for_update: bool = False) -> Household:
    """The household, if it exists and lies in the caller's counties (otherwise 404: nothing leaks)."""
    stmt = select(Household).where(Household.id == household_id)
    household = session.scalar(stmt.with_for_update() if for_update else stmt)
    if household is None or (principal is not None and not principal.may_see_county(household.county_code)):
        raise NotFound("没有这一户（或不在您负责的县区）")
    return household


def events(session: Session, household_id: str) -> list[HouseholdRiskEvent]:
    """The household's marks, oldest first."""
    return list(session.scalars(select(HouseholdRiskEvent).where(HouseholdRiskEvent.household_id == household_id)
                                .order_by(HouseholdRiskEvent.seq)))


def status_of(session: Session, household_id: str) -> str:
    """at_risk (never marked), removed, or restored (the latest mark revoked)."""
    latest = session.scalar(select(HouseholdRiskEvent.status).where(HouseholdRiskEvent.household_id == household_id)
                            .order_by(HouseholdRiskEvent.seq.desc()).limit(1))
    return latest or "at_risk"


@dataclass(frozen=True)
class Removal:
    evidence_kind: str
    evidence_on: date | None
    note: str
    months: int | None = None


def _guard(principal: Principal) -> str:
    if not principal.has(*MARKERS):
        raise Forbidden("只有县级审核人员可以标记或撤销风险消除")
    return principal.acting_role(MARKERS)


def _add(session: Session, household: Household, *, action: str, status: str, kind: str | None, months: int | None, on: date,
         note: str, principal: Principal, role: str, clock: Clock) -> HouseholdRiskEvent:
    seq = (session.scalar(select(func.max(HouseholdRiskEvent.seq))
                          .where(HouseholdRiskEvent.household_id == household.id)) or 0) + 1
    row = HouseholdRiskEvent(id=new_id("hrisk"), household_id=household.id, county_code=household.county_code,
                             seq=seq, status=status, evidence_kind=kind, months=months, evidence_on=on, note=note,
                             recorded_by=principal.id, recorded_at=clock.now())
    session.add(row)
    session.flush()
    payload = {"seq": seq, "status": status, "day": on.isoformat(), "note_sha256": audit.text_digest(note)}
    if kind is not None:
        payload["evidence_kind"] = kind
    if months is not None:
        payload["months"] = months
    audit.append(session, actor=principal.id, role=role, clock=clock, county_code=household.county_code,
                 action=action,
                 subject=household.id, payload=payload)
    return row


def mark_removed(session: Session, household_id: str, data: Removal, *, principal: Principal,
                 clock: Clock) -> HouseholdRiskEvent:
    household = load_household(session, household_id, principal, for_update=True)
    role = _guard(principal)
    problems = risk.removal_problems(kind=data.evidence_kind, months=data.months, evidence_on=data.evidence_on,
                                     note=data.note, today=clock.today())
    if problems:
        raise ValidationFailed(problems)
    refused = risk.refusal(status_of(session, household.id), "remove")
    if refused:
        raise InvalidState(refused)
    assert data.evidence_on is not None
    return _add(session, household, action=REMOVED, status="removed", kind=data.evidence_kind, months=data.months,
                on=data.evidence_on, note=data.note.strip(), principal=principal, role=role, clock=clock)


def revoke(session: Session, household_id: str, *, on: date | None, reason: str, principal: Principal,
           clock: Clock) -> HouseholdRiskEvent:
    household = load_household(session, household_id, principal, for_update=True)
    role = _guard(principal)
    problems = risk.revocation_problems(on=on, reason=reason, today=clock.today())
    if problems:
        raise ValidationFailed(problems)
    refused = risk.refusal(status_of(session, household.id), "revoke")
    if refused:
        raise InvalidState(refused)
    assert on is not None
    return _add(session, household, action=RESTORED, status="restored", kind=None, months=None, on=on, note=reason.strip(),
                principal=principal, role=role, clock=clock)
