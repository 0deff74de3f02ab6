"""A batch's payee accounts checked again at every later step (一账多户, 工作人员本人账户).

Batch preparation holds out a case whose payee account is shared with another household or is a staff member's own
declared account, until a county reviewer clears it (one_account.py). A batch prepared before that became so (household
B's payee change or check naming A's account, a staff member declaring it) would otherwise go on to be paid: so
approval, the county's sign-off, release (when the bank file is written) and each download of the bank file read the
batch's live items' accounts again (`one_account.held_reasons`, the item's own blind index: the account the item
pays) and refuse (422, nothing written) naming each held item's case number, until the same county reviewer's
clearance as at preparation. A refusal changes nothing of the batch: its count, total and digest stay those its
approver and the county saw; the way out besides the clearance is the one the batch already has (take the case
out before approval, cancel the batch after it, or the county refuses its sign-off)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, union
from sqlalchemy.orm import Session, aliased

from ..domain.errors import FieldError, ValidationFailed
from ..recusal.models import StaffAccount
from ..store.tables import Case, Check
from . import one_account
from .models import PayeeCorrection, PaymentBatch, PaymentItem

VERBS = {"approve": "审批批次 {code}", "sign off": "签批批次 {code}", "release": "发放批次 {code}",
         "bank file": "下载批次 {code} 的银行文件"}
SHARED_WORDS = "收款账户与其他家庭相同（一账多户）"
MAX_NAMED = 50
CHECKED = ("prepared", "approved", "signed_off", "released")  # a step (or the bank file's download) still to come


def reason_zh(reason: str) -> str:
    """The hold's reason as the refusal and the batch page say it (the staff hold's never says whose)."""
    return SHARED_WORDS if reason == one_account.HOLD_REASON else reason


def _way_out(status: str) -> str:
    if status == "prepared":
        return "；也可将该案件移出本批次"
    if status in ("approved", "signed_off"):
        return "；也可撤销本批次后重新生成"
    return ""


def _named(ix: Any, own: Any) -> Any:
    """Whether the account `ix` is named in the window (from the bound `since`) by a case of a household other than
    `own`'s (a check, an approved change, a payment item not cancelled: `one_account.records`) or is a live staff
    account: EXISTS lookups in those tables' account indexes."""
    since = bindparam("since")
    other = aliased(Case, name="other")
    c = aliased(Check, name="c")  # aliases: never correlated with the outer statement's own check or change
    p = aliased(PayeeCorrection, name="p")
    j = aliased(PaymentItem, name="j")

    def named(table: Any, column: Any, case_col: Any, *where: Any) -> Any:
        return select(1).select_from(table).join(other, other.id == case_col).where(
            column == ix, other.household_id != own.household_id, *where).exists()

    return (named(c, c.payee_account_index, c.case_id, c.recorded_at >= since)
            | named(p, p.account_index, p.case_id, p.status == "approved",
                    func.coalesce(p.decided_at, p.requested_at) >= since)
            | named(j, j.payee_account_index, j.case_id, j.status != "cancelled", j.created_at >= since)
            | select(1).where(StaffAccount.account_index == ix, StaffAccount.removed_at.is_(None)).exists())


@functools.cache
def _suspects() -> Any:
    """(batch id, case id, account index) of the live items (status :live) of the batches :batch_ids whose account is
    named in the window by a case of another household or is a live staff account (`_named`), in the items' order:
    one statement, built once (its aliased lookups cost milliseconds to build) and sent with its values."""
    item = PaymentItem
    own = aliased(Case, name="own")
    ix = item.payee_account_index
    return (select(item.batch_id, item.case_id, ix).join(own, own.id == item.case_id)
            .where(item.batch_id.in_(bindparam("batch_ids", expanding=True)), item.status == bindparam("live"),
                   ix.is_not(None), _named(ix, own))
            .order_by(item.batch_id, item.seq))


