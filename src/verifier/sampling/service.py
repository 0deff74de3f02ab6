"""Spot-check sampling rounds (抽样复核): freeze and commit a population, draw it from the county's randomness,
record the county's re-checks, report a verdict, widen the sample, and replay a draw from its recorded inputs.

The statistics and the seeded draws are `verifier.domain.sampling`; this module decides what the population is,
records every step (audit entry in the same transaction) and re-derives draws.

Conventions
-----------
* **Population.** Attribute rounds: the county's cases whose latest home check was visited in the period
  (`visited_on` from `checked_from` to `checked_to`, both included), except cases waiting to be checked again
  (status `scheduled`, after an upheld objection) and withdrawn ones. Monetary rounds: of those, the cases whose
  latest check has a confirmed determination with relief above zero, weighted by that relief in fen, except
  cases whose village review failed (they will not be paid).
  All the population's cases must fall under one service contract; its `[sampling]` section gives the
  parameters the request leaves out, and always the income tolerance.
* **Freezing before randomness.** Creating a round stores the sorted case ids, appends an audit entry with
  their digest and the planned sample size, commits, then issues the signed checkpoint covering that entry
  and stores its size and root with the round. Only then can randomness be given.
* **Randomness.** Hex digits only, at least 32 (16 bytes), an even count, at most 1024; upper or lower
  case. Dice rolls may be typed as their digits (1 to 6 are hex digits): 32 or more rolls, an even count.
* **Seed and draw.** seed = `derive_seed(population digest, checkpoint root, randomness)`. Stratified rounds
  draw each town with `draw_stratified`; unstratified ones with `draw_sample`; monetary rounds with
  `mus_select`. A wider stage extends the same draw: each stratum's sequence continues where it stopped
  (`draw_sample(seed, ids, n1 + n2)[n1:]`); a monetary round's wider stage is the monetary-unit selection
  at the larger size, with the same seed.
* **Sizes.** Attribute rounds: `sample_size` (binomial, or hypergeometric over the population). Monetary rounds:
  the binomial size over monetary units (fen), raised to `ceil(min_rate x N)` points, never above the
  population's fen. A wider stage is sized by `attribute_sample_size_for_k` for the deviations found (and at
  least one more than before); stratified rounds give each town the larger of its earlier count and its
  proportional share of the new total, so the total may exceed the size by a few.
* **Deviation** (decided here, never by the caller): the eligibility differs from the insurer's, or the relief
  differs by any fen, or |county per-capita income − insurer per-capita income| > income tolerance ×
  |insurer per-capita income| (exact arithmetic). The insurer's side is the confirmed determination of the
  case's latest check; when that check has no confirmed determination yet, eligibility and income are compared
  with what the latest check gives under the contract, and the relief is not compared.
* **Verdict.** `verdict(...)` with the method of the latest stage's size. Attribute rounds count cases;
  monetary rounds count monetary units (the selection points of the latest selection falling on each case: the
  binomial over fen, a deviating case's points all deviating), over the cases of the latest selection.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import checkpoints as audit_checkpoints
from ..audit import log as audit
from ..audit import merkle
from ..audit.canonical import CanonicalError, decode_entry
from ..audit.models import AuditEntry
from ..audit.notes import NoteError, VerifierKey, open_checkpoint
from ..checks.service import assess_case
from ..clock import Clock
from ..domain import sampling
from ..domain.errors import FieldError, InvalidState, NotFound, ValidationFailed
from ..domain.money import format_yuan, parse_rate, parse_yuan
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.db import Database
from ..store.tables import Case, Check, Determination
from . import schemas
from .models import (
    SamplingItem,
    SamplingMember,
    SamplingResult,
    SamplingRound,
    SamplingStage,
)

ROLE = "county_reviewer"
EXCLUDED_STATUSES = ("scheduled", "withdrawn")
RATE_FIELDS = ("confidence", "tolerable_rate", "expected_rate", "min_rate")
MIN_RANDOMNESS_BYTES = 16
MAX_RANDOMNESS_BYTES = 512
_HEX = re.compile(r"^[0-9a-fA-F]*$")

FROZEN = "sampling.round_frozen"
COMMITTED = "sampling.round_committed"
DRAWN = "sampling.drawn"
RESULT = "sampling.result_recorded"
EXPANDED = "sampling.expanded"


# --------------------------------------------------------------------------------------------------------------
# Small helpers


def format_rate(value: Fraction, places: int = 4, *, up: bool = False) -> str:
    """A non-negative rate as a decimal string; half up, or up (ceiling) for an upper bound."""
    scaled = value * 10**places
    q = math.ceil(scaled) if up else math.floor(scaled + Fraction(1, 2))
    return f"{q // 10**places}.{q % 10**places:0{places}d}"


def parse_randomness(text: str) -> bytes:
    """The county's randomness: hex digits (see the module docstring)."""
    value = text.strip()
    if not _HEX.match(value):
        raise ValidationFailed.one("randomness", "must be hexadecimal digits 0-9 and a-f only (dice rolls as digits)")
    if len(value) % 2:
        raise ValidationFailed.one("randomness", "must have an even number of hex digits (whole bytes)")
    if len(value) < 2 * MIN_RANDOMNESS_BYTES:
        raise ValidationFailed.one("randomness", f"must be at least {MIN_RANDOMNESS_BYTES} bytes "
                                                 f"({2 * MIN_RANDOMNESS_BYTES} hex digits), got {len(value) // 2}")
    if len(value) > 2 * MAX_RANDOMNESS_BYTES:
        raise ValidationFailed.one("randomness", f"must be at most {MAX_RANDOMNESS_BYTES} bytes")
    return bytes.fromhex(value)


