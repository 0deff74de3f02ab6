"""Other agencies' registers, compared with a household: which register facts exclude a household and which only
need an explanation, and when a medical-insurance settlement disagrees with what the officer recorded. Pure rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .money import Fen, apply_rate, grouped_yuan

KINDS = ("vehicle", "business", "housing", "public_employment", "assets", "medical")
Effect = Literal["excludes", "explain"]


@dataclass(frozen=True)
class RegisterRules:
    """The contract's thresholds (fen): a vehicle worth more, a business with more registered capital, assets above;
    whether a purchased commercial flat and public-sector employment exclude; the medical tolerance (a share)."""

    vehicle_value_above: Fen = 10_000_000
    business_capital_above: Fen = 50_000_000
    assets_above: Fen = 20_000_000
    housing_excludes: bool = True
    public_employment_excludes: bool = True
    medical_tolerance: Decimal = Decimal("0.10")


def effect_of(kind: str, amount: Fen | None, rules: RegisterRules) -> Effect:
    """What one register hit means for the household: it excludes it (unless explained), or it needs explaining."""
    if kind == "vehicle":
        return "excludes" if (amount or 0) > rules.vehicle_value_above else "explain"
    if kind == "business":
        return "excludes" if (amount or 0) > rules.business_capital_above else "explain"
    if kind == "assets":
        return "excludes" if (amount or 0) > rules.assets_above else "explain"
    if kind == "housing":
        return "excludes" if rules.housing_excludes else "explain"
    if kind == "public_employment":
        return "excludes" if rules.public_employment_excludes else "explain"
    return "explain"


def medical_disagrees(recorded: Fen, settled: Fen, tolerance: Decimal) -> bool:
    """The self-paid cost the officer recorded is off the year's settlements by more than `tolerance` of the larger."""
    return abs(recorded - settled) > apply_rate(max(recorded, settled), tolerance)


KIND_NAMES = {"vehicle": "车辆登记", "business": "市场主体登记", "housing": "商品房购买", "public_employment": "财政供养人员",
              "assets": "大额存款和金融资产", "medical": "医保结算"}
MANUAL_SOURCE_NAMES = {"medical_insurance": "医保部门", "housing": "住建部门", "market_regulation": "市场监管部门",
                       "bank": "银行", "vehicle": "车辆登记", "other": "其他部门"}


def _yuan(fen: object) -> str:
    if not isinstance(fen, int) or isinstance(fen, bool):
        return ""
    return f"{grouped_yuan(fen)}元"


def fact_summary(kind: str, source: str, fact: dict[str, object]) -> str:
    """One line, in Chinese, of what a register (or the officer) found."""
    if source == "manual":
        return str(fact.get("note") or "核查人员比对不一致")
    if kind == "vehicle":
        return f"车辆 {fact.get('plate', '')}{' ' + str(fact['vehicle_type']) if fact.get('vehicle_type') else ''}，价值 {_yuan(fact.get('amount'))}"
    if kind == "business":
        return f"{fact.get('company', '')}{'（' + str(fact['role']) + '）' if fact.get('role') else ''}，注册资本 {_yuan(fact.get('amount'))}"
    if kind == "housing":
        area = f"，{fact['area']} 平方米" if fact.get("area") else ""
        return f"购买商品房 {fact.get('address', '')}{area}，价格 {_yuan(fact.get('amount'))}"
    if kind == "public_employment":
        since = f"，{fact['since']} 起" if fact.get("since") else ""
        return f"在 {fact.get('employer', '')} 工作{since}"
    if kind == "assets":
        at = f"（{fact['institution']}）" if fact.get("institution") else ""
        when = f"，截至 {fact['as_of']}" if fact.get("as_of") else ""
        return f"存款或金融资产 {_yuan(fact.get('amount'))}{at}{when}"
    if kind == "medical":
        return (f"{fact.get('year')} 年医保结算个人自付合计 {_yuan(fact.get('settled'))}，"
                f"核查录入 {_yuan(fact.get('recorded'))}")
    return ""


def finding_reason(kind: str, source: str, member_name: str, fact: dict[str, object]) -> str:
    """An upheld finding as the reason a household is ineligible (stored with the determination, shown as is)."""
    where = MANUAL_SOURCE_NAMES.get(kind, kind) if source == "manual" else KIND_NAMES.get(kind, kind)
    who = f"{member_name}：" if member_name else ""
    return f"部门信息比对（{where}）核实属实，不符合条件：{who}{fact_summary(kind, source, fact)}"
