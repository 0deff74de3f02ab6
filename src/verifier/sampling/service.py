"""Spot-check sampling rounds (抽样复核) once drawn: the county's re-checks, the report and its verdict, widening the
sample; reading rounds. Opening, commitments, the freeze, the reveals and the draw are `flow`; the replay is
`replay`; stage sizes and selections are `plans`.

Conventions
-----------
* **Deviation** (decided here, never by the caller): the eligibility differs from the insurer's, or the relief
  differs by any fen, or |county per-capita income − insurer per-capita income| > income tolerance ×
  |insurer per-capita income| (exact arithmetic). The insurer's side is the confirmed determination of the
  case's latest check; when that check has no confirmed determination yet, eligibility and income are compared
  with what the latest check gives under the contract, and the relief is not compared.
* **Verdict.** `verdict(...)` with the method of the latest stage's size. Attribute rounds count cases;
  monetary rounds count monetary units (the selection points of the latest selection falling on each case: the
  binomial over fen, a deviating case's points all deviating), over the cases of the latest selection.
* **Wider stages** extend the same draw: each stratum's sequence continues where it stopped
  (`draw_sample(seed, ids, n1 + n2)[n1:]`); a monetary round's wider stage is the monetary-unit selection
  at the larger size, with the same seed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..checks.service import assess_case
from ..clock import Clock
from ..domain import sampling
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.money import format_yuan, parse_yuan
from ..recusal import refusals
from ..store.loading import row_in_counties
from ..store import contracts as contract_store
from ..payments import year_paid
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, page_of_list, text_search
from ..store.tables import Case, Check, Determination
from . import consequences, independence, late_checks, schemas, visits
from .models import (
    RecheckEvidence,
    SamplingItem,
    SamplingMember,
    SamplingParty,
    SamplingDeviation,
    SamplingResult,
    SamplingRound,
    SamplingStage,
)
from .plans import (
    RATE_FIELDS,
    Member,
    Pick,
    Plan,
    compute_selection,
    plan_expansion,
    plan_first_stage,
    strata_sizes,
)

__all__ = ["RATE_FIELDS", "Member", "Pick", "Plan", "compute_selection", "plan_expansion", "plan_first_stage",
           "strata_sizes"]

ROLE = "county_reviewer"
RECHECK_READERS = ("county_reviewer", "insurer_supervisor", "auditor")  # who reads a round, its results and files
PARTY_ROLES = {"county": "county_reviewer", "insurer": "insurer_supervisor"}

OPENED = "sampling.round_opened"
COMMITMENT = "sampling.committed"
FROZEN = "sampling.round_frozen"
COMMITTED = "sampling.round_committed"  # the signed checkpoint covering the freezing entry
PUBLIC_VALUE = "sampling.public_value_entered"
REVEALED = "sampling.revealed"
PASSED_OVER = "sampling.passed_over"
DRAWN = "sampling.drawn"
RESULT = "sampling.result_recorded"
CORRECTED = "sampling.result_corrected"
NOT_THE_RECORDER = ("按“四眼原则”，该复核结果附有录入人入户走访的证据，只能由录入该复核结果的复核人员本人更正：由他人改写，"
                    "依据它发起的追回、暂停支付或补发会被一人撤销。追回确需减免的，请按减免流程由两名县级审核人员办理")
NOT_THE_VISITOR = ("按“四眼原则”，走访证据只能由录入该复核结果的复核人员本人补录：入户走访的人须是录入复核数据的人，"
                   "否则他人的走访会附在自己没有见过的数据上，而录入人可以不经走访更正它。请由录入人补录，"
                   "或由走访的复核人员本人另行录入复核结果")
NOT_THE_RECORDER_AWAITING = ("按“四眼原则”，待补录走访证据的复核结果也只能由录入该复核结果的复核人员本人更正：由他人改写，"
                             "录入人补录走访证据后，他人在案头填写、未经走访的数据就会计入结论。请由录入人本人更正")
CORRECT_STEP = "recheck_correct"  # refusals kept on 回避拦截记录 (`recusal.refusals.STEPS`)
VISIT_STEP = "recheck_visit"
EXPANDED = "sampling.expanded"
DEVIATION = "sampling.deviation_recorded"  # a deviating result's consequence (sampling/consequences.py)


def format_rate(value: Fraction, places: int = 4, *, up: bool = False) -> str:
    """A non-negative rate as a decimal string; half up, or up (ceiling) for an upper bound."""
    scaled = value * 10**places
    q = math.ceil(scaled) if up else math.floor(scaled + Fraction(1, 2))
    return f"{q // 10**places}.{q % 10**places:0{places}d}"


def load_round(session: Session, round_id: str, principal: Principal | None, *, for_update: bool = False) -> SamplingRound:
    """The round, if it exists and lies in the caller's counties (otherwise 404)."""
    return row_in_counties(session, SamplingRound, round_id, principal, missing="抽样轮次不存在",
                           for_update=for_update)


def round_titles(session: Session, round_ids: Sequence[str]) -> dict[str, schemas.RoundTitle]:
    """The rounds' names (county, kind, period) by id, for pages that mention a round by its id."""
    ids = sorted({i for i in round_ids if i})
    if not ids:
        return {}
    rows = session.execute(select(SamplingRound.id, SamplingRound.county_code, SamplingRound.kind,
                                  SamplingRound.checked_from, SamplingRound.checked_to)
                           .where(SamplingRound.id.in_(ids))).tuples().all()
    return {r[0]: schemas.RoundTitle(*r) for r in rows}