def load_round(session: Session, round_id: str, principal: Principal | None, *, for_update: bool = False) -> SamplingRound:
    """The round, if it exists and lies in the caller's counties (otherwise 404)."""
    stmt = select(SamplingRound).where(SamplingRound.id == round_id)
    if for_update:
        stmt = stmt.with_for_update()
    rnd = session.scalar(stmt)
    if rnd is None or (principal is not None and not principal.may_see_county(rnd.county_code)):
        raise NotFound(f"no sampling round {round_id!r}")
    return rnd


@dataclass(frozen=True)
class Member:
    case_id: str
    stratum: str
    weight: int


@dataclass(frozen=True)
class Plan:
    """A stage as planned: cumulative size and (stratified rounds) cumulative allocation per town."""

    stage: int
    size: int
    allocation: Mapping[str, int]
    method: str = "binomial"
    expected_deviations: int = 0
    limited_by: str = "statistical"


@dataclass(frozen=True)
class Pick:
    case_id: str
    stage: int
    stratum: str
    position: int
    units: int


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


# --------------------------------------------------------------------------------------------------------------
# Sizes and selections (pure: used by the draw, the expansion and the replay alike)


def plan_first_stage(kind: str, stratified: bool, members: Sequence[Member], rates: Mapping[str, Decimal]) -> Plan:
    """Stage 1 of a round: its size (see the module docstring) and, stratified, its allocation by town."""
    population = len(members)
    conf, tol, exp, minimum = (rates[name] for name in RATE_FIELDS)
    if kind == "attribute":
        size = sampling.sample_size(population, conf, tol, exp, minimum)
    else:
        total = sum(m.weight for m in members)
        statistical = sampling.attribute_sample_size(conf, tol, exp)  # over monetary units: no finite N of items
        n, limited = statistical.n, statistical.limited_by
        floor = math.ceil(minimum * population)
        if floor > n:
            n, limited = floor, "minimum_rate"
        if n > total:
            n, limited = total, "population"
        size = sampling.SampleSize(n, "binomial", statistical.expected_deviations, limited)
    allocation: dict[str, int] = {}
    n = size.n
    if stratified:
        allocation = sampling.allocate(_strata_sizes(members), size.n)
        n = sum(allocation.values())
    return Plan(1, n, allocation, size.method, size.expected_deviations, size.limited_by)


def plan_expansion(kind: str, stratified: bool, members: Sequence[Member], rates: Mapping[str, Decimal],
                   previous: Plan, deviations: int) -> Plan:
    """The next stage after `previous`, sized for the deviations found so far."""
    conf, tol = rates["confidence"], rates["tolerable_rate"]
    population = len(members)
    if kind == "monetary":
        total = sum(m.weight for m in members)
        if previous.size >= total:
            raise InvalidState("every fen of the population is selected already: the sample cannot be widened")
        try:
            sized = sampling.attribute_sample_size_for_k(conf, tol, deviations)
        except ValidationFailed:
            raise InvalidState(f"with {deviations} deviating monetary units no sample of at most "
                               f"{sampling.MAX_BINOMIAL_SAMPLE} reaches the confidence: the work cannot be accepted "
                               "by widening this sample") from None
        n = max(sized.n, previous.size + 1)
        limited = sized.limited_by
        if n >= total:
            n, limited = total, "population"
        return Plan(previous.stage + 1, n, {}, "binomial", deviations, limited)
    current = sum(previous.allocation.values()) if stratified else previous.size
    if current >= population:
        raise InvalidState("the whole population is in the sample already: the sample cannot be widened")
    sized = sampling.attribute_sample_size_for_k(conf, tol, deviations, population)
    target = min(population, max(sized.n, current + 1))
    limited = "population" if target >= population else sized.limited_by
    allocation: dict[str, int] = {}
    n = target
    if stratified:
        share = sampling.allocate(_strata_sizes(members), target)
        allocation = {name: max(previous.allocation.get(name, 0), share[name]) for name in share}
        n = sum(allocation.values())
    return Plan(previous.stage + 1, n, allocation, sized.method, deviations, limited)


