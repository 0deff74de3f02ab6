"""Re-determining a case held after a sampling round found it deviating (sampling/consequences.py).

Conventions
-----------
* By an insurer supervisor, with a reason, on an open hold. Four eyes, as for determinations: not one who took part
  in the case (`took_part`: an officer or the recorder of one of its checks, the supervisor who confirmed one of its
  determinations, the person who recorded or corrected a deviating re-check result behind the hold), nor an account
  linked to one of theirs by a password; admin does not bypass this. The county's answer to a proposal refuses the
  same list and the proposer (cases/hold_proposals.py).
* `proceed`: the hold is lifted and the case goes on from where it stands, with the relief unchanged or, when
  `relief_amount` is given, with that relief (more than 0.00 and at most the larger of the determination's relief
  and the county re-check's; the determination's relief is replaced and the audit entry keeps the one it
  replaces). Raised, it is also at most what the contract's yearly cap leaves the case beside the household's other
  cases of the cause and year (`over_year_cap`, payments/year_paid.py), checked again when a proposal is confirmed.
* `ineligible`: the case ends ineligible (`redetermine_ineligible`, closed with the reason).
* Against the county: when the county's re-check found the household ineligible or its relief lower than the
  determination's, a `proceed` whose relief (the one given, else the determination's) is above the county's figure
  does not take effect on the supervisor's word: it is kept as a proposal (`CaseHoldProposal`) that a county
  reviewer of the county confirms or declines (`cases/hold_proposals.py`); the hold stays open meanwhile, and no
  other re-determination is taken while it waits (409). A decision in line with the county's finding (ineligible,
  or proceed at or below its figure) takes effect at once, as before.
* Raised on one re-check: a `proceed` whose relief is above the determination's (up to the county re-check's
  higher figure, `raised`) is kept as a proposal the same way: one county reviewer's re-check figure does not become
  the relief on a supervisor's word; a second county reviewer, not the one who recorded or corrected the re-check,
  confirms it (as a paid case's supplementary payment waits for one). Until then the determination's relief stands.
* A case in an approved batch is not re-determined until that batch is cancelled or sent back by the county
  (409): an approved batch's amount is committed in the fund.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.money import format_yuan, parse_yuan
from ..payments.batch_read import BATCH_STATUS_LABELS_ZH, live_batch
from ..payments import year_paid
from ..sampling import independence
from ..sampling.models import WITHDRAWN_BY_INSURER, CaseHold, CaseHoldProposal, SamplingDeviation, SamplingResult
from ..store.base import new_id
from ..store.tables import Case, Determination
from .workflow import advance, load_case_for_year

ROLE = "insurer_supervisor"
LINKED_REDETERMINER = ("按“四眼原则”，您的账号与{part}的账号有密码关联" + PASSWORD_LINK + "，须由另一名主管重新认定。")
OUTCOMES = ("proceed", "ineligible")
DECIDED = "case.hold_redetermined"
PROPOSED = "case.hold_redetermination_proposed"
WAITING = ("该案件的重新认定提议正等待县级复核人员确认或驳回：请等待县级复核员确认，或由保险公司主管撤回该提议，"
           "再重新认定。")


def _latest_determination(session: Session, case_id: str) -> Determination | None:
    return session.scalar(select(Determination).where(Determination.case_id == case_id)
                          .order_by(Determination.confirmed_at.desc(), Determination.id.desc()).limit(1))


def holding_rounds(session: Session, hold: CaseHold) -> list[str]:
    """The sampling rounds whose deviating re-check holds the case (their `SamplingDeviation` names the hold): the
    hold's own, and any other round that found the case deviating while it was held (one hold answers them all). A
    round whose result was corrected to no deviation holds it no more; the hold's own round stands for a hold none
    names (none is left so: a correction withdraws a hold no other round holds)."""
    rounds = set(session.scalars(select(SamplingDeviation.round_id).where(SamplingDeviation.hold_id == hold.id)))
    return sorted(rounds or {hold.round_id})


def _results(session: Session, hold: CaseHold) -> list[SamplingResult]:
    """The case's re-check results of every round holding it (`holding_rounds`): what the county's figure is read
    from."""
    return list(session.scalars(select(SamplingResult).where(SamplingResult.case_id == hold.case_id,
                                                             SamplingResult.round_id.in_(holding_rounds(session, hold)))
                                .order_by(SamplingResult.round_id)))


def took_part(session: Session, hold: CaseHold, proposer: str | None = None) -> dict[str, str]:
    """Who took part in the held case (`sampling.independence.parts`): the insurer's work on it, who recorded or
    corrected the deviating re-check results behind the hold (of its round, and of any other round it answers too),
    and `proposer`. Neither they nor an account linked to one of theirs by a password re-determine it or answer a
    proposal to."""
    rounds = {hold.round_id, *session.scalars(select(SamplingDeviation.round_id)
                                              .where(SamplingDeviation.hold_id == hold.id))}
    return independence.parts(session, hold.case_id, rounds=rounds, proposer=proposer)


def took_part_of_holds(session: Session, held: list[tuple[CaseHold, str | None]]) -> dict[str, dict[str, str]]:
    """`took_part` of each (hold, proposer), by the hold's case (a case has one open hold), in a fixed number of
    statements whatever their count: a list page's rows."""
    if not held:
        return {}
    rounds: dict[str, set[str]] = {hold.case_id: {hold.round_id} for hold, _ in held}
    by_hold = {hold.id: hold.case_id for hold, _ in held}
    for hold_id, round_id in session.execute(select(SamplingDeviation.hold_id, SamplingDeviation.round_id)
                                             .where(SamplingDeviation.hold_id.in_(sorted(by_hold)))).tuples():
        rounds[by_hold[hold_id]].add(round_id)
    return independence.parts_of_cases(session, rounds, {hold.case_id: proposer for hold, proposer in held})


