"""The sizes and selections of a round's stages: pure functions of the frozen population, the rates and the seed,
used alike by the draw, the expansion and the replay. The statistics and seeded draws are
`verifier.domain.sampling`; this module lays a round's stages and strata over them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..domain import sampling
from ..domain.errors import InvalidState, ValidationFailed

RATE_FIELDS = ("confidence", "tolerable_rate", "expected_rate", "min_rate")


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
        allocation = sampling.allocate(strata_sizes(members), size.n)
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
            raise InvalidState("总体金额已全部抽中，无法再扩大样本。")
        try:
            sized = sampling.attribute_sample_size_for_k(conf, tol, deviations)
        except ValidationFailed:
            raise InvalidState(f"偏差金额单位过多（{deviations} 个）：样本扩大到上限 {sampling.MAX_BINOMIAL_SAMPLE} 个也无法达到"
                               "置信度要求，本轮复核不能以扩大样本的方式通过。") from None
        n = max(sized.n, previous.size + 1)
        limited = sized.limited_by
        if n >= total:
            n, limited = total, "population"
        return Plan(previous.stage + 1, n, {}, "binomial", deviations, limited)
    current = sum(previous.allocation.values()) if stratified else previous.size
    if current >= population:
        raise InvalidState("总体已全部抽中，无法再扩大样本。")
    sized = sampling.attribute_sample_size_for_k(conf, tol, deviations, population)
    target = min(population, max(sized.n, current + 1))
    limited = "population" if target >= population else sized.limited_by
    allocation: dict[str, int] = {}
    n = target
    if stratified:
        share = sampling.allocate(strata_sizes(members), target)
        allocation = {name: max(previous.allocation.get(name, 0), share[name]) for name in share}
        n = sum(allocation.values())
    return Plan(previous.stage + 1, n, allocation, sized.method, deviations, limited)


def strata_sizes(members: Sequence[Member]) -> dict[str, int]:
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
