"""Request and response shapes of the sampling stage. Money as "0.00" yuan strings, rates as decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

CountyCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
RateText = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
MoneyText = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
CaseId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class RoundIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: CountyCode
    checked_from: date
    checked_to: date
    confidence: RateText | None = None
    tolerable_rate: RateText | None = None
    expected_rate: RateText | None = None
    min_rate: RateText | None = None
    kind: Literal["attribute", "monetary"] = "attribute"
    stratify_by_town: bool | None = None  # default: true for attribute rounds; monetary rounds are never stratified


class DrawIn(msgspec.Struct, forbid_unknown_fields=True):
    randomness: Annotated[str, msgspec.Meta(max_length=2048)]
    """Hex digits (at least 32, i.e. 16 bytes; an even count). Dice rolls may be typed as their digits."""


class ResultIn(msgspec.Struct, forbid_unknown_fields=True):
    case_id: CaseId
    per_capita_income: MoneyText
    eligible: bool
    relief_amount: MoneyText | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class StratumOut(msgspec.Struct):
    town: str
    population: int
    sample: int


class CheckpointOut(msgspec.Struct):
    tree_size: int
    root: str  # hex
    note: str


class RoundCreated(msgspec.Struct):
    id: str
    kind: str
    population_size: int
    sample_size: int
    population_digest: str
    checkpoint: str
    """The signed checkpoint note covering the round's freezing audit entry."""
    checkpoint_size: int
    audit_index: int
    method: str
    expected_deviations: int
    limited_by: str
    stratified: bool
    allocation: list[StratumOut]
    population_total: str | None = None


class DrawOut(msgspec.Struct):
    seed: str
    case_ids: list[str]
    interval: str | None = None  # monetary rounds: the sampling interval in yuan


class ExpandOut(msgspec.Struct):
    stage: int
    sample_size: int
    expected_deviations: int
    method: str
    case_ids: list[str]
    interval: str | None = None


class ResultOut(msgspec.Struct):
    case_id: str
    per_capita_income: str
    eligible: bool
    relief_amount: str | None
    note: str | None
    baseline: str
    check_id: str
    insurer_eligible: bool
    insurer_per_capita_income: str
    insurer_relief: str | None
    deviation: bool
    reasons: list[str]
    recorded_by: str
    recorded_at: datetime


class ItemOut(msgspec.Struct):
    case_id: str
    stage: int
    town: str
    position: int
    units: int
    result: ResultOut | None


class StageOut(msgspec.Struct):
    stage: int
    size: int
    method: str
    expected_deviations: int
    limited_by: str
    allocation: dict[str, int]


class UnitsOut(msgspec.Struct):
    sampled: int
    rechecked: int
    deviations: int
    interval: str


class ReportOut(msgspec.Struct):
    round_id: str
    kind: str
    method: str
    population_size: int
    confidence: str
    tolerable_rate: str
    sampled: int
    rechecked: int
    deviations: int
    deviation_rate: str | None
    upper_bound: str | None
    verdict: Literal["accept", "expand", "pending"]
    by_reason: dict[str, int]
    stages: int
    units: UnitsOut | None = None


class RoundOut(msgspec.Struct):
    id: str
    county_code: str
    kind: str
    status: str
    stratified: bool
    checked_from: date
    checked_to: date
    contract_id: str
    contract_hash: str
    confidence: str
    tolerable_rate: str
    expected_rate: str
    min_rate: str
    income_tolerance: str
    method: str
    population_size: int
    population_total: str | None
    population_digest: str
    sample_size: int
    audit_index: int | None
    checkpoint: CheckpointOut | None
    randomness: str | None
    seed: str | None
    created_by: str
    created_at: datetime
    drawn_by: str | None
    drawn_at: datetime | None
    allocation: list[StratumOut]
    stages: list[StageOut]
    items: list[ItemOut]


class RoundSummary(msgspec.Struct):
    id: str
    county_code: str
    kind: str
    status: str
    checked_from: date
    checked_to: date
    population_size: int
    sample_size: int
    created_at: datetime


class RoundPage(msgspec.Struct):
    items: list[RoundSummary]


class PopulationOut(msgspec.Struct):
    round_id: str
    population_digest: str
    case_ids: list[str]
    """Sorted by code point: SHA-256 of these joined by "\\n" is the digest."""
    strata: dict[str, int]
    weights: dict[str, str] | None = None  # monetary rounds: relief per case in yuan
