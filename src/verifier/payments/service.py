"""Paying relief: batches (prepare → approve → county sign-off → release), the bank file, the bank's return,
and the fund they draw on; payee changes (requested, then approved by a second person) are in payees.py. This module
prepares, approves, signs off, releases and cancels batches; the bank file and the bank's return are in bank.py, the
fund in fund.py, what every step shares and the batches' reading in batch_read.py (all named here too).

Each operation is one transaction: the batch's rows, the cases' statuses, the fund's postings and the audit
entry commit together or not at all, so a process killed half way leaves nothing half applied and the same
operation, retried, does it exactly once. Batches of any size are handled with set-wise statements (one
UPDATE per thousand cases, one INSERT for all items), and each operation appends one audit entry that carries
the count, the total and a SHA-256 digest of exactly what it changed (`items_sha256`, `results_sha256`),
which anyone can recompute from the batch's item listing.

Who may do what (the routes check the roles; the four-eyes rules are checked here, whatever roles a person
holds, admin included): claims staff prepare; finance approves but never a batch they prepared; a county
reviewer signs off, neither the preparer nor the approver; finance releases, exports and imports the return.
Whoever requested or approved a payee change of a case the batch holds may neither approve nor release it.
The bank file is checked before it is written: a cell that a spreadsheet would read as a formula stops the release.

Batch states: prepared → approved → (signed_off, required when the total reaches the contract's
`county_signoff_at`) → released → reconciled (once the bank has settled every item); prepared, approved and
signed-off batches may be cancelled, their cases going back to ready_to_pay.

Item states: pending (in a batch not yet released) → sent (released) → succeeded | failed; cancelled.

The fund (see ledger.py): approval commits the batch total (409 when the balance cannot carry it and the fee
it will cost); a successful transfer moves its amount from committed to paid, with the service fee; a failed
transfer releases its amount back to the balance at once: the case is re-issued only after its payee is
changed (and the change approved), in a later batch, which is approved and committed again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import (
    FieldError,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from ..contract import county_named
from ..domain.money import format_yuan
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.tables import Case, Check, Determination, Household
from ..store.vault import Vault
from ..domain.cells import formula_cells
from ..sampling.models import CaseHold
from ..notices.models import NoticeItem, Objection
from ..notices.posting import UNCONFIRMED_CASES
from ..notices.reading import OPEN_OBJECTION_CASES
from . import bankfiles, batch_recheck, batch_stops, deciders, ledger, one_account
from .ledger_models import FundMovement
from ..followups.models import MISDIRECTED_STANDS, Followup, FollowupReceiptReview
from .models import PayeeCorrection, PaymentBatch, PaymentBatchSignoff, PaymentItem, SupplementaryPayment
from .payees import (  # noqa: F401  (the payee's reading lives with the payee changes; callers find it here too)
    CHECK_ACCOUNT_COLUMN,
    CORRECTION_ACCOUNT_COLUMN,
    correction_wins,
    current_payee,
)
from .schemas import BatchOut, SkippedCase
from .bank import (  # noqa: F401  (callers find the bank file and return here too)
    BankFile,
    SHARED_ACCOUNT_WARN_AT,
    _bank_rows,
    bank_file,
    import_return,
    linked_importer,
    record_bank_file,
    shared_accounts,
    took_bank_file,
)
from .batch_read import (  # noqa: F401  (and the batches' reading)
    BANK_FILE_COLUMN,
    BATCH_STATUS_LABELS_ZH,
    BATCH_TRANSITIONS,
    CASE_ITEMS,
    ITEM_STATUS_LABELS_ZH,
    MAX_ITEMS,
    _case,
    _chunks,
    live_batch,
    _digest,
    _entry,
    _item,
    _move_batch_cases,
    _move_cases,
    _needs_signoff,
    _unsigned_since_signoff,
    _set_supplements,
    _threshold,
    batch_item_rows,
    batch_items,
    batch_out,
    get_batch,
    item_out,
    list_batches,
    next_batch_status,
    payment_rows,
    payments_for_case,
    refused_cases,
    refused_in_batch,
    signoffs_of,
)
from .fund import (  # noqa: F401  (and the fund)
    fund_movements,
    fund_summary,
)


@dataclass(frozen=True)
class _Candidate:
    case_id: str
    determination_id: str
    amount: int
    payee_name: str
    payee_bank: str
    check_id: str | None
    correction_id: str | None
    supplement_id: str | None = None
    account_index: str | None = None  # the paid account's blind index (from the check or the change it pays)


# Held out of every batch: a case held for re-determination after a sampling round, one whose notice's posting waits
# for its second person, one with an objection typed after its notice closed and not yet resolved.
_HELD = select(CaseHold.case_id).where(CaseHold.status == "open").union(UNCONFIRMED_CASES, OPEN_OBJECTION_CASES)


def held_cases(session: Session, case_ids: Sequence[str]) -> set[str]:
    """Those of `case_ids` held for re-determination after a sampling round (see sampling/consequences.py)."""
    held: set[str] = set()
    for chunk in _chunks(list(case_ids)):
        held.update(session.scalars(select(CaseHold.case_id).where(CaseHold.status == "open",
                                                                   CaseHold.case_id.in_(chunk))))
    return held


def _ready_cases(session: Session, county_code: str, contract_id: str | None) -> list[tuple[str, str]]:
    """(case id, contract id) of every case of the county ready to pay, locked for this transaction."""
    stmt = (select(Case.id, Case.contract_id).where(Case.county_code == county_code, Case.status == "ready_to_pay",
                                                    Case.id.not_in(_HELD))
            .order_by(Case.id).with_for_update())
    if contract_id:
        stmt = stmt.where(Case.contract_id == contract_id)
    return [(cid, kid) for cid, kid in session.execute(stmt)]


def _candidates(session: Session, case_ids: list[str], county_code: str, contract_id: str,
                status: str = "ready_to_pay") -> tuple[list[_Candidate], list[SkippedCase]]:
    """What each ready case would be paid: its latest confirmed determination's relief, to its current payee (the
    newer of its latest check's payee and its latest approved payee change). `status`: the cases' status (`paid`
    for the cases of supplementary payments)."""
    ready = (Case.county_code == county_code, Case.status == status, Case.contract_id == contract_id)
    dets: dict[str, tuple[Any, str, int, bool]] = {}
    for case_id, det_id, at, relief, eligible in session.execute(
        select(Determination.case_id, Determination.id, Determination.confirmed_at, Determination.relief,
               Determination.eligible).join(Case, Case.id == Determination.case_id).where(*ready)
    ):
        if case_id not in dets or (at, det_id) > dets[case_id][:2]:
            dets[case_id] = (at, det_id, relief, eligible)
    checks: dict[str, tuple[int, str, str | None, str | None, bool, Any, str | None]] = {}
    for case_id, check_id, seq, name, bank, has_account, recorded_at, index in session.execute(
        select(Check.case_id, Check.id, Check.seq, Check.payee_name, Check.payee_bank,
               Check.payee_account_enc.is_not(None), Check.recorded_at, Check.payee_account_index)
        .join(Case, Case.id == Check.case_id).where(*ready)
    ):
        if case_id not in checks or seq > checks[case_id][0]:
            checks[case_id] = (seq, check_id, name, bank, bool(has_account), recorded_at, index)
    corrections: dict[str, tuple[Any, str, str, str, str | None]] = {}
    for case_id, corr_id, at, name, bank, index in session.execute(
        select(PayeeCorrection.case_id, PayeeCorrection.id, PayeeCorrection.decided_at, PayeeCorrection.account_name,
               PayeeCorrection.bank, PayeeCorrection.account_index).join(Case, Case.id == PayeeCorrection.case_id)
        .where(*ready, PayeeCorrection.status == "approved")  # a pending or rejected change pays no one
    ):
        if case_id not in corrections or (at, corr_id) > corrections[case_id][:2]:
            corrections[case_id] = (at, corr_id, name, bank, index)
    out: list[_Candidate] = []
    skipped: list[SkippedCase] = []
    for case_id in case_ids:
        det = dets.get(case_id)
        if det is None or not det[3]:
            skipped.append(SkippedCase(case_id, "没有已确认的“符合条件”认定"))
            continue
        if det[2] <= 0:
            skipped.append(SkippedCase(case_id, "认定保障金为 0.00 元，无需支付"))
            continue
        chk = checks.get(case_id)
        if chk is not None and not (chk[2] and chk[4]):
            chk = None  # a check that recorded no payee account names no one
        corr = corrections.get(case_id)
        if corr is not None and correction_wins(corr[0], None if chk is None else chk[5]):
            out.append(_Candidate(case_id, det[1], det[2], corr[2], corr[3], None, corr[1], account_index=corr[4]))
            continue
        if chk is None:
            skipped.append(SkippedCase(case_id, "入户核查未记录收款账户：请先设置收款信息"))
            continue
        out.append(_Candidate(case_id, det[1], det[2], chk[2], chk[3] or "", chk[1], None, account_index=chk[6]))
    return out, skipped


def _open_supplements(session: Session, county_code: str, contract_id: str | None) -> list[SupplementaryPayment]:
    """The county's supplementary payments not yet in a batch and confirmed by a second county reviewer, locked for
    this transaction, by case and within a case oldest first."""
    stmt = (select(SupplementaryPayment).where(SupplementaryPayment.county_code == county_code,
                                               SupplementaryPayment.status == "open",
                                               SupplementaryPayment.confirmed_by.is_not(None))
            .order_by(SupplementaryPayment.case_id, SupplementaryPayment.opened_at, SupplementaryPayment.id)
            .with_for_update())
    if contract_id:
        stmt = stmt.where(SupplementaryPayment.contract_id == contract_id)
    return list(session.scalars(stmt))


def _supplement_candidates(session: Session, supplements: list[SupplementaryPayment], county_code: str,
                           contract_id: str) -> tuple[list[_Candidate], list[SkippedCase]]:
    """Each supplementary payment as an item: its amount, for its determination, to the case's current payee. One per
    case in a batch (the oldest): another of the case is told as skipped, paid by a later batch. None is paid to a
    payee a misdirected follow-up's money went to (`misdirected_items`: by case, whatever opened the supplement)."""
    by_case: dict[str, SupplementaryPayment] = {}
    later: list[SkippedCase] = []
    for sp in supplements:
        if sp.contract_id != contract_id:
            continue
        if sp.case_id in by_case:
            later.append(SkippedCase(sp.case_id, SECOND_SUPPLEMENT.format(amount=format_yuan(sp.amount))))
        else:
            by_case[sp.case_id] = sp
    if not by_case:
        return [], later
    found, skipped = _candidates(session, list(by_case), county_code, contract_id, status="paid")
    astray = misdirected_items(session, list(by_case))
    out = []
    for c in found:
        if any(_same_payee(c, wrong) for wrong in astray.get(c.case_id, [])):
            skipped.append(SkippedCase(c.case_id, MISDIRECTED_PAYEE))
            continue
        out.append(_Candidate(c.case_id, by_case[c.case_id].determination_id, by_case[c.case_id].amount,
                              c.payee_name, c.payee_bank, c.check_id, c.correction_id, by_case[c.case_id].id,
                              c.account_index))
    return out, skipped + later


