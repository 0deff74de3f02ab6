"""What the pages read of the contracts (the contract stage's read side): the day a form proposes, the counties a
user may pick from and their names, the contracts a user's page lists. The pages under `web/` read these here, not
the contracts' table (`store/contracts.py`) themselves."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..contract import Contract
from ..store import contracts as contract_store


def form_day(session: Session, county_codes: Iterable[str], today: date) -> date:
    """The day a form proposes for `county_codes` (all counties when none): today inside a contract in force, else
    the last day of the nearest contract that has ended (`store.contracts.default_day`)."""
    return contract_store.default_day(session, list(county_codes), today)


def county_names(session: Session) -> dict[str, str]:
    """Every county's name as its latest contract gives it (a county no contract names is absent)."""
    return contract_store.county_names(session)


def county_label(session: Session, code: str) -> str:
    """"南陵县（340223）", or the code alone when no contract names the county."""
    return contract_store.county_label(session, code)


def contract(session: Session, contract_id: str) -> Contract:
    """The contract of that id (parsed once per process)."""
    return contract_store.get_contract(session, contract_id)


def contracts_for(session: Session, user: Principal) -> list[Contract]:
    """The contracts of the user's counties (every one when the user has no county limit), by their start."""
    return [c for c in contract_store.all_contracts(session)
            if not user.counties or set(c.county_codes) & set(user.counties)]


def counties_for(session: Session, user: Principal) -> list[str]:
    """The counties a user may pick from: their own, or every county under a contract when unrestricted."""
    if user.counties:
        return list(user.counties)
    return counties_in(user, contract_store.all_contracts(session))


def counties_in(user: Principal, contracts: Iterable[Contract]) -> list[str]:
    """`counties_for` given every contract (read already with the page's other reads)."""
    if user.counties:
        return list(user.counties)
    return sorted({c for contract in contracts for c in contract.county_codes})