def _members(session: Session, round_id: str) -> list[Member]:
    rows = session.scalars(select(SamplingMember).where(SamplingMember.round_id == round_id)).all()
    return sorted((Member(r.case_id, r.stratum, r.weight) for r in rows), key=lambda m: m.case_id)


def _stages(session: Session, round_id: str) -> list[SamplingStage]:
    return list(session.scalars(select(SamplingStage).where(SamplingStage.round_id == round_id)
                                .order_by(SamplingStage.stage)))


def _plan_of(stage: SamplingStage) -> Plan:
    return Plan(stage.stage, stage.size, dict(stage.allocation or {}), stage.method, stage.expected_deviations,
                stage.limited_by)


def _items(session: Session, round_id: str) -> list[SamplingItem]:
    return list(session.scalars(select(SamplingItem).where(SamplingItem.round_id == round_id)
                                .order_by(SamplingItem.stage, SamplingItem.stratum, SamplingItem.position)))


def _results(session: Session, round_id: str) -> dict[str, SamplingResult]:
    rows = session.scalars(select(SamplingResult).where(SamplingResult.round_id == round_id))
    return {r.case_id: r for r in rows}


def _rates(rnd: SamplingRound) -> dict[str, Decimal]:
    return {name: Decimal(getattr(rnd, name)) for name in RATE_FIELDS}


def _interval(rnd: SamplingRound, plan: Plan) -> int:
    return rnd.population_total // plan.size if plan.size else 0


def parties(session: Session, round_id: str) -> dict[str, SamplingParty]:
    """The round's commitments by party."""
    return {p.party: p for p in session.scalars(select(SamplingParty).where(SamplingParty.round_id == round_id))}


def insert_picks(session: Session, round_id: str, picks: Sequence[Pick]) -> None:
    session.add_all([SamplingItem(round_id=round_id, case_id=p.case_id, stage=p.stage, stratum=p.stratum,
                                  position=p.position, units=p.units) for p in picks])


def allocation_out(session: Session, rnd: SamplingRound, stage: SamplingStage) -> list[schemas.StratumOut]:
    if not rnd.stratified:
        return []
    sizes = strata_sizes(_members(session, rnd.id))
    return [schemas.StratumOut(town=name, population=sizes[name], sample=int(stage.allocation.get(name, 0)))
            for name in sorted(sizes)]




@dataclass(frozen=True)
class Baseline:
    """The insurer's side of a re-check."""

    kind: str  # "determination" | "check"
    check_id: str
    eligible: bool
    per_capita_income: int
    relief: int | None  # None: not compared (no confirmed determination)


def insurer_baseline(session: Session, case: Case) -> Baseline:
    check = session.scalar(select(Check).where(Check.case_id == case.id).order_by(Check.seq.desc()).limit(1))
    if check is None:  # pragma: no cover - population members have a check
        raise InvalidState("本案没有入户核查记录")
    det = session.scalar(select(Determination).where(Determination.check_id == check.id))
    if det is not None:
        return Baseline("determination", check.id, det.eligible, det.per_capita_income, det.relief)
    a = assess_case(session, case)
    return Baseline("check", check.id, a.eligibility.eligible, a.eligibility.per_capita_income, None)


def deviation_reasons(*, eligible: bool, per_capita_income: int, relief: int | None, insurer: Baseline,
                      income_tolerance: Decimal) -> list[str]:
    """Why a re-check deviates from the insurer's result (empty: it does not). Exact integer arithmetic."""
    reasons = []
    if eligible != insurer.eligible:
        reasons.append("eligibility")
    if insurer.relief is not None and relief is not None and relief != insurer.relief:
        reasons.append("relief")
    if abs(per_capita_income - insurer.per_capita_income) > Fraction(income_tolerance) * abs(insurer.per_capita_income):
        reasons.append("income")
    return reasons


@dataclass(frozen=True)
class ResultInput:
    case_id: str
    per_capita_income: str
    eligible: bool
    relief_amount: str | None = None
    note: str = ""
    visit: visits.VisitInput | None = None  # the county's visit behind a new result (a correction keeps the first's)


def _assessed(session: Session, rnd: SamplingRound, data: ResultInput) -> tuple[int, int | None, Baseline, list[str]]:
    """The re-check's figures parsed, the insurer's side and the deviation reasons (every problem at once)."""
    problems: list[FieldError] = []
    per_capita = relief = None
    try:
        per_capita = parse_yuan(data.per_capita_income, "per_capita_income", allow_negative=True)
    except ValidationFailed as exc:
        problems += exc.errors
    if data.relief_amount is not None:
        try:
            relief = parse_yuan(data.relief_amount, "relief_amount")
        except ValidationFailed as exc:
            problems += exc.errors
    if problems:
        raise ValidationFailed(problems)
    assert per_capita is not None
    case = session.get(Case, data.case_id)
    assert case is not None
    insurer = insurer_baseline(session, case)
    # The yearly cap of the case's rule for its household, less what the household's other cases of the cause and
    # year took of it (payments/year_paid.py): else a single reviewer could open a supplementary payment of any size
    # on a paid case, or past the cap with the household's other cases. The case's own contract: a late check carried
    # into a round of the next contract's period is capped by the contract it was priced under.
    cap = year_paid.room(session, case)
    if relief is not None and cap is not None and relief > cap.left:
        raise ValidationFailed.one("relief_amount", cap.most())
    if insurer.relief is not None and relief is None:
        if data.eligible:
            raise ValidationFailed.one("relief_amount", "请填写复核认定的保障金额（保险公司的认定已确认，需比对金额）")
        relief = 0
    reasons = deviation_reasons(eligible=data.eligible, per_capita_income=per_capita, relief=relief, insurer=insurer,
                                income_tolerance=Decimal(rnd.income_tolerance))
    return per_capita, relief, insurer, reasons


