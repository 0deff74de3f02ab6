"""The fund of each contract as a double-entry ledger: every movement is two postings that sum to zero.

Accounts (per contract; a posting's amount is signed fen, debit positive):

    grant        the purchaser's appropriation; its balance is minus the budget granted
    available    the fund's balance: granted, not committed, not spent
    committed    relief approved in a batch and not yet settled by the bank
    relief_paid  relief the bank confirmed as paid
    service_fee  the insurer's fee on relief actually paid
    relief_recovered  relief overpaid and repaid by the household (追回); its balance is minus what came back

Movements (debit ← credit):

    budget   available ← grant        once, when the ledger is first used for the contract (`open_fund`)
    commit   committed ← available    when finance approves a batch (its total)
    pay      relief_paid ← committed  when the bank confirms transfers (per imported return)
    release  available ← committed    when transfers fail, or an approved batch is cancelled
    fee      service_fee ← available  with each `pay`: the fee on the cumulative relief paid, less the fee already
                                      posted, so the fee is always exactly rate × relief paid (half up)
    recover  available ← relief_recovered   when a second person confirms a household's repayment of a recovery
                                      (key `recover:<repayment id>`: a repayment comes back once). relief_paid
                                      stays what the bank paid, so the fee is untouched.

Hence balance = budget − committed − paid − fee + recovered, and every figure of `GET /api/fund` is a sum of
postings.

An approval is refused when the balance could not also carry the fee the committed relief will cost once paid,
so the balance never goes below zero whatever the bank answers. The fund row is locked (`SELECT … FOR UPDATE`;
on SQLite the write transaction holds the database's write lock) by every movement: two approvals under one
contract are serialised and never spend the same balance. A movement's unique key (`commit:<batch>`,
`pay:<return>`, ...) lets the database refuse a movement posted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..audit.log import insert_ignore
from ..clock import Clock
from ..contract import Contract
from ..domain.errors import InvalidState
from ..domain.money import apply_rate, format_yuan
from ..store.paged import Paged, fold_search, page_of, text_search
from .ledger_models import Fund, FundMovement, FundPosting
from .models import PaymentBatch

GRANT = "grant"
AVAILABLE = "available"
COMMITTED = "committed"
PAID = "relief_paid"
SERVICE_FEE = "service_fee"
RECOVERED = "relief_recovered"
ACCOUNTS = (GRANT, AVAILABLE, COMMITTED, PAID, SERVICE_FEE, RECOVERED)

# kind: (debit account, credit account)
MOVEMENTS: dict[str, tuple[str, str]] = {
    "budget": (AVAILABLE, GRANT),
    "commit": (COMMITTED, AVAILABLE),
    "pay": (PAID, COMMITTED),
    "release": (AVAILABLE, COMMITTED),
    "fee": (SERVICE_FEE, AVAILABLE),
    "recover": (AVAILABLE, RECOVERED),
}

_posting = FundPosting.__table__
_movement = FundMovement.__table__


@dataclass(frozen=True)
class Balances:
    """A contract's fund figures in fen, each a sum of postings."""

    budget: int = 0
    committed: int = 0
    paid: int = 0
    service_fee: int = 0
    balance: int = 0
    recovered: int = 0

    def as_yuan(self) -> dict[str, str]:
        return {"budget": format_yuan(self.budget), "committed": format_yuan(self.committed),
                "paid": format_yuan(self.paid), "service_fee": format_yuan(self.service_fee),
                "balance": format_yuan(self.balance), "recovered": format_yuan(self.recovered)}


def balances(session: Session, contract_id: str) -> Balances:
    sums = dict(session.execute(
        select(_posting.c.account, func.coalesce(func.sum(_posting.c.amount), 0))
        .where(_posting.c.contract_id == contract_id).group_by(_posting.c.account)
    ).all())
    return Balances(budget=-int(sums.get(GRANT, 0)), committed=int(sums.get(COMMITTED, 0)), paid=int(sums.get(PAID, 0)),
                    service_fee=int(sums.get(SERVICE_FEE, 0)), balance=int(sums.get(AVAILABLE, 0)),
                    recovered=-int(sums.get(RECOVERED, 0)))


def is_open(session: Session, contract_id: str) -> bool:
    return session.get(Fund, contract_id) is not None


def lock_fund(session: Session, contract: Contract, *, actor: str, clock: Clock) -> tuple[Fund, list[dict[str, Any]]]:
    """Open the contract's fund if needed (granting its budget) and lock it for this transaction.

    Returns the fund and the audit entries to append (one when the fund was opened now).
    """
    entries: list[dict[str, Any]] = []
    stmt = select(Fund).where(Fund.contract_id == contract.id).with_for_update()
    fund = session.scalar(stmt)
    if fund is None:
        insert_ignore(session, Fund.__table__, {"contract_id": contract.id, "budget": contract.budget,
                                                 "opened_at": clock.now()})
        fund = session.scalar(stmt.execution_options(populate_existing=True))
        assert fund is not None
        already = session.scalar(select(FundMovement.id).where(FundMovement.key == f"budget:{contract.id}"))
        if already is None and contract.budget > 0:
            post(session, contract.id, "budget", f"budget:{contract.id}", contract.budget, actor=actor, clock=clock,
                 note="budget granted by the contract")
            entries.append({"actor": actor, "role": "system", "action": "fund.open", "subject": contract.id,
                            "contract_hash": contract.content_hash,
                            "payload": {"budget": format_yuan(contract.budget)}})
    return fund, entries