MISDIRECTED_PAYEE = ("补发暂不支付：案件的收款账户仍是回访核实未收到的那笔保障金付入的账户；请先申请收款人变更，"
                     "经县级审核人员批准改为农户本人的账户后再补发")
SECOND_SUPPLEMENT = ("同一案件还有一笔较早开立的补发待支付；一个批次每个案件只付一笔补发，这笔补发（{amount} 元）"
                     "留待下一个批次支付")


def misdirected_items(session: Session, case_ids: Sequence[str]) -> dict[str, list[PaymentItem]]:
    """Of `case_ids`, those with a follow-up closed as misdirected (回访核实未收到), each with the items whose money
    went elsewhere: no supplement of the case, whatever opened it, is paid to those items' payees."""
    out: dict[str, list[PaymentItem]] = {}
    if not case_ids:
        return out
    for case_id, item in session.execute(
            select(FollowupReceiptReview.case_id, PaymentItem)
            .join(Followup, Followup.id == FollowupReceiptReview.followup_id)
            .join(PaymentItem, PaymentItem.id == Followup.payment_item_id)
            .where(FollowupReceiptReview.case_id.in_(sorted(set(case_ids))), MISDIRECTED_STANDS)
            .order_by(PaymentItem.id)).tuples():
        out.setdefault(case_id, []).append(item)
    return out