def _result_payload(per_capita: int, relief: int | None, eligible: bool, insurer: Baseline,
                    reasons: list[str]) -> dict[str, Any]:
    return {"eligible": eligible, "per_capita_income": format_yuan(per_capita),
            "relief_amount": None if relief is None else format_yuan(relief), "baseline": insurer.kind,
            "check_id": insurer.check_id, "insurer_eligible": insurer.eligible,
            "insurer_per_capita_income": format_yuan(insurer.per_capita_income),
            "insurer_relief": None if insurer.relief is None else format_yuan(insurer.relief),
            "deviation": bool(reasons), "reasons": reasons}


def record_result(session: Session, round_id: str, data: ResultInput, *, principal: Principal,
                  clock: Clock) -> schemas.ResultOut:
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn":
        raise InvalidState(visits.NOT_DRAWN)
    _assessed_figures_only(data)
    if session.get(SamplingItem, (rnd.id, data.case_id)) is None:
        raise ValidationFailed.one("case_id", visits.NOT_SAMPLED)
    independence.require_independent(session, data.case_id, principal, clock)
    if session.get(SamplingResult, (rnd.id, data.case_id)) is not None:
        raise InvalidState(visits.RECORDED_ALREADY)
    case = session.get(Case, data.case_id)
    assert case is not None
    missing: list[FieldError] = []  # the figures' problems and the visit's, reported together
    visit = visits.NO_VISIT  # the API's documented body: taken, and shown as a result without the county's visit
    if data.visit is not None:
        try:
            visit = visits.require_visit(session, rnd, case, data.visit, clock.today())
        except ValidationFailed as exc:
            missing = exc.errors
    try:
        per_capita, relief, insurer, reasons = _assessed(session, rnd, data)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.errors + missing) from None
    if missing:
        raise ValidationFailed(missing)
    row = SamplingResult(
        round_id=rnd.id, case_id=data.case_id, per_capita_income=per_capita, eligible=data.eligible,
        relief_amount=relief, note=data.note or None, baseline=insurer.kind, check_id=insurer.check_id,
        insurer_eligible=insurer.eligible, insurer_per_capita_income=insurer.per_capita_income,
        insurer_relief=insurer.relief, deviation=bool(reasons), reasons=reasons, recorded_by=principal.id,
        recorded_at=clock.now(), visited_on=visit["visited_on"], met_member_id=visit["met_member_id"],
        signed_form=visit["signed_form"], evidence=visit["evidence"],
    )
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=RESULT, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "case_id": data.case_id, **_result_payload(per_capita, relief, data.eligible, insurer, reasons),
                     # the visit: its day, the member met (by id: no name in the log), the signed record, the photos
                     "visited_on": visit["visited_on"] and visit["visited_on"].isoformat(),
                     "met_member_id": visit["met_member_id"],
                     "signed_form": visit["signed_form"], "evidence": visit["evidence"],
                     "counts_in_verdict": visit["visited_on"] is not None})
    # A result without the county's visit holds nothing and opens no recovery or supplement: no household's relief
    # is stopped or claimed back on figures nobody went to see.
    if visit["visited_on"] is not None:
        _apply_consequences(session, rnd, row, principal=principal, clock=clock)
    return result_out(row)


def _apply_consequences(session: Session, rnd: SamplingRound, row: SamplingResult, *, principal: Principal,
                        clock: Clock) -> None:
    """A deviating result's consequence (sampling/consequences.py), if it has one, put on record."""
    outcome = consequences.apply(session, rnd, row, principal=principal, clock=clock)
    if outcome is not None:
        audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=DEVIATION,
                     subject=rnd.id, contract_hash=rnd.contract_hash, clock=clock,
                     payload={"case_id": row.case_id, **outcome})


VISIT_ADDED = "sampling.result_visit_added"


def add_visit(session: Session, round_id: str, case_id: str, visit: visits.VisitInput, *, principal: Principal,
              clock: Clock) -> schemas.ResultOut:
    """The county's visit added to a result taken without it (the API's figures-only body): checked as a new
    result's (`visits.require_visit`), by a reviewer independent of the case. From then on the result counts in the
    verdict and the assessment, and a deviation has its consequence (hold, recovery, supplement) as if recorded
    with the visit. The visit may not be after the day the figures were typed (recorded, or last corrected): figures
    from the desk before the visit are corrected first. A result with its visit, or one recorded before the control
    (it counts as it did), is 409."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn":
        raise InvalidState(visits.NOT_DRAWN)
    row = session.get(SamplingResult, (rnd.id, case_id))
    if row is None:
        raise NotFound(NO_RESULT)
    independence.require_independent(session, case_id, principal, clock)
    if principal.id != row.recorded_by:
        # The visitor is the recorder: else one reviewer's visit would make another's desk figures count, and their
        # recorder, who went nowhere, could then correct them alone (`correct_result`).
        raise _refused(session, NOT_THE_VISITOR, principal, VISIT_STEP, case_id, clock)
    if row.visited_on is not None:
        raise InvalidState("该复核结果已有走访证据。")
    if not visits.awaiting_visit(row):
        raise InvalidState("该复核结果在本控制启用前录入，按原样计入，无需补录走访证据。")
    case = session.get(Case, case_id)
    assert case is not None
    # The visit must come before the figures it backs: figures typed at the desk on day 1 are not those of a visit on
    # day 5 (they are corrected first, the old ones kept in the correction's audit entry, then the visit is added).
    got = visits.require_visit(session, rnd, case, visit, clock.today(), figures_typed=visits.figures_typed_on(row))
    row.visited_on, row.met_member_id = got["visited_on"], got["met_member_id"]
    row.signed_form, row.evidence = got["signed_form"], got["evidence"]
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=VISIT_ADDED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "case_id": case_id, "recorded_by": row.recorded_by, "deviation": row.deviation,
                     "visited_on": got["visited_on"].isoformat(), "met_member_id": got["met_member_id"],
                     "signed_form": got["signed_form"], "evidence": got["evidence"], "counts_in_verdict": True})
    if session.get(SamplingDeviation, (rnd.id, case_id)) is None:
        _apply_consequences(session, rnd, row, principal=principal, clock=clock)
    return result_out(row)


def _refused(session: Session, said: str, principal: Principal, step: str, case_id: str,
             clock: Clock) -> BaseException:
    """403 `said`, kept on 回避拦截记录 under `step` (the case as its subject) once the refused transaction has rolled
    back, as the other refusals to act on another's part."""
    household = session.scalar(select(Case.household_id).where(Case.id == case_id))
    return refusals.refused(Forbidden(said), principal, step, [household] if household else [], case_id=case_id,
                            clock=clock)