def county_figure_of(session: Session, hold: CaseHold) -> int | None:
    """The county's figure for the held case now, the one a re-determination is judged against: `county_figure` of
    the results of every round holding it (`holding_rounds`), so one round's higher figure never hides another's
    lower one. The proposal, its confirmation, the case page and the API all read it here."""
    return county_figure(_results(session, hold))


def county_figure(results: list[SamplingResult]) -> int | None:
    """The relief the county's re-checks found due, the strictest of them: 0 when one found the household
    ineligible, else the lowest relief they recorded, or None when they recorded none."""
    figures = [0 if not r.eligible else r.relief_amount for r in results
               if not r.eligible or r.relief_amount is not None]
    return min((f for f in figures if f is not None), default=None)


def against_county(det_relief: int, figure: int | None, outcome: str, relief: int | None) -> bool:
    """Whether a re-determination goes against the county's finding: the county found the household ineligible or
    its relief lower than the determination's, and the case would go on with more than the county's figure."""
    if outcome != "proceed" or figure is None or figure >= det_relief:
        return False
    return (relief if relief is not None else det_relief) > figure


def raised(det_relief: int, outcome: str, relief: int | None) -> bool:
    """Whether a re-determination raises the relief above the insurer's own determination, on the strength of a
    county re-check that found more: like a paid case's supplementary payment (sampling/consequences.py
    `confirm_supplement`), it waits for another county reviewer than the one who recorded the re-check; until then
    the determination's relief stands."""
    return outcome == "proceed" and relief is not None and relief > det_relief


def waiting_proposal(session: Session, hold_id: str, *, for_update: bool = False) -> CaseHoldProposal | None:
    stmt = select(CaseHoldProposal).where(CaseHoldProposal.hold_id == hold_id, CaseHoldProposal.status == "waiting")
    return session.scalar(stmt.with_for_update() if for_update else stmt)


def live_batch_refusal(session: Session, case_id: str) -> str | None:
    """Why the case's relief may not change now (it is in a batch not yet paid), or None."""
    live = live_batch(session, case_id, supplements=True)
    if live is None:
        return None
    return (f"该案件在支付批次 {live[0]}（{BATCH_STATUS_LABELS_ZH.get(live[1], live[1])}）中：请先撤销该批次，"
            "或由县级退回签批并移出该案件，再重新认定保障金。")