def _strata_sizes(members: Sequence[Member]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for m in members:
        sizes[m.stratum] = sizes.get(m.stratum, 0) + 1
    return sizes


def mus_units(seed: bytes, items: Sequence[tuple[str, int]], n: int) -> tuple[int, dict[str, int]]:
    """(interval, selection points per item) of `mus_select(seed, items, n)`, by the layout it documents."""
    ordered = sorted(items)
    total = sum(w for _, w in ordered)
    if n == 0 or total == 0:
        return 0, {}
    interval = total // n
    if interval == 0:
        return 0, {case_id: w for case_id, w in ordered if w > 0}
    start = 1 + sampling.uniform_below(seed, 0, interval)[0]

    def points_upto(x: int) -> int:
        return 0 if x < start else (x - start) // interval + 1

    units: dict[str, int] = {}
    covered = 0
    for case_id, weight in ordered:
        end = covered + weight
        count = points_upto(end) - points_upto(covered)
        if count:
            units[case_id] = count
        covered = end
    return interval, units


def compute_selection(kind: str, stratified: bool, seed: bytes, members: Sequence[Member],
                      stages: Sequence[Plan]) -> list[Pick]:
    """Every drawn case through the last of `stages`, in stage, stratum and draw order."""
    if not stages:
        return []
    if kind == "monetary":
        return _monetary_selection(seed, members, stages)
    picks: list[Pick] = []
    if stratified:
        strata: dict[str, list[str]] = {}
        for m in members:
            strata.setdefault(m.stratum, []).append(m.case_id)
        final = {name: max(plan.allocation.get(name, 0) for plan in stages) for name in strata}
        drawn = sampling.draw_stratified(seed, strata, final)
        for name in sorted(drawn):
            counts = [plan.allocation.get(name, 0) for plan in stages]
            picks += _staged(drawn[name], counts, stages, name)
    else:
        counts = [plan.size for plan in stages]
        drawn_ids = sampling.draw_sample(seed, [m.case_id for m in members], max(counts))
        picks = _staged(drawn_ids, counts, stages, "")
    return sorted(picks, key=lambda p: (p.stage, p.stratum, p.position))


def _staged(drawn: Sequence[str], counts: Sequence[int], stages: Sequence[Plan], stratum: str) -> list[Pick]:
    out = []
    for position, case_id in enumerate(drawn):
        stage = next(plan.stage for plan, count in zip(stages, counts) if position < count)
        out.append(Pick(case_id, stage, stratum, position, 1))
    return out


def _monetary_selection(seed: bytes, members: Sequence[Member], stages: Sequence[Plan]) -> list[Pick]:
    items = [(m.case_id, m.weight) for m in members]
    first: dict[str, tuple[int, int]] = {}
    chosen: list[str] = []
    for plan in stages:
        chosen = sampling.mus_select(seed, items, plan.size)
        for position, case_id in enumerate(chosen):
            first.setdefault(case_id, (plan.stage, position))
    _, units = mus_units(seed, items, stages[-1].size)
    if set(units) != set(chosen):  # pragma: no cover - the two read the same documented layout
        raise RuntimeError("monetary-unit points disagree with the selection")
    picks = [Pick(case_id, stage, "", position, units.get(case_id, 0)) for case_id, (stage, position) in first.items()]
    return sorted(picks, key=lambda p: (p.stage, p.stratum, p.position))


def _interval(rnd: SamplingRound, plan: Plan) -> int:
    return rnd.population_total // plan.size if plan.size else 0


# --------------------------------------------------------------------------------------------------------------
# 1. Freezing and committing a round


@dataclass(frozen=True)
class RoundRequest:
    county_code: str
    checked_from: date
    checked_to: date
    confidence: str | None = None
    tolerable_rate: str | None = None
    expected_rate: str | None = None
    min_rate: str | None = None
    kind: str = "attribute"
    stratify_by_town: bool | None = None


def population_rows(session: Session, county_code: str, start: date, end: date, kind: str) -> list[tuple[str, str, str, int]]:
    """(case id, town, contract id, weight in fen) of the population (see the module docstring)."""
    latest = (select(Check.case_id, func.max(Check.seq).label("seq")).group_by(Check.case_id).subquery())
    stmt = (
        select(Case.id, Case.town, Case.contract_id, Check.id)
        .join(latest, latest.c.case_id == Case.id)
        .join(Check, (Check.case_id == latest.c.case_id) & (Check.seq == latest.c.seq))
        .where(Case.county_code == county_code, Check.visited_on >= start, Check.visited_on <= end,
               Case.status.not_in(EXCLUDED_STATUSES))
    )
    if kind == "monetary":
        stmt = (stmt.add_columns(Determination.relief)
                .join(Determination, Determination.check_id == Check.id)
                .where(Determination.relief > 0, Case.status != "review_failed"))
        return [(r[0], r[1], r[2], int(r[4])) for r in session.execute(stmt)]
    return [(r[0], r[1], r[2], 0) for r in session.execute(stmt)]


def freeze_round(session: Session, req: RoundRequest, *, principal: Principal, clock: Clock) -> SamplingRound:
    """Store the round, its frozen population and stage-1 plan, and append the freezing audit entry."""
    principal.require_county(req.county_code, "county")
    if req.kind not in ("attribute", "monetary"):
        raise ValidationFailed.one("kind", "must be attribute or monetary")
    if req.checked_to < req.checked_from:
        raise ValidationFailed.one("checked_to", "must not be before checked_from")
    if req.kind == "monetary" and req.stratify_by_town:
        raise ValidationFailed.one("stratify_by_town", "a monetary-unit round is not stratified")
    stratified = req.kind == "attribute" and req.stratify_by_town is not False
    rows = population_rows(session, req.county_code, req.checked_from, req.checked_to, req.kind)
    if not rows:
        what = "with a confirmed relief above zero " if req.kind == "monetary" else ""
        raise ValidationFailed.one("checked_from", f"no case of county {req.county_code} {what}has a completed home "
                                                   f"check visited from {req.checked_from} to {req.checked_to}")
    contract_ids = sorted({r[2] for r in rows})
    if len(contract_ids) > 1:
        raise ValidationFailed.one("checked_to", "the period's checks fall under several contracts "
                                                 f"({', '.join(contract_ids)}): choose a period within one contract")
    contract = contract_store.get_contract(session, contract_ids[0])
    spec = contract.spec.sampling
    problems: list[FieldError] = []
    rates: dict[str, Decimal] = {}
    for name in RATE_FIELDS:
        given = getattr(req, name)
        try:
            rates[name] = parse_rate(getattr(spec, name) if given is None else given, name)
        except ValidationFailed as exc:
            problems += exc.errors
    if problems:
        raise ValidationFailed(problems)
    income_tolerance = parse_rate(spec.income_tolerance, "sampling.income_tolerance", high=Decimal(100))
    members = sorted((Member(case_id, town if stratified else "", weight) for case_id, town, _, weight in rows),
                     key=lambda m: m.case_id)
    plan = plan_first_stage(req.kind, stratified, members, rates)  # refuses bad rate combinations (422)
    digest = sampling.population_digest([m.case_id for m in members])
    now = clock.now()
    rnd = SamplingRound(
        id=new_id("smp"), county_code=req.county_code, kind=req.kind, stratified=stratified,
        checked_from=req.checked_from, checked_to=req.checked_to, contract_id=contract.id,
        contract_hash=contract.content_hash, **{name: str(rates[name]) for name in RATE_FIELDS},
        income_tolerance=str(income_tolerance), method=plan.method, population_size=len(members),
        population_total=sum(m.weight for m in members), population_digest=digest.hex(), status="frozen",
        created_by=principal.id, created_at=now,
    )
    session.add(rnd)
    session.flush()
    session.add_all([SamplingMember(round_id=rnd.id, case_id=m.case_id, stratum=m.stratum, weight=m.weight)
                     for m in members])
    session.add(SamplingStage(round_id=rnd.id, stage=1, size=plan.size, method=plan.method,
                              expected_deviations=plan.expected_deviations, limited_by=plan.limited_by,
                              allocation=dict(plan.allocation), created_by=principal.id, created_at=now))
    session.flush()
    payload: dict[str, Any] = {
        "county_code": rnd.county_code, "kind": rnd.kind, "stratified": stratified,
        "checked_from": rnd.checked_from.isoformat(), "checked_to": rnd.checked_to.isoformat(),
        **{name: getattr(rnd, name) for name in RATE_FIELDS}, "income_tolerance": rnd.income_tolerance,
        "population_size": rnd.population_size, "population_digest": rnd.population_digest,
        "sample_size": plan.size, "method": plan.method, "expected_deviations": plan.expected_deviations,
        "limited_by": plan.limited_by, "allocation": dict(plan.allocation),
        "strata": _strata_sizes(members) if stratified else {},
    }
    if rnd.kind == "monetary":
        payload["population_total"] = format_yuan(rnd.population_total)
    rnd.freeze_index = audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=FROZEN,
                                    subject=rnd.id, payload=payload, contract_hash=rnd.contract_hash, clock=clock)
    return rnd