def visit_adders(session: Session, rnd: SamplingRound, by: Principal) -> set[str]:
    """The cases whose result waits for its visit and `by` may add it to (`add_visit`: its recorder)."""
    if rnd.status != "drawn":
        return set()
    return {case_id for case_id, r in _results(session, rnd.id).items()
            if r.recorded_by == by.id and visits.awaiting_visit(r)}


def _assessed_figures_only(data: ResultInput) -> None:
    """Bad figures, reported before anything else."""
    problems: list[FieldError] = []
    for name, value, negative in (("per_capita_income", data.per_capita_income, True),
                                  ("relief_amount", data.relief_amount, False)):
        if value is None:
            continue
        try:
            parse_yuan(value, name, allow_negative=negative)
        except ValidationFailed as exc:
            problems += exc.errors
    if problems:
        raise ValidationFailed(problems)


def correctable(session: Session, rnd: SamplingRound, by: Principal | None = None) -> set[str]:
    """The cases whose recorded result may still be corrected: while the round's verdict is pending, the results
    of the latest stage's cases (an earlier stage's results already made the verdict that widened the round).
    `by`: of those, the ones this person may correct (only its recorder: `correct_result`)."""
    if rnd.status != "drawn" or evaluate(session, rnd).verdict != "pending":
        return set()
    stages = _stages(session, rnd.id)
    latest = stages[-1].stage if stages else 1
    results = _results(session, rnd.id)
    return {i.case_id for i in _items(session, rnd.id) if i.stage == latest and i.case_id in results
            and (by is None or results[i.case_id].recorded_by == by.id)}