def _same_payee(c: _Candidate, wrong: PaymentItem) -> bool:
    """Whether `c` would pay the payee `wrong` paid: the same change or check named, or the same account by its blind
    index (changed away and back again)."""
    return ((c.correction_id is not None and c.correction_id == wrong.payee_correction_id)
            or (c.check_id is not None and c.check_id == wrong.payee_check_id)
            or (c.account_index is not None and c.account_index == wrong.payee_account_index))


def _batch_code(clock: Clock) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return f"P{clock.today():%y%m%d}" + "".join(secrets.choice(alphabet) for _ in range(8))


def ready_to_pay(session: Session, county_code: str, principal: Principal) -> list[dict[str, Any]]:
    """The county's cases ready to pay, for claims to choose a batch's cases from: id, household head, village,
    contract and the relief of the latest confirmed determination."""
    principal.require_county(county_code, "county")
    rows = session.execute(
        select(Case.id, Case.contract_id, Case.town, Case.village, Household.head_name)
        .join(Household, Household.id == Case.household_id)
        .where(Case.county_code == county_code, Case.status == "ready_to_pay", Case.id.not_in(_HELD))
        .order_by(Case.id)).all()
    relief: dict[str, tuple[Any, str, int]] = {}
    for case_id, det_id, at, amount in session.execute(
            select(Determination.case_id, Determination.id, Determination.confirmed_at, Determination.relief)
            .join(Case, Case.id == Determination.case_id)
            .where(Case.county_code == county_code, Case.status == "ready_to_pay")):
        if case_id not in relief or (at, det_id) > relief[case_id][:2]:
            relief[case_id] = (at, det_id, amount)
    return [{"case_id": cid, "contract_id": kid, "town": town, "village": village, "head_name": head,
             "relief": format_yuan(relief[cid][2]) if cid in relief else None}
            for cid, kid, town, village, head in rows]


