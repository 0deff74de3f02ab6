"""Bills added to a recorded check before its determination.

At the door the household may not have its invoices to hand; the check is recorded without them and the officers who
made it add them later, while the case waits for its determination (which counts rigid expenditure only as far as
bills back it: `domain.backing`). Only the check's two officers add them (the confirming supervisor never supplies
what they confirm); each addition is an audit entry the supervisor sees, and the bills are listed on the
determination with the rest. Added bills of a kind may not add up to more than the check's amount of that kind, and a
bill already listed on the check or counted by another case is refused, as at the door.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.counties import as_county
from ..cases.workflow import load_case
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.income import RigidExpenditure
from ..domain.money import format_yuan, grouped_yuan
from ..store.tables import Check
from . import bills
from .service import latest_check, rigid_of
from .models import CheckBill


def add_bills(session: Session, case_id: str, raw: Sequence[dict[str, Any]], *, principal: Principal,
              clock: Clock) -> list[CheckBill]:
    """Add bills to the case's latest check (case checked, not yet determined); returns the check's bills."""
    case = load_case(session, case_id, principal, for_update=True)
    if case.status != "checked":
        raise InvalidState(f"票据须在认定之前补录，案件现在是“{STATUS_LABELS_ZH.get(case.status, case.status)}”")
    check = latest_check(session, case.id)
    assert check is not None
    if principal.id not in check.officer_ids:
        raise Forbidden("只有做本次核查的两名核查员可以补录票据")
    parsed, problems = bills.parse_bills(raw)
    if not raw:
        problems.append(FieldError("bills", "请至少填写一张票据"))
    if not problems:
        problems = _against_check(session, check, parsed, rigid_of(check)) + bills.refusals(session, case, parsed)
    if problems:
        raise ValidationFailed(problems)
    identities = bills.record(session, case, check, parsed)
    session.flush()
    audit.append(session, actor=principal.id, role="field_officer", action="case.add_bills", subject=case.id,
                 contract_hash=case.contract_hash, county_code=as_county(case.county_code), clock=clock, payload={
                     "check_id": check.id, "seq": check.seq, "bills": identities,
                     "amounts": {kind: format_yuan(sum(b.amount for b in parsed if b.kind == kind))
                                 for kind in bills.KINDS if any(b.kind == kind for b in parsed)}})
    return bills.bills_of(session, check.id)


def _against_check(session: Session, check: Check, parsed: list[bills.BillInput],
                   rigid: RigidExpenditure) -> list[FieldError]:
    """A bill the check already lists, or a kind whose bills would add up to more than the check's amount of it."""
    problems = []
    listed = {b.identity: b for b in bills.bills_of(session, check.id)}
    for i, bill in enumerate(parsed):
        if bill.identity in listed:
            problems.append(FieldError(f"bills[{i}].number", f"票据 {bill.number} 已列在本次核查中"))
    have = bills.billed_totals(session, check.id)
    for kind, field in bills.KINDS.items():
        adding = sum(b.amount for b in parsed if b.kind == kind)
        total = have.get(field, 0) + adding
        if adding and total > rigid.amount_for(field):
            problems.append(FieldError(f"rigid_expenditure.{field}",
                                       f"补录后{bills.BILL_KINDS_ZH.get(kind, '此类票据')}合计 {grouped_yuan(total)} 元，超过核查填写的"
                                       f"金额 {grouped_yuan(rigid.amount_for(field))} 元"))
    return problems
