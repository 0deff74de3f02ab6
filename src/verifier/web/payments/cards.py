"""The home page's payment cards."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...payments import batch_list, payees
from ...store.vault import Vault
from .. import stagelabels as sl


def stopped_said(waiting: batch_list.Waiting, todo: str) -> str:
    """The batches the user would take but nobody can now, as the card and the list say them: N 个批次暂不能审批（…）."""
    if not waiting.stopped:
        return ""
    why = "、".join(f"{sl.BATCH_STOPS.get(kind, kind)} {n} 个" for kind, n in waiting.stopped_by_kind())
    return f"另有 {len(waiting.stopped)} 个批次暂不能{sl.BATCH_TODO_ACT[todo]}（{why}）"


def home_cards(session: Session, user: Principal, counts: dict[str, int], vault: Vault,
               today: date) -> list[dict[str, Any]]:
    """The home page's payment cards for the user's roles."""
    cards: list[dict[str, Any]] = []

    def card(title: str, href: str | None, count: int | None = None, note: str = "") -> None:
        cards.append({"title": title, "href": href, "count": count, "note": note})

    def deciding(title: str, todo: str, note: str) -> None:
        """A card of the batches the user may take the step on now (`batch_list.waiting`); the note says those
        nobody can take now, apart."""
        waiting = batch_list.waiting(session, user, todo, vault, today)
        card(title, f"/payments?todo={todo}&to_decide=1", len(waiting.mine),
             "；".join(x for x in (stopped_said(waiting, todo), note) if x))

    if user.has("insurer_claims"):
        card("待支付", "/payments", counts.get("ready_to_pay", 0), "公示期满、可生成支付批次的案件")
    if user.has("insurer_claims", "finance"):
        card("支付中", "/cases?status=in_batch", counts.get("in_batch", 0))
    if user.has("finance"):
        deciding("待审批批次", "approve", "制单人、移出过明细、录入或变更所付收款账户的人员以外的财务人员审批")
        deciding("待发放批次", "release", "制单人、录入或变更所付收款账户的人员以外的财务人员发放")
        card("待导入银行回单", "/payments?todo=return", batch_list.count_waiting(session, user, "return", vault, today))
    if user.has("finance", "insurer_supervisor"):
        card("支付失败待更正", "/payments#failed", counts.get("payment_failed", 0), "更正收款信息后重新支付")
    if user.has(*payees.APPROVERS):
        card("待审批的收款人变更", "/payee-changes?todo=decide", payees.pending_for(session, user),
             "收款人变更须由申请人以外的人员批准")
    if user.has("county_reviewer"):
        deciding("待县级签批批次", "signoff", "金额达到合同规定的县级签批金额")
    if user.has("finance", "county_reviewer", "auditor"):
        card("资金情况", "/fund", None, "预算、已占用、已支付、服务费和余额")
    return cards
