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
    public_value: PublicValueIn | None = None
    """A value to be published after the freeze (e.g. a lottery draw of a stated date) that the seed will hash."""


class PublicValueIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(max_length=500)]
    available_on: date


class RoundOpened(msgspec.Struct):
    id: str
    status: str
    contract_id: str
    reveal_within_days: int
    public_value: PublicValueOut | None = None


Party = Literal["county", "insurer"]


class CommitmentIn(msgspec.Struct, forbid_unknown_fields=True):
    party: Party
    commitment: Annotated[str, msgspec.Meta(max_length=200)]
    """Hex SHA-256 of the secret's bytes (64 hex digits)."""


class RevealIn(msgspec.Struct, forbid_unknown_fields=True):
    party: Party
    secret: Annotated[str, msgspec.Meta(max_length=2048)]
    """Hex, at least 16 bytes; must hash to the party's commitment."""


class PassOverIn(msgspec.Struct, forbid_unknown_fields=True):
    party: Party
    """The party that has not revealed by its deadline."""


class PublicValueEntryIn(msgspec.Struct, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(max_length=2000)]


class PartyOut(msgspec.Struct):
    party: str
    commitment: str
    committed_by: str
    committed_at: datetime
    revealed: bool
    secret: str | None  # shown once the sample is drawn: until then nobody can compute it from the record
    revealed_by: str | None
    revealed_at: datetime | None
    passed_over_by: str | None
    passed_over_at: datetime | None


class PublicValueOut(msgspec.Struct):
    description: str
    available_on: date
    value: str | None = None
    entered_by: str | None = None
    entered_at: datetime | None = None


class StepOut(msgspec.Struct):
    """The round after a commitment, a reveal, the public value or a pass-over: drawn when the last input is in."""

    round_id: str
    status: str
    party: str | None = None
    reveal_by: date | None = None
    waiting_for: list[str] = msgspec.field(default_factory=list)
    seed: str | None = None
    case_ids: list[str] | None = None
    withheld: list[str] = msgspec.field(default_factory=list)
    interval: str | None = None  # monetary rounds: the sampling interval in yuan


Sha256 = Annotated[str, msgspec.Meta(max_length=64)]


class ResultIn(msgspec.Struct, forbid_unknown_fields=True):
    case_id: CaseId
    per_capita_income: MoneyText
    eligible: bool
    relief_amount: MoneyText | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # The county's visit (since migration 0041; a body naming any of it has all of it checked, 422 naming each one
    # missing; the documented body naming none is taken as a result without a visit): its day, the household member
    # met, the re-check record that member signed and the visit's photos, as sha256 of files uploaded with
    # `POST .../results/{case_id}/evidence` (as a check names its evidence).
    visited_on: date | None = None
    met_member: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    signed_form: Sha256 | None = None
    evidence: Annotated[list[Sha256], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)


class VisitIn(msgspec.Struct, forbid_unknown_fields=True):
    """The county's visit added to a result taken without it (all of it required, as for a new result's)."""
    visited_on: date | None = None
    met_member: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    signed_form: Sha256 | None = None
    evidence: Annotated[list[Sha256], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)


class RecheckEvidenceOut(msgspec.Struct):
    sha256: str
    size: int
    content_type: str
    captured_at: str | None


class ResultCorrectionIn(msgspec.Struct, forbid_unknown_fields=True):
    per_capita_income: MoneyText
    eligible: bool
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    relief_amount: MoneyText | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class StratumOut(msgspec.Struct):
    town: str
    population: int
    sample: int


class RoundTitle(msgspec.Struct):
    """What names a round for people: its county, kind and checks' period (the id is for commands and links)."""
    id: str
    county_code: str
    kind: str
    checked_from: date
    checked_to: date


class CheckpointOut(msgspec.Struct):
    tree_size: int
    root: str  # hex
    note: str


