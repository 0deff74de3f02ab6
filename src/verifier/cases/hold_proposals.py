"""A county reviewer's answer to a re-determination against the county's finding, or raising the relief above the
determination's on one reviewer's re-check that found more (cases/holds.py `_propose`, `raised`).

Conventions
-----------
* By a county reviewer limited to the case's county, with a reason (kept on the proposal, `answer_note`; its SHA-256
  in the log), naming the proposal the page showed: a proposal no longer waiting (answered, or withdrawn with the
  hold when the county corrected its re-check) is refused (409), so a stale page or a double click changes nothing.
* Not the proposer, nor one who took part in the case (`holds.took_part`, the one list a re-determination refuses
  too: whoever recorded or corrected a deviating re-check result behind the hold, the county's finding being theirs;
  an officer or the recorder of one of the case's checks; the confirmer of one of its determinations); nor an
  account linked to one of theirs by a password (`recusal.refusals.refuse_linked`); nor a member, or declared
  relative of one, of the household (回避). The case page says why instead of the buttons (`answer_refused`).
* The county's figure a proposal goes against is the strictest of every round holding the case
  (`holds.county_figure_of`). A correction of the re-check of any round holding it, or another round's deviation
  joining the hold, withdraws a waiting proposal (sampling/consequences.py): answering it then is refused (409,
  `CHANGED`, the case page says why beside it), and a supervisor re-determines the case on the county's finding now.
* Confirmed: the re-determination takes effect as `redetermine` would have made it (the hold decided `proceed` by
  the proposer, the relief the proposal's), refused (409) while the case is in a batch not yet paid, or when the
  county's figure is no longer the one the proposal went against (a safeguard: a change of it withdraws the
  proposal). Declined: the hold stays open, and a supervisor re-determines it again (in line with the county, or
  another proposal).
* Withdrawn (撤回) by an insurer supervisor of the county (`withdraw`): nothing changes but the proposal ending; the
  hold stays open for another re-determination.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.money import format_yuan
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..sampling import independence
from ..sampling.models import WITHDRAWN_BY_INSURER, CaseHold, CaseHoldProposal
from ..store.tables import Case
from . import holds
from .workflow import load_case, load_case_for_year

ROLE = "county_reviewer"
DECLINED = "case.hold_redetermination_declined"
WITHDRAWN = "case.hold_redetermination_recalled"
STALE = "这项重新认定提议已被确认、驳回、由主管撤回或已随暂停支付撤销，请刷新页面后再办理。"
CHANGED = ("县级复核结果在提出这项重新认定之后有变化（更正了复核结果，或另一轮抽样复核也发现偏差），这项提议已撤销，"
           "不能再确认或驳回：请刷新页面，由主管按县级现在的复核结果重新认定。")
FIGURE_CHANGED = ("提出重新认定时县级复核核定的保障金为 {then} 元，县级已更正复核结果（现为{now}）：这项提议不能再确认，"
                  "请驳回，由主管按更正后的复核结果重新认定。")
LINKED = "按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK + "，须由另一名县级复核人员确认或驳回。"


def _bars(session: Session, hold: CaseHold, proposal: CaseHoldProposal,
          principal: Principal) -> tuple[str | None, list[recusal_refusals.LinkedPart]]:
    """Why `principal` may not answer as a first person (or None), and the accounts whose linked accounts may not:
    who took part in the case (`holds.took_part`, the list a re-determination refuses) and the proposer."""
    parts = holds.took_part(session, hold, proposer=proposal.proposed_by)
    return _own(parts.get(principal.id)), independence.linked_parts(session, hold.case_id, LINKED, parts)


def _own(part: str | None) -> str | None:
    """Why one who took part in the case as `part` may not answer (None: took no part)."""
    if part == independence.PROPOSER:
        return "按“四眼原则”，重新认定由您提出，须由县级复核人员确认或驳回。"
    if part == independence.RECHECK_RECORDER:
        return "按“四眼原则”，发现偏差的复核结果由您录入，须由另一名县级复核人员确认或驳回。"
    if part is not None:
        return "按“四眼原则”，您参加了保险机构对该户的核查或认定，须由另一名县级复核人员确认或驳回。"
    return None


def _of_county(principal: Principal, case: Case) -> None:
    if not principal.has(ROLE):
        raise Forbidden("只有县级复核人员可以确认或驳回重新认定提议。")
    if case.county_code not in principal.counties:
        raise Forbidden("重新认定提议须由本县的县级复核人员确认或驳回（您的账号未限定为该县）。")


def answer_refused(session: Session, case_id: str, principal: Principal) -> str | None:
    """Why `principal` may not answer the case's waiting proposal (what `confirm` and `decline` refuse with), or None
    (also when none waits): the case page shows it instead of the forms. Nothing is recorded."""
    case = session.get(Case, case_id)
    hold = session.scalar(select(CaseHold).where(CaseHold.case_id == case_id, CaseHold.status == "open"))
    proposal = holds.waiting_proposal(session, hold.id) if hold is not None else None
    if case is None or hold is None or proposal is None or not principal.has(ROLE):
        return None
    try:
        _of_county(principal, case)
    except Forbidden as exc:
        return exc.detail
    own, parts = _bars(session, hold, proposal, principal)
    return own or recusal_refusals.linked_said(session, principal, parts)


def answers_refused(session: Session, case_ids: Iterable[str], principal: Principal) -> dict[str, str | None]:
    """`answer_refused` of each of the cases (a list page's rows), by case, in a fixed number of statements whatever
    their count: the cases, their open holds, the proposals waiting on them, who took part in each
    (`holds.took_part_of_holds`) and the accounts linked to the caller's among all of them (one read)."""
    ids = sorted(set(case_ids))
    out: dict[str, str | None] = dict.fromkeys(ids)
    if not ids or not principal.has(ROLE):
        return out
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    open_holds = {h.case_id: h for h in session.scalars(select(CaseHold).where(CaseHold.case_id.in_(ids),
                                                                               CaseHold.status == "open"))}
    waiting = {p.hold_id: p for p in session.scalars(select(CaseHoldProposal).where(
        CaseHoldProposal.hold_id.in_(sorted(h.id for h in open_holds.values())),
        CaseHoldProposal.status == "waiting"))} if open_holds else {}
    asked: list[tuple[CaseHold, str | None]] = []
    for case_id in ids:
        case, hold = cases.get(case_id), open_holds.get(case_id)
        proposal = waiting.get(hold.id) if hold is not None else None
        if case is None or hold is None or proposal is None:
            continue
        try:
            _of_county(principal, case)
        except Forbidden as exc:
            out[case_id] = exc.detail
            continue
        asked.append((hold, proposal.proposed_by))
    took = holds.took_part_of_holds(session, asked)
    linked = password_links(session, principal.id, {who for parts in took.values() for who in parts} - {""})
    for case_id, parts in took.items():
        out[case_id] = _own(parts.get(principal.id)) or next(
            (LINKED.format(part=part) for who, part in sorted(parts.items()) if who in linked), None)
    return out


def _reason(reason: str, missing: str) -> str:
    """The reason given, trimmed; refused (`missing`) when there is none."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.one("reason", missing)
    return reason


def _locked(session: Session, case: Case, proposal_id: str) -> tuple[CaseHoldProposal, CaseHold | None]:
    """The case's proposal and its hold, locked for the answer (404 when the case has no such proposal)."""
    proposal = session.scalar(select(CaseHoldProposal).where(CaseHoldProposal.id == proposal_id,
                                                             CaseHoldProposal.case_id == case.id).with_for_update())
    if proposal is None:
        raise NotFound("没有这项重新认定提议")
    return proposal, session.scalar(select(CaseHold).where(CaseHold.id == proposal.hold_id).with_for_update())


def _answering(session: Session, case_id: str, proposal_id: str, reason: str, principal: Principal, clock: Clock,
               *, step: str, missing: str, year: bool = False) -> tuple[Case, CaseHold, CaseHoldProposal, str]:
    # `year`: the answer may raise the relief, read against the household's year (its household locked first)
    case = load_case_for_year(session, case_id, principal) if year else load_case(session, case_id, principal,
                                                                                 for_update=True)
    _of_county(principal, case)
    recusal.refuse_principal(session, principal, [case.household_id], step=step, case_id=case.id, clock=clock)
    reason = _reason(reason, missing)
    proposal, hold = _locked(session, case, proposal_id)
    if proposal.status != "waiting" or hold is None or hold.status != "open":
        # withdrawn while the hold stayed: the county's finding changed since it was proposed
        raise InvalidState(CHANGED if holds.proposal_stale(
            proposal.status, hold.status if hold is not None else None, proposal.withdrawn_by_side) else STALE)
    own, parts = _bars(session, hold, proposal, principal)
    if own is not None:
        raise Forbidden(own)
    recusal_refusals.refuse_linked(session, principal, step, parts, clock=clock)
    return case, hold, proposal, reason


def confirm(session: Session, case_id: str, proposal_id: str, *, reason: str, principal: Principal,
            clock: Clock) -> dict[str, Any]:
    """The county reviewer confirms the proposal: the re-determination takes effect (the hold decided `proceed`)."""
    case, hold, proposal, reason = _answering(session, case_id, proposal_id, reason, principal, clock,
                                              step="redetermination_confirm", missing="请填写确认意见", year=True)
    det = holds._latest_determination(session, case.id)
    assert det is not None
    figure = holds.county_figure_of(session, hold)
    if figure != proposal.county_relief:  # the county corrected its re-check since: the proposal answered another
        raise InvalidState(FIGURE_CHANGED.format(
            then=format_yuan(proposal.county_relief), now="无" if figure is None else f"{format_yuan(figure)} 元"))
    if proposal.relief != det.relief:
        live = holds.live_batch_refusal(session, case.id)
        if live is not None:
            raise InvalidState(live)
    # the household's other cases may have been paid since it was proposed
    over = holds.over_year_cap(session, case, det.relief, proposal.relief)
    if over is not None:
        raise InvalidState(f"这项重新认定提议的保障金 {format_yuan(proposal.relief)} 元超过年度上限所余：{over}。"
                           "请驳回，由主管重新认定。")
    now = clock.now()
    before = det.relief
    payload: dict[str, Any] = {"hold_id": hold.id, "round_id": hold.round_id, "outcome": "proceed",
                               "proposal_id": proposal.id, "proposed_by": proposal.proposed_by,
                               "reason_sha256": audit.text_digest(proposal.reason),
                               "confirmation_sha256": audit.text_digest(reason),
                               "county_relief": format_yuan(proposal.county_relief),
                               "relief_before": format_yuan(before)}
    if proposal.relief != before:
        det.relief = proposal.relief
        payload["relief_after"] = format_yuan(proposal.relief)
    hold.outcome, hold.decision_reason = "proceed", proposal.reason
    hold.decided_by, hold.decided_at = proposal.proposed_by, now
    hold.relief_before, hold.relief_after, hold.status = before, det.relief, "decided"
    proposal.status, proposal.answered_by, proposal.answered_at, proposal.answer_note = (
        "confirmed", principal.id, now, reason)
    case.updated_at = now
    case.version += 1
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action=holds.DECIDED, subject=case.id,
                 contract_hash=case.contract_hash, clock=clock,
                 payload={"from": case.status, "to": case.status, **payload})
    return holds.hold_of(session, hold, [proposal])