def commit_round(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                 principal: Principal | None, clock: Clock) -> None:
    """Issue the signed checkpoint covering the round's freezing entry and store its size and root with the round.

    Does nothing when the round has its checkpoint already (safe to repeat after an interruption).
    """
    with db.read() as session:
        rnd = load_round(session, round_id, principal)
        if rnd.checkpoint_size is not None:
            return
        freeze_index = rnd.freeze_index
    if signer is None:
        raise InvalidState("no audit signing key is available: the round cannot be committed")
    checkpoint = audit_checkpoints.issue_checkpoint(db, signer, clock=clock)
    if freeze_index is None or checkpoint.tree_size <= freeze_index:  # pragma: no cover - the entry is committed
        raise RuntimeError("the checkpoint does not cover the round's freezing entry")
    with db.begin() as session:
        rnd = load_round(session, round_id, principal, for_update=True)
        if rnd.checkpoint_size is not None:
            return
        rnd.checkpoint_size = checkpoint.tree_size
        rnd.checkpoint_root = checkpoint.root.hex()
        rnd.checkpoint_note = checkpoint.note
        session.flush()
        audit.append(session, actor=principal.id if principal else "system",
                     role=principal.acting_role((ROLE,)) if principal else "system", action=COMMITTED,
                     subject=rnd.id, contract_hash=rnd.contract_hash, clock=clock, payload={
                         "freeze_index": freeze_index, "checkpoint_size": checkpoint.tree_size,
                         "checkpoint_root": checkpoint.root.hex(), "checkpoint_key_id": checkpoint.key_id})


