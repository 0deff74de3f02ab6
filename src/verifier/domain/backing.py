"""Rigid expenditure backed by bills.

A check may be recorded at the door without its bills (they are added later), but a determination counts rigid
expenditure only as far as bills back it: each kind's amount is at most the total of its bills. When the amounts as
claimed would give a different result (eligible where the billed amounts are not, or more relief), the determination
rests on unbilled expenditure and is not confirmed until the bills are added or the check is sent back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from .causes import BASES
from .income import RigidExpenditure
from .money import Fen, grouped_yuan


@dataclass(frozen=True)
class Shortfall:
    """One kind of rigid expenditure claimed beyond its bills."""

    field: str  # a RigidExpenditure field: medical_self_paid, schooling, disaster_loss, other_rigid
    claimed: Fen
    billed: Fen

    @property
    def missing(self) -> Fen:
        return self.claimed - self.billed

    def in_chinese(self) -> str:
        return (f"{BASES[self.field]}申报 {grouped_yuan(self.claimed)} 元，票据合计 {grouped_yuan(self.billed)} 元，"
                f"差 {grouped_yuan(self.missing)} 元")


def shortfalls(rigid: RigidExpenditure, billed: Mapping[str, Fen]) -> list[Shortfall]:
    """Every kind whose claimed amount is more than its bills add up to (`billed`: field → fen)."""
    out = []
    for f in fields(rigid):
        claimed, have = getattr(rigid, f.name), billed.get(f.name, 0)
        if claimed > have:
            out.append(Shortfall(f.name, claimed, have))
    return out


def backed(rigid: RigidExpenditure, billed: Mapping[str, Fen]) -> RigidExpenditure:
    """The rigid expenditure a determination counts: each kind at most what its bills add up to."""
    return RigidExpenditure(**{f.name: min(getattr(rigid, f.name), billed.get(f.name, 0)) for f in fields(rigid)})


def refusal(found: list[Shortfall]) -> str:
    """Why a determination resting on unbilled expenditure is not confirmed (for the API and the page alike)."""
    return ("认定结果依赖没有票据支持的刚性支出：" + "；".join(s.in_chinese() for s in found)
            + "。按票据金额计算的结果与按申报金额计算的不同：请核查员补录票据，或退回重新核查后再确认")