def correct_result(session: Session, round_id: str, data: ResultInput, *, reason: str, principal: Principal,
                   clock: Clock) -> schemas.ResultOut:
    """Correct a recorded re-check result, with a reason, until the round's verdict is final. The row keeps the
    latest figures and who corrected it, when and why; the audit entry keeps what it replaced. A result is corrected
    only by the reviewer who recorded it (403): another's figures over its visit would withdraw its recovery, hold or
    supplement alone, and another's figures over one waiting for its visit would count once its recorder (the only
    one who may add the visit, `add_visit`) added it: one reviewer's desk figures made to count by another's visit."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn":
        raise InvalidState(visits.NOT_DRAWN)
    row = session.get(SamplingResult, (rnd.id, data.case_id))
    if row is None:
        raise NotFound(NO_RESULT)
    independence.require_independent(session, data.case_id, principal, clock)
    if principal.id != row.recorded_by:
        # A result that counts carries its recorder's visit: another reviewer rewriting its figures from the desk would
        # withdraw, alone, the recovery, hold or supplement it opened (a recovery is written off by two reviewers).
        # One waiting for its visit counts once its recorder adds the visit: another's figures would then count on a
        # visit they did not make. The figures, the visit and any correction are thus always one reviewer's.
        said = NOT_THE_RECORDER_AWAITING if visits.awaiting_visit(row) else NOT_THE_RECORDER
        raise _refused(session, said, principal, CORRECT_STEP, data.case_id, clock)
    reason = reason.strip()
    problems = [] if reason else [FieldError("reason", "必填")]
    try:
        per_capita, relief, insurer, reasons = _assessed(session, rnd, data)
    except ValidationFailed as exc:
        raise ValidationFailed(problems + exc.errors) from None
    if problems:
        raise ValidationFailed(problems)
    if data.case_id not in correctable(session, rnd):
        if evaluate(session, rnd).verdict != "pending":
            raise InvalidState("本轮已得出结论，复核结果不能再更正。")
        raise InvalidState("该结果已计入前一阶段的结论，不能再更正。")
    withdrawn = consequences.withdraw(session, rnd, data.case_id, reason=reason, principal=principal, clock=clock)
    previous = {"eligible": row.eligible, "per_capita_income": format_yuan(row.per_capita_income),
                "relief_amount": None if row.relief_amount is None else format_yuan(row.relief_amount),
                "note_sha256": None if row.note is None else audit.text_digest(row.note),
                "deviation": row.deviation, "reasons": list(row.reasons),
                "recorded_by": row.recorded_by, "corrected_by": row.corrected_by}
    now = clock.now()
    row.per_capita_income, row.eligible, row.relief_amount = per_capita, data.eligible, relief
    row.note = data.note or None
    row.baseline, row.check_id, row.insurer_eligible = insurer.kind, insurer.check_id, insurer.eligible
    row.insurer_per_capita_income, row.insurer_relief = insurer.per_capita_income, insurer.relief
    row.deviation, row.reasons = bool(reasons), reasons
    row.corrected_by, row.corrected_at, row.correction_reason = principal.id, now, reason
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=CORRECTED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "case_id": data.case_id, "reason_sha256": audit.text_digest(reason), "previous": previous,
                     **_result_payload(per_capita, relief, data.eligible, insurer, reasons),
                     **({"consequence_withdrawn": withdrawn} if withdrawn else {})})
    # A correction keeps the result's visit: one without the county's visit still holds and opens nothing.
    if row.visited_on is not None:
        _apply_consequences(session, rnd, row, principal=principal, clock=clock)
    return result_out(row)


def result_out(r: SamplingResult) -> schemas.ResultOut:
    return schemas.ResultOut(
        case_id=r.case_id, per_capita_income=format_yuan(r.per_capita_income), eligible=r.eligible,
        relief_amount=None if r.relief_amount is None else format_yuan(r.relief_amount), note=r.note,
        baseline=r.baseline, check_id=r.check_id, insurer_eligible=r.insurer_eligible,
        insurer_per_capita_income=format_yuan(r.insurer_per_capita_income),
        insurer_relief=None if r.insurer_relief is None else format_yuan(r.insurer_relief), deviation=r.deviation,
        reasons=list(r.reasons), recorded_by=r.recorded_by, recorded_at=r.recorded_at,
        corrected_by=r.corrected_by, corrected_at=r.corrected_at, correction_reason=r.correction_reason,
        visited_on=r.visited_on, met_member_id=r.met_member_id, signed_form=r.signed_form,
        evidence=list(r.evidence or []),
    )




@dataclass
class Evaluation:
    sampled: int = 0
    rechecked: int = 0
    deviations: int = 0
    verdict: str = "pending"
    bound: Fraction | None = None
    by_reason: dict[str, int] = field(default_factory=lambda: {"eligibility": 0, "relief": 0, "income": 0})
    units: tuple[int, int, int] | None = None  # monetary: sampled, rechecked, deviating units
    interval: int = 0
    awaiting_visit: list[str] = field(default_factory=list)  # sampled cases whose result lacks the county's visit


def evaluate(session: Session, rnd: SamplingRound) -> Evaluation:
    ev = Evaluation()
    if rnd.status != "drawn":
        return ev
    stages = _stages(session, rnd.id)
    items = _items(session, rnd.id)
    results = _results(session, rnd.id)
    counted = [i for i in items if i.units > 0] if rnd.kind == "monetary" else items
    ev.sampled = len(counted)
    # A result without the county's visit is shown but not counted: its case is "not yet re-checked" for the
    # verdict, which stays pending until the visit is added (`add_visit`) or the round is widened past it.
    ev.awaiting_visit = sorted(i.case_id for i in counted
                               if i.case_id in results and visits.awaiting_visit(results[i.case_id]))
    results = {k: r for k, r in results.items() if not visits.awaiting_visit(r)}
    for item in counted:
        r = results.get(item.case_id)
        if r is None:
            continue
        ev.rechecked += 1
        if r.deviation:
            ev.deviations += 1
            for reason in r.reasons:
                ev.by_reason[reason] = ev.by_reason.get(reason, 0) + 1
    rates = _rates(rnd)
    if rnd.kind == "monetary":
        units = sum(i.units for i in counted)
        checked = sum(i.units for i in counted if i.case_id in results)
        deviating = sum(i.units for i in counted if i.case_id in results and results[i.case_id].deviation)
        ev.units = (units, checked, deviating)
        ev.interval = _interval(rnd, _plan_of(stages[-1]))
        outcome, bound = sampling.verdict(units, checked, deviating, rates["confidence"], rates["tolerable_rate"],
                                          "binomial")
    else:
        outcome, bound = sampling.verdict(ev.sampled, ev.rechecked, ev.deviations, rates["confidence"],
                                          rates["tolerable_rate"], rnd.method,  # type: ignore[arg-type]
                                          rnd.population_size)
    ev.verdict, ev.bound = outcome, bound
    return ev


def report(session: Session, round_id: str, principal: Principal) -> schemas.ReportOut:
    rnd = load_round(session, round_id, principal)
    ev = evaluate(session, rnd)
    if ev.units is not None:
        units, checked, deviating = ev.units
        rate = None if checked == 0 else format_rate(Fraction(deviating, checked))
        units_out = schemas.UnitsOut(sampled=units, rechecked=checked, deviations=deviating,
                                     interval=format_yuan(ev.interval))
    else:
        rate = None if ev.rechecked == 0 else format_rate(Fraction(ev.deviations, ev.rechecked))
        units_out = None
    return schemas.ReportOut(
        round_id=rnd.id, kind=rnd.kind, method=rnd.method, population_size=rnd.population_size,
        confidence=rnd.confidence, tolerable_rate=rnd.tolerable_rate, sampled=ev.sampled, rechecked=ev.rechecked,
        deviations=ev.deviations, deviation_rate=rate,
        upper_bound=None if ev.bound is None else format_rate(ev.bound, up=True), verdict=ev.verdict,  # type: ignore[arg-type]
        by_reason=ev.by_reason, stages=len(_stages(session, rnd.id)), units=units_out,
        without_visit=int(session.scalar(select(func.count()).select_from(SamplingResult).where(
            SamplingResult.round_id == rnd.id, SamplingResult.visited_on.is_(None))) or 0),
        awaiting_visit=ev.awaiting_visit,
    )


WAITS_FOR_VISIT = ("本轮结论须待县级入户走访证据：案件 {cases} 的复核结果经接口只报送了复核数据，没有走访证据，按「尚未复核」计，"
                   "不计入结论；请为每户补录走访证据后再得出结论。")
NO_RESULT = "该案件在本轮尚未录入复核结果"
# What a refusal (and the round's page) calls a round's verdict.
VERDICTS_ZH = {"accept": "接受", "expand": "扩大样本", "pending": "待完成"}


def waits_for_visit(session: Session, cases: Sequence[str]) -> str:
    """The message naming the sampled cases whose result lacks the visit (by their case numbers)."""
    numbers = dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(list(cases)))).tuples().all())
    return WAITS_FOR_VISIT.format(cases="、".join(numbers.get(c) or c for c in cases))


def expand(session: Session, round_id: str, *, principal: Principal, clock: Clock) -> schemas.ExpandOut:
    """Draw the next stage from the same frozen population and seed, sized for the deviations found."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn" or rnd.seed is None:
        raise InvalidState(visits.NOT_DRAWN)
    ev = evaluate(session, rnd)
    if ev.verdict == "pending" and ev.awaiting_visit:
        raise InvalidState(waits_for_visit(session, ev.awaiting_visit))
    if ev.verdict != "expand":
        raise InvalidState(f"只有结论为「扩大样本」的轮次才能扩大样本（当前结论：{VERDICTS_ZH.get(ev.verdict, ev.verdict)}）。")
    members = _members(session, rnd.id)
    stages = [_plan_of(s) for s in _stages(session, rnd.id)]
    found = ev.units[2] if ev.units is not None else ev.deviations
    plan = plan_expansion(rnd.kind, rnd.stratified, members, _rates(rnd), stages[-1], found)
    now = clock.now()
    session.add(SamplingStage(round_id=rnd.id, stage=plan.stage, size=plan.size, method=plan.method,
                              expected_deviations=plan.expected_deviations, limited_by=plan.limited_by,
                              allocation=dict(plan.allocation), created_by=principal.id, created_at=now))
    picks = compute_selection(rnd.kind, rnd.stratified, bytes.fromhex(rnd.seed), members, [*stages, plan])
    existing = {i.case_id: i for i in _items(session, rnd.id)}
    new = [p for p in picks if p.case_id not in existing]
    for p in picks:
        old = existing.get(p.case_id)
        if old is None:
            continue
        if (old.stage, old.stratum, old.position) != (p.stage, p.stratum, p.position):  # pragma: no cover
            raise RuntimeError(f"the stored sample disagrees with its seed at case {p.case_id}")
        old.units = p.units
    for case_id, old in existing.items():
        if case_id not in {p.case_id for p in picks}:
            old.units = 0  # a monetary case outside the latest selection no longer counts
    insert_picks(session, rnd.id, new)
    rnd.method = plan.method
    session.flush()
    interval = _interval(rnd, plan) if rnd.kind == "monetary" else None
    case_ids = [p.case_id for p in new]
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=EXPANDED, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "stage": plan.stage, "size": plan.size, "method": plan.method,
                     "expected_deviations": plan.expected_deviations, "limited_by": plan.limited_by,
                     "allocation": dict(plan.allocation), "deviations_found": found, "case_ids": case_ids,
                     **({"interval": format_yuan(interval)} if interval is not None else {})})
    return schemas.ExpandOut(stage=plan.stage, sample_size=plan.size, expected_deviations=plan.expected_deviations,
                             method=plan.method, case_ids=case_ids,
                             interval=None if interval is None else format_yuan(interval))