@functools.cache
def _ready_suspects() -> Any:
    own = aliased(Case, name="own")
    ready = (own.county_code == bindparam("county_code"), own.status == bindparam("status"),
             own.contract_id == bindparam("contract_id"))
    by_check = (select(own.id).join(Check, Check.case_id == own.id)
                .where(*ready, Check.payee_account_index.is_not(None), _named(Check.payee_account_index, own)))
    by_change = (select(own.id).join(PayeeCorrection, PayeeCorrection.case_id == own.id)
                 .where(*ready, PayeeCorrection.status == "approved", PayeeCorrection.account_index.is_not(None),
                        _named(PayeeCorrection.account_index, own)))
    return union(by_check, by_change)


def ready_suspects(session: Session, county_code: str, contract_id: str, status: str, today: date) -> set[str]:
    """The cases of the county and contract at `status` (ready to pay) with a check or an approved payee change
    naming an account that another household's case names in the window or that is a live staff account
    (`_named`): one statement, no case id sent. Whatever a case's payee now is, it is one of those records' accounts,
    so batch preparation need only read the accounts of these cases (`one_account.held_reasons`) to hold out the
    same cases for the same reasons as reading every candidate's."""
    return set(session.scalars(_ready_suspects(), {
        "county_code": county_code, "status": status, "contract_id": contract_id,
        "since": one_account.window_start(today)}))


def _live(status: str) -> str:
    return "pending" if status in ("prepared", "approved", "signed_off") else "sent"


def held_items(session: Session, batch: PaymentBatch, today: date) -> list[tuple[str, str, str]]:
    """(case id, case number, reason) of each live item of the batch whose payee account is held now."""
    return held_items_of(session, [batch], today).get(batch.id, [])


def held_items_of(session: Session, batches: list[PaymentBatch], today: date) -> dict[str, list[tuple[str, str, str]]]:
    """Per batch with any, `held_items`: a statement for each kind of live item the batches hold (one for batches
    waiting at a step) and, only when an account is held, one for the held cases' numbers."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    by_live: dict[str, list[str]] = {}
    for b in batches:
        by_live.setdefault(_live(b.status), []).append(b.id)
    for live, ids in sorted(by_live.items()):
        found = [(batch_id or "", case_id, ix) for batch_id, case_id, ix in
                 session.execute(_suspects(), {"batch_ids": sorted(ids), "live": live,
                                                 "since": one_account.window_start(today)})]
        held = one_account.held_reasons(session, [(case_id, ix) for _, case_id, ix in found], today)
        if not held:
            continue
        rows: list[tuple[str, int, str, str]] = []
        wanted = sorted(held)
        for start in range(0, len(wanted), 500):  # every live item of a held case, as before (a case's second item too)
            rows += session.execute(
                select(PaymentItem.batch_id, PaymentItem.seq, PaymentItem.case_id, Case.number)
                .join(Case, Case.id == PaymentItem.case_id)
                .where(PaymentItem.batch_id.in_(sorted(ids)), PaymentItem.status == live,
                       PaymentItem.case_id.in_(wanted[start:start + 500]))).tuples().all()
        for batch_id, _, case_id, number in sorted(rows):
            out.setdefault(batch_id, []).append((case_id, number, held[case_id]))
    return out


def held_accounts_refusal(batch: PaymentBatch, found: list[tuple[str, str, str]], verb: str) -> ValidationFailed:
    """The refusal (422) naming each held item's case number (`held_items`) when the batch may not be `verb`ed."""
    act = VERBS[verb].format(code=batch.code)
    problems = [FieldError("items", f"案件 {number}：{reason_zh(reason)}，须经县级审核人员在“一账多户”中核实放行后"
                                    f"才能{act}{_way_out(batch.status)}。本次未做任何更改。")
                for _, number, reason in found[:MAX_NAMED]]
    if len(found) > MAX_NAMED:
        problems.append(FieldError("items", f"另有 {len(found) - MAX_NAMED} 个案件同样暂缓。"))
    return ValidationFailed(problems)


def refuse_held_accounts(session: Session, batch: PaymentBatch, verb: str, today: date) -> None:
    """422 naming each held item's case number when the batch may not be `verb`ed (approve, sign off, release,
    bank file) because its payee account is held now and not cleared."""
    found = held_items(session, batch, today)
    if found:
        raise held_accounts_refusal(batch, found, verb)