def decline(session: Session, case_id: str, proposal_id: str, *, reason: str, principal: Principal,
            clock: Clock) -> dict[str, Any]:
    """The county reviewer declines the proposal: it ends, the hold stays open to be re-determined again."""
    case, hold, proposal, reason = _answering(session, case_id, proposal_id, reason, principal, clock,
                                              step="redetermination_decline", missing="请填写驳回原因")
    proposal.status, proposal.answered_by, proposal.answered_at, proposal.answer_note = (
        "declined", principal.id, clock.now(), reason)
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action=DECLINED, subject=case.id,
                 contract_hash=case.contract_hash, clock=clock,
                 payload={"hold_id": hold.id, "proposal_id": proposal.id, "proposed_by": proposal.proposed_by,
                          "relief": format_yuan(proposal.relief), "request_reason_sha256":
                          audit.text_digest(proposal.reason), "reason_sha256": audit.text_digest(reason)})
    return holds.hold_of(session, hold, [proposal])


def withdraw(session: Session, case_id: str, proposal_id: str, *, reason: str, principal: Principal,
             clock: Clock) -> dict[str, Any]:
    """An insurer supervisor of the county withdraws the proposal waiting on the held case (撤回), with a reason: in
    a county whose only county reviewer recorded the re-check nobody may answer it, and a waiting proposal refuses
    every re-determination (`holds.WAITING`). Nothing is paid or changed: the relief stays the determination's, the
    hold stays open, and a supervisor re-determines the case again. Not a relative's case (回避); a proposal no
    longer waiting is refused (409). The reason is kept on the proposal (`answer_note`), and the side that withdrew it
    (`withdrawn_by_side`: the pages tell it from one withdrawn because the county's finding changed,
    `holds.proposal_stale`), its SHA-256 in the log."""
    if not principal.has(holds.ROLE):
        raise Forbidden("只有保险公司主管可以撤回重新认定提议。")
    case = load_case(session, case_id, principal, for_update=True)
    recusal.refuse_principal(session, principal, [case.household_id], step="redetermination_withdraw",
                             case_id=case.id, clock=clock)
    reason = _reason(reason, "请填写撤回原因")
    proposal, hold = _locked(session, case, proposal_id)
    if proposal.status != "waiting" or hold is None or hold.status != "open":
        raise InvalidState(STALE)
    proposal.status, proposal.answered_by, proposal.answered_at, proposal.answer_note = (
        "withdrawn", principal.id, clock.now(), reason)
    proposal.withdrawn_by_side = WITHDRAWN_BY_INSURER
    session.flush()
    audit.append(session, actor=principal.id, role=holds.ROLE, action=WITHDRAWN, subject=case.id,
                 contract_hash=case.contract_hash, clock=clock,
                 payload={"hold_id": hold.id, "proposal_id": proposal.id, "proposed_by": proposal.proposed_by,
                          "relief": format_yuan(proposal.relief), "relief_before": format_yuan(proposal.relief_before),
                          "request_reason_sha256": audit.text_digest(proposal.reason),
                          "reason_sha256": audit.text_digest(reason)})
    return holds.hold_of(session, hold, [proposal])
