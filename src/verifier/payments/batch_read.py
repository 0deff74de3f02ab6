"""Paying relief, the parts every step shares (see payments/service.py): batch states, the audit entry of a step,
moving a batch's cases and supplements on, and reading batches, their items and a case's payments."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain.errors import InvalidState
from ..domain.lifecycle import STATUS_LABELS_ZH, next_status
from ..domain.masking import mask_account
from ..domain.money import format_yuan
from ..store.loading import row_in_counties
from ..store import contracts as contract_store
from ..store.reader import Prepared, Reader
from ..store.tables import Case, Check
from ..store.vault import Vault
from .models import PayeeCorrection, PaymentBatch, PaymentBatchSignoff, PaymentItem, SupplementaryPayment
from .payees import CHECK_ACCOUNT_COLUMN, CORRECTION_ACCOUNT_COLUMN
from .schemas import BatchOut, ItemOut, ItemPage, PayeeOut, SignoffOut, SkippedCase

T = TypeVar("T")

BANK_FILE_COLUMN = "payment_batch.bank_file"
MAX_ITEMS = 999_999  # a reference numbers its item with six digits

BATCH_TRANSITIONS: dict[tuple[str, str], str] = {
    ("prepared", "approve"): "approved",
    ("approved", "county_signoff"): "signed_off",
    ("approved", "refuse_signoff"): "prepared",  # the county reviewer refuses: claims and finance act on it again
    ("approved", "release"): "released",  # only when the batch needs no sign-off (checked by `release`)
    ("signed_off", "release"): "released",
    ("released", "reconcile"): "reconciled",
    ("prepared", "cancel"): "cancelled",
    ("approved", "cancel"): "cancelled",
    ("signed_off", "cancel"): "cancelled",
}

BATCH_STATUS_LABELS_ZH = {
    "prepared": "待审批",
    "approved": "已审批",
    "signed_off": "县级已签批",
    "released": "已发放",
    "reconciled": "已对账",
    "cancelled": "已撤销",
}
# An item's status as a refusal and the pages name it.
ITEM_STATUS_LABELS_ZH = {"pending": "待发放", "sent": "已发送银行", "succeeded": "支付成功", "failed": "支付失败",
                         "cancelled": "已撤销"}

# What a refusal calls a step a batch in a wrong status cannot take (`next_batch_status`).
_ACTIONS_ZH = {"approve": "审批", "county_signoff": "县级签批", "refuse_signoff": "退回签批", "release": "发放",
               "reconcile": "对账", "cancel": "撤销"}
# What must happen to a batch in `status` before it can take `action` (the refusal's next step, beside the statuses
# the action is taken from).
_FIRST = {("prepared", "county_signoff"): "请先由财务审批该批次，再由县级签批",
          ("prepared", "refuse_signoff"): "请先由财务审批该批次，县级才能签批或退回",
          ("prepared", "release"): "请先由财务审批该批次（达到签批金额的还须县级签批）再发放"}
# A batch's supplements, as a refusal names their status.
SUPPLEMENT_STATUS_ZH = {"open": "待列入支付批次", "in_batch": "支付中", "paid": "已补发", "withdrawn": "已撤销（核实结果更正）"}


def live_batch(session: Session, case_id: str, *, supplements: bool = False) -> tuple[str, str, str] | None:
    """(code, status, item status) of the batch paying the case now (its item pending, or sent to the bank and not yet
    answered), or None: its relief's item; with `supplements`, a supplement's item too."""
    where = [PaymentItem.case_id == case_id, PaymentItem.status.in_(("pending", "sent"))]
    if not supplements:
        where.append(PaymentItem.supplement_id.is_(None))
    row = session.execute(select(PaymentBatch.code, PaymentBatch.status, PaymentItem.status)
                          .join(PaymentItem, PaymentItem.batch_id == PaymentBatch.id).where(*where)).first()
    return None if row is None else (row[0], row[1], row[2])


def stale_cases(stale: int, total: int, current: str) -> str:
    """Why moving a batch's cases on is refused when some left `current` meanwhile (nothing was changed)."""
    return (f"{total} 个案件中有 {stale} 个已不再是「{STATUS_LABELS_ZH.get(current, current)}」状态"
            "（其间已被他人办理）：未做任何更改，请刷新后重试。")