def _own_part(parts: dict[str, str], principal: Principal) -> str | None:
    """Why `principal` may not re-determine as a first person of the case (`took_part`), or None: what `redetermine`
    refuses with, and the case page shows instead of the form."""
    part = parts.get(principal.id)
    if part == independence.CONFIRMER:
        return "按“四眼原则”，原认定由您确认，须由另一名主管重新认定。"
    if part == independence.CHECK_OFFICER:
        return "按“四眼原则”，您参加了该户的入户核查，须由另一名主管重新认定。"
    if part == independence.CHECK_RECORDER:
        return "按“四眼原则”，该户的入户核查由您录入，须由另一名主管重新认定。"
    if part is not None:
        return "按“四眼原则”，发现偏差的复核结果由您录入，须由保险公司其他主管重新认定。"
    return None


def redeterminer_refused(session: Session, case_id: str, principal: Principal) -> str | None:
    """Why `principal` may not re-determine the held case: a first person of it, or an account linked by a password
    to one whose part it is the second person of (what `redetermine` refuses with, in its words), or None (also when
    nothing is held): the case page shows it instead of the form."""
    hold = session.scalar(select(CaseHold).where(CaseHold.case_id == case_id, CaseHold.status == "open"))
    det = _latest_determination(session, case_id) if hold is not None else None
    case = session.get(Case, case_id)
    if hold is None or det is None or case is None:
        return None
    if waiting_proposal(session, hold.id) is not None:
        return WAITING
    parts = took_part(session, hold)
    return (_own_part(parts, principal) or recusal_refusals.linked_said(
        session, principal, independence.linked_parts(session, case.id, LINKED_REDETERMINER, parts)))


def redetermine(session: Session, case_id: str, *, outcome: str, reason: str, relief_amount: str | None = None,
                principal: Principal, clock: Clock) -> dict[str, Any]:
    if not principal.has(ROLE):
        raise Forbidden("只有保险公司主管可以重新认定暂停支付的案件。")
    case = load_case_for_year(session, case_id, principal)  # a raised relief reads the household's year
    recusal.refuse_principal(session, principal, [case.household_id], step="redetermination", case_id=case.id,
                             clock=clock)  # not a relative's case (回避)
    problems: list[FieldError] = []
    reason = reason.strip()
    if outcome not in OUTCOMES:
        problems.append(FieldError("outcome", "请选择重新认定结论：继续办理(proceed)或认定不符合条件(ineligible)"))
    if not reason:
        problems.append(FieldError("reason", "请填写理由"))
    relief: int | None = None
    if relief_amount not in (None, ""):
        if outcome == "ineligible":
            problems.append(FieldError("relief_amount", "认定不符合条件时不填保障金额"))
        else:
            try:
                relief = parse_yuan(str(relief_amount), "relief_amount")
                if relief <= 0:
                    problems.append(FieldError("relief_amount", "须大于 0.00；无需发放的请选择“认定不符合条件”"))
            except ValidationFailed as exc:
                problems += exc.errors
    if problems:
        raise ValidationFailed(problems)
    hold = session.scalar(select(CaseHold).where(CaseHold.case_id == case.id, CaseHold.status == "open")
                          .with_for_update())
    if hold is None:
        raise InvalidState("该案件没有暂停支付，无需重新认定。")
    det = _latest_determination(session, case.id)
    assert det is not None  # a hold is opened on determined cases only
    parts = took_part(session, hold)
    own = _own_part(parts, principal)
    if own is not None:
        raise Forbidden(own)
    # nor through an account linked to one of theirs by a password
    recusal_refusals.refuse_linked(session, principal, "redetermination",
                                   independence.linked_parts(session, case.id, LINKED_REDETERMINER, parts), clock=clock)
    results = _results(session, hold)
    ceiling = max([det.relief, *(r.relief_amount for r in results if r.eligible and r.relief_amount is not None)])
    if relief is not None and relief > ceiling:
        raise ValidationFailed.one("relief_amount", f"最多 {format_yuan(ceiling)} 元（认定的保障金与县级复核核定的保障金中较大者），"
                                                    "更多须重新核查并认定")
    if relief is not None and (over := over_year_cap(session, case, det.relief, relief)) is not None:
        raise ValidationFailed.one("relief_amount", over)
    if waiting_proposal(session, hold.id) is not None:
        raise InvalidState(WAITING)
    figure = county_figure(results)
    if against_county(det.relief, figure, outcome, relief) or raised(det.relief, outcome, relief):
        assert figure is not None  # a relief above the determination's is one a county re-check recorded
        return _propose(session, case, hold, det, relief if relief is not None else det.relief, figure, reason,
                        principal=principal, clock=clock)
    changes_amount = outcome == "ineligible" or (relief is not None and relief != det.relief)
    live = live_batch_refusal(session, case.id) if changes_amount else None
    if live is not None:
        raise InvalidState(live)
    now = clock.now()
    before = case.status
    payload: dict[str, Any] = {"hold_id": hold.id, "round_id": hold.round_id, "outcome": outcome,
                               "reason_sha256": audit.text_digest(reason),
                               "relief_before": format_yuan(det.relief)}
    hold.outcome, hold.decision_reason, hold.decided_by, hold.decided_at = outcome, reason, principal.id, now
    hold.relief_before = det.relief
    hold.status = "decided"
    if outcome == "ineligible":
        hold.relief_after = 0
        session.flush()
        advance(session, case, "redetermine_ineligible", actor=principal, role=ROLE, clock=clock,
                payload=payload, audit_action=DECIDED)
        case.closed_reason = f"抽样复核后重新认定不符合条件：{reason}"
    else:
        if relief is not None and relief != det.relief:
            det.relief = relief
            payload["relief_after"] = format_yuan(relief)
        hold.relief_after = det.relief
        case.updated_at = now
        case.version += 1
        session.flush()
        audit.append(session, actor=principal.id, role=ROLE, action=DECIDED, subject=case.id,
                     contract_hash=case.contract_hash, clock=clock,
                     payload={"from": before, "to": case.status, **payload})
    return hold_of(session, hold, list(session.scalars(select(CaseHoldProposal).where(
        CaseHoldProposal.hold_id == hold.id))))