def create_round(db: Database, signer: audit_checkpoints.Signer | None, req: RoundRequest, *,
                 principal: Principal, clock: Clock) -> schemas.RoundCreated:
    """Freeze (one transaction), commit to a checkpoint (after it), and answer with both."""
    with db.begin() as session:
        round_id = freeze_round(session, req, principal=principal, clock=clock).id
    return committed_view(db, signer, round_id, principal=principal, clock=clock)


def committed_view(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, *,
                   principal: Principal, clock: Clock) -> schemas.RoundCreated:
    """The answer to a round's creation, committing it first when that is still to do (idempotent)."""
    commit_round(db, signer, round_id, principal=principal, clock=clock)
    with db.read() as session:
        rnd = load_round(session, round_id, principal)
        stage = _stages(session, round_id)[0]
        assert rnd.checkpoint_note is not None and rnd.checkpoint_size is not None and rnd.freeze_index is not None
        return schemas.RoundCreated(
            id=rnd.id, kind=rnd.kind, population_size=rnd.population_size, sample_size=stage.size,
            population_digest=rnd.population_digest, checkpoint=rnd.checkpoint_note,
            checkpoint_size=rnd.checkpoint_size, audit_index=rnd.freeze_index, method=stage.method,
            expected_deviations=stage.expected_deviations, limited_by=stage.limited_by, stratified=rnd.stratified,
            allocation=_allocation_out(session, rnd, stage),
            population_total=format_yuan(rnd.population_total) if rnd.kind == "monetary" else None,
        )


def _allocation_out(session: Session, rnd: SamplingRound, stage: SamplingStage) -> list[schemas.StratumOut]:
    if not rnd.stratified:
        return []
    sizes = _strata_sizes(_members(session, rnd.id))
    return [schemas.StratumOut(town=name, population=sizes[name], sample=int(stage.allocation.get(name, 0)))
            for name in sorted(sizes)]


# --------------------------------------------------------------------------------------------------------------
# 2. The draw


def _insert_picks(session: Session, round_id: str, picks: Sequence[Pick]) -> None:
    session.add_all([SamplingItem(round_id=round_id, case_id=p.case_id, stage=p.stage, stratum=p.stratum,
                                  position=p.position, units=p.units) for p in picks])


