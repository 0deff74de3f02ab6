"""The bills behind a home check's rigid expenditure, each counted once, ever.

A household's medical invoices (or school fees, loss assessments …) priced one case must not price another: the same
bills recorded again on a new case (next year's, another cause's, another household's) would pay for the same cost
twice. A bill's identity is its issuer and number, normalised (full-width characters, spaces, letter case); a bill
with the same number and amount under an issuer spelt differently counts as the same bill too.

- Recording a check refuses a bill already counted by another case (one determined eligible with relief, whatever
  came after: notice, batch, paid): the message names that case within the county, and only says "another county"
  beyond it (as for a person known elsewhere).
- Determining refuses again when, between the check and the determination, another case came to count one of them.
- Listed bills of a kind add up to the check's amount of that kind (the amount is what the bills show).
- An evidence file (by SHA-256) another such case holds is pointed out on the determination (`evidence_elsewhere`).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.income import RigidExpenditure
from ..domain.money import grouped_yuan, parse_yuan
from ..store.base import new_id
from ..store.tables import Case, Check, Evidence
from .models import CheckBill

KINDS = {"medical": "medical_self_paid", "schooling": "schooling", "disaster": "disaster_loss",
         "other": "other_rigid"}
# A bill's kind as the refusals and the pages name it.
BILL_KINDS_ZH = {"medical": "医疗费用票据", "schooling": "教育费用票据", "disaster": "灾害损失凭证", "other": "其他刚性支出票据"}
# A case counts its check's bills once an eligible determination with relief stands (whatever happened after).
COUNTED = ("determined", "reviewed", "in_notice", "ready_to_pay", "in_batch", "paid", "payment_failed")


@dataclass(frozen=True)
class BillInput:
    kind: str
    issuer: str
    number: str
    amount: int  # fen

    @property
    def identity(self) -> str:
        return identity_of(self.issuer, self.number)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def identity_of(issuer: str, number: str) -> str:
    return hashlib.sha256(f"{_fold(issuer)}\x1f{_fold(number)}".encode("utf-8")).hexdigest()


def parse_bills(raw: Sequence[dict[str, Any]]) -> tuple[list[BillInput], list[FieldError]]:
    """The bills as typed: every problem named by its row (`bills[i].field`); the same bill twice is one problem."""
    out: list[BillInput] = []
    problems: list[FieldError] = []
    seen: dict[str, int] = {}
    for i, b in enumerate(raw):
        kind, issuer, number = str(b.get("kind") or ""), str(b.get("issuer") or "").strip(), str(b.get("number") or "")
        if kind not in KINDS:
            problems.append(FieldError(f"bills[{i}].kind", "请选择票据类别：" + "、".join(BILL_KINDS_ZH.values())))
        if not issuer:
            problems.append(FieldError(f"bills[{i}].issuer", "必填：开具票据的单位"))
        if not _fold(number):
            problems.append(FieldError(f"bills[{i}].number", "必填：票据号码"))
        try:
            amount = parse_yuan(b.get("amount"), f"bills[{i}].amount")
        except ValidationFailed as exc:
            problems += exc.errors
            continue
        bill = BillInput(kind, issuer, number.strip(), amount)
        if issuer and _fold(number):
            if bill.identity in seen:
                problems.append(FieldError(f"bills[{i}].number", f"与第 {seen[bill.identity] + 1} 张票据相同（{issuer} 开具的 {number.strip()}）：同一票据只列一次"))
            seen.setdefault(bill.identity, i)
        out.append(bill)
    return out, problems


def totals_problems(bills: list[BillInput], rigid: RigidExpenditure) -> list[FieldError]:
    """Listed bills of a kind add up to the check's amount of that kind."""
    problems = []
    for kind, field in KINDS.items():
        listed = [b.amount for b in bills if b.kind == kind]
        if listed and sum(listed) != rigid.amount_for(field):
            problems.append(FieldError(f"rigid_expenditure.{field}",
                                       f"所列{BILL_KINDS_ZH[kind]}合计 {grouped_yuan(sum(listed))} 元，与填写的金额 "
                                       f"{grouped_yuan(rigid.amount_for(field))} 元不一致"))
    return problems


def problems_of(session: Session, case: Case, raw: Sequence[dict[str, Any]],
                rigid: RigidExpenditure) -> tuple[list[BillInput], list[FieldError]]:
    """A check's bills parsed, with every problem: as typed, against the amounts, and counted by another case."""
    bills, problems = parse_bills(raw)
    if problems:
        return bills, problems
    return bills, totals_problems(bills, rigid) + refusals(session, case, bills)


@dataclass(frozen=True)
class EarlierUse:
    bill: BillInput | CheckBill
    case_number: str | None  # None: another county's case (not named)
    case_status: str