def waiting_for(rnd: SamplingRound, by_party: dict[str, SamplingParty]) -> list[str]:
    """What the round waits for, in order: `commitment:<party>`, `freeze`, `public_value`, `reveal:<party>`."""
    if rnd.status == "drawn":
        return []
    if rnd.status == "open":
        return [f"commitment:{p}" for p in sampling.PARTIES if p not in by_party] + ["freeze"]
    if not by_party:
        return []  # frozen under the withdrawn single-party flow: it cannot be drawn any more
    out = []
    if rnd.public_value_description is not None and rnd.public_value is None:
        out.append("public_value")
    out += [f"reveal:{p}" for p in sampling.PARTIES
            if p in by_party and not revealed(by_party[p]) and by_party[p].passed_over_at is None]
    return out


def revealed(row: SamplingParty) -> bool:
    """Whether the party has revealed (its secret is sealed until the draw, so `secret` alone does not say)."""
    return row.revealed_at is not None


def withheld(by_party: dict[str, SamplingParty]) -> list[str]:
    """The parties passed over for not revealing by their deadline."""
    return [p for p in sampling.PARTIES if p in by_party and by_party[p].passed_over_at is not None]


def party_out(row: SamplingParty, *, drawn: bool) -> schemas.PartyOut:
    return schemas.PartyOut(
        party=row.party, commitment=row.commitment, committed_by=row.committed_by, committed_at=row.committed_at,
        revealed=revealed(row), secret=row.secret if drawn else None, revealed_by=row.revealed_by,
        revealed_at=row.revealed_at, passed_over_by=row.passed_over_by, passed_over_at=row.passed_over_at)


