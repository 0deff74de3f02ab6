"""The bank file a released batch is paid by, and the bank's return of it (see payments/service.py): the file is
checked before it is written, the return settles each item exactly once."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.models import AuditEntry
from ..clock import SCHEME_TZ, Clock
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.masking import mask_account
from ..domain.money import format_yuan
from ..store import contracts as contract_store
from ..roster.service import PASSWORD_LINK
from ..store.base import new_id
from ..store.vault import Vault
from ..domain.cells import formula_cells
from . import bankfiles, ledger
from .models import BankReturn, PaymentBatch, PaymentItem, SupplementaryPayment
from .payees import CHECK_ACCOUNT_COLUMN, CORRECTION_ACCOUNT_COLUMN
from .schemas import ReturnOut, SharedAccount
from .batch_read import (BANK_FILE_COLUMN, BATCH_STATUS_LABELS_ZH, ITEM_STATUS_LABELS_ZH, _account_of, _digest,
    _entry, _item, _item_rows_stmt, _move_cases, _set_supplements, get_batch, next_batch_status)


def _bank_rows(session: Session, batch: PaymentBatch, vault: Vault) -> list[bankfiles.BankRow]:
    """The bank file's lines: the only place payee accounts are decrypted."""
    contract = contract_store.get_contract(session, batch.contract_id)
    memo = f"{contract.year}年防贫帮困保障金"
    result = session.execute(
        _item_rows_stmt(PaymentItem.reference, PaymentItem.payee_name, PaymentItem.payee_bank, PaymentItem.amount)
        .where(PaymentItem.batch_id == batch.id, PaymentItem.status != "cancelled").order_by(PaymentItem.seq)
    )
    open_sealed = vault.open
    return [
        (ref, name,
         open_sealed(corr, CORRECTION_ACCOUNT_COLUMN) if corr is not None else open_sealed(chk, CHECK_ACCOUNT_COLUMN),
         bank, format_yuan(amount), memo)
        for ref, name, bank, amount, chk, corr in result
    ]


@dataclass(frozen=True)
class BankFile:
    content: bytes
    filename: str
    media_type: str
    sha256: str
    items: int


BANK_FILE_RECUSED = ("回避：本批次中有案件的家庭成员与您存在回避关系（与本户成员存在回避关系），您不能下载本批次的银行文件："
                     "请交由其他财务人员办理")


def bank_file(session: Session, batch_id: str, *, principal: Principal, vault: Vault, fmt: str = "csv",
              clock: Clock | None = None) -> BankFile:
    """The bank file written at release (CSV as written; xlsx with the same cells); call `record_bank_file` to log it.

    回避: refused (422, nothing given, nothing logged but the refusal) to a person tied to a household the batch pays:
    the file is the instruction the bank pays by, and whoever takes it hands it over."""
    if fmt not in bankfiles.FORMATS:
        raise ValidationFailed.one("format", "格式应为以下之一：" + "、".join(bankfiles.FORMATS))
    batch = get_batch(session, batch_id, principal)
    if batch.status not in ("released", "reconciled") or batch.bank_file_enc is None:
        raise InvalidState(f"批次发放后方可下载银行文件（当前为「{_batch_zh(batch.status)}」）。")
    recusal.refuse_cases_in(session, principal, select(PaymentItem.case_id).where(
        PaymentItem.batch_id == batch.id, PaymentItem.status != "cancelled"), step="bank_file",
        message=BANK_FILE_RECUSED, clock=clock)
    content = vault.open(batch.bank_file_enc, BANK_FILE_COLUMN).encode("utf-8")
    if hashlib.sha256(content).hexdigest() != batch.bank_file_sha256:
        raise InvalidState(f"批次 {batch.code} 保存的银行文件与发放时记录的哈希不符，请联系系统管理员。")
    media = "text/csv"  # the response adds "; charset=utf-8"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))[1:]
    if fmt == "xlsx":
        content = bankfiles.bank_file_xlsx(rows)  # type: ignore[arg-type]
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        if formula_cells(rows, bankfiles.BANK_FILE_HEADER):
            content = bankfiles.bank_file_csv(rows)  # type: ignore[arg-type]  # released before the check: escaped
        content = bankfiles.reencode_csv(content, fmt)
        if fmt == "csv-gbk":
            media = "text/csv; charset=gb18030"
    suffix = {"csv": ".csv", "csv-excel": "-excel.csv", "csv-gbk": "-gbk.csv", "xlsx": ".xlsx"}[fmt]
    return BankFile(content, f"{batch.code}{suffix}", media, hashlib.sha256(content).hexdigest(), batch.item_count)