def create_batch(session: Session, *, county_code: str, contract_id: str | None, principal: Principal,
                 clock: Clock, case_ids: Sequence[str] | None = None) -> BatchOut:
    """A batch of the county's cases that are ready to pay (notice closed cleanly, not paid): every one of them,
    or those of `case_ids` (claims chose them; each must be ready to pay in the county)."""
    principal.require_county(county_code, "county")
    ready = _ready_cases(session, county_code, contract_id)
    supplements = _open_supplements(session, county_code, contract_id)
    if case_ids is not None:
        chosen = list(dict.fromkeys(case_ids))
        if not chosen:
            raise ValidationFailed.one("case_ids", "请至少选择一户待支付案件")
        known = {cid for cid, _ in ready} | {sp.case_id for sp in supplements}
        missing = [cid for cid in chosen if cid not in known]
        if missing:
            held = held_cases(session, missing)
            unposted = set(session.scalars(UNCONFIRMED_CASES.where(NoticeItem.case_id.in_(missing))))
            objected = set(session.scalars(OPEN_OBJECTION_CASES.where(Objection.case_id.in_(missing))))
            waiting = set(session.scalars(select(SupplementaryPayment.case_id).where(
                SupplementaryPayment.case_id.in_(missing), SupplementaryPayment.county_code == county_code,
                SupplementaryPayment.status == "open", SupplementaryPayment.confirmed_by.is_(None))))
            raise ValidationFailed([FieldError("case_ids", f"案件 {cid} 的公示张贴待第二人确认，确认前不能支付"
                                               if cid in unposted else
                                               f"案件 {cid} 因抽样复核发现偏差而暂停支付，须待保险公司主管重新认定。"
                                               if cid in held else
                                               f"案件 {cid} {OBJECTION_WAITS}" if cid in objected else
                                               f"案件 {cid} 的补发须经另一名县级复核人员确认后才能列入支付批次。" if cid in waiting
                                               else f"案件 {cid} 不是{county_named(county_code)}的待支付案件（可能已列入其他批次）")
                                    for cid in missing[:50]])
        wanted = set(chosen)
        ready = [(cid, kid) for cid, kid in ready if cid in wanted]
        supplements = [sp for sp in supplements if sp.case_id in wanted]
    contract_ids = sorted({kid for _, kid in ready} | {sp.contract_id for sp in supplements})
    if len(contract_ids) > 1:
        raise ValidationFailed.one("contract_id", f"{county_named(county_code)}有多个服务合同（{', '.join(contract_ids)}）"
                                                  "的待支付案件：请按合同分别生成批次。")
    if not contract_ids:
        raise ValidationFailed.one("county_code", f"{county_named(county_code)}没有待支付的案件"
                                                  + (f"（服务合同 {contract_id}）" if contract_id else "") + "。")
    contract_store.require_accepted(session, contract_ids[0], "按它生成支付批次")
    contract = contract_store.get_contract(session, contract_ids[0])
    candidates, skipped = _candidates(session, [cid for cid, _ in ready], county_code, contract.id)
    more, more_skipped = _supplement_candidates(session, supplements, county_code, contract.id)
    candidates, skipped = candidates + more, skipped + more_skipped
    # 一账多户: only the candidates that one statement finds with an account another household's case names (or a
    # staff member's) have their accounts read (a supplement's case, paid already, is read as it is).
    suspects = batch_recheck.ready_suspects(session, county_code, contract.id, "ready_to_pay", clock.today())
    shared = one_account.held_reasons(session, [(c.case_id, c.account_index) for c in candidates
                                                if c.case_id in suspects or c.supplement_id], clock.today())
    if shared:  # 收款账户与其他家庭相同, 或为工作人员本人账户: held out until a county reviewer clears the account
        skipped += [SkippedCase(c.case_id, shared[c.case_id]) for c in candidates if c.case_id in shared]
        candidates = [c for c in candidates if c.case_id not in shared]
    # 回避: the preparer's own family is left out (paid by a batch another person prepares), on record for the
    # auditors (`recusal.refused`). The preparer is told with a neutral reason; the batch's creation entry, which six
    # roles read (制单时未列入的案件), does not list these cases at all: a listed case would tell who is related.
    recused = recusal.recused_cases(session, principal, [c.case_id for c in candidates])
    told = list(skipped)
    if recused:
        told += [SkippedCase(c.case_id, PREPARER_RECUSED) for c in candidates if c.case_id in recused]
        candidates = [c for c in candidates if c.case_id not in recused]
    if not candidates:
        exc = ValidationFailed([FieldError("county_code", f"{county_named(county_code)}没有可以支付的案件。")]
                               + [FieldError(f"case {s.case_id}", s.reason) for s in told])
        recusal_refusals.left_out(session, principal, recused, "batch_prepare", refusal=exc, clock=clock)
        raise exc
    recusal_refusals.left_out(session, principal, recused, "batch_prepare", clock=clock)
    if len(candidates) > MAX_ITEMS:
        raise ValidationFailed.one("county_code", f"待支付案件 {len(candidates)} 件，每批最多 {MAX_ITEMS} 件。")
    now = clock.now()
    batch_id = new_id("pb")
    code = _batch_code(clock)
    total = sum(c.amount for c in candidates)
    rows = []
    for seq, c in enumerate(candidates, start=1):
        rows.append({
            "id": new_id("pi"), "batch_id": batch_id, "seq": seq, "reference": f"{code}{seq:06d}", "case_id": c.case_id,
            "determination_id": c.determination_id, "amount": c.amount, "payee_name": c.payee_name,
            "payee_bank": c.payee_bank, "payee_check_id": c.check_id, "payee_correction_id": c.correction_id,
            "status": "pending", "bank_reference": None, "failure_reason": None, "return_id": None, "settled_at": None,
            "created_at": now, "supplement_id": c.supplement_id, "payee_account_index": c.account_index,
        })
    items_sha256 = _digest(f"{r['reference']},{r['case_id']},{r['determination_id']},{format_yuan(r['amount'])}"
                           for r in rows)
    # a case of a batch the county refused to sign off goes back to the county, whatever this batch's total
    refused = refused_cases(session, county_code, [c.case_id for c in candidates])
    batch = PaymentBatch(
        id=batch_id, code=code, county_code=county_code, contract_id=contract.id, contract_hash=contract.content_hash,
        status="prepared", item_count=len(rows), total=total, items_sha256=items_sha256,
        signoff_required=bool(refused) or total + _unsigned_since_signoff(session, county_code, contract.id, None)
        >= contract.county_signoff_at, prepared_by=principal.id, prepared_at=now, updated_at=now,
    )
    session.add(batch)
    session.flush()
    try:
        session.execute(insert(_item), rows)
    except IntegrityError:
        raise InvalidState("有案件已在其他未完成的批次中，未做任何更改。") from None
    _move_batch_cases(session, batch_id, sum(1 for r in rows if r["supplement_id"] is None), "ready_to_pay",
                      "add_to_batch", clock)
    _set_supplements(session, [r["supplement_id"] for r in rows if r["supplement_id"]], "open", "in_batch", clock)
    audit.append(session, actor=principal.id, role="insurer_claims", action="payment_batch.create", subject=batch_id,
                 contract_hash=contract.content_hash, clock=clock, payload={
                     "code": code, "county_code": county_code, "items": len(rows), "total": format_yuan(total),
                     "items_sha256": items_sha256, "signoff_required": batch.signoff_required,
                     "cases": {"from": "ready_to_pay", "to": "in_batch"},
                     "skipped": [{"case_id": s.case_id, "reason": s.reason} for s in skipped],
                     "supplements": [r["supplement_id"] for r in rows if r["supplement_id"]],
                     **({"chosen": len(case_ids)} if case_ids is not None else {}),
                     **({"signoff_refused_cases": refused} if refused else {}),
                 })
    return batch_out(session, batch, told, counts={"pending": len(rows)})