def public_value_out(rnd: SamplingRound) -> schemas.PublicValueOut | None:
    if rnd.public_value_description is None or rnd.public_value_available_on is None:
        return None
    return schemas.PublicValueOut(description=rnd.public_value_description, available_on=rnd.public_value_available_on,
                                  value=rnd.public_value, entered_by=rnd.public_value_by,
                                  entered_at=rnd.public_value_at)


def round_view(session: Session, round_id: str, principal: Principal) -> schemas.RoundOut:
    rnd = load_round(session, round_id, principal)
    by_party = parties(session, rnd.id)
    stages = _stages(session, rnd.id)
    results = _results(session, rnd.id)
    towns = {}
    if not rnd.stratified:
        towns = dict(session.execute(select(Case.id, Case.town).join(SamplingItem, SamplingItem.case_id == Case.id)
                                     .where(SamplingItem.round_id == rnd.id)).tuples().all())
    items = [schemas.ItemOut(case_id=i.case_id, stage=i.stage, town=i.stratum or towns.get(i.case_id, ""),
                             position=i.position, units=i.units,
                             result=result_out(results[i.case_id]) if i.case_id in results else None)
             for i in _items(session, rnd.id)]
    checkpoint = None
    if rnd.checkpoint_size is not None and rnd.checkpoint_root is not None and rnd.checkpoint_note is not None:
        checkpoint = schemas.CheckpointOut(tree_size=rnd.checkpoint_size, root=rnd.checkpoint_root,
                                           note=rnd.checkpoint_note)
    late = missed_out(session, rnd)
    awaiting, awaiting_total = late_checks.awaiting_determination(session, rnd)
    return schemas.RoundOut(
        id=rnd.id, county_code=rnd.county_code, kind=rnd.kind, status=rnd.status, stratified=rnd.stratified,
        checked_from=rnd.checked_from, checked_to=rnd.checked_to, contract_id=rnd.contract_id,
        contract_hash=rnd.contract_hash, confidence=rnd.confidence, tolerable_rate=rnd.tolerable_rate,
        expected_rate=rnd.expected_rate, min_rate=rnd.min_rate, income_tolerance=rnd.income_tolerance,
        method=rnd.method, population_size=rnd.population_size,
        population_total=format_yuan(rnd.population_total) if rnd.kind == "monetary" else None,
        population_digest=rnd.population_digest, sample_size=stages[-1].size if stages else 0,
        audit_index=rnd.freeze_index, checkpoint=checkpoint, randomness=rnd.randomness, seed=rnd.seed,
        case_ids=[i.case_id for i in items if i.stage == 1],
        parties=[party_out(by_party[p], drawn=rnd.status == "drawn") for p in sampling.PARTIES if p in by_party],
        public_value=public_value_out(rnd), reveal_within_days=rnd.reveal_within_days, reveal_by=rnd.reveal_by,
        withheld=withheld(by_party), waiting_for=waiting_for(rnd, by_party),
        created_by=rnd.created_by, created_at=rnd.created_at, frozen_by=rnd.frozen_by, frozen_at=rnd.frozen_at,
        drawn_by=rnd.drawn_by, drawn_at=rnd.drawn_at,
        allocation=allocation_out(session, rnd, stages[0]) if stages else [],
        stages=[schemas.StageOut(stage=s.stage, size=s.size, method=s.method, expected_deviations=s.expected_deviations,
                                 limited_by=s.limited_by, allocation={k: int(v) for k, v in (s.allocation or {}).items()})
                for s in stages],
        items=items, missed=late["missed"][:late_checks.LIST_MAX], missed_total=len(late["missed"]),
        redone=late["redone"][:late_checks.LIST_MAX], redone_total=len(late["redone"]),
        carried_in=late_checks.carried_in(session, rnd),
        awaiting_determination=awaiting, awaiting_determination_total=awaiting_total,
    )


def missed_out(session: Session, rnd: SamplingRound) -> dict[str, list[schemas.MissedOut]]:
    """The checks of the round's period that came after its freeze (`late_checks.missed_cases`), as the API and the
    round's page show them: `missed`, the cases not in its population; `redone`, those that were (by an earlier
    check, redone after the freeze). All of them: the round's view lists the first `late_checks.LIST_MAX` of each
    with how many there are."""
    out: dict[str, list[schemas.MissedOut]] = {"missed": [], "redone": []}
    for m in late_checks.missed_cases(session, rnd):
        out["redone" if m.in_population else "missed"].append(schemas.MissedOut(
            case_id=m.case_id, visited_on=m.visited_on, recorded_at=m.recorded_at,
            why="confirmed_late" if m.late_confirmed else "recorded_late", confirmed_at=m.confirmed_at,
            relief=None if m.relief is None else format_yuan(m.relief),
            taken_in_by=None if m.taken_in_by is None else schemas.RoundTitle(
                m.taken_in_by.id, m.taken_in_by.county_code, m.taken_in_by.kind, m.taken_in_by.checked_from,
                m.taken_in_by.checked_to)))
    return out


def population_view(session: Session, round_id: str, principal: Principal) -> schemas.PopulationOut:
    rnd = load_round(session, round_id, principal)
    members = _members(session, rnd.id)
    return schemas.PopulationOut(
        round_id=rnd.id, population_digest=rnd.population_digest, case_ids=[m.case_id for m in members],
        strata=strata_sizes(members) if rnd.stratified else {},
        weights={m.case_id: format_yuan(m.weight) for m in members} if rnd.kind == "monetary" else None,
    )