SHARED_ACCOUNT_WARN_AT = 2  # payees of this many cases or more on one account are pointed out before approval


def shared_accounts(session: Session, batch: PaymentBatch, vault: Vault) -> list[SharedAccount]:
    """Accounts that several of the batch's live items would pay into, masked, with their cases: a warning for the
    people approving, shown until the batch is released. Compared by the items' blind index of the account they pay
    (an item without one, sealed before migration 0045, is opened and indexed here), so only the accounts shared are
    opened, to mask them: a batch of a hundred thousand items is not decrypted on each view of its page."""
    if batch.status not in ("prepared", "approved", "signed_off"):
        return []
    from .one_account import account_index

    ix = PaymentItem.payee_account_index
    live = (PaymentItem.batch_id == batch.id, PaymentItem.status != "cancelled")
    found: dict[int, tuple[str, str, Any, Any]] = {}  # seq -> (account index, case id, sealed check, sealed change)
    for seq, case_id, chk, corr in session.execute(_item_rows_stmt(PaymentItem.seq, PaymentItem.case_id)
                                                   .where(*live, ix.is_(None))):
        account = re.sub(r"\s+", "", _account_of(vault, chk, corr))
        if account:
            found[seq] = (account_index(vault, account), case_id, chk, corr)
    several = (select(ix).where(*live, ix.is_not(None)).group_by(ix)
               .having(func.count(func.distinct(PaymentItem.case_id)) >= SHARED_ACCOUNT_WARN_AT))
    unindexed = sorted({f[0] for f in found.values()})
    for where in [ix.in_(several)] + [ix.in_(unindexed[i:i + 500]) for i in range(0, len(unindexed), 500)]:
        for seq, case_id, index, chk, corr in session.execute(
                _item_rows_stmt(PaymentItem.seq, PaymentItem.case_id, ix).where(*live, where)):
            found[seq] = (index, case_id, chk, corr)
    by_account: dict[str, list[tuple[str, Any, Any]]] = {}
    for seq in sorted(found):
        index, case_id, chk, corr = found[seq]
        by_account.setdefault(index, []).append((case_id, chk, corr))
    groups = [rows for rows in by_account.values() if len({r[0] for r in rows}) >= SHARED_ACCOUNT_WARN_AT]
    groups.sort(key=lambda rows: (-len({r[0] for r in rows}), rows[0][0]))
    return [SharedAccount(account_number=mask_account(re.sub(r"\s+", "", _account_of(vault, rows[0][1], rows[0][2]))),
                          cases=len({r[0] for r in rows}), case_ids=sorted({r[0] for r in rows})) for rows in groups]


def record_bank_file(session: Session, batch_id: str, file: BankFile, *, fmt: str, principal: Principal,
                     clock: Clock) -> None:
    """Log who took the bank file (with its hash: what the bank was given can be proved later)."""
    batch = get_batch(session, batch_id, principal)
    audit.append(session, actor=principal.id, role="finance", action="payment_batch.bank_file", subject=batch.id,
                 contract_hash=batch.contract_hash, clock=clock,
                 payload={"format": fmt, "file_sha256": file.sha256, "items": file.items,
                          "csv_sha256": batch.bank_file_sha256})