def _pending_total(session: Session, batch: PaymentBatch) -> tuple[int, int]:
    n, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentItem.amount), 0))
        .where(PaymentItem.batch_id == batch.id, PaymentItem.status == "pending")
    ).one()
    return int(n), int(total)


PREPARER_RECUSED = "须由其他经办人制单"
"""Why a case is left out of the batch its preparer is tied to, told to the preparer only: neutral (no 回避, no member,
no relation), and not kept in the batch's creation entry."""


def approve(session: Session, batch_id: str, *, principal: Principal, vault: Vault, clock: Clock) -> BatchOut:
    batch = get_batch(session, batch_id, principal, for_update=True)
    # who may approve it: the one rule the home card counts by (preparer, removers, payees' hands, links, 回避)
    deciders.refuse(session, batch, principal, "approve", vault, clock)
    # what stops it for everyone: the one rule the home card counts by too (the fund's below, under its lock)
    batch_stops.refuse(session, batch, "approve", clock.today(), "contract")
    target = next_batch_status(batch.status, "approve")
    # held since prepared: a case (re-determination, an objection typed after its notice closed), an account
    batch_stops.refuse(session, batch, "approve", clock.today(), "held", "objection", "accounts")
    n, total = _pending_total(session, batch)
    if (n, total) != (batch.item_count, batch.total):
        raise InvalidState("批次明细与制单时不一致，请撤销后重新制单。")
    refused = [] if batch.signoff_required else refused_in_batch(session, batch)
    if refused:  # prepared before the county refused a batch holding one of its cases: back to the county too
        batch.signoff_required = True
    contract = contract_store.get_contract(session, batch.contract_id)
    _, entries = ledger.lock_fund(session, contract, actor=principal.id, clock=clock)
    current = ledger.balances(session, contract.id)
    ledger.check_commitment(current, batch.total, contract.service_fee_rate, f"审批批次 {batch.code}")
    # A batch approved again after a refused sign-off commits again, under its own key (each movement happens once).
    refusals = _refusals(session, batch.id)
    key = f"commit:{batch.id}" + (f":{refusals}" if refusals else "")
    ledger.post(session, contract.id, "commit", key, batch.total, actor=principal.id, clock=clock,
                batch_id=batch.id, note=f"batch {batch.code} approved")
    now = clock.now()
    batch.status, batch.approved_by, batch.approved_at, batch.updated_at = target, principal.id, now, now
    session.flush()
    entries.append(_entry(principal, "finance", "payment_batch.approve", batch.id, batch.contract_hash, {
        "from": "prepared", "to": target, "items": batch.item_count, "total": format_yuan(batch.total),
        "items_sha256": batch.items_sha256, "balance_after": format_yuan(current.balance - batch.total),
        "signoff_required": batch.signoff_required, **({"signoff_refused_cases": refused} if refused else {}),
    }))
    audit.append_many(session, entries, clock=clock)
    return batch_out(session, batch, counts={"pending": n})


def _refusals(session: Session, batch_id: str) -> int:
    """How many times the county refused to sign the batch off (each released the batch's commitment)."""
    return session.scalar(select(func.count()).select_from(FundMovement).where(
        FundMovement.batch_id == batch_id, FundMovement.key.like(f"release:refused:{batch_id}:%"))) or 0


def _signoff_checks(session: Session, batch: PaymentBatch, principal: Principal, what: str, vault: Vault,
                    clock: Clock) -> None:
    """Who may sign the batch off or refuse to: the one rule the home card counts by (`deciders.refusals`)."""
    deciders.refuse(session, batch, principal, "sign off", vault, clock)


