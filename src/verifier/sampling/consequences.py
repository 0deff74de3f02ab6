"""What a deviating re-check does to the case (抽样复核偏差的后果), and the round's assessment record (考核).

Conventions
-----------
* **When.** The consequence is created in the transaction that records the re-check result, and re-derived in the
  one that corrects it. Not at the verdict: a verdict can wait weeks for the last re-checks (and a widened stage),
  and a case the county has just found ineligible must not be paid meanwhile. A correction (possible only while
  the verdict is pending) withdraws the consequence it replaces, as long as nothing was done on it: a hold not yet
  re-determined, a recovery without repayments. Otherwise the correction is refused (409): what was decided or
  repaid on the strength of the first result stays, and the audit log keeps both. A hold several rounds' deviations
  share is withdrawn with the last of them; while another round still holds the case, a correction (or another
  round's deviation joining the hold) withdraws the re-determination against the county's finding waiting on it
  (`case.hold_redetermination_withdrawn`): the figure it went against, the strictest of every round holding the case
  (cases/holds.py `county_figure_of`), is no longer the county's.
* **Amounts.** The county's due = its relief when it finds the household eligible, else 0. The insurer's side =
  what the case has been paid (items the bank confirmed) when it was paid, else its confirmed relief (0 when the
  insurer found it ineligible). `over`/`under` are their difference.
* **Kind.** `eligibility` when the eligibility differs, else `amount` when the relief differs, else `income`
  (the income alone differs beyond the tolerance: counted in the assessment, no money consequence).
* **Consequence.** A paid case with `over` > 0 opens a recovery (追回, payments/recoveries.py) of `over`. An unpaid
  case with a confirmed determination, in a payable state (determined … ready_to_pay, in a batch, payment
  failed), is held (`case_hold`) until an insurer supervisor re-determines it (cases/holds.py); a hold takes it
  out of a batch not yet approved (a batch left empty is cancelled; nothing of the fund was committed). Other
  cases (no determination yet, closed ineligible, no relief, review failed) record the deviation with no
  consequence: nothing is due to be paid. A paid case found short (`under` > 0) opens a supplementary payment of
  the difference, paid by the county's next batch through the normal flow (four eyes, county sign-off, bank file)
  once a county reviewer other than the one who recorded the re-check confirms it (`confirm_supplement`).
  For a paid case the insurer's side counts what earlier rounds settled (`settled_elsewhere`), so the same
  deviation found again opens nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound
from ..domain.money import format_yuan
from ..payments import recoveries
from ..payments import service as payments
from ..payments import year_paid
from ..payments.models import BankReturn, PaymentItem, Recovery, SupplementaryPayment
from ..recusal import guard as recusal
from ..recusal import refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..store.base import new_id
from ..store.tables import Case, Determination
from . import independence
from .models import (WITHDRAWN_BY_COUNTY, CaseHold, CaseHoldProposal, SamplingDeviation, SamplingResult,
                     SamplingRound)

HOLDABLE = ("determined", "reviewed", "in_notice", "ready_to_pay", "in_batch", "payment_failed")
HOLD_OPENED = "case.held"
HOLD_WITHDRAWN = "case.hold_withdrawn"
PROPOSAL_WITHDRAWN = "case.hold_redetermination_withdrawn"
SUPPLEMENT_OPENED = "case.supplement_opened"
SUPPLEMENT_WITHDRAWN = "case.supplement_withdrawn"
SUPPLEMENT_CONFIRMED = "case.supplement_confirmed"
CONFIRMER = "county_reviewer"


def paid_amount(session: Session, case_id: str) -> int:
    """What the bank confirmed paid to the case, in fen."""
    return int(session.scalar(select(func.coalesce(func.sum(PaymentItem.amount), 0)).where(
        PaymentItem.case_id == case_id, PaymentItem.status == "succeeded")) or 0)


def settled_elsewhere(session: Session, case_id: str) -> int:
    """What earlier rounds already settled of a paid case, in fen: plus the supplementary payments still to be paid,
    minus what recoveries took (or waived) back. The paid amount plus this is what the case keeps, so a second
    round finding the same deviation opens nothing twice."""
    pending = session.scalar(select(func.coalesce(func.sum(SupplementaryPayment.amount), 0)).where(
        SupplementaryPayment.case_id == case_id, SupplementaryPayment.status.in_(("open", "in_batch")))) or 0
    recovered = session.scalar(select(func.coalesce(func.sum(Recovery.amount), 0)).where(
        Recovery.case_id == case_id, Recovery.status.in_(("open", "repaid", "waived")))) or 0
    return int(pending) - int(recovered)


def kind_of(reasons: list[str]) -> str:
    if "eligibility" in reasons:
        return "eligibility"
    if "relief" in reasons:
        return "amount"
    return "income"


def _finding(row: SamplingResult, due: int, insurer: int) -> str:
    if row.eligible != row.insurer_eligible:
        return ("县级复核认定不符合条件" if not row.eligible else "县级复核认定符合条件") + \
            f"（保险机构认定{'符合' if row.insurer_eligible else '不符合'}条件）；复核应发 {format_yuan(due)} 元"
    return f"县级复核保障金 {format_yuan(due)} 元，保险机构认定 {format_yuan(insurer)} 元"


def apply(session: Session, rnd: SamplingRound, row: SamplingResult, *, principal: Principal,
          clock: Clock) -> dict[str, Any] | None:
    """Create the consequence of a recorded result (nothing when it does not deviate). Returns what to log with the
    result; the hold and the recovery append entries of their own."""
    if not row.deviation:
        return None
    case = session.scalar(select(Case).where(Case.id == row.case_id).with_for_update())
    assert case is not None
    paid = paid_amount(session, case.id)
    is_paid = case.status == "paid" or paid > 0
    due = (row.relief_amount or 0) if row.eligible else 0
    if is_paid:
        insurer = paid + settled_elsewhere(session, case.id)
    else:
        insurer = (row.insurer_relief or 0) if row.insurer_eligible else 0
    compared = row.relief_amount is not None or not row.eligible
    over = max(insurer - due, 0) if compared else 0
    under = max(due - insurer, 0) if compared else 0
    kind = kind_of(list(row.reasons))
    now = clock.now()
    dev = SamplingDeviation(round_id=rnd.id, case_id=case.id, county_code=case.county_code, kind=kind, paid=is_paid,
                            insurer_amount=insurer, county_amount=due, over_amount=over, under_amount=under,
                            consequence="none", created_by=principal.id, created_at=now)
    if kind != "income":
        if is_paid and over > 0:
            rec = recoveries.open_recovery(session, case, rnd.id, paid=insurer, due=due, principal=principal,
                                           clock=clock)
            dev.consequence, dev.recovery_id = "recovery", rec.id
        elif is_paid and under > 0:
            sup = _open_supplement(session, case, rnd, under, principal=principal, clock=clock)
            dev.consequence, dev.supplement_id = "supplement", sup.id
        elif not is_paid and row.baseline == "determination" and case.status in HOLDABLE:
            hold = _open_hold(session, case, rnd, _finding(row, due, insurer), principal=principal, clock=clock)
            dev.consequence, dev.hold_id = "hold", hold.id
    session.add(dev)
    session.flush()
    return {"kind": kind, "paid": is_paid, "insurer_amount": format_yuan(insurer), "county_amount": format_yuan(due),
            "over": format_yuan(over), "under": format_yuan(under), "consequence": dev.consequence,
            "hold_id": dev.hold_id, "recovery_id": dev.recovery_id, "supplement_id": dev.supplement_id}


def _open_supplement(session: Session, case: Case, rnd: SamplingRound, amount: int, *, principal: Principal,
                     clock: Clock) -> SupplementaryPayment:
    """A supplementary payment of `amount` for a paid case, paid by the next batch of its county (payments)."""
    det = session.scalar(select(Determination.id).where(Determination.case_id == case.id)
                         .order_by(Determination.confirmed_at.desc(), Determination.id.desc()).limit(1))
    assert det is not None  # a paid case was determined
    return open_supplement(session, case, amount, det, round_id=rnd.id, principal=principal, clock=clock)


def open_supplement(session: Session, case: Case, amount: int, determination_id: str, *, round_id: str | None,
                    principal: Principal, clock: Clock, source: dict[str, Any] | None = None) -> SupplementaryPayment:
    """Open a supplementary payment of `amount` for a paid case under `determination_id`, waiting for another county
    reviewer's confirmation (`confirm_supplement`): a round's, or (no round; `source` names it in the entry) a
    follow-up's closed as misdirected (followups/receipt.py)."""
    sup = SupplementaryPayment(id=new_id("sup"), case_id=case.id, round_id=round_id, county_code=case.county_code,
                               contract_id=case.contract_id, determination_id=determination_id, amount=amount,
                               status="open", opened_by=principal.id, opened_at=clock.now())
    session.add(sup)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(("county_reviewer",)),
                 action=SUPPLEMENT_OPENED, subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"supplement_id": sup.id, "round_id": round_id, "amount": format_yuan(amount),
                          "determination_id": determination_id, **(source or {})})
    return sup