def draw(session: Session, round_id: str, randomness_hex: str, *, principal: Principal,
         clock: Clock) -> schemas.DrawOut:
    """Draw stage 1 from the county's randomness; a round is drawn once (409 after)."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.seed is not None or rnd.status != "frozen":
        raise InvalidState("this round has been drawn already: a round is drawn once")
    if rnd.checkpoint_root is None or rnd.checkpoint_size is None:
        raise InvalidState("the round's population is not committed to a checkpoint yet")
    randomness = parse_randomness(randomness_hex)
    seed = sampling.derive_seed(bytes.fromhex(rnd.population_digest), bytes.fromhex(rnd.checkpoint_root), randomness)
    plans = [_plan_of(s) for s in _stages(session, rnd.id)]
    picks = compute_selection(rnd.kind, rnd.stratified, seed, _members(session, rnd.id), plans)
    _insert_picks(session, rnd.id, picks)
    rnd.randomness = randomness.hex()
    rnd.seed = seed.hex()
    rnd.status = "drawn"
    rnd.drawn_by = principal.id
    rnd.drawn_at = clock.now()
    session.flush()
    case_ids = [p.case_id for p in picks]
    interval = _interval(rnd, plans[-1]) if rnd.kind == "monetary" else None
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=DRAWN, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "randomness": rnd.randomness, "seed": rnd.seed, "population_digest": rnd.population_digest,
                     "checkpoint_size": rnd.checkpoint_size, "checkpoint_root": rnd.checkpoint_root, "stage": 1,
                     "sample_size": len(case_ids), "case_ids": case_ids,
                     **({"interval": format_yuan(interval)} if interval is not None else {})})
    return schemas.DrawOut(seed=rnd.seed, case_ids=case_ids,
                           interval=None if interval is None else format_yuan(interval))


def draw_round(db: Database, signer: audit_checkpoints.Signer | None, round_id: str, randomness_hex: str, *,
               principal: Principal, clock: Clock) -> schemas.DrawOut:
    """Commit the round first if an interruption left it without its checkpoint, then draw."""
    commit_round(db, signer, round_id, principal=principal, clock=clock)
    with db.begin() as session:
        return draw(session, round_id, randomness_hex, principal=principal, clock=clock)


# --------------------------------------------------------------------------------------------------------------
# 3. Re-check results


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
        raise InvalidState("the case has no home check")
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


def record_result(session: Session, round_id: str, data: ResultInput, *, principal: Principal,
                  clock: Clock) -> schemas.ResultOut:
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn":
        raise InvalidState("the round's sample has not been drawn yet")
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
    item = session.get(SamplingItem, (rnd.id, data.case_id))
    if item is None:
        raise ValidationFailed.one("case_id", "this case is not in the round's sample")
    if session.get(SamplingResult, (rnd.id, data.case_id)) is not None:
        raise InvalidState("a re-check result for this case is recorded already")
    case = session.get(Case, data.case_id)
    assert case is not None
    insurer = insurer_baseline(session, case)
    if insurer.relief is not None and relief is None:
        if data.eligible:
            raise ValidationFailed.one("relief_amount", "give the relief the re-check finds (the insurer's "
                                                        "determination is confirmed and is compared)")
        relief = 0
    reasons = deviation_reasons(eligible=data.eligible, per_capita_income=per_capita, relief=relief, insurer=insurer,
                                income_tolerance=Decimal(rnd.income_tolerance))
    row = SamplingResult(
        round_id=rnd.id, case_id=case.id, per_capita_income=per_capita, eligible=data.eligible, relief_amount=relief,
        note=data.note or None, baseline=insurer.kind, check_id=insurer.check_id, insurer_eligible=insurer.eligible,
        insurer_per_capita_income=insurer.per_capita_income, insurer_relief=insurer.relief, deviation=bool(reasons),
        reasons=reasons, recorded_by=principal.id, recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role((ROLE,)), action=RESULT, subject=rnd.id,
                 contract_hash=rnd.contract_hash, clock=clock, payload={
                     "case_id": case.id, "eligible": data.eligible, "per_capita_income": format_yuan(per_capita),
                     "relief_amount": None if relief is None else format_yuan(relief), "baseline": insurer.kind,
                     "check_id": insurer.check_id, "insurer_eligible": insurer.eligible,
                     "insurer_per_capita_income": format_yuan(insurer.per_capita_income),
                     "insurer_relief": None if insurer.relief is None else format_yuan(insurer.relief),
                     "deviation": bool(reasons), "reasons": reasons})
    return result_out(row)


def result_out(r: SamplingResult) -> schemas.ResultOut:
    return schemas.ResultOut(
        case_id=r.case_id, per_capita_income=format_yuan(r.per_capita_income), eligible=r.eligible,
        relief_amount=None if r.relief_amount is None else format_yuan(r.relief_amount), note=r.note,
        baseline=r.baseline, check_id=r.check_id, insurer_eligible=r.insurer_eligible,
        insurer_per_capita_income=format_yuan(r.insurer_per_capita_income),
        insurer_relief=None if r.insurer_relief is None else format_yuan(r.insurer_relief), deviation=r.deviation,
        reasons=list(r.reasons), recorded_by=r.recorded_by, recorded_at=r.recorded_at,
    )


# --------------------------------------------------------------------------------------------------------------
# 4. Report and expansion


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


def evaluate(session: Session, rnd: SamplingRound) -> Evaluation:
    ev = Evaluation()
    if rnd.status != "drawn":
        return ev
    stages = _stages(session, rnd.id)
    items = _items(session, rnd.id)
    results = _results(session, rnd.id)
    counted = [i for i in items if i.units > 0] if rnd.kind == "monetary" else items
    ev.sampled = len(counted)
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
    )


def expand(session: Session, round_id: str, *, principal: Principal, clock: Clock) -> schemas.ExpandOut:
    """Draw the next stage from the same frozen population and seed, sized for the deviations found."""
    rnd = load_round(session, round_id, principal, for_update=True)
    if rnd.status != "drawn" or rnd.seed is None:
        raise InvalidState("the round's sample has not been drawn yet")
    ev = evaluate(session, rnd)
    if ev.verdict != "expand":
        raise InvalidState(f"only a round whose verdict is expand can be widened (its verdict is {ev.verdict})")
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
    _insert_picks(session, rnd.id, new)
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


# --------------------------------------------------------------------------------------------------------------
# 5. Reading rounds


def round_view(session: Session, round_id: str, principal: Principal) -> schemas.RoundOut:
    rnd = load_round(session, round_id, principal)
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
    return schemas.RoundOut(
        id=rnd.id, county_code=rnd.county_code, kind=rnd.kind, status=rnd.status, stratified=rnd.stratified,
        checked_from=rnd.checked_from, checked_to=rnd.checked_to, contract_id=rnd.contract_id,
        contract_hash=rnd.contract_hash, confidence=rnd.confidence, tolerable_rate=rnd.tolerable_rate,
        expected_rate=rnd.expected_rate, min_rate=rnd.min_rate, income_tolerance=rnd.income_tolerance,
        method=rnd.method, population_size=rnd.population_size,
        population_total=format_yuan(rnd.population_total) if rnd.kind == "monetary" else None,
        population_digest=rnd.population_digest, sample_size=stages[-1].size if stages else 0,
        audit_index=rnd.freeze_index, checkpoint=checkpoint, randomness=rnd.randomness, seed=rnd.seed,
        created_by=rnd.created_by, created_at=rnd.created_at, drawn_by=rnd.drawn_by, drawn_at=rnd.drawn_at,
        allocation=_allocation_out(session, rnd, stages[0]) if stages else [],
        stages=[schemas.StageOut(stage=s.stage, size=s.size, method=s.method, expected_deviations=s.expected_deviations,
                                 limited_by=s.limited_by, allocation={k: int(v) for k, v in (s.allocation or {}).items()})
                for s in stages],
        items=items,
    )


def population_view(session: Session, round_id: str, principal: Principal) -> schemas.PopulationOut:
    rnd = load_round(session, round_id, principal)
    members = _members(session, rnd.id)
    return schemas.PopulationOut(
        round_id=rnd.id, population_digest=rnd.population_digest, case_ids=[m.case_id for m in members],
        strata=_strata_sizes(members) if rnd.stratified else {},
        weights={m.case_id: format_yuan(m.weight) for m in members} if rnd.kind == "monetary" else None,
    )


def list_rounds(session: Session, principal: Principal, *, county_code: str | None = None,
                limit: int = 50) -> schemas.RoundPage:
    stmt = select(SamplingRound).order_by(SamplingRound.created_at.desc(), SamplingRound.id.desc()).limit(limit)
    if county_code is not None:
        if not principal.may_see_county(county_code):
            return schemas.RoundPage(items=[])
        stmt = stmt.where(SamplingRound.county_code == county_code)
    elif principal.counties:
        stmt = stmt.where(SamplingRound.county_code.in_(principal.counties))
    rounds = list(session.scalars(stmt))
    sizes = {s.round_id: s.size for s in session.scalars(select(SamplingStage).where(
        SamplingStage.round_id.in_([r.id for r in rounds])).order_by(SamplingStage.stage))}
    return schemas.RoundPage(items=[schemas.RoundSummary(
        id=r.id, county_code=r.county_code, kind=r.kind, status=r.status, checked_from=r.checked_from,
        checked_to=r.checked_to, population_size=r.population_size, sample_size=sizes.get(r.id, 0),
        created_at=r.created_at) for r in rounds])


# --------------------------------------------------------------------------------------------------------------
# 6. Replay


@dataclass
class ReplayReport:
    round_id: str
    confirmed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def check(self, condition: bool, confirmed: str, difference: str) -> bool:
        (self.confirmed if condition else self.differences).append(confirmed if condition else difference)
        return condition


def _entries(session: Session, round_id: str) -> list[tuple[int, Any, bytes]]:
    """(index, decoded entry, leaf hash) of the round's audit entries, in log order."""
    out = []
    for row in session.scalars(select(AuditEntry).where(AuditEntry.subject == round_id).order_by(AuditEntry.idx)):
        try:
            out.append((row.idx, decode_entry(bytes(row.entry)), merkle.leaf_hash(bytes(row.entry))))
        except CanonicalError:
            out.append((row.idx, None, merkle.leaf_hash(bytes(row.entry))))
    return out