def counted_elsewhere(session: Session, case: Case, bills: list[BillInput] | list[CheckBill]) -> list[EarlierUse]:
    """The bills another case counts (COUNTED): by identity, or by the same number and amount."""
    if not bills:
        return []
    identities = {b.identity for b in bills}
    numbers = {_fold(b.number) for b in bills}
    rows = session.execute(
        select(CheckBill.identity, CheckBill.number, CheckBill.amount, Case.number, Case.status, Case.county_code)
        .join(Case, Case.id == CheckBill.case_id)
        .where(Case.id != case.id, Case.status.in_(COUNTED),
               or_(CheckBill.identity.in_(identities), CheckBill.number.in_(
                   {b.number for b in bills} | numbers)))
        .order_by(Case.number)).all()
    found = []
    for bill in bills:
        for identity, number, amount, case_number, status, county in rows:
            if identity == bill.identity or (_fold(number) == _fold(bill.number) and amount == bill.amount):
                found.append(EarlierUse(bill, case_number if county == case.county_code else None, status))
                break
    return found


def refusals(session: Session, case: Case, bills: list[BillInput]) -> list[FieldError]:
    """A FieldError for each bill another case already counted, naming that case (within the county)."""
    uses = {id(u.bill): u for u in counted_elsewhere(session, case, bills)}
    return [FieldError(f"bills[{i}].number", _counted_message(uses[id(bill)]))
            for i, bill in enumerate(bills) if id(bill) in uses]


def _counted_message(use: EarlierUse) -> str:
    where = (f"案件 {use.case_number}（{STATUS_LABELS_ZH.get(use.case_status, use.case_status)}）"  # type: ignore[call-overload]
             if use.case_number else "其他县（区）的案件")
    return f"{use.bill.issuer} 开具的票据 {use.bill.number} 已在{where}中计入，同一票据只能计入一次"


def record(session: Session, case: Case, check: Check, bills: list[BillInput]) -> list[str]:
    """Store the check's bills (in the check's transaction); returns their identities, for the audit entry."""
    for bill in bills:
        session.add(CheckBill(id=new_id("bil"), check_id=check.id, case_id=case.id, household_id=case.household_id,
                              kind=bill.kind, issuer=bill.issuer, number=bill.number, identity=bill.identity,
                              amount=bill.amount))
    return [b.identity for b in bills]


def bills_of(session: Session, check_id: str) -> list[CheckBill]:
    """A check's bills by kind and number (ids made in the same millisecond have no order of their own)."""
    return list(session.scalars(select(CheckBill).where(CheckBill.check_id == check_id)
                                .order_by(CheckBill.kind, CheckBill.number, CheckBill.id)))


def billed_totals(session: Session, check_id: str) -> dict[str, int]:
    """What a check's bills add up to, by the rigid-expenditure field they back (`KINDS`)."""
    rows = session.execute(select(CheckBill.kind, func.sum(CheckBill.amount)).where(CheckBill.check_id == check_id)
                           .group_by(CheckBill.kind)).all()
    return {KINDS[kind]: int(total) for kind, total in rows}


def require_not_counted(session: Session, case: Case, check: Check) -> None:
    """At determination: none of the check's bills is counted by another case since it was recorded. The rows of
    the same bills are locked first, so two cases sharing a bill are determined one after the other."""
    own = bills_of(session, check.id)
    if not own:
        return
    session.execute(select(CheckBill.id).where(CheckBill.identity.in_({b.identity for b in own})).with_for_update())
    uses = counted_elsewhere(session, case, own)
    if uses:
        raise InvalidState("；".join(_counted_message(u) for u in uses))


def shown(session: Session, case: Case, check: Check) -> list[dict[str, Any]]:
    """The check's bills as the determination shows them, each with the case that already counts it, if any
    (`counted_in`: its number, "another county", or None)."""
    own = bills_of(session, check.id)
    uses = {u.bill.id: u for u in counted_elsewhere(session, case, own)}  # type: ignore[union-attr]
    return [{"kind": b.kind, "issuer": b.issuer, "number": b.number, "amount": b.amount,
             "counted_in": None if b.id not in uses else (uses[b.id].case_number or "another county"),
             "counted_status": uses[b.id].case_status if b.id in uses else None} for b in own]


def evidence_elsewhere(session: Session, case: Case, check: Check) -> list[dict[str, Any]]:
    """The check's evidence files (by SHA-256) that another case counting its bills also holds: the same photo of
    the same papers. Shown on the determination for the confirming supervisor to see (not refused: a household's
    own certificate may rightly serve its next case)."""
    if not check.evidence:
        return []
    rows = session.execute(
        select(Evidence.sha256, Case.number, Case.status, Case.county_code, Case.household_id)
        .join(Case, Case.id == Evidence.case_id)
        .where(Evidence.sha256.in_(list(check.evidence)), Case.id != case.id, Case.status.in_(COUNTED))
        .order_by(Case.number)).all()
    return [{"sha256": sha, "case_number": number if county == case.county_code else "another county",
             "case_status": status, "same_household": household == case.household_id}
            for sha, number, status, county, household in rows]