def _open_hold(session: Session, case: Case, rnd: SamplingRound, finding: str, *, principal: Principal,
               clock: Clock) -> CaseHold:
    existing = session.scalar(select(CaseHold).where(CaseHold.case_id == case.id, CaseHold.status == "open"))
    if existing is not None:  # held already (by another round): one re-determination answers both
        # judged against both rounds' figure now (`holds.county_figure_of`): a proposal against the first's alone ends
        _end_waiting(session, existing, rnd.id, "joined", None, principal=principal, clock=clock)
        return existing
    hold = CaseHold(id=new_id("hold"), case_id=case.id, round_id=rnd.id, county_code=case.county_code, status="open",
                    finding=finding, opened_by=principal.id, opened_at=clock.now())
    session.add(hold)
    session.flush()
    taken_out = payments.take_out_held(session, case.id, principal=principal, clock=clock)
    audit.append(session, actor=principal.id, role=principal.acting_role(("county_reviewer",)), action=HOLD_OPENED,
                 subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"hold_id": hold.id, "round_id": rnd.id, "status": case.status, "finding": finding,
                          "taken_out_of_batch": taken_out})
    return hold


def _end_waiting(session: Session, hold: CaseHold, round_id: str, why: str, reason: str | None, *,
                 principal: Principal, clock: Clock) -> list[str]:
    """Withdraw the re-determination against the county's finding waiting on `hold` (cases/hold_proposals.py), if
    any, because the county's finding behind the hold changed: a re-check of a round holding the case corrected
    (`corrected`, with the correction's reason), or another round's deviation joining the hold (`joined`). The
    figure it went against is no longer the county's; the hold stays open, and a supervisor re-determines the case
    again. The entry names the proposals ended."""
    waiting = (CaseHoldProposal.hold_id == hold.id) & (CaseHoldProposal.status == "waiting")
    ended = sorted(session.scalars(select(CaseHoldProposal.id).where(waiting).with_for_update()))
    if not ended:
        return []
    session.execute(update(CaseHoldProposal).where(waiting).values(
        status="withdrawn", answered_by=principal.id, answered_at=clock.now(), answer_note=reason,
        withdrawn_by_side=WITHDRAWN_BY_COUNTY))
    _withdrawn(session, hold.case_id, PROPOSAL_WITHDRAWN, {
        "hold_id": hold.id, "round_id": round_id, "why": why, "proposals_withdrawn": ended,
        **({"reason_sha256": audit.text_digest(reason)} if reason else {})}, principal=principal, clock=clock)
    return ended


