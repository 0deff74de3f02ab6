"""Reading recoveries (追回, recoveries.py): one with its repayments, the lists of the caller's counties, a case's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..domain.money import format_yuan
from ..store.loading import row_in_counties
from ..store.paged import PAGE_SIZE, Paged, count_of, fold_search, page_of, text_search
from ..store.tables import Case, Household
from ..followups.models import FollowupReceiptReview
from .models import Recovery, RecoveryRepayment, RecoveryWaiverRequest

STATUSES = ("open", "repaid", "waived", "withdrawn")
RECOVERY_STATUS_ZH = {"open": "追回中", "repaid": "已全额追回", "waived": "已核销", "withdrawn": "已撤销（核实结果更正）"}


def load_recovery(session: Session, recovery_id: str, principal: Principal, *, for_update: bool = False) -> Recovery:
    return row_in_counties(session, Recovery, recovery_id, principal, missing="追回记录不存在",
                           for_update=for_update, refresh=True)


def repayment_out(r: RecoveryRepayment) -> dict[str, Any]:
    return {"id": r.id, "recovery_id": r.recovery_id, "amount": format_yuan(r.amount),
            "paid_on": r.paid_on.isoformat(), "reference": r.reference, "status": r.status,
            "recorded_by": r.recorded_by, "recorded_at": r.recorded_at.isoformat(), "decided_by": r.decided_by,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None, "reject_reason": r.reject_reason}


def recovery_out(session: Session, rec: Recovery, *, head_name: str | None = None,
                 case_number: str | None = None) -> dict[str, Any]:
    repayments = list(session.scalars(select(RecoveryRepayment).where(RecoveryRepayment.recovery_id == rec.id)
                                      .order_by(RecoveryRepayment.recorded_at, RecoveryRepayment.id)))
    pending = sum(r.amount for r in repayments if r.status == "pending")
    return {"id": rec.id, "case_id": rec.case_id, "case_number": case_number, "head_name": head_name,
            "round_id": rec.round_id, "county_code": rec.county_code, "contract_id": rec.contract_id,
            "amount": format_yuan(rec.amount), "paid_amount": format_yuan(rec.paid_amount),
            "due_amount": format_yuan(rec.due_amount), "repaid": format_yuan(rec.repaid),
            "outstanding": format_yuan(rec.amount - rec.repaid if rec.status == "open" else 0),
            # what the waiver wrote off (recoveries.waive: the amount less the confirmed repayments), else nothing
            "waived": format_yuan(rec.amount - rec.repaid if rec.status == "waived" else 0),
            "pending": format_yuan(pending), "status": rec.status, "opened_by": rec.opened_by,
            "opened_at": rec.opened_at.isoformat(), "closed_by": rec.closed_by,
            "closed_at": rec.closed_at.isoformat() if rec.closed_at else None, "waive_reason": rec.waive_reason,
            "waiver_requested_by": rec.waiver_requested_by,
            "waiver_requested_at": rec.waiver_requested_at.isoformat() if rec.waiver_requested_at else None,
            "waiver_confirm_note": rec.waiver_confirm_note,
            "repayments": [repayment_out(r) for r in repayments]}


def _moment(at: Any) -> str | None:
    return at.isoformat() if at is not None else None


def waiver_requests_of(session: Session, recovery_id: str) -> list[dict[str, Any]]:
    """Every request to waive the recovery, oldest first: who asked, when, why, and its end (`outcome` None while it
    waits; confirmed, declined or withdrawn), by whom, when, with the words said (NULL: kept nowhere in clear)."""
    rows = session.scalars(select(RecoveryWaiverRequest).where(RecoveryWaiverRequest.recovery_id == recovery_id)
                           .order_by(RecoveryWaiverRequest.asked_at.nulls_first(), RecoveryWaiverRequest.ended_at,
                                     RecoveryWaiverRequest.id))
    return [{"id": r.id, "asked_by": r.asked_by, "asked_at": _moment(r.asked_at), "reason": r.reason,
             "outcome": r.outcome, "ended_by": r.ended_by, "ended_at": _moment(r.ended_at), "note": r.note}
            for r in rows]


def get_recovery(session: Session, recovery_id: str, principal: Principal) -> dict[str, Any]:
    rec = load_recovery(session, recovery_id, principal)
    case = session.get(Case, rec.case_id)
    head = session.get(Household, case.household_id).head_name if case is not None else None
    out = recovery_out(session, rec, head_name=head, case_number=case.number if case is not None else None)
    out["waiver_requests"] = waiver_requests_of(session, rec.id)
    # No round: a follow-up closed as misdirected opened it (回访核实未收到); the one whose household said so.
    out["followup_id"] = None if rec.round_id is not None else session.scalar(
        select(FollowupReceiptReview.followup_id).where(FollowupReceiptReview.recovery_id == rec.id))
    return out


def list_recoveries(session: Session, principal: Principal, *, county_code: str | None = None,
                    status: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The recoveries in the caller's counties, newest first, with the case's number and household head."""
    stmt = _listed(principal, county_code, status)
    total = count_of(session, stmt)
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return {"items": [recovery_out(session, rec, head_name=head, case_number=number) for rec, number, head in rows],
            "total": int(total)}


def find_recoveries(session: Session, principal: Principal, *, county_code: str | None = None,
                    status: str | None = None, q: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> Paged[Any]:
    """One page of the recoveries list, searched by the household head's name or the case number (or its last
    digits), as `list_recoveries` shows each."""
    stmt = _listed(principal, county_code, status)
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (Household.head_name, Case.number)))
    return page_of(session, stmt, page, page_size, rows=True).map(
        lambda row: recovery_out(session, row[0], head_name=row[2], case_number=row[1]))


def _listed(principal: Principal, county_code: str | None, status: str | None) -> Any:
    """The SELECT of the recoveries (with case number and head) of the caller's counties, newest first."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed.one("status", "追回状态须为以下之一：" + "、".join(
            f"{s}（{RECOVERY_STATUS_ZH[s]}）" for s in STATUSES))
    stmt = (select(Recovery, Case.number, Household.head_name).join(Case, Case.id == Recovery.case_id)
            .join(Household, Household.id == Case.household_id)
            .order_by(Recovery.opened_at.desc(), Recovery.id.desc()))
    if county_code:
        stmt = stmt.where(Recovery.county_code == county_code if principal.may_see_county(county_code) else false())
    elif principal.counties:
        stmt = stmt.where(Recovery.county_code.in_(principal.counties))
    return stmt.where(Recovery.status == status) if status else stmt


def recoveries_for_case(session: Session, case_id: str) -> list[dict[str, Any]]:
    return [recovery_out(session, rec) for rec in session.scalars(
        select(Recovery).where(Recovery.case_id == case_id).order_by(Recovery.opened_at))]