def _decided(session: Session, batch: PaymentBatch, how: str, principal: Principal, now: datetime) -> str:
    """Keep the sign-off decision (`PaymentBatchSignoff`: refused or given, who, when, the opinion the batch now
    keeps), which a later decision's opinion does not overwrite; its id, for the audit entry."""
    row = PaymentBatchSignoff(id=new_id("pbs"), batch_id=batch.id, decision=how, decided_by=principal.id,
                              decided_at=now, opinion=batch.signoff_opinion)
    session.add(row)
    return row.id


def county_signoff(session: Session, batch_id: str, *, principal: Principal, vault: Vault, clock: Clock,
                   opinion: str = "") -> BatchOut:
    batch = get_batch(session, batch_id, principal, for_update=True)
    # Only the sign-off waits for the county's acceptance of the contract: refusing it (below) is always open.
    batch_stops.refuse(session, batch, "sign off", clock.today(), "contract")
    _signoff_checks(session, batch, principal, "sign off", vault, clock)
    target = next_batch_status(batch.status, "county_signoff")
    batch_stops.refuse(session, batch, "sign off", clock.today(), "accounts")
    now = clock.now()
    batch.status, batch.signed_off_by, batch.signed_off_at, batch.updated_at = target, principal.id, now, now
    batch.signoff_opinion = opinion.strip() or None
    decided = _decided(session, batch, "given", principal, now)
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="payment_batch.county_signoff",
                 subject=batch.id, contract_hash=batch.contract_hash, clock=clock, payload={
                     "from": "approved", "to": target, "items": batch.item_count, "total": format_yuan(batch.total),
                     "items_sha256": batch.items_sha256, "required": batch.signoff_required, "signoff_id": decided,
                     **({"opinion_sha256": audit.text_digest(batch.signoff_opinion)} if batch.signoff_opinion else {})})
    return batch_out(session, batch)


def refuse_signoff(session: Session, batch_id: str, *, opinion: str, principal: Principal, vault: Vault,
                   clock: Clock) -> BatchOut:
    """The county reviewer refuses to sign off an approved batch, with an opinion: the batch goes back to prepared
    (its commitment of the fund released), so claims can take cases out and finance approve it again, or cancel it.
    A refused batch cannot be released: release needs an approved (and signed-off) batch."""
    batch = get_batch(session, batch_id, principal, for_update=True)
    opinion = opinion.strip()
    if not opinion:
        raise ValidationFailed.one("opinion", "必填：请说明不同意签批的理由")
    _signoff_checks(session, batch, principal, "sign off", vault, clock)
    target = next_batch_status(batch.status, "refuse_signoff")
    contract = contract_store.get_contract(session, batch.contract_id)
    _, entries = ledger.lock_fund(session, contract, actor=principal.id, clock=clock)
    ledger.post(session, contract.id, "release", f"release:refused:{batch.id}:{_refusals(session, batch.id) + 1}",
                batch.total, actor=principal.id, clock=clock, batch_id=batch.id,
                note=f"batch {batch.code} not signed off by the county")
    now = clock.now()
    approved_by = batch.approved_by
    batch.status, batch.approved_by, batch.approved_at, batch.updated_at = target, None, None, now
    batch.signoff_opinion, batch.signoff_refused_by, batch.signoff_refused_at = opinion, principal.id, now
    decided = _decided(session, batch, "refused", principal, now)
    session.flush()
    entries.append(_entry(principal, "county_reviewer", "payment_batch.signoff_refused", batch.id, batch.contract_hash, {
        "from": "approved", "to": target, "items": batch.item_count, "total": format_yuan(batch.total),
        "items_sha256": batch.items_sha256, "opinion_sha256": audit.text_digest(opinion), "approved_by": approved_by,
        "signoff_id": decided,
        "commitment_released": format_yuan(batch.total)}))
    audit.append_many(session, entries, clock=clock)
    return batch_out(session, batch)