def _withdrawn(session: Session, case_id: str, action: str, payload: dict[str, Any], *, principal: Principal,
               clock: Clock) -> None:
    """A consequence withdrawn (its row changed): written, then audited on its case."""
    session.flush()
    case = session.get(Case, case_id)
    assert case is not None
    audit.append(session, actor=principal.id, role=principal.acting_role(("county_reviewer",)), action=action,
                 subject=case_id, contract_hash=case.contract_hash, clock=clock, payload=payload)


def withdraw(session: Session, rnd: SamplingRound, case_id: str, *, reason: str, principal: Principal,
             clock: Clock) -> dict[str, Any] | None:
    """Withdraw the consequence of a result about to be corrected; 409 when something was done on it."""
    dev = session.get(SamplingDeviation, (rnd.id, case_id))
    if dev is None:
        return None
    out: dict[str, Any] = {"consequence": dev.consequence}
    if dev.hold_id is not None:
        # Locked, the case first as a re-determination and a county answer lock it (cases/holds.py,
        # cases/hold_proposals.py): a correction and a confirmation of the hold's proposal wait for each other, and the
        # later one reads what the first did (a hold decided is not withdrawn; a proposal withdrawn is not confirmed).
        session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
        hold = session.scalar(select(CaseHold).where(CaseHold.id == dev.hold_id).with_for_update()
                              .execution_options(populate_existing=True))
        assert hold is not None
        if hold.status != "open":  # re-determined against every round holding it: none of them is corrected now
            raise InvalidState("依据该复核结果暂停支付的案件已重新认定，复核结果不能再更正。")
        others = session.scalar(select(func.count()).select_from(SamplingDeviation).where(
            SamplingDeviation.hold_id == hold.id, SamplingDeviation.round_id != rnd.id))
        if not others:  # no other round holds it (its own round's result may have been corrected before)
            hold.status, hold.decided_by, hold.decided_at = "withdrawn", principal.id, clock.now()
            hold.decision_reason = reason
            # a re-determination against the county's finding waiting for its answer ends with the hold, named
            # in the entry
            waiting = (CaseHoldProposal.hold_id == hold.id) & (CaseHoldProposal.status == "waiting")
            ended = list(session.scalars(select(CaseHoldProposal.id).where(waiting).with_for_update()))
            session.execute(update(CaseHoldProposal).where(waiting).values(
                status="withdrawn", answered_by=principal.id, answered_at=clock.now(), answer_note=reason,
                withdrawn_by_side=WITHDRAWN_BY_COUNTY))
            _withdrawn(session, case_id, HOLD_WITHDRAWN, {"hold_id": hold.id, "round_id": rnd.id,
                                                            "proposals_withdrawn": sorted(ended),
                                                            "reason_sha256": audit.text_digest(reason)},
                       principal=principal, clock=clock)
            out["hold_withdrawn"] = hold.id
        else:
            # another round holds the case too: the hold stays, but the county's figure a waiting proposal went
            # against (the strictest of every round holding it) is being corrected
            ended = _end_waiting(session, hold, rnd.id, "corrected", reason, principal=principal, clock=clock)
            if ended:
                out["proposals_withdrawn"] = ended
    if dev.recovery_id is not None:
        rec = session.get(Recovery, dev.recovery_id)
        assert rec is not None
        recoveries.withdraw_recovery(session, rec, reason=reason, principal=principal, clock=clock)
        out["recovery_withdrawn"] = rec.id
    if dev.supplement_id is not None:
        sup = session.get(SupplementaryPayment, dev.supplement_id)
        assert sup is not None
        if sup.status != "open":
            raise InvalidState("依据该复核结果的补发款已列入支付批次或已支付，复核结果不能再更正。")
        sup.status, sup.withdrawn_reason = "withdrawn", reason
        _withdrawn(session, case_id, SUPPLEMENT_WITHDRAWN, {"supplement_id": sup.id, "round_id": rnd.id,
                                                            "reason_sha256": audit.text_digest(reason)},
                           principal=principal, clock=clock)
        out["supplement_withdrawn"] = sup.id
    session.delete(dev)
    session.flush()
    return out