def post(
    session: Session, contract_id: str, kind: str, key: str, amount: int, *, actor: str, clock: Clock,
    batch_id: str | None = None, return_id: str | None = None, note: str = "",
) -> int | None:
    """Post one movement (two postings summing to zero); nothing for a zero amount. Returns the movement id."""
    if amount == 0:
        return None
    if amount < 0:
        raise ValueError(f"a movement moves a positive amount, got {amount}")
    debit, credit = MOVEMENTS[kind]
    movement_id = session.execute(insert(_movement).values(
        contract_id=contract_id, kind=kind, key=key, amount=amount, batch_id=batch_id,
        return_id=return_id, note=note, created_by=actor, created_at=clock.now(),
    ).returning(_movement.c.id)).scalar_one()
    session.execute(insert(_posting), [
        {"movement_id": movement_id, "contract_id": contract_id, "account": debit, "amount": amount},
        {"movement_id": movement_id, "contract_id": contract_id, "account": credit, "amount": -amount},
    ])
    return movement_id


def fee_on(paid: int, rate: Decimal) -> int:
    """The service fee on an amount of relief paid: rate × paid, half up to the fen."""
    return apply_rate(paid, rate)


def fee_reserve(current: Balances, more: int, rate: Decimal) -> int:
    """The fee still to come once everything committed (plus `more`) is paid: the most it can grow."""
    return fee_on(current.paid + current.committed + more, rate) - current.service_fee


def check_commitment(current: Balances, amount: int, rate: Decimal, what: str) -> None:
    """Refuse (409) a commitment the balance cannot carry together with the fee it will cost once paid."""
    reserve = fee_reserve(current, amount, rate)
    if current.balance - amount - reserve < 0:
        raise InvalidState(
            f"{what} 将使资金余额不足：需保障金 {format_yuan(amount)} 元及服务费至多 {format_yuan(reserve)} 元，"
            f"当前余额 {format_yuan(current.balance)} 元（合同预算 {format_yuan(current.budget)} 元，已占用 "
            f"{format_yuan(current.committed)} 元，已支付 {format_yuan(current.paid)} 元，服务费 "
            f"{format_yuan(current.service_fee)} 元）。请从批次中移出部分案件（或撤销该批次后重新制单）再审批。"
        )


def settle(
    session: Session, contract: Contract, *, paid: int, released: int, key: str, actor: str, clock: Clock,
    batch_id: str | None = None, return_id: str | None = None,
) -> dict[str, int]:
    """Post what the bank settled: `paid` moves to relief_paid (with its fee), `released` back to available.

    The fund must be locked (`lock_fund`). Returns the amounts posted, in fen.
    """
    before = balances(session, contract.id)
    if paid + released > before.committed:
        raise InvalidState(f"结算金额 {format_yuan(paid + released)} 元超过资金中已占用的 {format_yuan(before.committed)} 元")
    fee = fee_on(before.paid + paid, contract.service_fee_rate) - before.service_fee
    post(session, contract.id, "pay", f"pay:{key}", paid, actor=actor, clock=clock, batch_id=batch_id,
         return_id=return_id, note="relief confirmed paid by the bank")
    post(session, contract.id, "fee", f"fee:{key}", fee, actor=actor, clock=clock, batch_id=batch_id,
         return_id=return_id, note=f"service fee at {contract.service_fee_rate} of relief paid")
    post(session, contract.id, "release", f"release:{key}", released, actor=actor, clock=clock, batch_id=batch_id,
         return_id=return_id, note="failed transfers released back to the fund")
    return {"paid": paid, "fee": fee, "released": released}


def problems(session: Session, contract_ids: Sequence[str] | None = None) -> list[str]:
    """What is wrong with the stored ledger (empty when sound): movements not made of two postings summing to zero."""
    stmt = (select(_posting.c.movement_id, func.count(), func.sum(_posting.c.amount))
            .group_by(_posting.c.movement_id))
    if contract_ids is not None:
        stmt = stmt.where(_posting.c.contract_id.in_(list(contract_ids)))
    found = [f"movement {mid}: {n} postings summing to {total}" for mid, n, total in session.execute(stmt)
             if n != 2 or total != 0]
    orphans = session.scalar(select(func.count()).select_from(_movement).where(
        ~_movement.c.id.in_(select(_posting.c.movement_id))))
    if orphans:
        found.append(f"{orphans} movement(s) without postings")
    return found


def movements(session: Session, contract_id: str, *, limit: int = 100, cursor: int | None = None) -> list[FundMovement]:
    stmt = select(FundMovement).where(FundMovement.contract_id == contract_id).order_by(FundMovement.id).limit(limit)
    if cursor:
        stmt = stmt.where(FundMovement.id > cursor)
    return list(session.scalars(stmt))


def find_movements(session: Session, contract_id: str, *, kind: str = "", q: str = "", page: int = 1,
                   page_size: int = 30) -> Paged[FundMovement]:
    """One page of the contract's fund movements, newest first: of one kind (`kind`, a MOVEMENTS key) and/or of the
    batches whose number contains `q` (P2612…, typed in small letters too), for a finance officer looking for when a
    batch's money moved months ago."""
    stmt = (select(FundMovement).where(FundMovement.contract_id == contract_id)
            .order_by(FundMovement.id.desc()))
    if kind:
        stmt = stmt.where(FundMovement.kind == kind)
    text = fold_search(q).upper()
    if text:
        stmt = stmt.where(FundMovement.batch_id.in_(
            select(PaymentBatch.id).where(text_search(text, (PaymentBatch.code,)))))
    return page_of(session, stmt, page, page_size)


def latest_movements(session: Session, contract_id: str, *, limit: int = 30) -> list[FundMovement]:
    """The contract's latest fund movements, newest first."""
    return list(session.scalars(select(FundMovement).where(FundMovement.contract_id == contract_id)
                                .order_by(FundMovement.id.desc()).limit(limit)))
