"""Contracts in the database: added once, never changed (a new version is a new contract id)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..audit import log as audit
from ..clock import Clock
from ..contract import Contract, check_contract_text, overlap_problems, remember_names
from ..domain.errors import FieldError, InvalidState, NotFound, ValidationFailed
from .reader import Prepared, Reader, Steps, session_reader
from .tables import ContractRow

PENDING, ACCEPTED, REFUSED = "pending", "accepted", "refused"


@lru_cache(maxsize=64)
def _parse(source: str) -> Contract:
    contract, problems = check_contract_text(source.encode("utf-8"))
    if contract is None:  # stored contracts were checked on the way in
        raise ValidationFailed(problems)
    remember_names(contract)
    return contract


def contract_from_row(row: ContractRow) -> Contract:
    return _parse(row.source)


_contract = ContractRow.__table__
_CONTRACT_HASH = Prepared(select(_contract.c.content_hash).where(_contract.c.id == bindparam("id")))
_CONTRACT_HASHES = Prepared(select(_contract.c.id, _contract.c.content_hash, _contract.c.status)
                            .order_by(_contract.c.period_start, _contract.c.id))
_known: dict[tuple[str, str], Contract] = {}
"""Contracts already parsed, by id and content hash (a contract never changes: a new version is a new id)."""


_CONTRACT_SOURCE = Prepared(select(_contract.c.source).where(_contract.c.id == bindparam("id")))


def all_contracts(session: Session) -> list[Contract]:
    """Every contract, by the start of its period (their texts parsed once per process, see `get_contract`)."""
    return read_contracts(session_reader(session))


CONTRACT_HASHES = _CONTRACT_HASHES
"""Every contract's id, content hash and status, by the start of its period (for `contracts_of`, in a reader's
batch; the case list marks the cases of a contract not in force by its status)."""


def read_contracts(reader: Reader) -> list[Contract]:
    """`all_contracts` through a reader (store/reader.py): one read of the hashes, a text only when not yet parsed."""
    return contracts_of(reader, reader.all(_CONTRACT_HASHES))


def contracts_of(reader: Reader, rows: list[Any]) -> list[Contract]:
    """The contracts of `CONTRACT_HASHES`' rows (a text read only when not yet parsed)."""
    return reader.run(contracts_steps(rows))


def contracts_steps(rows: list[Any]) -> Steps[list[Contract]]:
    """`contracts_of` as a read in steps (store/reader.py): the texts not yet parsed are read in one batch."""
    unknown = [r for r in rows if (r.id, r.content_hash) not in _known]
    sources = (yield [(_CONTRACT_SOURCE, {"id": r.id}) for r in unknown]) if unknown else []
    parsed: dict[tuple[str, str], Contract] = {}
    for r, source in zip(unknown, sources):
        assert source, "contracts are never deleted"
        contract = parsed[(r.id, r.content_hash)] = _parse(source[0].source)
        if contract.content_hash == r.content_hash:
            _known[(r.id, r.content_hash)] = contract
    return [parsed[key] if key in parsed else _known[key] for key in ((r.id, r.content_hash) for r in rows)]


def get_contract(session: Session, contract_id: str) -> Contract:
    """The contract of that id (most requests price or date something by their case's contract: one short read
    of its hash, the text parsed once per process)."""
    reader = session_reader(session)
    row = reader.first(_CONTRACT_HASH, {"id": contract_id})
    if row is None:
        raise NotFound(f"服务合同 {contract_id} 不存在")
    found = _known.get((contract_id, row.content_hash))
    if found is None:
        stored = session.get(ContractRow, contract_id)
        assert stored is not None
        found = contract_from_row(stored)
        if found.content_hash == row.content_hash:
            _known[(contract_id, row.content_hash)] = found
    return found


def known_contract(session: Session, contract_id: str, content_hash: str) -> Contract:
    """`get_contract` when its content hash was read already (with the row that names the contract)."""
    return _known.get((contract_id, content_hash)) or get_contract(session, contract_id)


_CONTRACT_STATUS = Prepared(select(_contract.c.status, _contract.c.title)
                            .where(_contract.c.id == bindparam("id")))


def status_of(session: Session, contract_id: str) -> str:
    """`pending`, `accepted` or `refused` (contract_review/service.py)."""
    row = session_reader(session).first(_CONTRACT_STATUS, {"id": contract_id})
    if row is None:
        raise NotFound(f"服务合同 {contract_id} 不存在")
    return str(row.status)


def refused_ids(session: Session) -> set[str]:
    """The contracts a county refused: they never come into force and block no other contract's period."""
    return set(session.scalars(select(ContractRow.id).where(ContractRow.status == REFUSED)))


def require_accepted(session: Session, contract_id: str, what: str) -> None:
    """409 unless the county has accepted the contract: a loaded contract prices nothing, opens no sampling round
    and signs off nothing until a county reviewer of every county it covers accepts it."""
    row = session_reader(session).first(_CONTRACT_STATUS, {"id": contract_id})
    refusal = _not_accepted(contract_id, row, what)
    if refusal is not None:
        raise refusal