class RoundCreated(msgspec.Struct):
    """The answer to the freeze."""

    id: str
    status: str
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
    corrected_by: str | None = None
    corrected_at: datetime | None = None
    correction_reason: str | None = None
    visited_on: date | None = None  # None: recorded before a re-check carried its visit's evidence
    met_member_id: str | None = None
    signed_form: str | None = None
    evidence: list[str] = msgspec.field(default_factory=list)


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
    without_visit: int = 0  # results recorded without the county's visit (before it was asked for, or by the API)
    # Sampled cases whose result was taken without the visit (the API's figures-only body): not counted as
    # re-checked, so the verdict stays pending until each visit is added (POST .../results/{case_id}/visit).
    awaiting_visit: list[str] = msgspec.field(default_factory=list)


class MissedOut(msgspec.Struct):
    """A case the round missed: its latest check dated within the period but recorded after the freeze, or (a
    monetary round) recorded before and its determination confirmed after; the next round of the county and kind
    frozen since takes it in (`taken_in_by`, None while it waits)."""
    case_id: str
    visited_on: date
    recorded_at: datetime
    why: Literal["recorded_late", "confirmed_late"]
    confirmed_at: datetime | None = None
    relief: str | None = None
    taken_in_by: RoundTitle | None = None


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
    method: str | None
    population_size: int | None
    population_total: str | None
    population_digest: str | None
    sample_size: int
    audit_index: int | None
    checkpoint: CheckpointOut | None
    randomness: str | None  # rounds drawn with the withdrawn single-party randomness only
    seed: str | None
    case_ids: list[str]
    parties: list[PartyOut]
    public_value: PublicValueOut | None
    reveal_within_days: int
    reveal_by: date | None
    withheld: list[str]
    waiting_for: list[str]
    created_by: str
    created_at: datetime
    frozen_by: str | None
    frozen_at: datetime | None
    drawn_by: str | None
    drawn_at: datetime | None
    allocation: list[StratumOut]
    stages: list[StageOut]
    items: list[ItemOut]
    # Cases of the period recorded (a monetary round: or confirmed) after the freeze, which a later round takes in;
    # and the members this round took in that way from an earlier one (`sampling.late_checks`).
    missed: list[MissedOut] = msgspec.field(default_factory=list)
    # Cases of the period in this round's population whose check was redone (sent back, objected to) and recorded
    # after the freeze: not missed, but the redone check is taken in by a later round as a missed one is.
    redone: list[MissedOut] = msgspec.field(default_factory=list)
    carried_in: list[str] = msgspec.field(default_factory=list)
    # An open monetary round: the period's checks still waiting for their determination (not in a freeze now).
    awaiting_determination: list[str] = msgspec.field(default_factory=list)
    # How many of each there are: `missed`, `redone` and `awaiting_determination` list the first 200 at most
    # (`sampling.late_checks.LIST_MAX`).
    missed_total: int = 0
    redone_total: int = 0
    awaiting_determination_total: int = 0


class RoundSummary(msgspec.Struct):
    id: str
    county_code: str
    kind: str
    status: str
    checked_from: date
    checked_to: date
    population_size: int | None
    sample_size: int
    created_at: datetime


class RoundPage(msgspec.Struct):
    items: list[RoundSummary]


class PopulationOut(msgspec.Struct):
    round_id: str
    population_digest: str | None  # None until the freeze
    case_ids: list[str]
    """Sorted by code point: SHA-256 of these joined by "\\n" is the digest."""
    strata: dict[str, int]
    weights: dict[str, str] | None = None  # monetary rounds: relief per case in yuan


class RedeterminationIn(msgspec.Struct, forbid_unknown_fields=True):
    """An insurer supervisor's re-determination of a case held after a sampling round."""

    outcome: Literal["proceed", "ineligible"]
    reason: Annotated[str, msgspec.Meta(max_length=2000)]
    relief_amount: MoneyText | None = None


class ProposalAnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    """A county reviewer's answer to a re-determination against the county's finding: the proposal the page showed,
    and the reason."""

    proposal_id: Annotated[str, msgspec.Meta(max_length=40)]
    reason: Annotated[str, msgspec.Meta(max_length=2000)]