def replay(session: Session, round_id: str, *, keys: Sequence[VerifierKey] = ()) -> ReplayReport:
    """Re-derive a round from its recorded inputs and compare with what was stored and logged.

    Checks the population digest, the freezing audit entry and its inclusion in the signed checkpoint the round
    recorded (signature by `keys` or any key in the registry), the planned sizes, the seed, and the draw.
    """
    rnd = load_round(session, round_id, None)
    rep = ReplayReport(rnd.id)
    members = _members(session, rnd.id)
    digest = sampling.population_digest([m.case_id for m in members]).hex()
    rep.check(digest == rnd.population_digest and len(members) == rnd.population_size,
              f"population digest {digest} of {len(members)} cases",
              f"population digest: recomputed {digest} over {len(members)} cases, stored {rnd.population_digest} "
              f"over {rnd.population_size}")
    entries = _entries(session, rnd.id)
    by_action: dict[str, list[tuple[int, Any, bytes]]] = {}
    for e in entries:
        if e[1] is None:
            rep.differences.append(f"audit entry {e[0]} of the round is not canonical")
        else:
            by_action.setdefault(e[1].action, []).append(e)
    frozen = by_action.get(FROZEN, [])
    if rep.check(len(frozen) == 1 and frozen[0][0] == rnd.freeze_index, f"freezing entry {rnd.freeze_index}",
                 f"freezing entry: expected one {FROZEN} entry at index {rnd.freeze_index}, "
                 f"found {[e[0] for e in frozen]}"):
        payload = frozen[0][1].payload
        for name, stored in (("population_digest", rnd.population_digest), ("population_size", rnd.population_size),
                             *((name, getattr(rnd, name)) for name in RATE_FIELDS)):
            rep.check(payload.get(name) == stored, f"logged {name}",
                      f"{name}: logged {payload.get(name)!r}, stored {stored!r}")
        _check_checkpoint(session, rnd, frozen[0], keys, rep)
    stages = _stages(session, rnd.id)
    plans = [_plan_of(s) for s in stages]
    _check_plans(rnd, members, plans, frozen[0][1].payload if len(frozen) == 1 else None,
                 by_action.get(EXPANDED, []), rep)
    if rnd.seed is None or rnd.randomness is None:
        rep.differences.append("the round has not been drawn yet: there is no draw to replay")
        return rep
    if rnd.checkpoint_root is None:
        rep.differences.append("the round was drawn without a recorded checkpoint root")
        return rep
    seed = sampling.derive_seed(bytes.fromhex(rnd.population_digest), bytes.fromhex(rnd.checkpoint_root),
                                bytes.fromhex(rnd.randomness))
    rep.check(seed.hex() == rnd.seed, f"seed {seed.hex()}", f"seed: recomputed {seed.hex()}, stored {rnd.seed}")
    drawn = by_action.get(DRAWN, [])
    if rep.check(len(drawn) == 1, "draw entry", f"draw entries: expected one, found {len(drawn)}"):
        payload = drawn[0][1].payload
        rep.check(payload.get("randomness") == rnd.randomness and payload.get("seed") == seed.hex(),
                  "logged randomness and seed", "the logged randomness or seed differs from the recomputed one")
    try:
        picks = compute_selection(rnd.kind, rnd.stratified, seed, members, plans)
    except ValidationFailed as exc:
        rep.differences.append(f"the draw cannot be recomputed: {exc.detail}")
        return rep
    stored = [(i.case_id, i.stage, i.stratum, i.position, i.units) for i in _items(session, rnd.id)]
    again = [(p.case_id, p.stage, p.stratum, p.position, p.units) for p in picks]
    stored_set, again_set = set(stored), set(again)
    if rep.check(stored_set == again_set, f"draw of {len(again)} cases over {len(plans)} stage(s)", "draw differs"):
        pass
    else:
        for case_id, *rest in sorted(again_set - stored_set)[:10]:
            rep.differences.append(f"  recomputed but not stored: {case_id} (stage, stratum, position, units {rest})")
        for case_id, *rest in sorted(stored_set - again_set)[:10]:
            rep.differences.append(f"  stored but not recomputed: {case_id} (stage, stratum, position, units {rest})")
    logged = list(drawn[0][1].payload.get("case_ids", [])) if len(drawn) == 1 else []
    for _, entry, _ in by_action.get(EXPANDED, []):
        logged += entry.payload.get("case_ids", [])
    rep.check(logged == [p.case_id for p in picks], "logged sample", "the sample logged in the audit log differs "
                                                                    "from the recomputed one")
    return rep