def over_year_cap(session: Session, case: Case, before: int, relief: int) -> str | None:
    """Why the held case's relief may not be raised from `before` to `relief` (the refusal, naming the cap), or None:
    above what the contract's yearly cap leaves it beside the household's other cases of the cause and year
    (payments/year_paid.py), the re-check figure it was raised to notwithstanding. Lowering it is always allowed."""
    if relief <= before:
        return None
    year_paid.lock(session, case.household_id)
    cap = year_paid.room(session, case)
    return None if cap is None or relief <= cap.left else cap.most()


def _propose(session: Session, case: Case, hold: CaseHold, det: Determination, relief: int, figure: int,
             reason: str, *, principal: Principal, clock: Clock) -> dict[str, Any]:
    """A re-determination against the county's finding, or raising the relief above the determination's (`raised`),
    kept for a county reviewer's answer (not the re-check's recorder: `took_part`); the hold stays open."""
    proposal = CaseHoldProposal(id=new_id("hrp"), hold_id=hold.id, case_id=case.id, county_code=case.county_code,
                                status="waiting", relief=relief, relief_before=det.relief, county_relief=figure,
                                proposed_by=principal.id, proposed_at=clock.now(), reason=reason)
    session.add(proposal)
    session.flush()
    audit.append(session, actor=principal.id, role=ROLE, action=PROPOSED, subject=case.id,
                 contract_hash=case.contract_hash, clock=clock,
                 payload={"hold_id": hold.id, "round_id": hold.round_id, "proposal_id": proposal.id,
                          "outcome": "proceed", "relief": format_yuan(relief), "relief_before": format_yuan(det.relief),
                          "county_relief": format_yuan(figure), "rounds": holding_rounds(session, hold),
                          "reason_sha256": audit.text_digest(reason)})
    return hold_of(session, hold, [proposal])


def proposal_out(p: CaseHoldProposal) -> dict[str, Any]:
    """`against_county`: the relief proposed is above the county's figure; else it raises the relief above the
    determination's up to that figure (`raised`), and waits for a second county reviewer all the same."""
    return {"id": p.id, "hold_id": p.hold_id, "status": p.status, "relief": format_yuan(p.relief),
            "against_county": p.relief > p.county_relief,
            "relief_before": format_yuan(p.relief_before), "county_relief": format_yuan(p.county_relief),
            "proposed_by": p.proposed_by, "proposed_at": p.proposed_at.isoformat(), "reason": p.reason,
            "answered_by": p.answered_by, "answered_at": p.answered_at.isoformat() if p.answered_at else None,
            "answer_note": p.answer_note, "withdrawn_by_side": p.withdrawn_by_side}


