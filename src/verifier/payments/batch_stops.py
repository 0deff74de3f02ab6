"""What stops a batch's step whoever asks, its state alone: the contract the county has not accepted, a case of it held
for re-determination (to approve or release), a case of it with an objection typed after its notice closed and not
yet resolved (to approve or release: notices/objections.py `record_objection`), a payee account held since
preparation (一账多户, a staff member's own account) and, to approve, the fund short of its total and the fee it will
cost. The one rule the steps refuse by (`service.approve`, `service.county_signoff`, `service.release`; the fund
under its lock, by the same `ledger.check_commitment`) and the home cards 待审批批次, 待县级签批批次 and 待发放批次 count
by (`batch_list.waiting`: such a batch is no thing the user can do now, and is said apart as 暂不能…, with its
reason), asked for any number of
batches at once in a fixed number of statements: the batches' contracts, their held cases and their items' accounts
by the batches' items, the fund of each of their contracts.

`who may` is `deciders.refusals`'s: a stop here is the same for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..domain.errors import InvalidState
from ..notices.models import Objection
from ..sampling.models import CaseHold
from ..store import contracts as contract_store
from . import batch_recheck, ledger
from .models import PaymentBatch, PaymentItem

KINDS = {"approve": ("contract", "held", "objection", "accounts", "fund"), "sign off": ("contract", "accounts"),
         "release": ("contract", "held", "objection", "accounts")}
"""Per step (as `deciders.VERBS` says it), what stops it, in the order the step asks."""
CONTRACT_WHAT = {"approve": "按它审批支付批次", "sign off": "按它的签批金额签批支付批次", "release": "按它发放支付批次"}


@dataclass(frozen=True)
class Stop:
    """Why nobody may take the step on the batch now: `kind` (one of `KINDS`) and the refusal the step raises."""

    kind: str
    error: Callable[[], Exception]


def held_refusal(code: str, n: int, verb: str) -> InvalidState:
    """A batch holding `n` cases held for re-determination is neither approved nor released (409)."""
    return InvalidState(f"批次 {code} 中有 {n} 户因抽样复核发现偏差而暂停支付，须待重新认定：请先将其移出批次"
                        f"（或撤销批次）再{'审批' if verb == 'approve' else '发放'}。")


def objection_refusal(code: str, n: int, verb: str) -> InvalidState:
    """A batch holding `n` cases with an objection typed after their notice closed and not yet resolved is neither
    approved nor released (409)."""
    return InvalidState(f"批次 {code} 中有 {n} 户在公示结束后补登了公示期内收到的异议，异议处理前暂停支付：请待异议处理"
                        f"（异议不成立后可继续），或先将其移出批次（或撤销批次）再{'审批' if verb == 'approve' else '发放'}。")


def _pending_cases(session: Session, ids: list[str], case_id: Any, *where: Any) -> dict[str, int]:
    """Per batch, how many of its pending items' cases have a row (`case_id`, its table's column) matching `where`:
    one statement, by the batches' items. Held (an open hold) or objected (an objection typed after the notice
    closed, not yet resolved)."""
    return {b or "": int(n) for b, n in session.execute(
        select(PaymentItem.batch_id, func.count(func.distinct(case_id)))
        .join(PaymentItem, PaymentItem.case_id == case_id)
        .where(PaymentItem.batch_id.in_(ids), PaymentItem.status == "pending", *where)
        .group_by(PaymentItem.batch_id)).tuples()}


def _fund_short(session: Session, batches: Sequence[PaymentBatch]) -> dict[str, Exception]:
    """Per batch whose total and fee the fund cannot carry now, the step's refusal (`ledger.check_commitment`): each
    batch alone against its contract's balance (a fund not yet opened holds the contract's budget)."""
    out: dict[str, Exception] = {}
    for contract_id in sorted({b.contract_id for b in batches}):
        contract = contract_store.get_contract(session, contract_id)
        current = (ledger.balances(session, contract_id) if ledger.is_open(session, contract_id)
                   else ledger.Balances(budget=contract.budget, balance=contract.budget))
        for b in batches:
            if b.contract_id != contract_id:
                continue
            try:
                ledger.check_commitment(current, b.total, contract.service_fee_rate, f"审批批次 {b.code}")
            except InvalidState as exc:
                out[b.id] = exc
    return out


def stops(session: Session, batches: Sequence[PaymentBatch], verb: str, today: date,
          kinds: Sequence[str] = ()) -> dict[str, Stop | None]:
    """Per batch, the first of what stops `verb` on it for everyone (of `kinds`, all the step's when empty), or
    None."""
    wanted = [k for k in KINDS[verb] if not kinds or k in kinds]
    ids = sorted({b.id for b in batches})
    if not ids:
        return {}
    found: dict[str, dict[str, Callable[[], Exception]]] = {}

    def put(kind: str, batch_id: str, error: Callable[[], Exception]) -> None:
        found.setdefault(batch_id, {}).setdefault(kind, error)

    if "contract" in wanted:
        refused = contract_store.not_accepted(session, {b.contract_id for b in batches}, CONTRACT_WHAT[verb])
        for b in batches:
            if b.contract_id in refused:
                put("contract", b.id, lambda e=refused[b.contract_id]: e)
    if "held" in wanted:
        held = _pending_cases(session, ids, CaseHold.case_id, CaseHold.status == "open")
        for b in batches:
            if held.get(b.id):
                put("held", b.id, lambda code=b.code, n=held[b.id]: held_refusal(code, n, verb))
    if "objection" in wanted:
        objected = _pending_cases(session, ids, Objection.case_id, Objection.status == "open")
        for b in batches:
            if objected.get(b.id):
                put("objection", b.id, lambda code=b.code, n=objected[b.id]: objection_refusal(code, n, verb))
    if "accounts" in wanted:
        accounts = batch_recheck.held_items_of(session, list(batches), today)
        for b in batches:
            if accounts.get(b.id):
                put("accounts", b.id, lambda b=b, f=accounts[b.id]: batch_recheck.held_accounts_refusal(b, f, verb))
    if "fund" in wanted:
        for batch_id, exc in _fund_short(session, batches).items():
            put("fund", batch_id, lambda e=exc: e)
    out: dict[str, Stop | None] = {}
    for b in batches:
        mine = found.get(b.id, {})
        kind = next((k for k in wanted if k in mine), None)
        out[b.id] = Stop(kind, mine[kind]) if kind else None
    return out


def refuse(session: Session, batch: PaymentBatch, verb: str, today: date, *kinds: str) -> None:
    """The step's refusal when `stops` says one for the batch (of `kinds`, all when none given)."""
    stop = stops(session, [batch], verb, today, kinds)[batch.id]
    if stop is not None:
        raise stop.error()