def open_hold_of(session: Session, case_id: str) -> CaseHold | None:
    return session.scalar(select(CaseHold).where(CaseHold.case_id == case_id, CaseHold.status == "open"))


OPENED_BY_CLOSER = "按“四眼原则”，这笔补发由您核实回访未收到救助金时开立，须由另一名县级审核人员确认"
OPENED_BY_RECHECK = "按“四眼原则”，这笔补发由您录入的复核结果产生，须由另一名县级复核人员确认"
CHECKED_IT = "补发须由另一位县级审核人员确认：您参与了该案件的入户核查或认定"
CHECKED_LINKED = ("补发须由另一位县级审核人员确认：您的账号与{part}的账号有密码关联" + PASSWORD_LINK)
OPENER_LINKED = "补发须由另一位县级审核人员确认：您的账号与开立这笔补发的人员有密码关联" + PASSWORD_LINK
FAILED_BY_IMPORTER = ("按“四眼原则”，这笔补发的转账是由您导入的银行回单标为支付失败的：重新支付前的确认须由另一名县级审核人员办理")
IMPORTER_LINKED = ("按“四眼原则”，这笔补发的转账是由与您的账号有密码关联" + PASSWORD_LINK
                   + "的人员导入的银行回单标为支付失败的：重新支付前的确认须由另一名县级审核人员办理")