_item = PaymentItem.__table__
_case = Case.__table__


def next_batch_status(status: str, action: str) -> str:
    target = BATCH_TRANSITIONS.get((status, action))
    if target is None:
        act = _ACTIONS_ZH.get(action, action)
        sources = [BATCH_STATUS_LABELS_ZH.get(s, s) for (s, a) in BATCH_TRANSITIONS if a == action]
        first = _FIRST.get((status, action)) or (f"只有「{'」或「'.join(sources)}」的批次才能{act}" if sources else "")
        raise InvalidState(f"批次当前状态为「{BATCH_STATUS_LABELS_ZH.get(status, status)}」，不能{act}"
                           + (f"：{first}。" if first else "。"))
    return target


def _chunks(values: Sequence[T], size: int = 1000) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _digest(lines: Iterable[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _entry(principal: Principal | None, role: str, action: str, subject: str, contract_hash: str | None,
           payload: dict[str, Any]) -> dict[str, Any]:
    return {"actor": principal.id if principal else "system", "role": role, "action": action, "subject": subject,
            "contract_hash": contract_hash, "payload": payload}


def _move_cases(session: Session, case_ids: Sequence[str], current: str, action: str, clock: Clock) -> str:
    """Apply one lifecycle action to many cases at once (the table in domain.lifecycle decides, as in `advance`).

    The audit entry of the operation that moves them records the change; this only refuses (409, rolling the
    whole operation back) when a case is no longer in `current`.
    """
    target = str(next_status(current, action))
    now = clock.now()
    moved = 0
    for chunk in _chunks(case_ids):
        result = session.execute(
            update(_case).where(_case.c.id.in_(chunk), _case.c.status == current)
            .values(status=target, updated_at=now, version=_case.c.version + 1)
        )
        moved += result.rowcount
    if moved != len(case_ids):
        raise InvalidState(stale_cases(len(case_ids) - moved, len(case_ids), current))
    return target


def _move_batch_cases(session: Session, batch_id: str, expected: int, current: str, action: str,
                      clock: Clock) -> str:
    """`_move_cases` for the cases of the batch's pending items (a supplement's aside): one UPDATE that selects
    them by the batch, not their ids sent back in chunks; refused (409) unless `expected` cases moved."""
    target = str(next_status(current, action))
    items = _item
    mine = select(items.c.case_id).where(items.c.batch_id == batch_id, items.c.status == "pending",
                                         items.c.supplement_id.is_(None))
    moved = session.execute(update(_case).where(_case.c.id.in_(mine), _case.c.status == current)
                            .values(status=target, updated_at=clock.now(), version=_case.c.version + 1)).rowcount
    if moved != expected:
        raise InvalidState(stale_cases(expected - moved, expected, current))
    return target


def _threshold(session: Session, batch: PaymentBatch) -> int:
    return contract_store.get_contract(session, batch.contract_id).county_signoff_at


def _unsigned_since_signoff(session: Session, county_code: str, contract_id: str, exclude: str | None) -> int:
    """The total of the county's other batches under the contract that the county has not seen: prepared after the
    latest batch of the county and contract it signed off was prepared (every batch when it has signed off none), not
    cancelled and not put to the county's sign-off themselves. No clock splits it: batches prepared one minute before
    and one minute after midnight, or a week apart, add up until the county signs one off (a batch the county signs
    off, or is to, has been seen already, and so have the batches before it that it was added to)."""
    seen = select(func.max(PaymentBatch.prepared_at)).where(
        PaymentBatch.county_code == county_code, PaymentBatch.contract_id == contract_id,
        PaymentBatch.signed_off_at.is_not(None)).scalar_subquery()
    stmt = select(func.coalesce(func.sum(PaymentBatch.total), 0)).where(
        PaymentBatch.county_code == county_code, PaymentBatch.contract_id == contract_id,
        PaymentBatch.status != "cancelled", PaymentBatch.signoff_required.is_(False),
        (seen.is_(None)) | (PaymentBatch.prepared_at > seen))
    if exclude is not None:
        stmt = stmt.where(PaymentBatch.id != exclude)
    return int(session.scalar(stmt) or 0)


def _needs_signoff(session: Session, batch: PaymentBatch) -> bool:
    """By its total with the others the county has not seen, or by a case the county refused (`refused_in_batch`)."""
    return batch.total + _unsigned_since_signoff(session, batch.county_code, batch.contract_id,
                                                 batch.id) >= _threshold(session, batch) or bool(
        refused_in_batch(session, batch))


def _refused_of_county(session: Session, county_code: str) -> set[str]:
    """The county's cases whose latest county sign-off decision, over the batches holding them when it was taken, is
    a refusal (不同意签批): the county has not signed off a batch holding them since. An item taken out of its batch
    before the decision was not before the county (taken out only before approval, so before any decision: `>=`
    keeps an item taken out at the same clock reading as held). Refusals are few: one statement reads the decisions
    of the cases some refusal held, and no more."""
    S, item = PaymentBatchSignoff, PaymentItem
    held_then = or_(item.removed_at.is_(None), item.removed_at >= S.decided_at)
    of_county = PaymentBatch.county_code == county_code
    refused = (select(item.case_id).select_from(S).join(item, item.batch_id == S.batch_id)
               .join(PaymentBatch, PaymentBatch.id == S.batch_id)
               .where(of_county, held_then, S.decision == "refused"))
    latest: dict[str, tuple[Any, str, str]] = {}
    for case_id, decision, at, sid in session.execute(
            select(item.case_id, S.decision, S.decided_at, S.id).select_from(S)
            .join(item, item.batch_id == S.batch_id).join(PaymentBatch, PaymentBatch.id == S.batch_id)
            .where(of_county, held_then, item.case_id.in_(refused))):
        if case_id not in latest or (at, sid) > latest[case_id][:2]:
            latest[case_id] = (at, sid, decision)
    return {case_id for case_id, (_, _, decision) in latest.items() if decision == "refused"}


def refused_cases(session: Session, county_code: str, case_ids: Sequence[str]) -> list[str]:
    """Those of `case_ids` (the county's) that a batch the county refused to sign off held, not signed off by the
    county since: a batch holding one needs the county's sign-off whatever its total (else claims takes the other
    cases out of the refused batch, or cancels it and prepares the doubtful case alone, under the sign-off amount,
    and finance releases what the county refused)."""
    refused = _refused_of_county(session, county_code)
    return sorted(set(case_ids) & refused) if refused else []


def refused_in_batch(session: Session, batch: PaymentBatch) -> list[str]:
    """The batch's cases (of its items not taken out) that `refused_cases` names."""
    refused = sorted(_refused_of_county(session, batch.county_code))
    found: set[str] = set()
    for chunk in _chunks(refused):
        found.update(session.scalars(select(PaymentItem.case_id).where(
            PaymentItem.batch_id == batch.id, PaymentItem.status != "cancelled", PaymentItem.case_id.in_(chunk))))
    return sorted(found)


def batch_out(session: Session, batch: PaymentBatch, skipped: list[SkippedCase] | None = None,
              counts: dict[str, int] | None = None) -> BatchOut:
    """The batch as the API shows it; `counts` (items by status) when the caller knows them, else counted."""
    if counts is None:
        counts = dict(session.execute(
            select(PaymentItem.status, func.count()).where(PaymentItem.batch_id == batch.id)
            .group_by(PaymentItem.status)
        ).all())
    return BatchOut(
        id=batch.id, code=batch.code, county_code=batch.county_code, contract_id=batch.contract_id,
        status=batch.status, status_label=BATCH_STATUS_LABELS_ZH.get(batch.status, batch.status),
        item_count=batch.item_count, total=format_yuan(batch.total), items_sha256=batch.items_sha256,
        signoff_required=batch.signoff_required, signoff_threshold=format_yuan(_threshold(session, batch)),
        prepared_by=batch.prepared_by, prepared_at=batch.prepared_at,
        approved_by=batch.approved_by, approved_at=batch.approved_at,
        signed_off_by=batch.signed_off_by, signed_off_at=batch.signed_off_at,
        released_by=batch.released_by, released_at=batch.released_at,
        cancelled_by=batch.cancelled_by, cancelled_at=batch.cancelled_at, reconciled_at=batch.reconciled_at,
        bank_file_sha256=batch.bank_file_sha256, signoff_opinion=batch.signoff_opinion,
        signoff_refused_by=batch.signoff_refused_by, signoff_refused_at=batch.signoff_refused_at,
        counts={str(k): int(v) for k, v in counts.items()}, skipped=skipped or [],
    )


def signoffs_of(session: Session, batch_id: str) -> list[SignoffOut]:
    """The batch's county sign-off decisions, oldest first (`PaymentBatchSignoff`); the batch is read, and its county
    checked, by the caller."""
    S = PaymentBatchSignoff
    return [SignoffOut(decision=r.decision, decided_by=r.decided_by, decided_at=r.decided_at, opinion=r.opinion)
            for r in session.scalars(select(S).where(S.batch_id == batch_id).order_by(S.decided_at, S.id))]


def get_batch(session: Session, batch_id: str, principal: Principal | None, *, for_update: bool = False) -> PaymentBatch:
    """The batch, if it exists and lies in the caller's counties (otherwise 404)."""
    return row_in_counties(session, PaymentBatch, batch_id, principal, missing="支付批次不存在",
                           for_update=for_update, refresh=True)


def list_batches(session: Session, principal: Principal, *, county_code: str | None = None, status: str | None = None,
                 limit: int = 50, cursor: str | None = None) -> tuple[list[BatchOut], str | None]:
    stmt = select(PaymentBatch).order_by(PaymentBatch.id.desc()).limit(limit + 1)
    if principal.counties:
        stmt = stmt.where(PaymentBatch.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(PaymentBatch.county_code == county_code)
    if status:
        stmt = stmt.where(PaymentBatch.status == status)
    if cursor:
        stmt = stmt.where(PaymentBatch.id < cursor)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return [batch_out(session, b) for b in rows], (rows[-1].id if more and rows else None)


def _account_of(vault: Vault, check_enc: bytes | None, correction_enc: bytes | None) -> str:
    if correction_enc is not None:
        return vault.open(correction_enc, CORRECTION_ACCOUNT_COLUMN)
    if check_enc is not None:
        return vault.open(check_enc, CHECK_ACCOUNT_COLUMN)
    return ""


def _item_rows_stmt(*columns: Any) -> Any:
    return (select(*columns, Check.payee_account_enc, PayeeCorrection.account_number_enc)
            .select_from(PaymentItem)
            .outerjoin(Check, Check.id == PaymentItem.payee_check_id)
            .outerjoin(PayeeCorrection, PayeeCorrection.id == PaymentItem.payee_correction_id))


def batch_items(session: Session, batch_id: str, principal: Principal, vault: Vault, *, status: str | None = None,
                limit: int = 100, cursor: int | None = None) -> ItemPage:
    get_batch(session, batch_id, principal)
    stmt = batch_item_rows(batch_id).limit(limit + 1)
    if status:
        stmt = stmt.where(PaymentItem.status == status)
    if cursor is not None:
        stmt = stmt.where(PaymentItem.seq > cursor)
    rows = session.execute(stmt).all()
    more = len(rows) > limit
    items = [item_out(vault, row) for row in rows[:limit]]
    return ItemPage(items=items, next_cursor=items[-1].seq if more and items else None)


def batch_item_rows(batch_id: str) -> Any:
    """The SELECT of a batch's items in order, each with what its payee's masked account is read from (`item_out`)."""
    return _item_rows_stmt(PaymentItem).where(PaymentItem.batch_id == batch_id).order_by(PaymentItem.seq)


def item_out(vault: Vault, row: Any) -> ItemOut:
    """A row of `batch_item_rows` (the item, the check's and the correction's sealed accounts) as the API shows it."""
    i, chk, corr = row
    return ItemOut(id=i.id, seq=i.seq, reference=i.reference, case_id=i.case_id, determination_id=i.determination_id,
                   amount=format_yuan(i.amount), status=i.status,
                   payee=PayeeOut(account_name=i.payee_name, bank=i.payee_bank,
                                  account_number=mask_account(_account_of(vault, chk, corr))),
                   bank_reference=i.bank_reference, failure_reason=i.failure_reason, settled_at=i.settled_at,
                   removed_by=i.removed_by, removed_at=i.removed_at, removed_reason=i.removed_reason,
                   settled_on=i.settled_on)


_pi, _pb, _chk, _corr = PaymentItem.__table__, PaymentBatch.__table__, Check.__table__, PayeeCorrection.__table__
CASE_ITEMS = Prepared(  # the case detail's: every payment item of the case
    select(_pi.c.id, _pi.c.batch_id, _pb.c.code, _pb.c.status.label("batch_status"), _pi.c.reference,
           _pi.c.determination_id, _pi.c.amount, _pi.c.status, _pi.c.payee_name, _pi.c.payee_bank,
           _pi.c.bank_reference, _pi.c.failure_reason, _pi.c.created_at, _pi.c.settled_at, _pi.c.settled_on,
           _chk.c.payee_account_enc, _corr.c.account_number_enc)
    .select_from(_pi)
    .join(_pb, _pb.c.id == _pi.c.batch_id)
    .outerjoin(_chk, _chk.c.id == _pi.c.payee_check_id)
    .outerjoin(_corr, _corr.c.id == _pi.c.payee_correction_id)
    .where(_pi.c.case_id == bindparam("case_id")).order_by(_pi.c.created_at, _pi.c.id))


def payment_rows(items: list[Any], vault: Vault | None) -> list[dict[str, Any]]:
    """A case's payment items (its `CASE_ITEMS` rows) as the case detail shows them (accounts masked; no account
    without a vault)."""
    out = []
    for item in items:
        account = (mask_account(_account_of(vault, item.payee_account_enc, item.account_number_enc))
                   if vault is not None else None)
        out.append({
            "item_id": item.id, "batch_id": item.batch_id, "batch_code": item.code, "batch_status": item.batch_status,
            "reference": item.reference, "determination_id": item.determination_id,
            "amount": format_yuan(item.amount), "status": item.status,
            "payee": {"account_name": item.payee_name, "bank": item.payee_bank, "account_number": account},
            "bank_reference": item.bank_reference, "failure_reason": item.failure_reason,
            "created_at": item.created_at.isoformat(),
            "settled_at": item.settled_at.isoformat() if item.settled_at else None,
            "settled_on": item.settled_on.isoformat() if item.settled_on else None,
        })
    return out


def payments_for_case(reader: Reader, case_id: str, vault: Vault | None = None) -> list[dict[str, Any]]:
    """Every payment item of a case, oldest first, for the case detail (accounts masked; no account without a vault)."""
    return payment_rows(reader.all(CASE_ITEMS, {"case_id": case_id}), vault)


def _set_supplements(session: Session, supplement_ids: Sequence[str], current: str, target: str,
                     clock: Clock) -> None:
    """Move supplementary payments from `current` to `target` (409, rolling back, when one is no longer there)."""
    if not supplement_ids:
        return
    table = SupplementaryPayment.__table__
    values: dict[str, Any] = {"status": target}
    if target == "paid":
        values["paid_at"] = clock.now()
    moved = session.execute(update(table).where(table.c.id.in_(list(supplement_ids)), table.c.status == current)
                            .values(**values)).rowcount
    if moved != len(supplement_ids):
        raise InvalidState(f"{len(supplement_ids)} 笔补发款中有 {len(supplement_ids) - moved} 笔已不再是"
                           f"「{SUPPLEMENT_STATUS_ZH.get(current, current)}」状态（其间已被他人办理）：未做任何更改，请刷新后重试。")
