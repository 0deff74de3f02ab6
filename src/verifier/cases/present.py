"""Turning stored cases into what a caller may see: money as yuan strings, personal data masked by role."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit.models import AuditEntry
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_account, mask_id
from ..domain.money import format_yuan
from ..domain.planning import days_late
from ..notices.service import notice_summary_for_case, review_summary_for_case
from ..payments.service import payments_for_case
from ..store.tables import Case, Check, Determination, Referral, Visit, VisitAttempt
from ..store.vault import Vault
from .personal import sees_full_ids
from .schemas import (
    BandOut,
    CaseDetail,
    CaseOut,
    CheckOut,
    DeterminationOut,
    HistoryOut,
    MemberOut,
    ReferralOut,
    ReliefOut,
    VisitAttemptOut,
    VisitOut,
)


def case_out(case: Case) -> CaseOut:
    return CaseOut(**_case_fields(case))


def _case_fields(case: Case) -> dict:
    return dict(
        id=case.id, number=case.number, status=case.status, status_label=STATUS_LABELS_ZH.get(case.status, case.status),
        county_code=case.county_code, town=case.town, village=case.village, household_group=case.household_group,
        cause=case.cause, head_name=case.household.head_name, contract_id=case.contract_id,
        contract_hash=case.contract_hash, contract_year=case.contract_year, referred_on=case.referred_on,
        reported_amount=format_yuan(case.reported_amount), screening_reason=case.screening_reason,
        closed_reason=case.closed_reason, updated_at=case.updated_at, household_id=case.household_id,
        merged_into=case.merged_into_id,
    )


def band_out(line: dict) -> BandOut:
    return BandOut(from_=format_yuan(line["from"]), to=None if line["to"] is None else format_yuan(line["to"]),
                   rate=line["rate"], base=format_yuan(line["base"]), amount=format_yuan(line["amount"]))


def determination_out(d: Determination) -> DeterminationOut:
    return DeterminationOut(
        eligible=d.eligible, rule=d.rule, per_capita_income=format_yuan(d.per_capita_income),
        relief=ReliefOut(amount=format_yuan(d.relief), breakdown=[band_out(b) for b in d.breakdown], capped=d.capped,
                         basis=format_yuan(d.basis), already_paid=format_yuan(d.already_paid)),
        reason=d.reason, contract_hash=d.contract_hash, confirmed=True, check_id=d.check_id,
        registers_consulted=d.registers_consulted, register_comparisons=d.register_comparisons,
    )


def check_out(c: Check, vault: Vault, full_ids: bool, full_account: bool) -> CheckOut:
    def idn(m: dict) -> str:
        number = vault.open(bytes.fromhex(m["id_number_enc"]), "check.member_id_number")
        return number if full_ids else mask_id(number)

    account = vault.open_optional(c.payee_account_enc, "check.payee_account")
    payee = None if c.payee_name is None else {
        "account_name": c.payee_name, "bank": c.payee_bank or "",
        "account_number": (account or "") if full_account else mask_account(account or ""),
    }
    return CheckOut(
        id=c.id, seq=c.seq, visited_on=c.visited_on, due_on=c.due_on, days_late=c.days_late,
        officers=list(c.officer_ids),
        members=[MemberOut(name=m["name"], id_number=idn(m), relation=m["relation"], labour=m.get("labour"))
                 for m in c.members],
        income={k: format_yuan(getattr(c, k)) for k in ("wages", "business_net", "property_net", "transfer_net",
                                                         "productive_costs")},
        rigid_expenditure={k: format_yuan(getattr(c, k) or 0)
                           for k in ("medical_self_paid", "schooling", "disaster_loss", "other_rigid")},
        stable_income=c.stable_income, payee=payee, cross_checks=list(c.cross_checks), evidence=list(c.evidence),
        note=c.note, recorded_by=c.recorded_by, recorded_at=c.recorded_at, sent_back_by=c.sent_back_by,
        sent_back_at=c.sent_back_at, sent_back_reason=c.sent_back_reason,
    )


def visit_out(v: Visit) -> VisitOut:
    return VisitOut(id=v.id, visit_on=v.visit_on, due_on=v.due_on, officers=list(v.officer_ids), vehicle=v.vehicle,
                    active=v.active, days_late=days_late(v.visit_on, v.due_on))


# The case detail's statements, built once (building one costs more than running it). They select the tables'
# rows, not mapped objects: the detail only reads them, and a row has the same attribute names at a fraction of
# the cost of loading an object into the session.
_CASE_ID = bindparam("case_id")
_visit, _referral, _check, _det, _entry, _attempt = (
    m.__table__ for m in (Visit, Referral, Check, Determination, AuditEntry, VisitAttempt))
_VISITS = select(_visit).where(_visit.c.case_id == _CASE_ID).order_by(_visit.c.created_at)
_REFERRALS = select(_referral).where(_referral.c.case_id == _CASE_ID).order_by(_referral.c.created_at,
                                                                                 _referral.c.id)
_CHECKS = select(_check).where(_check.c.case_id == _CASE_ID).order_by(_check.c.seq)
_DETERMINATION = (select(_det).where(_det.c.case_id == _CASE_ID).order_by(_det.c.confirmed_at.desc()).limit(1))
_HISTORY = (select(_entry.c.idx, _entry.c.time, _entry.c.actor, _entry.c.role, _entry.c.action, _entry.c.entry)
            .where(_entry.c.subject.in_(bindparam("subjects", expanding=True))).order_by(_entry.c.idx))
_ATTEMPTS = (select(_attempt).where(_attempt.c.case_id == _CASE_ID)
             .order_by(_attempt.c.visited_on, _attempt.c.recorded_at))


def case_detail(session: Session, case: Case, principal: Principal, vault: Vault) -> CaseDetail:
    by_case = {"case_id": case.id}
    visits = session.execute(_VISITS, by_case).all()
    active = next((v for v in visits if v.active), None)
    full_ids = sees_full_ids(principal, case, active)  # type: ignore[arg-type]  # a row reads like a Visit
    referral_rows = session.execute(_REFERRALS, by_case).all()
    referrals = [
        ReferralOut(
            id=r.id, channel=r.channel, name=r.name,
            id_number=(lambda n: n if full_ids else mask_id(n))(vault.open(r.id_number_enc, "referral.id_number")),
            town=r.town, village=r.village, cause=r.cause, amount=format_yuan(r.amount), referred_on=r.referred_on,
            import_id=r.import_id, row_number=r.row_number,
        )
        for r in referral_rows
    ]
    checks = [check_out(c, vault, full_ids, full_account=False)
              for c in session.execute(_CHECKS, by_case)]
    det = session.execute(_DETERMINATION, by_case).first()
    payments = payments_for_case(session, case.id, vault)
    # The case's own entries, and those of the imports and payment batches it was part of.
    subjects = {case.id} | {r.import_id for r in referral_rows if r.import_id} | {
        p["batch_id"] for p in payments if p.get("batch_id")}
    history = [
        HistoryOut(index=e.idx, time=e.time, actor=e.actor, role=e.role, action=e.action,
                   payload=json.loads(e.entry)["payload"])
        for e in session.execute(_HISTORY, {"subjects": sorted(subjects)})
    ]
    return CaseDetail(
        **_case_fields(case), referrals=referrals,
        visits=[visit_out(v) for v in visits],
        visit_attempts=[VisitAttemptOut(id=a.id, visited_on=a.visited_on, officers=list(a.officer_ids), outcome=a.outcome,
                                        note=a.note, recorded_by=a.recorded_by, recorded_at=a.recorded_at)
                        for a in session.execute(_ATTEMPTS, by_case)],
        checks=checks, determination=determination_out(det) if det else None,
        village_review=review_summary_for_case(session, case.id), notice=notice_summary_for_case(session, case.id),
        payments=payments, history=history,
    )