def _batch_zh(status: str) -> str:
    return BATCH_STATUS_LABELS_ZH.get(status, status)


def _item_zh(status: str) -> str:
    return ITEM_STATUS_LABELS_ZH.get(status, status)


def refuse_releaser(batch: PaymentBatch, principal: Principal) -> None:
    """403 for the person who released the batch: who sent the money does not also write what the bank did with it
    (a transfer marked failed is paid again, perhaps to a new payee; a failed one marked succeeded hides it)."""
    if batch.released_by is not None and principal.id == batch.released_by:
        raise Forbidden("按“四眼原则”，本批次由您发放，银行回单须由另一名财务人员导入")


BANK_FILE_TAKER = ("按“四眼原则”，本批次的银行文件由您下载：银行回单须由另一名财务人员导入")


def took_bank_file(session: Session, batch_id: str, user_id: str) -> bool:
    """Whether the user downloaded the batch's bank file (a `payment_batch.bank_file` entry of theirs)."""
    return session.scalar(select(AuditEntry.idx).where(
        AuditEntry.subject == batch_id, AuditEntry.action == "payment_batch.bank_file",
        AuditEntry.actor == user_id).limit(1)) is not None


def refuse_bank_file_taker(session: Session, batch: PaymentBatch, principal: Principal) -> None:
    """422 for whoever downloaded the batch's bank file: the return's account column is optional, so who knows what
    was sent (and could leave the column out) does not also write what the bank answered."""
    if took_bank_file(session, batch.id, principal.id):
        raise ValidationFailed.one("file", BANK_FILE_TAKER)


LINKED_TO_RETURN = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK
                    + "，银行回单须由另一名财务人员导入")


def bank_file_takers(session: Session, batch_id: str) -> set[str]:
    """Who downloaded the batch's bank file (the actors of its `payment_batch.bank_file` entries)."""
    return set(session.scalars(select(AuditEntry.actor).where(
        AuditEntry.subject == batch_id, AuditEntry.action == "payment_batch.bank_file").distinct()))


def return_parts(session: Session, batch: PaymentBatch) -> list[recusal_refusals.LinkedPart]:
    """The accounts a bank return's importer is the second person of: the batch's releaser, whoever downloaded its
    bank file (each refused by id: `refuse_releaser`, `refuse_bank_file_taker`)."""
    parts = {**{t: "下载本批次银行文件的人员" for t in bank_file_takers(session, batch.id)},
             **({batch.released_by: "本批次发放人"} if batch.released_by else {})}
    return [recusal_refusals.LinkedPart(
        who, LINKED_TO_RETURN.format(part=part), households=[], county_code=batch.county_code, subject=batch.id,
        extra={"batch_id": batch.id, "why": "password_linked"}) for who, part in sorted(parts.items())]


def refuse_linked_importer(session: Session, batch: PaymentBatch, principal: Principal,
                           clock: Clock | None) -> None:
    """The return's four eyes held by one person through two accounts: an account linked by a password to the
    releaser's or to a bank file taker's does not import the return (403, kept on 回避拦截记录 under `bank_return`,
    the batch as its subject), as those persons themselves do not: else one person marks, through a second account,
    failed transfers as paid and hides the money the bank sent back."""
    recusal_refusals.refuse_linked(session, principal, "bank_return", return_parts(session, batch), clock=clock)


def linked_importer(session: Session, batch: PaymentBatch, principal: Principal) -> str | None:
    """Why `principal` may not import the batch's return through an account linked by a password (the refusal
    `refuse_linked_importer` gives), or None: the batch page shows it instead of the import form."""
    return recusal_refusals.linked_said(session, principal, return_parts(session, batch))


