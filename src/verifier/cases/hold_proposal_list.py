"""The re-determinations against the county's finding of a county reviewer's counties as the list page
(/hold-proposals) finds them: those waiting (oldest first; `deciding`: those the user may answer, what the home card
counts) or those answered or
withdrawn (newest first), searched by the head's name, the case number or the village. A reviewer without a county
limit finds none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..sampling.models import CaseHold, CaseHoldProposal
from ..store.paged import Paged, page_of, text_search
from ..store.tables import Case, Household
from . import hold_proposals, holds

VIEWS = ("", "done")  # "": waiting; "done": confirmed, declined or withdrawn


def to_decide(session: Session, principal: Principal) -> list[str]:
    """The cases whose waiting proposal the user may answer (`hold_proposals.answers_refused` says nothing against),
    of the user's counties: what the home page's card counts."""
    waiting = list(session.scalars(select(CaseHoldProposal.case_id).where(
        CaseHoldProposal.status == "waiting", CaseHoldProposal.county_code.in_(sorted(principal.counties)))))
    refused = hold_proposals.answers_refused(session, waiting, principal)
    return sorted(case_id for case_id, why in refused.items() if why is None)


def find(session: Session, principal: Principal, *, view: str = "", q: str = "", page: int = 1,
         page_size: int = 50, deciding: bool = False) -> Paged[dict[str, Any]]:
    """One page of the user's counties' proposals in `view`, each with its case's number, head and village, and
    whether it was withdrawn while its hold stayed (`stale`: `holds.proposal_stale`);
    `deciding` (waiting ones only): those the user may answer (`to_decide`)."""
    waiting = view != "done"
    stmt = (select(CaseHoldProposal, Case.number, Case.town, Case.village, Household.head_name, CaseHold.status)
            .join(Case, Case.id == CaseHoldProposal.case_id).join(Household, Household.id == Case.household_id)
            .join(CaseHold, CaseHold.id == CaseHoldProposal.hold_id)
            .where(CaseHoldProposal.county_code.in_(sorted(principal.counties)),
                   (CaseHoldProposal.status == "waiting") if waiting else (CaseHoldProposal.status != "waiting")))
    if deciding and waiting:
        stmt = stmt.where(CaseHoldProposal.case_id.in_(to_decide(session, principal)))
    if q:
        stmt = stmt.where(text_search(q, [Household.head_name, Case.number, Case.village]))
    if waiting:
        stmt = stmt.order_by(CaseHoldProposal.proposed_at, CaseHoldProposal.id)
    else:
        stmt = stmt.order_by(func.coalesce(CaseHoldProposal.answered_at, CaseHoldProposal.proposed_at).desc(),
                             CaseHoldProposal.id)
    found = page_of(session, stmt, page, page_size, rows=True)
    # `stale`: withdrawn while its hold stayed (the county's finding changed), not with the hold (`proposal_stale`)
    return found.map(lambda row: {**holds.proposal_out(row[0]), "case_id": row[0].case_id, "number": row[1],
                                  "town": row[2], "village": row[3], "head_name": row[4],
                                  "stale": holds.proposal_stale(row[0].status, row[5], row[0].withdrawn_by_side),
                                  "by_supervisor": holds.withdrawn_by_supervisor(row[0].status,
                                                                                 row[0].withdrawn_by_side)})