def remove_item(session: Session, batch_id: str, item_id: str, *, reason: str, principal: Principal,
                clock: Clock) -> BatchOut:
    """Take one case out of a batch before approval, with a reason: the case is ready to pay again and the batch's
    count, total and digest are those of its remaining items. Nothing of the fund is committed before approval,
    so nothing is released; an approved batch is refused (cancel it, or have the county refuse its sign-off)."""
    batch = get_batch(session, batch_id, principal, for_update=True)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", "必填：请说明移出原因")
    if batch.status != "prepared":
        raise InvalidState(f"只能在审批前移出明细；批次 {batch.code} 当前为"
                           f"「{BATCH_STATUS_LABELS_ZH.get(batch.status, batch.status)}」。")
    item = session.scalar(select(PaymentItem).where(PaymentItem.id == item_id, PaymentItem.batch_id == batch.id)
                          .with_for_update())
    if item is None:
        raise NotFound("批次中没有这笔明细")
    if item.status != "pending":
        raise InvalidState(f"明细 {item.reference} 当前为「{ITEM_STATUS_LABELS_ZH.get(item.status, item.status)}」，"
                           "只能移出待发放的明细。")
    if batch.item_count <= 1:
        raise InvalidState("这是批次中的最后一笔明细：请撤销整个批次。")
    now = clock.now()
    item.status, item.removed_by, item.removed_at, item.removed_reason = "cancelled", principal.id, now, reason
    session.flush()
    if item.supplement_id is None:
        _move_cases(session, [item.case_id], "in_batch", "remove_from_batch", clock)
    else:
        _set_supplements(session, [item.supplement_id], "in_batch", "open", clock)
    before = _recount(session, batch, now)
    audit.append(session, actor=principal.id, role=principal.acting_role(("insurer_claims",)),
                 action="payment_batch.remove_item", subject=batch.id, contract_hash=batch.contract_hash, clock=clock,
                 payload={"item_id": item.id, "reference": item.reference, "case_id": item.case_id,
                          "amount": format_yuan(item.amount), "reason_sha256": audit.text_digest(reason),
                          "before": before,
                          "items": batch.item_count, "total": format_yuan(batch.total),
                          "items_sha256": batch.items_sha256, "signoff_required": batch.signoff_required,
                          "case": {"from": "in_batch", "to": "ready_to_pay"}})
    return batch_out(session, batch)


def _recount(session: Session, batch: PaymentBatch, now: Any) -> dict[str, Any]:
    """Set a prepared batch's count, total, digest and sign-off need to those of its pending items; returns the
    figures it had before."""
    remaining = session.execute(
        select(PaymentItem.reference, PaymentItem.case_id, PaymentItem.determination_id, PaymentItem.amount)
        .where(PaymentItem.batch_id == batch.id, PaymentItem.status == "pending").order_by(PaymentItem.seq)).all()
    before = {"items": batch.item_count, "total": format_yuan(batch.total), "items_sha256": batch.items_sha256}
    batch.item_count = len(remaining)
    batch.total = sum(int(r.amount) for r in remaining)
    batch.items_sha256 = _digest(f"{r.reference},{r.case_id},{r.determination_id},{format_yuan(r.amount)}"
                                 for r in remaining)
    batch.signoff_required = _needs_signoff(session, batch)
    batch.updated_at = now
    session.flush()
    return before


HOLD_REMOVAL_REASON = "抽样复核发现偏差，暂停支付，待重新认定"
OBJECTION_REMOVAL_REASON = "公示结束后补登了公示期内收到的异议，暂停支付，待异议处理"
OBJECTION_WAITS = "在公示结束后补登了公示期内收到的异议，异议处理前不能支付（异议不成立后可列入批次）。"


def take_out_held(session: Session, case_id: str, *, principal: Principal, clock: Clock,
                  reason: str = HOLD_REMOVAL_REASON) -> dict[str, Any] | None:
    """Take a case just held (for re-determination; or by an objection typed after its notice closed,
    `OBJECTION_REMOVAL_REASON`) out of its batch when that batch is not yet approved (the case is ready to pay again,
    and stays held); a batch left empty is cancelled. Nothing of the fund is committed before approval, so nothing
    is released. A case in an approved batch stays in it: that batch is refused approval and release while it holds
    the case (`batch_stops`). Returns what was done, for the hold's (or the objection's) audit entry."""
    row = session.execute(
        select(PaymentItem, PaymentBatch).join(PaymentBatch, PaymentBatch.id == PaymentItem.batch_id)
        .where(PaymentItem.case_id == case_id, PaymentItem.status == "pending")).first()
    if row is None:
        return None
    item, batch = row
    if batch.status != "prepared":
        return {"batch_id": batch.id, "code": batch.code, "status": batch.status, "taken_out": False}
    session.refresh(batch, with_for_update=True)
    now = clock.now()
    item.status, item.removed_by, item.removed_at = "cancelled", principal.id, now
    item.removed_reason = reason
    session.flush()
    _move_cases(session, [case_id], "in_batch", "remove_from_batch", clock)
    before = _recount(session, batch, now)
    if batch.item_count == 0:
        batch.status = next_batch_status(batch.status, "cancel")
        batch.cancelled_by, batch.cancelled_at = principal.id, now
        session.flush()
    return {"batch_id": batch.id, "code": batch.code, "taken_out": True, "item_id": item.id,
            "reference": item.reference, "amount": format_yuan(item.amount), "before": before,
            "items": batch.item_count, "total": format_yuan(batch.total), "items_sha256": batch.items_sha256,
            "batch_status": batch.status}


def paid_by(session: Session, case_id: str) -> str | None:
    """The code of the batch whose transfer of the case's relief the bank confirmed, or None."""
    return session.scalar(
        select(PaymentBatch.code).join(PaymentItem, PaymentItem.batch_id == PaymentBatch.id)
        .where(PaymentItem.case_id == case_id, PaymentItem.supplement_id.is_(None), PaymentItem.status == "succeeded")
        .order_by(PaymentItem.settled_at.desc()).limit(1))


