"""Whether a checked household qualifies for relief.

Two rules, tried in this order:
1. income line: per-capita net income at or below the contract's income line;
2. burden: no stable income source, and rigid expenditure greater than `burden_ratio` x household net
   income (any rigid expenditure counts when net income is zero or negative).
"""

from __future__ import annotations

import re
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
from .money import Fen, apply_rate, format_yuan, grouped_yuan

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
        errors.append(FieldError("stable_income", "应为 true 或 false（是否有稳定收入）"))
    if not isinstance(income_line, int) or isinstance(income_line, bool) or income_line < 0:
        errors.append(FieldError("income_line", "收入线应为不小于 0 的整数（分）"))
    if not isinstance(burden_ratio, Decimal) or not burden_ratio.is_finite() or burden_ratio < 0:
        errors.append(FieldError("burden_ratio", "支出收入比应为不小于 0 的小数"))
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


_PCI = r"per-capita net income (\S+) is (at or below|above) the income line (\S+)"
_BURDEN = r"rigid expenditure (\S+) (exceeds|does not exceed) (\S+) times household net income (\S+)"
_REASON = re.compile(_PCI + r"(?:(, and the household has a stable income source)|, (but the household has no stable "
                     r"income source and|and) " + _BURDEN + r")?")


def reason_in_chinese(reason: str) -> str | None:
    """An eligibility reason (as `assess` writes it, in English) in plain Chinese, for pages and letters; None when
    the text is not one of the rule's reasons."""
    m = _REASON.fullmatch(reason.strip())
    if not m:
        return None
    pci, side, line = grouped_yuan(m.group(1)), m.group(2), grouped_yuan(m.group(3))
    out = f"人均纯收入 {pci} 元，{'不高于' if side == 'at or below' else '高于'}收入线 {line} 元"
    if m.group(4):
        out += "，且家庭有稳定收入来源"
    elif m.group(5):
        spent, verb, ratio, net = grouped_yuan(m.group(6)), m.group(7), m.group(8), grouped_yuan(m.group(9))
        if m.group(5).startswith("but"):
            out += "，但家庭无稳定收入来源"
        out += f"，刚性支出 {spent} 元{'超过' if verb == 'exceeds' else '未超过'}家庭纯收入 {net} 元的 {ratio} 倍"
    return out