def proposal_stale(proposal_status: str, hold_status: str | None, withdrawn_by_side: str | None = None) -> bool:
    """Whether a proposal was withdrawn while its hold stayed (open, or decided since): the county's finding behind
    the hold changed after it was proposed (a re-check of a round holding the case corrected, or another round's
    deviation joining the hold: sampling/consequences.py `_end_waiting`), not withdrawn with the hold itself. The
    one test the case page, the list of proposals and the answer's refusal (`hold_proposals.CHANGED`) read. A
    proposal an insurer supervisor withdrew (`withdrawn_by_side`: `WITHDRAWN_BY_INSURER`) is not stale."""
    return (proposal_status == "withdrawn" and hold_status is not None and hold_status != "withdrawn"
            and not withdrawn_by_supervisor(proposal_status, withdrawn_by_side))


def withdrawn_by_supervisor(proposal_status: str, withdrawn_by_side: str | None) -> bool:
    """Whether an insurer supervisor withdrew the proposal (cases/hold_proposals.py `withdraw`)."""
    return proposal_status == "withdrawn" and withdrawn_by_side == WITHDRAWN_BY_INSURER


def hold_out(h: CaseHold, proposals: list[CaseHoldProposal] | None = None, *, rounds: list[str] | None = None,
             county_relief: int | None = None) -> dict[str, Any]:
    """The hold as the API and the case page read it; `rounds` and `county_relief` (`hold_of`): the rounds holding
    the case and the county's figure a re-determination is judged against (`county_figure_of`)."""
    return {"id": h.id, "case_id": h.case_id, "round_id": h.round_id, "status": h.status, "finding": h.finding,
            "opened_by": h.opened_by, "opened_at": h.opened_at.isoformat(), "outcome": h.outcome,
            "decision_reason": h.decision_reason,
            "relief_before": None if h.relief_before is None else format_yuan(h.relief_before),
            "relief_after": None if h.relief_after is None else format_yuan(h.relief_after),
            "decided_by": h.decided_by, "decided_at": h.decided_at.isoformat() if h.decided_at else None,
            # every round whose deviating re-check holds the case, and the strictest figure they found (0.00: one
            # found the household ineligible; None: none recorded a relief)
            "rounds": list(rounds) if rounds is not None else [h.round_id],
            "county_relief": None if county_relief is None else format_yuan(county_relief),
            # re-determinations against the county's finding, oldest first; `waiting` the one a county reviewer
            # is to answer, if any; `stale`: withdrawn while the hold stayed (the county's figure changed since)
            "proposals": [{**proposal_out(p), "stale": proposal_stale(p.status, h.status, p.withdrawn_by_side),
                           "by_supervisor": withdrawn_by_supervisor(p.status, p.withdrawn_by_side)}
                          for p in proposals or []],
            "waiting": next((proposal_out(p) for p in proposals or [] if p.status == "waiting"), None)}


def hold_of(session: Session, h: CaseHold, proposals: list[CaseHoldProposal] | None = None) -> dict[str, Any]:
    """`hold_out` with the rounds holding the case and the county's figure now (`county_figure_of`); `county_lower`:
    it is below the determination's relief, so a `proceed` above it waits for the county (`against_county`);
    `county_higher`: above it, so a `proceed` raising the relief waits for a second county reviewer (`raised`)."""
    figure = county_figure_of(session, h)
    det = _latest_determination(session, h.case_id) if figure is not None else None
    return {**hold_out(h, proposals, rounds=holding_rounds(session, h), county_relief=figure),
            "county_lower": det is not None and figure is not None and figure < det.relief,
            "county_higher": det is not None and figure is not None and figure > det.relief}


def holds_for_case(session: Session, case_id: str) -> list[dict[str, Any]]:
    proposals: dict[str, list[CaseHoldProposal]] = {}
    for p in session.scalars(select(CaseHoldProposal).where(CaseHoldProposal.case_id == case_id)
                             .order_by(CaseHoldProposal.proposed_at, CaseHoldProposal.id)):
        proposals.setdefault(p.hold_id, []).append(p)
    return [hold_of(session, h, proposals.get(h.id)) for h in session.scalars(
        select(CaseHold).where(CaseHold.case_id == case_id).order_by(CaseHold.opened_at))]