def _sent_accounts(session: Session, batch: PaymentBatch, references: Sequence[str],
                   vault: Vault | None) -> dict[str, str]:
    """The account each of `references` was sent to (as the bank file wrote it), by reference."""
    if not references:
        return {}
    if vault is None:
        raise TypeError("a return naming accounts is compared with the accounts sent: pass the Vault")
    out: dict[str, str] = {}
    for start in range(0, len(references), 1000):
        for ref, chk, corr in session.execute(_item_rows_stmt(PaymentItem.reference).where(
                PaymentItem.batch_id == batch.id, PaymentItem.reference.in_(list(references[start:start + 1000])))):
            out[ref] = re.sub(r"\D", "", _account_of(vault, chk, corr))
    return out


def account_differs(returned: str, sent: str) -> bool:
    """Whether the account the bank's return names is not the one sent: the same digits, or, masked by the bank, the
    digits it shows: at the same places when the lengths agree (`6217*********5667`), else (a fixed number of stars,
    `6217****5667` for a 19-digit account) its leading and trailing digits, of which at least 4 trailing."""
    if returned.isdigit():
        return returned != sent
    head = len(returned) - len(returned.lstrip("0123456789"))
    tail = len(returned) - len(returned.rstrip("0123456789"))
    if len(returned) == len(sent):
        return returned[:head] != sent[:head] or returned[len(returned) - tail:] != sent[len(sent) - tail:]
    inner = returned[head:len(returned) - tail]
    if tail < 4 or any(ch.isdigit() for ch in inner) or head + tail > len(sent):
        return True  # too little shown (or digits inside the mask) to tell it is the account sent
    return returned[:head] != sent[:head] or returned[len(returned) - tail:] != sent[len(sent) - tail:]


def _account_problem(line: bankfiles.ReturnLine, sent: str) -> FieldError:
    said = "已支付" if line.status == "success" else "支付失败"
    tail = (line.account or "")[-4:]
    return FieldError("account_number", f"{line.reference}：回单中的收款账号（尾号 {tail}）与发送给银行的账号（尾号 "
                                        f"{sent[-4:]}）不一致，不能记为{said}：请向银行核实这笔款项实际付入的账户",
                      row=line.row)