def _check_checkpoint(session: Session, rnd: SamplingRound, frozen: tuple[int, Any, bytes],
                      keys: Sequence[VerifierKey], rep: ReplayReport) -> None:
    if rnd.checkpoint_note is None or rnd.checkpoint_size is None or rnd.checkpoint_root is None:
        rep.differences.append("the round has no recorded checkpoint")
        return
    trusted = list(keys) or audit_checkpoints.known_keys(session)
    try:
        checkpoint, _ = open_checkpoint(rnd.checkpoint_note, trusted)
    except NoteError as exc:
        rep.differences.append(f"checkpoint signature: {exc}")
        return
    rep.confirmed.append(f"checkpoint signature ({checkpoint.origin}, size {checkpoint.size})")
    if not rep.check(checkpoint.size == rnd.checkpoint_size and checkpoint.root.hex() == rnd.checkpoint_root,
                     "checkpoint size and root", "the signed checkpoint's size or root differs from the round's"):
        return
    index, _, leaf = frozen
    try:
        proof = audit.inclusion_proof(session, index, checkpoint.size)
        merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root)
    except (ValueError, audit.LogCorrupt) as exc:
        rep.differences.append(f"freezing entry {index} is not included in the checkpoint of size "
                               f"{checkpoint.size}: {exc}")
        return
    rep.confirmed.append(f"freezing entry {index} included in the checkpoint (proof of {len(proof)} hashes)")


def _check_plans(rnd: SamplingRound, members: Sequence[Member], plans: Sequence[Plan], frozen_payload: Any,
                 expansions: Sequence[tuple[int, Any, bytes]], rep: ReplayReport) -> None:
    if not plans:
        rep.differences.append("the round has no stages")
        return
    rates = _rates(rnd)
    try:
        first = plan_first_stage(rnd.kind, rnd.stratified, members, rates)
    except ValidationFailed as exc:
        rep.differences.append(f"stage 1 size cannot be recomputed: {exc.detail}")
        return
    rep.check(first == plans[0], f"stage 1 size {first.size}", f"stage 1: recomputed {first}, stored {plans[0]}")
    if frozen_payload is not None:
        rep.check(frozen_payload.get("sample_size") == plans[0].size
                  and frozen_payload.get("allocation") == dict(plans[0].allocation),
                  "logged stage 1 size", "the stage 1 size or allocation logged at freezing differs from the stored one")
    for previous, plan in itertools.pairwise(plans):
        try:
            again = plan_expansion(rnd.kind, rnd.stratified, members, rates, previous, plan.expected_deviations)
        except (ValidationFailed, InvalidState) as exc:
            rep.differences.append(f"stage {plan.stage} size cannot be recomputed: {exc.detail}")
            continue
        rep.check(again == plan, f"stage {plan.stage} size {again.size}",
                  f"stage {plan.stage}: recomputed {again}, stored {plan}")
    logged_sizes = [e[1].payload.get("size") for e in expansions]
    rep.check(logged_sizes == [p.size for p in plans[1:]], "logged expansions",
              f"expansions logged {logged_sizes}, stored {[p.size for p in plans[1:]]}")
