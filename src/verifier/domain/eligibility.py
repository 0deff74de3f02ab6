"""Whether a checked household qualifies for relief.

Two rules, tried in this order:
1. income line: per-capita net income at or below the contract's income line;
2. burden: no stable income source, and rigid expenditure greater than `burden_ratio` x household net
   income (any rigid expenditure counts when net income is zero or negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .errors import FieldError, ValidationFailed
from .income import (
    HouseholdIncome,
    RigidExpenditure,
    members_errors,
    net_income,
    per_capita_income,
)
from .money import Fen, apply_rate, format_yuan

Rule = Literal["income_line", "burden", "none"]


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    rule: Rule
    per_capita_income: Fen
    reason: str


def _input_errors(
    income: HouseholdIncome, members: int, rigid: RigidExpenditure, stable_income: bool, income_line: Fen, burden_ratio: Decimal
) -> list[FieldError]:
    errors = income.validate() + members_errors(members) + rigid.validate()
    if not isinstance(stable_income, bool):
        errors.append(FieldError("stable_income", "must be true or false"))
    if not isinstance(income_line, int) or isinstance(income_line, bool) or income_line < 0:
        errors.append(FieldError("income_line", "must be an amount of fen >= 0"))
    if not isinstance(burden_ratio, Decimal) or not burden_ratio.is_finite() or burden_ratio < 0:
        errors.append(FieldError("burden_ratio", "must be a decimal >= 0"))
    return errors


def assess(
    income: HouseholdIncome,
    members: int,
    rigid: RigidExpenditure,
    stable_income: bool,
    income_line: Fen,
    burden_ratio: Decimal,
) -> Eligibility:
    if errors := _input_errors(income, members, rigid, stable_income, income_line, burden_ratio):
        raise ValidationFailed(errors)
    pci = per_capita_income(income, members)
    if pci <= income_line:
        return Eligibility(
            True, "income_line", pci,
            f"per-capita net income {format_yuan(pci)} is at or below the income line {format_yuan(income_line)}",
        )
    above = f"per-capita net income {format_yuan(pci)} is above the income line {format_yuan(income_line)}"
    if stable_income:
        return Eligibility(False, "none", pci, f"{above}, and the household has a stable income source")
    net = net_income(income)
    burden = (
        f"rigid expenditure {format_yuan(rigid.total)} {{}} {burden_ratio} times household net income {format_yuan(net)}"
    )
    if rigid.total > max(0, apply_rate(net, burden_ratio)):
        reason = f"{above}, but the household has no stable income source and {burden.format('exceeds')}"
        return Eligibility(True, "burden", pci, reason)
    return Eligibility(False, "none", pci, f"{above}, and {burden.format('does not exceed')}")
