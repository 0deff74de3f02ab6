"""The fund a contract's batches draw on, as its ledger tells it (see payments/ledger.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import NotFound, ValidationFailed
from ..domain.money import format_yuan
from ..store import contracts as contract_store
from ..store.tables import ContractRow
from . import ledger
from .schemas import MovementOut, MovementPage


def _visible_contract(session: Session, contract_id: str | None, principal: Principal) -> str:
    if not contract_id:
        ids = [r.id for r in session.scalars(select(ContractRow).order_by(ContractRow.period_start))
               if not principal.counties or set(r.county_codes) & set(principal.counties)]
        if len(ids) != 1:
            raise ValidationFailed.one("contract_id", "请选择服务合同" + (f"（{', '.join(ids)}）" if ids else ""))
        return ids[0]
    row = session.get(ContractRow, contract_id)
    if row is None or (principal.counties and not set(row.county_codes) & set(principal.counties)):
        raise NotFound("服务合同不存在")
    return row.id


def fund_summary(session: Session, contract_id: str | None, principal: Principal) -> dict[str, Any]:
    """The contract's fund from its ledger; before the ledger's first use, the budget the contract grants."""
    contract = contract_store.get_contract(session, _visible_contract(session, contract_id, principal))
    opened = ledger.is_open(session, contract.id)
    figures = ledger.balances(session, contract.id) if opened else ledger.Balances(
        budget=contract.budget, balance=contract.budget)
    return {"contract_id": contract.id, **figures.as_yuan(), "service_fee_rate": str(contract.service_fee_rate),
            "opened": opened}


def fund_movements(session: Session, contract_id: str | None, principal: Principal, *, limit: int = 100,
                   cursor: int | None = None) -> MovementPage:
    cid = _visible_contract(session, contract_id, principal)
    rows = ledger.movements(session, cid, limit=limit + 1, cursor=cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [MovementOut(id=m.id, kind=m.kind, key=m.key, amount=format_yuan(m.amount), debit=ledger.MOVEMENTS[m.kind][0],
                         credit=ledger.MOVEMENTS[m.kind][1], batch_id=m.batch_id, return_id=m.return_id, note=m.note,
                         created_by=m.created_by, created_at=m.created_at) for m in rows]
    return MovementPage(items=items, next_cursor=rows[-1].id if more and rows else None)
