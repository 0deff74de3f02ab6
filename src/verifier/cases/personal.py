"""Who sees a case's personal details: full ID numbers, the household's phone and the evidence files.

The two officers assigned to the case's visit compare ID cards with what was referred and photograph the
household's papers, so they see full ID numbers and the evidence while the check is still to be recorded; once
it is recorded (and on every case not assigned to them) they see 6+4 masks and no evidence. Supervisors, county
reviewers and auditors read the evidence of every case in their counties; nobody else sees full ID numbers.
The household's phone is the same: in full (to call ahead of the visit) only to the officers at the door, masked
(138****5678) to everyone else; an insurer supervisor may ask for it in full (显示完整号码), and the ask is recorded
(peeks/record.py: who looked at a household's personal data).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.tables import Case, Household, Referral, Visit
from ..store.vault import Vault

EVIDENCE_READERS = ("insurer_supervisor", "county_reviewer", "auditor")
"""The roles that read the evidence of every case in their counties (officers: see `at_the_door`)."""


def at_the_door(principal: Principal, case: Case, visit: Visit | None) -> bool:
    """An officer assigned to the case's active visit, before the check is recorded."""
    return (case.status == "scheduled" and visit is not None and visit.active
            and principal.has("field_officer") and principal.id in visit.officer_ids)


def sees_full_ids(principal: Principal, case: Case, visit: Visit | None) -> bool:
    return at_the_door(principal, case, visit)


def may_read_evidence(principal: Principal, case: Case, visit: Visit | None) -> bool:
    return principal.has(*EVIDENCE_READERS) or at_the_door(principal, case, visit)


PHONE_READERS = ("insurer_supervisor",)
"""The roles that may ask for a household's phone in full in their counties (they plan the visits): each ask
recorded (peeks/record.py `phone_asked`), never on a plain read."""


def sees_full_phone(principal: Principal, case: Case, visit: Visit | None) -> bool:
    """A household's phone in full without asking: for the officers assigned to its visit while the check is still to
    be made (they call ahead, find the house); masked (138****5678) for everyone else, supervisors too."""
    return at_the_door(principal, case, visit)


def household_phone(session: Session, vault: Vault, household: Household) -> str:
    """The household's phone: its own, else the latest one a referral of any of its cases gave; "" when none did.
    The one source of the number the household file, the route sheet and the phone ask show."""
    if household.phone_enc is not None:
        return vault.open(household.phone_enc, "household.phone")
    latest = session.scalar(select(Referral.phone_enc).join(Case, Case.id == Referral.case_id)
                            .where(Case.household_id == household.id, Referral.phone_enc.is_not(None))
                            .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(1))
    return vault.open(latest, "referral.phone") if latest is not None else ""