def release(session: Session, batch_id: str, *, principal: Principal, vault: Vault, clock: Clock) -> BatchOut:
    """Release an approved (and, when required, signed-off) batch to the bank: its bank file is written now."""
    batch = get_batch(session, batch_id, principal, for_update=True)
    # who may release it, and what stops it for everyone: the rules the home card 待发放批次 counts by
    deciders.refuse(session, batch, principal, "release", vault, clock)
    batch_stops.refuse(session, batch, "release", clock.today(), "contract")
    if batch.status == "approved" and batch.signoff_required and (refused := refused_in_batch(session, batch)):
        raise InvalidState(REFUSED_BEFORE.format(code=batch.code, n=len(refused),
                                                 numbers=_numbers(session, refused)))
    if batch.status == "approved" and batch.signoff_required:
        raise InvalidState(
            f"批次 {batch.code} 金额 {format_yuan(batch.total)} 元，达到合同规定的县级签批金额 "
            f"{format_yuan(_threshold(session, batch))} 元，须经县级审核人员签批后方可发放。")
    before = batch.status
    target = next_batch_status(batch.status, "release")
    batch_stops.refuse(session, batch, "release", clock.today(), "held", "objection", "accounts")
    sent = session.execute(
        update(_item).where(_item.c.batch_id == batch.id, _item.c.status == "pending").values(status="sent")
    ).rowcount
    if sent != batch.item_count:
        raise InvalidState("批次明细状态已变化，未发放，请刷新后重试。")
    rows = _bank_rows(session, batch, vault)
    bad = formula_cells(rows, bankfiles.BANK_FILE_HEADER)
    if bad:
        raise InvalidState("银行文件未生成：" + "；".join(
            f"第 {line} 行「{bankfiles.BANK_FILE_COLUMNS_ZH.get(column, column)}」以公式字符开头"
            for line, column in bad[:20])
            + ("" if len(bad) <= 20 else f"；另有 {len(bad) - 20} 处")
            + "。请撤销批次，经审批变更收款人后重新制单。")
    content = bankfiles.bank_file_csv(rows)
    now = clock.now()
    batch.status, batch.released_by, batch.released_at, batch.updated_at = target, principal.id, now, now
    batch.bank_file_enc = vault.seal(content.decode("utf-8"), BANK_FILE_COLUMN)
    batch.bank_file_sha256 = hashlib.sha256(content).hexdigest()
    session.flush()
    audit.append(session, actor=principal.id, role="finance", action="payment_batch.release", subject=batch.id,
                 contract_hash=batch.contract_hash, clock=clock, payload={
                     "from": before, "to": target, "items": batch.item_count, "total": format_yuan(batch.total),
                     "items_sha256": batch.items_sha256, "bank_file_sha256": batch.bank_file_sha256})
    return batch_out(session, batch, counts={"sent": sent})


REFUSED_BEFORE = ("批次 {code} 中有 {n} 户（案件 {numbers}）曾列入县级审核人员不同意签批的批次，此后未经县级签批："
                  "无论本批次金额多少，须经县级审核人员签批后方可发放。")


def _numbers(session: Session, case_ids: Sequence[str], most: int = 5) -> str:
    """The cases' numbers as a refusal names them (the first `most`, and how many more)."""
    found = dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(list(case_ids[:most])))).tuples().all())
    said = "、".join(found.get(c) or c for c in case_ids[:most])
    return said + (f" 等 {len(case_ids)} 户" if len(case_ids) > most else "")


def cancel(session: Session, batch_id: str, *, principal: Principal, clock: Clock) -> BatchOut:
    """Withdraw a batch not yet released: its cases are ready to pay again and any commitment is released."""
    batch = get_batch(session, batch_id, principal, for_update=True)
    before = batch.status
    target = next_batch_status(batch.status, "cancel")
    pending = session.execute(select(PaymentItem.case_id, PaymentItem.supplement_id).where(
        PaymentItem.batch_id == batch.id, PaymentItem.status == "pending")).all()
    case_ids = [cid for cid, _ in pending]
    session.execute(update(_item).where(_item.c.batch_id == batch.id, _item.c.status == "pending")
                    .values(status="cancelled"))
    _move_cases(session, [cid for cid, sup in pending if sup is None], "in_batch", "remove_from_batch", clock)
    _set_supplements(session, [sup for _, sup in pending if sup], "in_batch", "open", clock)
    entries: list[dict[str, Any]] = []
    if before in ("approved", "signed_off"):
        contract = contract_store.get_contract(session, batch.contract_id)
        _, entries = ledger.lock_fund(session, contract, actor=principal.id, clock=clock)
        ledger.post(session, contract.id, "release", f"release:cancel:{batch.id}", batch.total, actor=principal.id,
                    clock=clock, batch_id=batch.id, note=f"batch {batch.code} cancelled before release")
    now = clock.now()
    batch.status, batch.cancelled_by, batch.cancelled_at, batch.updated_at = target, principal.id, now, now
    session.flush()
    entries.append(_entry(principal, principal.acting_role(("insurer_claims", "finance")), "payment_batch.cancel",
                          batch.id, batch.contract_hash, {
                              "from": before, "to": target, "items": len(case_ids), "total": format_yuan(batch.total),
                              "items_sha256": batch.items_sha256, "cases": {"from": "in_batch", "to": "ready_to_pay"},
                              "commitment_released": format_yuan(batch.total if before != "prepared" else 0)}))
    audit.append_many(session, entries, clock=clock)
    return batch_out(session, batch)
