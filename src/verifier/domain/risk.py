"""Risk removed (风险消除): the rules for the county's mark on a household and for revoking it. Pure: no I/O.

A household's risk status is the latest of its marks: none (at risk, the default), removed, or restored (a removal
revoked: the risk is back). A mark names its evidence: income above the line for a number of months, a follow-up
visit, or something else described in the note; a revocation names its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .errors import FieldError

EVIDENCE_KINDS: Mapping[str, str] = {
    "income_above_line": "收入连续高于收入线",
    "follow_up": "回访核实",
    "other": "其他",
}
STATUS_NAMES: Mapping[str, str] = {"at_risk": "存在风险", "removed": "风险已消除", "restored": "风险消除已撤销，风险恢复"}
MAX_MONTHS = 60
MAX_NOTE = 2000


def removal_problems(*, kind: str, months: int | None, evidence_on: date | None, note: str,
                     today: date) -> list[FieldError]:
    """What is wrong with the evidence for marking a household's risk removed (empty: nothing)."""
    problems: list[FieldError] = []
    if kind not in EVIDENCE_KINDS:
        problems.append(FieldError("evidence_kind", "请选择风险消除的依据：收入连续高于收入线、回访核实或其他"))
    if kind == "income_above_line":
        if months is None:
            problems.append(FieldError("months", "依据为收入连续高于收入线时，请填写连续月数"))
        elif not 1 <= months <= MAX_MONTHS:
            problems.append(FieldError("months", f"连续月数应在 1 至 {MAX_MONTHS} 之间"))
    elif months is not None:
        problems.append(FieldError("months", "只有依据为收入连续高于收入线时才填写连续月数"))
    return problems + _day_and_note(evidence_on, note, today, "evidence_on", "依据日期", "依据说明")


def revocation_problems(*, on: date | None, reason: str, today: date) -> list[FieldError]:
    return _day_and_note(on, reason, today, "revoked_on", "撤销日期", "撤销原因")


def refusal(status: str, action: str) -> str | None:
    """Why `action` (remove | revoke) is not allowed in the household's current status, or None when it is."""
    if action == "remove" and status == "removed":
        return "该户风险已标记为消除，不能重复标记"
    if action == "revoke" and status != "removed":
        return "该户风险未标记为消除，没有可撤销的标记"
    return None


def _day_and_note(day: date | None, note: str, today: date, day_field: str, day_name: str,
                  note_name: str) -> list[FieldError]:
    problems: list[FieldError] = []
    if day is None:
        problems.append(FieldError(day_field, f"请填写{day_name}（年-月-日）"))
    elif day > today:
        problems.append(FieldError(day_field, f"{day_name}不能晚于今天"))
    if not note.strip():
        problems.append(FieldError("note", f"请填写{note_name}"))
    elif len(note) > MAX_NOTE:
        problems.append(FieldError("note", f"{note_name}超过 {MAX_NOTE} 个字符"))
    return problems
