"""A sampling round's samples, with the re-check results beside the insurer's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...documents.sheets import Money, Sheet, workbook
from ...domain.money import parse_yuan
from ...sampling import service as smp
from .. import stagelabels as sl
from ..common import user_names
from .rows import case_names


def samples_xlsx(session: Session, user: Principal, round_id: str) -> bytes:
    r = smp.round_view(session, round_id, user)  # another county's round: NotFound
    cases = case_names(session, [i.case_id for i in r.items])
    names = user_names(session, [i.result.recorded_by for i in r.items if i.result])

    def row(i: Any) -> list[Any]:
        x = i.result
        base = [*cases.get(i.case_id, (i.case_id, "")), i.town, i.stage]
        if x is None:
            return [*base, "待复核", "", "", "", "", "", "", "", "", ""]
        return [*base, sl.eligibility_zh(x.eligible), Money(parse_yuan(x.per_capita_income)),
                Money(parse_yuan(x.relief_amount)) if x.relief_amount is not None else "",
                sl.eligibility_zh(x.insurer_eligible), Money(parse_yuan(x.insurer_per_capita_income)),
                Money(parse_yuan(x.insurer_relief)) if x.insurer_relief is not None else "",
                "有偏差" if x.deviation else "无偏差",
                "、".join(sl.DEVIATION_REASONS.get(reason, reason) for reason in x.reasons),
                names.get(x.recorded_by, x.recorded_by), x.recorded_at]

    return workbook(Sheet("抽样复核样本", [
        "案件", "户主", "乡镇", "阶段", "复核结论", "复核人均纯收入（元）", "复核保障金额（元）", "原认定结论",
        "原人均纯收入（元）", "原保障金额（元）", "偏差", "偏差原因", "复核人", "录入时间"],
        [row(i) for i in r.items], (18, 10, 10, 6, 10, 14, 14, 10, 14, 14, 8, 24, 10, 17)))
