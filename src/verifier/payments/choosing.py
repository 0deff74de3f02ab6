"""Choosing a new batch's cases (生成支付批次): the county's cases ready to pay under one contract, searched as the
case lists are (household head's or a member's name, case number or its end, ID number or its last four,
`cases.listing.search_conditions`) and limited to a town or a village, with the count and total relief of those
chosen. Chosen cases are kept by the page whatever is shown; the count and total are this read's, not the browser's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases.listing import CaseQuery, search_conditions
from ..store.tables import Case, Determination, Household
from ..store.vault import Vault
from .service import _HELD

SHOW_AT_MOST = 500  # rows shown at once; a search or a town narrows a larger county


@dataclass(frozen=True)
class ReadyCase:
    case_id: str
    number: str
    head_name: str
    town: str
    village: str
    relief: int | None  # fen, of the latest confirmed determination


@dataclass
class Choice:
    county_code: str
    contract_id: str
    ready: int  # cases ready to pay under the contract
    matching: int  # of them, those the search and place match
    shown: list[ReadyCase] = field(default_factory=list)  # the first SHOW_AT_MOST matching
    places: list[tuple[str, str]] = field(default_factory=list)  # (town, village) of the cases ready
    chosen: list[str] = field(default_factory=list)  # chosen and still ready, in the order of the list
    chosen_fen: int = 0  # their relief added up
    chosen_relief: dict[str, int] = field(default_factory=dict)  # each one's relief, fen (none determined: 0)
    gone: list[str] = field(default_factory=list)  # chosen but no longer ready (paid, held, another county's)

    @property
    def towns(self) -> list[str]:
        return sorted({t for t, _ in self.places})


def choose_cases(session: Session, principal: Principal, vault: Vault, *, county_code: str, contract_id: str,
                 q: str = "", town: str = "", village: str = "", chosen: Sequence[str] | None = None,
                 show_at_most: int | None = None) -> Choice:
    """The cases ready to pay of the county and contract (NotFound/Forbidden outside the caller's counties), those
    matching `q`, `town` and `village` shown; `chosen` None is every case ready."""
    principal.require_county(county_code, "county")
    show_at_most = SHOW_AT_MOST if show_at_most is None else show_at_most
    ready_stmt = (select(Case.id, Case.number, Household.head_name, Case.town, Case.village)
                  .join(Household, Household.id == Case.household_id)
                  .where(Case.county_code == county_code, Case.contract_id == contract_id,
                         Case.status == "ready_to_pay", Case.id.not_in(_HELD))
                  .order_by(Case.town, Case.village, Case.number, Case.id))
    rows = session.execute(ready_stmt).all()
    relief: dict[str, tuple[object, str, int]] = {}
    for case_id, det_id, at, amount in session.execute(
            select(Determination.case_id, Determination.id, Determination.confirmed_at, Determination.relief)
            .join(Case, Case.id == Determination.case_id)
            .where(Case.county_code == county_code, Case.contract_id == contract_id,
                   Case.status == "ready_to_pay")):
        if case_id not in relief or (at, det_id) > relief[case_id][:2]:  # type: ignore[operator]
            relief[case_id] = (at, det_id, amount)
    cases = [ReadyCase(cid, number or "", head, t, v, relief[cid][2] if cid in relief else None)
             for cid, number, head, t, v in rows]
    by_id = {c.case_id: c for c in cases}
    query = CaseQuery(q=q or None, town=town or None, village=village or None)
    if q or town or village:
        matched = set(session.scalars(ready_stmt.with_only_columns(Case.id).order_by(None)
                                      .where(*search_conditions(session, principal, query, vault))))
        matching = [c for c in cases if c.case_id in matched]
    else:
        matching = cases
    picked = set(by_id) if chosen is None else set(chosen)
    kept = [c for c in cases if c.case_id in picked]
    return Choice(county_code=county_code, contract_id=contract_id, ready=len(cases), matching=len(matching),
                  shown=matching[:show_at_most], places=sorted({(c.town, c.village) for c in cases}),
                  chosen=[c.case_id for c in kept], chosen_fen=sum(c.relief or 0 for c in kept),
                  chosen_relief={c.case_id: c.relief or 0 for c in kept},
                  gone=[cid for cid in dict.fromkeys(chosen or ()) if cid not in by_id])
