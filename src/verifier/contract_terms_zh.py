"""A contract's terms as the county reads them before accepting it (`contract_review/service.py`): its figures, each
as a (label, value) line in Chinese, and its relief rules. What is wrong with a contract file is `contract_zh`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .domain.money import grouped_yuan


@dataclass(frozen=True)
class ReliefTerms:
    """One relief rule: cause and household group, what it is paid on, deductible, bands, caps."""

    cause: str
    group: str
    basis: str
    deductible: str
    mode: str
    bands: list[str]
    caps: str


@dataclass(frozen=True)
class ContractTerms:
    """The figures a contract prices with, each as a (label, value) line in Chinese, and its relief rules."""

    lines: list[tuple[str, str]]
    relief: list[ReliefTerms]


MODES = {"marginal": "分段累进（每段按本段比例）", "bracket": "全额累进（达到某段后全部按该段比例）"}


def percent(rate: Any) -> str:
    """0.15 as 15%, 0.125 as 12.5%."""
    value = (Decimal(str(rate)) * 100).normalize()
    return f"{value:f}%"


def _bands(bands: Any) -> list[str]:
    out, low = [], "0.00"
    for band in bands:
        if band.upto is None:
            out.append(f"超过 {low} 元的部分：{percent(band.rate)}" if low != "0.00" else f"全部：{percent(band.rate)}")
        else:
            upto = grouped_yuan(band.upto)
            out.append(f"{low} 至 {upto} 元：{percent(band.rate)}")
            low = upto
    return out


def terms_zh(contract: Any) -> ContractTerms:
    """`contract` (a checked `Contract`) as its figures read in Chinese: what a county reviewer agrees to."""
    spec, table = contract.spec, contract.cause_table
    s = spec.sampling
    lines = [
        ("购买方", spec.purchaser), ("承保机构", spec.insurer),
        ("合同期", f"{contract.start.isoformat()} 至 {contract.end.isoformat()}"),
        ("资金预算", f"{grouped_yuan(contract.budget)} 元"),
        ("服务费率", f"实际发放金额的 {percent(contract.service_fee_rate)}"),
        ("收入线", f"家庭年人均纯收入不高于 {grouped_yuan(contract.income_line)} 元"),
        ("刚性支出明显超过收入", f"无稳定收入且刚性支出超过家庭纯收入的 {contract.burden_ratio.normalize():f} 倍"),
        ("服务对象", "、".join(table.group_name(g) for g in spec.eligibility.groups)),
        ("入户核查时限", f"{spec.deadlines.check_within_days} 天"),
        ("公示期", f"{spec.deadlines.notice_days} 天"),
        ("县级签批金额", f"支付批次（连同本县同合同上次县级签批以来其他未经签批的批次）合计达到 {grouped_yuan(contract.county_signoff_at)} 元"),
        ("抽样复核", f"最低抽样比例 {percent(s.min_rate)}；置信度 {percent(s.confidence)}；可容忍偏差率 "
                     f"{percent(s.tolerable_rate)}；预期偏差率 {percent(s.expected_rate)}；人均收入相差超过 "
                     f"{percent(s.income_tolerance)} 视为偏差；冻结后 {s.reveal_within_days} 天内揭示秘密值"),
    ]
    relief = []
    for (cause, group), rule in sorted(contract.rules.items()):
        caps = [f"每户每年 {grouped_yuan(rule.cap_per_year)} 元" if rule.cap_per_year is not None else "",
                f"每人 {grouped_yuan(rule.cap_per_member)} 元" if rule.cap_per_member is not None else ""]
        found = table.cause(cause)
        relief.append(ReliefTerms(
            cause=table.cause_name(cause), group=table.group_name(group),
            basis=found.basis_name if found is not None else rule.basis,
            deductible=f"{grouped_yuan(rule.deductible)} 元", mode=MODES.get(rule.mode, rule.mode),
            bands=_bands(rule.bands), caps="；".join(c for c in caps if c) or "不封顶"))
    return ContractTerms(lines, relief)