def _summaries(session: Session, rounds: list[SamplingRound]) -> list[schemas.RoundSummary]:
    sizes = {s.round_id: s.size for s in session.scalars(select(SamplingStage).where(
        SamplingStage.round_id.in_([r.id for r in rounds])).order_by(SamplingStage.stage))}
    return [schemas.RoundSummary(
        id=r.id, county_code=r.county_code, kind=r.kind, status=r.status, checked_from=r.checked_from,
        checked_to=r.checked_to, population_size=r.population_size, sample_size=sizes.get(r.id, 0),
        created_at=r.created_at) for r in rounds]


def list_rounds(session: Session, principal: Principal, *, county_code: str | None = None,
                limit: int = 50) -> schemas.RoundPage:
    stmt = select(SamplingRound).order_by(SamplingRound.created_at.desc(), SamplingRound.id.desc()).limit(limit)
    if county_code is not None:
        if not principal.may_see_county(county_code):
            return schemas.RoundPage(items=[])
        stmt = stmt.where(SamplingRound.county_code == county_code)
    elif principal.counties:
        stmt = stmt.where(SamplingRound.county_code.in_(principal.counties))
    return schemas.RoundPage(items=_summaries(session, list(session.scalars(stmt))))


_WORDS = re.compile(r"[\s·・]+")  # what separates the words of a search: spaces and the dot in a round's name


def find_rounds(session: Session, principal: Principal, *, status: str | None = None, q: str = "", page: int = 1,
                page_size: int = PAGE_SIZE, named: Callable[[SamplingRound], str] | None = None,
                ) -> Paged[schemas.RoundSummary]:
    """The rounds page: the caller's counties, newest first, by status, searched by round number or county code and,
    given `named` (how the page names a round: county · kind · the checks' period), by any part of that name; words
    apart (a space or ·) must each be found, so 示范县 2026-10 finds that county's rounds checking October 2026."""
    stmt = select(SamplingRound).order_by(SamplingRound.created_at.desc(), SamplingRound.id.desc())
    if principal.counties:
        stmt = stmt.where(SamplingRound.county_code.in_(principal.counties))
    if status:
        stmt = stmt.where(SamplingRound.status == status)
    text = fold_search(q)
    if text and named is not None:
        # A county starts a round or two a month: its rounds are few enough to be named here, one by one.
        words = [w.casefold() for w in _WORDS.split(text) if w]
        found = page_of_list([r for r in session.scalars(stmt)
                              if all(any(w in t for t in (r.id.casefold(), r.county_code, named(r).casefold()))
                                     for w in words)], page, page_size)
    else:
        if text:
            stmt = stmt.where(text_search(text, (SamplingRound.id, SamplingRound.county_code)))
        found = page_of(session, stmt, page, page_size)
    return Paged(items=_summaries(session, found.items), total=found.total, page=found.page, pages=found.pages,
                 page_size=found.page_size)


@dataclass(frozen=True)
class ContractRates:
    """The sampling rates a contract gives (what a blank field of the round's form means), for the rounds' page."""

    id: str
    counties: list[str]
    current: bool  # in force on the day asked
    confidence: Any
    tolerable_rate: Any
    expected_rate: Any
    min_rate: Any
    income_tolerance: Any


def contract_rates(session: Session, user: Principal, today: date) -> list[ContractRates]:
    """The sampling rates of each contract of the user's counties, by the contracts' start."""
    out = []
    for c in contract_store.all_contracts(session):
        if user.counties and not set(c.county_codes) & set(user.counties):
            continue
        s = c.spec.sampling
        out.append(ContractRates(c.id, c.county_codes, c.start <= today <= c.end, s.confidence, s.tolerable_rate,
                                 s.expected_rate, s.min_rate, s.income_tolerance))
    return out


def rounds_in_progress(session: Session, user: Principal) -> int:
    """Rounds not yet drawn, or drawn with a sampled case still to re-check."""
    unrecorded = exists().where(
        SamplingItem.round_id == SamplingRound.id, SamplingItem.units > 0,
        ~exists().where(and_(SamplingResult.round_id == SamplingItem.round_id,
                             SamplingResult.case_id == SamplingItem.case_id)))
    stmt = select(func.count()).select_from(SamplingRound).where(
        or_(SamplingRound.status.in_(("open", "frozen")), unrecorded))
    if user.counties:
        stmt = stmt.where(SamplingRound.county_code.in_(user.counties))
    return session.scalar(stmt) or 0


def visits_of_round(session: Session, round_id: str) -> dict[str, dict[str, Any]]:
    """What the round's page shows of each recorded result's visit (the round is read by the caller)."""
    return visits.visit_of(session, list(_results(session, round_id).values()))


def visits_of_case(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The case's re-check results in every round, with their visits, newest first (the case is read by the caller)."""
    rows = list(session.scalars(select(SamplingResult).where(SamplingResult.case_id == case_id)
                                .order_by(SamplingResult.recorded_at.desc())))
    shown = {r.round_id: v for r in rows for v in [visits.visit_of(session, [r])[case_id]]}
    return [{"result": result_out(r), "round_id": r.round_id, "visit": shown[r.round_id]} for r in rows]


def recheck_files(session: Session, round_id: str, case_id: str, hashes: list[str]) -> list[dict[str, Any]]:
    """The files uploaded for a re-check among `hashes` (a refused form shows them kept), in that order."""
    found = {e.sha256: e for e in session.scalars(select(RecheckEvidence).where(
        RecheckEvidence.round_id == round_id, RecheckEvidence.case_id == case_id))}
    return [{"sha256": h, "content_type": found[h].content_type, "captured_at": found[h].captured_at}
            for h in dict.fromkeys(hashes) if h in found]