def failure_importer(session: Session, supplement_id: str) -> str | None:
    """Who imported the bank return that marked the supplement's latest transfer failed (None: none failed). A
    failed supplement waits for a county reviewer's confirmation again (`payments.bank.import_return`), not theirs."""
    return failure_importers(session, [supplement_id]).get(supplement_id)


def failure_importers(session: Session, supplement_ids: Iterable[str]) -> dict[str, str]:
    """`failure_importer` of each of the supplements (those with a failed transfer), in one statement whatever their
    number: a round's page carries them to say why one waits for a confirmation again (`importer_refused`)."""
    ids = sorted(set(supplement_ids))
    if not ids:
        return {}
    out: dict[str, str] = {}
    for sup_id, importer in session.execute(
            select(PaymentItem.supplement_id, BankReturn.imported_by)
            .join(BankReturn, PaymentItem.return_id == BankReturn.id)
            .where(PaymentItem.supplement_id.in_(ids), PaymentItem.status == "failed")
            .order_by(PaymentItem.supplement_id, PaymentItem.settled_at.desc(), PaymentItem.id.desc())):
        out.setdefault(sup_id, importer)  # the latest failed transfer's
    return out


def _failed_by_own(importer: str | None, principal: Principal) -> str | None:
    return FAILED_BY_IMPORTER if importer is not None and principal.id == importer else None


def _importer_parts(importer: str | None, case_id: str) -> list[refusals.LinkedPart]:
    return [refusals.LinkedPart(importer, IMPORTER_LINKED, case_id=case_id)] if importer else []


def importer_refused(session: Session, importer: str | None, case_id: str, principal: Principal) -> str | None:
    """Why `principal` may not confirm again a supplement of `case_id` a bank return imported by `importer` marked
    failed (`confirm_supplement` refuses them so: the importer, or an account linked to theirs by a password), or
    None: a page shows it instead of the button. Nothing is recorded."""
    return _failed_by_own(importer, principal) or refusals.linked_said(
        session, principal, _importer_parts(importer, case_id))