def not_accepted(session: Session, contract_ids: set[str], what: str) -> dict[str, Exception]:
    """Per contract of `contract_ids` the county has not accepted, what `require_accepted` raises: one statement."""
    rows = {r.id: r for r in session.execute(select(ContractRow.id, ContractRow.status, ContractRow.title)
                                             .where(ContractRow.id.in_(sorted(contract_ids))))}
    return {c: e for c in sorted(contract_ids) if (e := _not_accepted(c, rows.get(c), what)) is not None}


def _not_accepted(contract_id: str, row: Any, what: str) -> Exception | None:
    if row is None:
        return NotFound(f"服务合同 {contract_id} 不存在")
    if row.status == ACCEPTED:
        return None
    if row.status == REFUSED:
        return InvalidState(f"服务合同 {contract_id}（{row.title}）已被县级复核员拒绝确认，不生效：不能{what}")
    return InvalidState(f"服务合同 {contract_id}（{row.title}）待县审核确认：合同载入后须由所覆盖每个县（区）的县级复核员"
                        f"核对并确认，才能{what}")


def contract_for(session: Session, county_code: str, on: date) -> Contract | None:
    """The contract for a county on a day (at most one: overlaps are refused on the way in), accepted or still
    pending; never one the county refused."""
    for row in session.scalars(
        select(ContractRow).where(ContractRow.period_start <= on, ContractRow.period_end >= on,
                                  ContractRow.status != REFUSED)
    ):
        if county_code in row.county_codes:
            return contract_from_row(row)
    return None


def add_contract(session: Session, contract: Contract, *, actor: str, role: str, clock: Clock) -> bool:
    """Add a contract, pending the county's acceptance; False when this exact contract is already there. Refuses
    overlaps (with any contract the county has not refused) and changed versions."""
    existing = session.get(ContractRow, contract.id)
    if existing is not None:
        if existing.content_hash == contract.content_hash:
            return False
        raise ValidationFailed([FieldError(
            "id",
            f"contract {contract.id} is already loaded with different content (hash {existing.content_hash[:12]}…); "
            "a changed contract is a new version: give it a new id",
        )])
    refused = refused_ids(session)
    problems = overlap_problems([c for c in all_contracts(session) if c.id not in refused] + [contract])
    if problems:
        raise ValidationFailed(problems)
    session.add(ContractRow(
        status=PENDING,  # prices nothing until the county accepts it (contract_review/service.py)
        id=contract.id,
        content_hash=contract.content_hash,
        title=contract.spec.title,
        county_codes=list(contract.county_codes),
        period_start=contract.start,
        period_end=contract.end,
        budget=contract.budget,
        source=contract.source,
        loaded_at=clock.now(),
    ))
    session.flush()
    audit.append(
        session,
        actor=actor,
        role=role,
        action="contract.add",
        subject=contract.id,
        contract_hash=contract.content_hash,
        payload={"title": contract.spec.title, "county_codes": list(contract.county_codes),
                 "start": contract.start.isoformat(), "end": contract.end.isoformat(), "status": PENDING},
        clock=clock,
    )
    remember_names(contract)  # stored now: its names are the pages' as if read back
    return True


def default_day(session: Session, county_codes: list[str], today: date) -> date:
    """The date a form proposes: today when a contract is in force for one of `county_codes` (all counties when
    empty), else the last day of the nearest contract that has ended (a form then records past work inside it).
    Today when there is none, or only contracts still to come (dates after today are refused anyway)."""
    ended: list[date] = []
    for row in session.scalars(select(ContractRow)):
        if county_codes and not set(county_codes) & set(row.county_codes):
            continue
        if row.period_start <= today <= row.period_end:
            return today
        if row.period_end < today:
            ended.append(row.period_end)
    return max(ended, default=today)

def county_names(session: Session) -> dict[str, str]:
    """Every county's name as its contracts give it (the latest contract that names it); a county no contract names
    is absent (show its code)."""
    names: dict[str, str] = {}
    for contract in all_contracts(session):  # oldest first: a later contract's name wins
        for code in contract.county_codes:
            name = contract.county_name(code)
            if name:
                names[code] = name
    return names


def counties_named(session: Session, text: str) -> list[str]:
    """The codes of the counties whose name (`county_names`) holds `text`, for a search box: 示范 finds 示范县."""
    return sorted(code for code, name in county_names(session).items() if text and text in name)


def cause_name(session: Session, code: str) -> str:
    """The Chinese name the latest contract declaring cause `code` gives it; the code when none does."""
    for contract in reversed(all_contracts(session)):
        cause = contract.cause_table.cause(code)
        if cause is not None:
            return cause.name
    return code


def county_label(session: Session, code: str) -> str:
    """"南陵县（340223）", or the code alone when no contract names the county."""
    name = county_names(session).get(code)
    return f"{name}（{code}）" if name else code
