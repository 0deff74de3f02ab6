"""The approval form of a case (核查审批表), to print and sign: the household and its members, the check's income and
expenditure, the determination with its relief tiers, who checked and who decided, on which days, the village
review and the notice. Members' ID numbers are masked as the case page masks them for the reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.income import HouseholdIncome, net_income
from ..domain.money import format_yuan, parse_yuan
from ..store import contracts as contract_store
from ..store.tables import Determination, User
from ..store.vault import Vault
from .present import case_detail
from .schemas import CaseDetail, CheckOut
from .workflow import load_case


@dataclass
class ApprovalForm:
    case: CaseDetail
    county_name: str
    check: CheckOut | None  # the check the determination rests on (else the latest)
    checked_by: list[str]  # names of the officers who made it
    recorded_by: str  # name of whoever entered it
    determined_by: str  # name of the supervisor who confirmed the determination ("" before it)
    determined_at: datetime | None
    net_income: str | None  # the household's yearly net income: income less productive costs
    rigid_total: str | None
    names: dict[str, str] = field(default_factory=dict)


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).tuples().all())


def approval_form(session: Session, case_id: str, principal: Principal, vault: Vault) -> ApprovalForm:
    case = load_case(session, case_id, principal)  # another county's case: NotFound
    detail = case_detail(session, case, principal, vault)
    det = session.scalar(select(Determination).where(Determination.case_id == case.id)
                         .order_by(Determination.confirmed_at.desc()).limit(1))
    check = None
    if detail.checks:
        wanted = detail.determination.check_id if detail.determination else None
        check = next((c for c in detail.checks if c.id == wanted), detail.checks[-1])
    review = detail.village_review or {}
    names = _names(session, {*(check.officers if check else []), *([check.recorded_by] if check else []),
                             *([det.confirmed_by] if det else []), *([review["recorded_by"]] if review else [])})
    net = rigid = None
    if check is not None:
        net = format_yuan(net_income(HouseholdIncome(**{k: parse_yuan(v) for k, v in check.income.items()})))
        rigid = format_yuan(sum(parse_yuan(v) for v in check.rigid_expenditure.values()))
    return ApprovalForm(
        case=detail, county_name=contract_store.county_names(session).get(case.county_code, case.county_code),
        check=check, checked_by=[names.get(o, o) for o in (check.officers if check else [])],
        recorded_by=names.get(check.recorded_by, check.recorded_by) if check else "",
        determined_by=names.get(det.confirmed_by, det.confirmed_by) if det else "",
        determined_at=det.confirmed_at if det else None, net_income=net, rigid_total=rigid, names=names,
    )