def confirm_supplement(session: Session, supplement_id: str, *, principal: Principal, clock: Clock) -> dict[str, Any]:
    """A second county reviewer confirms a supplementary payment a re-check opened; only then does a batch pay it.
    One reviewer alone would otherwise turn a typed relief into money paid to a household (up to the yearly cap).
    Nor an account linked to the opener by a password (`roster.service.password_links`, 403)."""
    sup = session.scalar(select(SupplementaryPayment).where(SupplementaryPayment.id == supplement_id)
                         .with_for_update())
    if sup is None or not principal.may_see_county(sup.county_code):
        raise NotFound("没有这笔补发")
    if not principal.has(CONFIRMER):
        raise Forbidden("只有县级审核人员可以确认补发")
    if sup.confirmed_by is not None:
        raise InvalidState("这笔补发已经确认")
    if sup.status != "open":
        raise InvalidState("这笔补发已列入支付批次、已补发或已撤销：只有待列入支付批次的补发才需确认")
    took_part = None
    importer = failure_importer(session, sup.id)
    if principal.id == sup.opened_by:
        took_part = OPENED_BY_CLOSER if sup.round_id is None else OPENED_BY_RECHECK
    elif (own := _failed_by_own(importer, principal)) is not None:
        took_part = own
    elif password_links(session, principal.id, {sup.opened_by}):  # the roster's rule, as the follow-up's 回避 reads it
        took_part = OPENER_LINKED
    elif independence.took_part(session, sup.case_id, principal.id):
        took_part = CHECKED_IT
    if took_part is not None:  # on 回避拦截记录 with the other refusals to who took part
        household = session.scalar(select(Case.household_id).where(Case.id == sup.case_id))
        raise refusals.refused(Forbidden(took_part), principal, "supplement_confirm",
                               [household] if household else [], case_id=sup.case_id, clock=clock)
    # nor through an account linked to the account of one who took part in the case's check or determination, or to
    # the importer's of the return that failed it
    refusals.refuse_linked(session, principal, "supplement_confirm",
                           independence.linked_parts(session, sup.case_id, CHECKED_LINKED)
                           + _importer_parts(importer, sup.case_id),
                           clock=clock)
    # 回避: nor a member, or declared relative of one, of the household, kept under this step (not the re-check's).
    recusal.refuse_case(session, principal, sup.case_id, step="supplement_confirm", clock=clock)
    case = session.get(Case, sup.case_id)
    assert case is not None
    over = over_cap(session, case, sup)
    if over is not None:
        raise InvalidState(over)
    sup.confirmed_by, sup.confirmed_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((CONFIRMER,)), action=SUPPLEMENT_CONFIRMED,
                 subject=case.id, contract_hash=case.contract_hash, clock=clock,
                 payload={"supplement_id": sup.id, "round_id": sup.round_id, "amount": format_yuan(sup.amount),
                          "opened_by": sup.opened_by, **({"after_failure": True} if importer else {})})
    return supplement_out(sup)


def over_cap(session: Session, case: Case, sup: SupplementaryPayment) -> str | None:
    """Why `sup` may not be confirmed: with what the household has been paid, and is to be paid, for the case's cause
    and year (payments/year_paid.py, this case's own included), it would go over the contract's yearly cap; or None.
    The household's year is locked first: two supplements confirmed at once do not each leave room for the other."""
    year_paid.lock(session, case.household_id)
    cap = year_paid.room(session, case, besides_supplement=sup.id, own=True)
    if cap is None or sup.amount <= cap.left:
        return None
    return (f"这笔补发 {format_yuan(sup.amount)} 元确认后，本户本年度同一致贫原因的保障金合计 "
            f"{format_yuan(cap.taken + sup.amount)} 元，超过服务合同的年度上限 {format_yuan(cap.cap)} 元"
            f"（已发放或待发放 {format_yuan(cap.taken)} 元，最多还可补发 {format_yuan(cap.left)} 元）：不能确认。"
            "请核对本户同一致贫原因的其他案件，必要时更正复核结果。")


def supplement_out(sup: SupplementaryPayment) -> dict[str, Any]:
    return {"id": sup.id, "case_id": sup.case_id, "round_id": sup.round_id, "amount": format_yuan(sup.amount),
            "status": sup.status, "opened_by": sup.opened_by, "opened_at": sup.opened_at.isoformat(),
            "confirmed_by": sup.confirmed_by,
            "confirmed_at": sup.confirmed_at.isoformat() if sup.confirmed_at else None}