def import_return(session: Session, batch_id: str, lines: list[bankfiles.ReturnLine], *, file_sha256: str,
                  filename: str, principal: Principal, clock: Clock,
                  line_problems: Sequence[FieldError] = (), vault: Vault | None = None) -> tuple[ReturnOut, bool]:
    """Apply a parsed return file to a released batch: all of it, or (422 listing every bad line) none of it.

    `line_problems` are what reading the file found (`bankfiles.read_return`): they are reported together with
    what the batch finds, so that one upload names every bad line.

    Returns the answer and whether it is the stored answer of an earlier import of the same file.
    """
    batch = get_batch(session, batch_id, principal, for_update=True)
    refuse_releaser(batch, principal)
    refuse_bank_file_taker(session, batch, principal)
    refuse_linked_importer(session, batch, principal, clock)  # nor through an account linked to either's
    # what the bank did with a relative's transfer is not written by that relative (回避): a made-up failure is paid
    # again
    recusal.refuse_cases_in(session, principal, select(PaymentItem.case_id).where(
        PaymentItem.batch_id == batch.id, PaymentItem.status != "cancelled"), step="bank_return", clock=clock)
    prior = session.scalar(select(BankReturn).where(BankReturn.batch_id == batch.id,
                                                    BankReturn.file_sha256 == file_sha256))
    if prior is not None:
        return ReturnOut(**prior.result), True
    if batch.status not in ("released", "reconciled"):
        raise InvalidState(f"银行回单只能导入已发放的批次（本批次当前为「{_batch_zh(batch.status)}」）。")
    items = {
        ref: (item_id, case_id, amount, status, bank_ref, supplement_id)
        for item_id, ref, case_id, amount, status, bank_ref, supplement_id in session.execute(
            select(_item.c.id, _item.c.reference, _item.c.case_id, _item.c.amount, _item.c.status,
                   _item.c.bank_reference, _item.c.supplement_id).where(_item.c.batch_id == batch.id))
    }
    today = clock.today()
    released_on = (batch.released_at or clock.now()).astimezone(SCHEME_TZ).date()
    problems: list[FieldError] = list(line_problems)
    seen: dict[str, int] = {}
    unknown: list[bankfiles.ReturnLine] = []
    succeeded: list[tuple[bankfiles.ReturnLine, tuple[Any, ...]]] = []
    failed: list[tuple[bankfiles.ReturnLine, tuple[Any, ...]]] = []
    already = 0
    # A line naming the account paid (the optional account_number column) is compared with the account sent.
    sent_to = _sent_accounts(session, batch, [ln.reference for ln in lines if ln.account and ln.reference in items],
                             vault)
    for line in lines:
        if not line.reference:
            continue  # reported as missing
        if line.reference in seen:
            problems.append(FieldError("reference", f"参考号 {line.reference} 与第 {seen[line.reference]} 行重复",
                                       row=line.row))
            continue
        seen[line.reference] = line.row
        item = items.get(line.reference)
        if item is None:
            unknown.append(line)
            continue
        if line.flawed:
            continue  # its own problem is reported; its status or amount cannot be compared
        if line.settled_on is not None and not released_on <= line.settled_on <= today:
            problems.append(FieldError("settled_on", f"到账日期 {line.settled_on} 应在批次发放日 {released_on} 与今天 "
                                                     f"{today} 之间", row=line.row))
            continue
        _, _, amount, status, _, _ = item
        if line.amount is not None and line.amount != amount:
            problems.append(FieldError("amount", f"金额 {format_yuan(line.amount)} 元与发送给银行的 {format_yuan(amount)} "
                                                 f"元不符（{line.reference}）", row=line.row))
            continue
        if line.account and line.reference in sent_to and account_differs(line.account, sent_to[line.reference]):
            problems.append(_account_problem(line, sent_to[line.reference]))
            continue
        result = "succeeded" if line.status == "success" else "failed"
        if status in ("succeeded", "failed"):
            if status != result:
                problems.append(FieldError("status", f"{line.reference} 已按「{_item_zh(status)}」入账，不能再改为"
                                                     f"「{'支付成功' if line.status == 'success' else '支付失败'}」",
                                           row=line.row))
            else:
                already += 1
        elif status == "sent":
            (succeeded if result == "succeeded" else failed).append((line, item))
        else:
            problems.append(FieldError("reference", f"{line.reference} 的状态为「{_item_zh(status)}」，并未发送银行",
                                       row=line.row))
    if unknown:
        elsewhere = dict(session.execute(
            select(_item.c.reference, PaymentBatch.code).join(PaymentBatch, PaymentBatch.id == _item.c.batch_id)
            .where(_item.c.reference.in_([u.reference for u in unknown]))
        ).all()) if len(unknown) <= 1000 else {}
        for u in unknown:
            problems.append(FieldError("reference", f"{u.reference} 不是本批次的明细（属于批次 {elsewhere[u.reference]}）"
                                       if u.reference in elsewhere else f"{u.reference} 不是本批次的明细，也不属于任何批次",
                                       row=u.row))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise ValidationFailed(problems)

    now = clock.now()
    return_id = new_id("br")
    session.add(BankReturn(id=return_id, batch_id=batch.id, file_sha256=file_sha256, filename=filename[:255],
                           lines=len(lines), succeeded=len(succeeded), failed=len(failed), already_settled=already,
                           result={}, imported_by=principal.id, imported_at=now))
    session.flush()
    params = [{"b_id": item[0], "b_status": "succeeded", "b_ref": line.bank_reference or None, "b_reason": None,
               "b_on": line.settled_on or today} for line, item in succeeded]
    params += [{"b_id": item[0], "b_status": "failed", "b_ref": line.bank_reference or None, "b_reason": line.reason,
                "b_on": line.settled_on or today} for line, item in failed]
    if params:
        stmt = (update(_item).where(_item.c.id == bindparam("b_id"), _item.c.status == "sent")
                .values(status=bindparam("b_status"), bank_reference=bindparam("b_ref"),
                        failure_reason=bindparam("b_reason"), settled_at=now, settled_on=bindparam("b_on"),
                        return_id=return_id))
        try:
            changed = session.connection().execute(stmt, params).rowcount
        except IntegrityError:
            raise InvalidState("同一认定的保障金不能重复支付，未做任何更改。") from None
        if changed != len(params):
            raise InvalidState("有明细同时被修改，未导入，请刷新后重试。")
    _move_cases(session, [item[1] for _, item in succeeded if item[5] is None], "in_batch", "payment_succeeded", clock)
    _move_cases(session, [item[1] for _, item in failed if item[5] is None], "in_batch", "payment_failed", clock)
    # A supplementary payment paid is done; a failed one is open again, for a later batch (the case stays paid).
    _set_supplements(session, [item[5] for _, item in succeeded if item[5]], "in_batch", "paid", clock)
    _set_supplements(session, [item[5] for _, item in failed if item[5]], "in_batch", "open", clock)
    # and waits for a county reviewer's confirmation again (not the importer's): else a 失败 written for a supplement
    # the bank paid has the next routine batch pay it twice, with no one looking at the failure
    again = sorted(item[5] for _, item in failed if item[5])
    for start in range(0, len(again), 1000):
        session.execute(update(SupplementaryPayment.__table__)
                        .where(SupplementaryPayment.id.in_(again[start:start + 1000]))
                        .values(confirmed_by=None, confirmed_at=None))
    paid = sum(item[2] for _, item in succeeded)
    released = sum(item[2] for _, item in failed)
    contract = contract_store.get_contract(session, batch.contract_id)
    _, entries = ledger.lock_fund(session, contract, actor=principal.id, clock=clock)
    posted = ledger.settle(session, contract, paid=paid, released=released, key=return_id, actor=principal.id,
                           clock=clock, batch_id=batch.id, return_id=return_id)
    before = batch.status
    still_sent = session.scalar(select(func.count()).where(_item.c.batch_id == batch.id, _item.c.status == "sent"))
    if still_sent == 0 and batch.status == "released":
        batch.status = next_batch_status(batch.status, "reconcile")
        batch.reconciled_at = now
    batch.updated_at = now
    out = ReturnOut(return_id=return_id, batch_id=batch.id, file_sha256=file_sha256, lines=len(lines),
                    succeeded=len(succeeded), failed=len(failed), already_settled=already, paid=format_yuan(paid),
                    released=format_yuan(released), service_fee=format_yuan(posted["fee"]), batch_status=batch.status)
    stored = session.get(BankReturn, return_id)
    assert stored is not None
    stored.result = {f: getattr(out, f) for f in out.__struct_fields__}
    session.flush()
    results = sorted([(line.reference, "succeeded") for line, _ in succeeded] + [(line.reference, "failed")
                                                                               for line, _ in failed])
    entries.append(_entry(principal, "finance", "payment_batch.bank_return", batch.id, batch.contract_hash, {
        "return_id": return_id, "file_sha256": file_sha256, "lines": len(lines), "succeeded": len(succeeded),
        "failed": len(failed), "already_settled": already, "paid": format_yuan(paid), "released": format_yuan(released),
        "service_fee": format_yuan(posted["fee"]), "results_sha256": _digest(f"{r},{s}" for r, s in results),
        "accounts_compared": len(sent_to),
        **({"supplements_to_confirm_again": again} if again else {}),
        "from": before, "to": batch.status,
    }))
    audit.append_many(session, entries, clock=clock)
    return out, False
